"""Nonzero and time-dependent boundary data held by the lift `u = L + N` (`ng.BoundaryLift`),
and the data refused where they cannot be held."""

import diffrax as dfx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import neural_galerkin as ng
import pdes
from neural_galerkin._network import set_phi

MU = 0.05


def tiny_net(dirichlet: bool, key=0):
    emb = ng.PeriodicEmbedding((0.0,), (1.0,), 1, bounded=(True,))
    return ng.CoLoRAMLP(emb, 8, 3, 1, dirichlet=(dirichlet,), key=jr.PRNGKey(key))


def g_lower(t, mu):  # depends on both t and mu, so that both reach the lift traced
    return 1.0 + 10 * mu * jnp.sin(3.0 * t)


ENDS = jnp.array([0.0, 1.0])


def data_at_ends(ts, mus):
    """The Dirichlet data `(g_lower, 0.5)` at the times `ts` (batch, times) of each `mu`:
    shape (batch, times, 2)."""
    want = jnp.stack([jax.vmap(lambda t: g_lower(t, m))(t) for m, t in zip(mus, ts)])
    return jnp.stack([want, jnp.full_like(want, 0.5)], -1)


def test_lift_holds_time_dependent_dirichlet_data_to_round_off():
    # a batch of two mu: the lift follows each member's mu and time, traced
    eq = pdes.HeatDirichlet(boundaries=(pdes.Dirichlet(g_lower, 0.5),))
    net = tiny_net(True)
    mus = jnp.array([0.03, 0.07])
    phi0 = jnp.stack([ng.fit_initial_condition(eq, net, mu=float(m), samples=32)[0]
                      for m in mus])
    sol = ng.solve_batch(eq, net, 0.0, 0.3, None, phi0, mus, samples=32, residual_tol=None,
                         saveat=dfx.SaveAt(ts=jnp.linspace(0.0, 0.3, 4)))
    got, want = sol.evaluate(ENDS), data_at_ends(sol.ts, mus)
    assert got.shape == (2, 4, 2)
    # measured: at most 4.4e-16 (the factor is sin(pi) = 1.2e-16 at the upper end)
    assert float(jnp.max(jnp.abs(got - want))) < 1e-15
    # the data moved (1 + 10 mu sin(3 t)), so holding them is not holding a constant
    assert float(jnp.max(jnp.abs(want[1, -1] - want[1, 0]))) > 0.5


def test_constant_data_give_the_galerkin_system_of_zero_data():
    """With constant data the lift is the steady state (`L_xx = 0`, `L_t = 0`), so the
    network's Galerkin system is that of the zero-data problem (to round-off), its initial
    fit is the zero-data fit (`u0 - L` is the zero-data initial condition), and the
    solution differs by `L`: the dynamics whose accuracy the shipped `heat-dirichlet` model
    measures carry over."""
    zero, data = pdes.HeatDirichlet(), pdes.HeatDirichlet(
        boundaries=(pdes.Dirichlet(1.0, 0.5),))
    net = tiny_net(True)
    phi0, _ = ng.fit_initial_condition(zero, net, mu=MU, samples=32)
    phi1, _ = ng.fit_initial_condition(data, net, mu=MU, samples=32)
    x = ng.sample_points(zero, 32)
    # the same minimiser, to the Levenberg-Marquardt stopping tolerance (measured: the
    # weights agree to 1.2e-8 relative, the fitted networks to 3e-9 at the samples)
    np.testing.assert_allclose(jax.vmap(set_phi(net, phi1))(x), jax.vmap(set_phi(net, phi0))(x),
                               rtol=0, atol=1e-7)
    fields = [ng.GalerkinField(eq, net, x, ng.LeastSquares(), lift=ng.boundary_lift(eq))
              for eq in (zero, data)]
    assert fields[0].lift is None and fields[1].lift is not None
    (J0, F0), (J1, F1) = (f.system(phi0, MU, 0.3) for f in fields)
    np.testing.assert_array_equal(J1, J0)
    np.testing.assert_allclose(F1, F0, rtol=0, atol=1e-12 * float(jnp.max(jnp.abs(F0))))
    lift = fields[1].lift
    u = jax.vmap(lift.on(set_phi(net, phi0), 0.3, MU))(x) - jax.vmap(set_phi(net, phi0))(x)
    np.testing.assert_allclose(u, 1.0 * (1 - x[:, 0]) + 0.5 * x[:, 0], rtol=0, atol=1e-15)
    # the exact solution with the data is the zero-data one plus the steady state
    y = jnp.array([0.3])
    np.testing.assert_allclose(data.exact(y, 0.4, MU) - zero.exact(y, 0.4, MU), 0.85,
                               rtol=0, atol=1e-15)


def test_lift_holds_time_dependent_neumann_slopes():
    """The slopes of `L + N` at the ends are the data whatever the online weights (the
    network's even embedding has zero slope there)."""
    eq = pdes.HeatDirichlet(boundaries=(pdes.Neumann(g_lower, -0.2),))
    net = tiny_net(False)
    lift = ng.boundary_lift(eq)
    assert lift is not None
    for k, t in enumerate((0.0, 0.4, 0.9)):
        phi = jr.normal(jr.PRNGKey(k), (ng.num_phi(net),))
        u = lift.on(set_phi(net, phi), t, MU)
        slopes = [float(jax.grad(u)(jnp.array([x]))[0]) for x in (0.0, 1.0)]
        np.testing.assert_allclose(slopes, [g_lower(t, MU), -0.2], rtol=0, atol=1e-13)


class Box2D(pdes.AbstractEquation):
    """The heat equation on the unit square with the given boundaries."""

    lower: tuple[float, ...] = (0.0, 0.0)
    upper: tuple[float, ...] = (1.0, 1.0)
    mu_range: tuple[float, float] = (0.01, 0.1)
    t1: float = 1.0
    boundaries: tuple = (pdes.Periodic(), pdes.Periodic())

    def F(self, field, x, mu):
        return mu * field.laplacian()

    def initial_condition(self, x, mu):
        return jnp.zeros(())


def test_lifts_of_several_directions_add_where_the_corners_agree():
    both = Box2D(boundaries=(pdes.Neumann(0.3, -0.1), pdes.Neumann(lambda t, mu: t, 0.2)))
    lift = ng.boundary_lift(both)
    assert lift is not None
    # on each face the slope along its direction is the data (at t = 0.7 for the y data)
    for x, axis, want in (((0.0, 0.4), 0, 0.3), ((1.0, 0.8), 0, -0.1), ((0.6, 0.0), 1, 0.7),
                          ((0.2, 1.0), 1, 0.2), ((1.0, 1.0), 0, -0.1), ((1.0, 1.0), 1, 0.2)):
        grad = jax.grad(lambda y: lift(y, 0.7, MU))(jnp.array(x))
        np.testing.assert_allclose(grad[axis], want, rtol=0, atol=1e-14)
    side = ng.boundary_lift(Box2D(boundaries=(pdes.Dirichlet(1.0, 0.5), pdes.Neumann())))
    assert side is not None
    assert float(side(jnp.array([0.0, 0.3]), 0.0, MU)) == 1.0
    assert float(side(jnp.array([1.0, 0.9]), 0.0, MU)) == 0.5


@pytest.mark.parametrize("boundaries", [
    (pdes.Dirichlet(1.0, 0.0), pdes.Dirichlet(0.0, 0.0)),
    (pdes.Dirichlet(1.0, 0.0), pdes.Neumann(0.5, 0.0)),
    (pdes.Neumann(0.5, 0.0), pdes.Dirichlet(0.0, 0.0)),
])
def test_data_that_conflict_at_the_corners_are_refused(boundaries):
    with pytest.raises(ValueError, match="meet at the corners"):
        ng.boundary_lift(Box2D(boundaries=boundaries))


def test_bad_boundary_data_are_refused_clearly():
    with pytest.raises(ValueError, match="lower must be a finite number"):
        pdes.Dirichlet(float("nan"), 0.0)
    net = tiny_net(True)
    bad = {
        "returned shape \\(3,\\); return one number": lambda t, mu: jnp.ones(3),
        "failed on scalar arrays t, mu .*write it with jax.numpy": lambda t, mu: float(t),
        "boundary data at the initial time contains NaN or inf": lambda t, mu: jnp.log(t - 1),
    }
    for message, g in bad.items():
        eq = pdes.HeatDirichlet(boundaries=(pdes.Dirichlet(g, 0.0),))
        with pytest.raises(ValueError, match=message):
            ng.fit_initial_condition(eq, net, mu=MU, samples=32)
    eq = pdes.HeatDirichlet(boundaries=(pdes.Dirichlet(1.0, 0.0),))
    with pytest.raises(ValueError, match="invariants change through the boundary"):
        ng.solve(eq, net, 0.0, 0.1, None, jnp.zeros(3), MU, samples=32, conserve=["mass"])
    with pytest.raises(ValueError, match="pass lift=ng.boundary_lift"):
        ng.GalerkinField(eq, net, ng.sample_points(eq, 32), ng.LeastSquares())
    with pytest.raises(ValueError, match="give mu"):
        ng.fit_initial_condition(eq, net, lambda x: 1.0 - x[0], samples=32)


@pytest.mark.slow  # trains (2 steps): 41 s measured on 2 CPU cores shared with other work
def test_pretraining_learns_u_minus_the_lift_and_predict_adds_it_back():
    eq = pdes.HeatDirichlet(boundaries=(pdes.Dirichlet(g_lower, 0.5),))
    data = ng.trajectories_from_fd(eq, (0.02, 0.08), 17, np.linspace(0.0, 0.2, 3))
    model, _ = ng.pretrain(data, pde=eq, steps=2, key=jr.PRNGKey(0), progress=False, width=8,
                           depth=2, rank=1, hyper_width=4, hyper_depth=1)
    assert model.config.lift and model.config.dirichlet == (True,)
    with pytest.raises(ValueError, match="give equation= to add the lift back"):
        ng.predict(model, [0.0, 0.2], 0.05)
    with pytest.raises(ValueError, match="pretrain it with pde=equation"):
        ng.predict(model, [0.0, 0.2], 0.05, equation=pdes.HeatDirichlet())
    sol = ng.predict(model, jnp.array([0.0, 0.2]), 0.05, equation=eq)
    got, want = sol.evaluate(ENDS), data_at_ends(sol.ts[None], [0.05])[0]
    assert float(jnp.max(jnp.abs(got - want))) < 1e-15
