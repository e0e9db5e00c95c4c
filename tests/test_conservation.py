import diffrax as dfx
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import neural_galerkin as ng
import pdes
from neural_galerkin._compare import relative_error

MU = 8.2e-3  # a viscosity the shipped model was not trained on
TS = jnp.linspace(0, 0.4, 11)


@pytest.fixture(scope="module")
def burgers_runs():
    eq, model = pdes.Burgers(), ng.load_pretrained("burgers")
    phi0, _ = ng.fit_initial_condition(eq, model, mu=MU, samples=128)
    ref = pdes.fd_solve(eq, MU, 1024, TS)
    out = {}
    for method in (None, "constraint", "projection", "both"):
        kw = {} if method is None else dict(conserve=ng.Conservation(("mass",), method, 1024))
        sol = ng.solve(eq, model, 0.0, 0.4, None, phi0, MU, samples=128,
                       saveat=dfx.SaveAt(ts=TS), **kw)
        u = sol.evaluate(ref.x)
        mass = np.asarray(u).sum(axis=1) / 1024
        out[method] = dict(sol=sol, error=relative_error(u, ref.us),
                           drift=float(np.max(np.abs(mass - mass[0])) / abs(mass[0])))
    return out


@pytest.mark.slow  # four solves with the shipped model and the FD reference on 1024 points
def test_mass_levels_burgers(burgers_runs):
    # no constraint: the reduced model drifts; constraint: drift follows the time stepping;
    # projection: round-off (measured on the invariant's own quadrature, 1024 points, which
    # is also the evaluation grid here)
    none, cons = burgers_runs[None], burgers_runs["constraint"]
    proj, both = burgers_runs["projection"], burgers_runs["both"]
    assert none["drift"] > 1e-5
    assert cons["drift"] < 1e-6 and cons["drift"] < none["drift"] / 100
    for run in (proj, both):
        assert run["drift"] <= 1e-13
        assert run["sol"].drift()["mass"] <= 1e-13
    # keeping mass costs no accuracy
    assert proj["error"] <= 1.1 * none["error"]
    assert both["error"] <= 1.1 * none["error"]


def test_two_invariants_inviscid_burgers(burgers_net):
    # inviscid Burgers keeps mass and energy until the shock forms at t = 1/(2 pi); on a small
    # untrained network (the mechanics of keeping two invariants, not a model's accuracy)
    eq, net = pdes.Burgers(mu_range=(0.0, 1e-2)), burgers_net
    phi0, _ = ng.fit_initial_condition(eq, net, mu=0.0, samples=256)
    kw = dict(samples=256, saveat=dfx.SaveAt(ts=jnp.linspace(0, 0.12, 7)), residual_tol=None)
    free = ng.solve(eq, net, 0.0, 0.12, None, phi0, 0.0,
                    conserve=ng.Conservation(("mass", "energy"), method="constraint"), **kw)
    held = ng.solve(eq, net, 0.0, 0.12, None, phi0, 0.0, conserve=("mass", "energy"), **kw)
    assert set(held.invariants) == {"mass", "energy"}
    assert max(held.drift().values()) <= 1e-12  # measured 6.0e-16
    # the constraint alone is not round-off (measured 2.5e-7 and 3.9e-7)
    assert min(free.drift().values()) > 1e-11


@pytest.mark.slow  # two conserving solves in 2D
def test_mass_projection_2d():
    eq = pdes.Advection(lower=(0.0, 0.0), upper=(1.0, 2.0), direction=(1.0, 0.5))
    emb = ng.PeriodicEmbedding(eq.lower, eq.lengths, n_freq=1)
    net = ng.CoLoRAMLP(emb, 16, 3, 2, key=jr.PRNGKey(0))
    phi0, _ = ng.fit_initial_condition(eq, net, mu=1.0, samples=16 * 16)
    # an untrained network: its Galerkin residual is large (this is about the invariant only)
    kw = dict(samples=16 * 16, saveat=dfx.SaveAt(ts=jnp.linspace(0, 0.3, 4)), residual_tol=None)
    free = ng.solve(eq, net, 0.0, 0.3, None, phi0, 1.0,
                    conserve=ng.Conservation(("mass",), method="constraint"), **kw)
    held = ng.solve(eq, net, 0.0, 0.3, None, phi0, 1.0,
                    conserve=ng.Conservation(("mass",), method="projection"), **kw)
    assert held.drift()["mass"] <= 1e-13
    assert free.drift()["mass"] > 1e3 * max(held.drift()["mass"], 1e-16)
    assert held.evaluate(jnp.zeros((5, 7, 2))).shape == (4, 5, 7)


def test_conservation_errors():
    eq = pdes.Advection()
    emb = ng.PeriodicEmbedding(eq.lower, eq.lengths, n_freq=1)
    net = ng.CoLoRAMLP(emb, 8, 2, 1, key=jr.PRNGKey(0))
    phi0 = ng.get_phi(net)
    zero = ng.Functional(name="zero", fn=lambda x, u, grad: 0.0 * u)
    with pytest.raises(ng.SolveError, match="^the conservation constraints are degenerate"):
        ng.solve(eq, net, 0.0, 0.1, None, phi0, 1.0, samples=32,
                 conserve=ng.Conservation((zero,), method="constraint"), residual_tol=None)
    with pytest.raises(ValueError, match="named twice"):
        ng.solve(eq, net, 0.0, 0.1, None, phi0, 1.0, conserve=("mass", ng.Mass()))
    with pytest.raises(ValueError, match="unknown invariant 'momentum'"):
        ng.solve(eq, net, 0.0, 0.1, None, phi0, 1.0, conserve=("momentum",))
    with pytest.raises(ValueError, match="does not keep 'energy' at mu=0.005"):
        ng.solve(pdes.Burgers(), net, 0.0, 0.1, None, phi0, 5e-3, conserve=("energy",))
    with pytest.raises(ValueError, match="conservation method must be 'constraint', "
                       "'projection' or 'both', got 'magic'"):
        ng.Conservation(("mass",), method="magic")
