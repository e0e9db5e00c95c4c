import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pdes
from pdes._base import partial, partial3

# saved times shared by all solves of an equation (one compiled solve per grid size)
KDV_MU, KDV_TS = 2.0, jnp.linspace(0.0, 3.0, 4)  # through the overtaking (t ~ 2.7 at mu = 2)
AC_MU, AC_TS = 5e-3, jnp.linspace(0.0, 4.0, 9)


@functools.cache
def _kdv_solve(n):
    return pdes.fd_solve(pdes.KdV(), KDV_MU, n, KDV_TS, rtol=1e-11, atol=1e-13)


@functools.cache
def _ac_solve(n):
    return pdes.fd_solve(pdes.AllenCahn(), AC_MU, n, AC_TS, rtol=1e-11, atol=1e-13)


def _kdv_exact(x, t, mu):
    eq = pdes.KdV()
    return jax.vmap(eq.exact, (0, None, None))(x.reshape(-1, 1), t, mu).reshape(x.shape[:-1])


def test_registered():
    assert isinstance(pdes.get("kdv"), pdes.KdV) and pdes.get("kdv").name == "kdv"
    assert isinstance(pdes.get("Allen-Cahn"), pdes.AllenCahn)
    assert pdes.get("allen-cahn").name == "allen-cahn"


def test_kdv_fd_order_against_two_solitons():
    ns = [128, 256, 512]
    errs = [float(jnp.sqrt(jnp.mean((_kdv_solve(n).us[-1]
                                     - _kdv_exact(_kdv_solve(n).x, KDV_TS[-1], KDV_MU)) ** 2)))
            for n in ns]
    slope = pdes.convergence_slope([1 / n for n in ns], errs)
    assert abs(slope - pdes.KdV.fd_order) < 0.3, (slope, errs)
    assert errs[-1] < 1e-2, errs


def test_kdv_fd_keeps_mass_and_energy():
    s = _kdv_solve(256)
    mass = np.asarray(s.us.sum(axis=1))
    energy = np.asarray((s.us**2).sum(axis=1))
    assert np.max(np.abs(mass - mass[0])) / abs(mass[0]) < 1e-13, mass
    # the time integration's tolerance (rtol = 1e-11), not the scheme, moves the energy
    assert np.max(np.abs(energy - energy[0])) / energy[0] < 1e-9, energy
    # the semi-discretisation itself keeps both to round-off, for any grid function
    u = jax.random.normal(jax.random.PRNGKey(0), (200,))
    du = pdes.KdV().fd_rhs(u, KDV_MU, (0.3,))
    scale = float(jnp.sum(jnp.abs(du)) * jnp.max(jnp.abs(u)))
    assert abs(float(jnp.sum(du))) < 1e-13 * scale
    assert abs(float(jnp.sum(u * du))) < 1e-13 * scale


@pytest.mark.parametrize("mu", [1.5, 2.0])
def test_kdv_exact_solves_the_equation(mu):
    eq = pdes.KdV()
    xs = jnp.array([-8.0, -5.0, 0.0, 2.5, 3.0, 6.0, 12.0, 25.0])
    for t in (0.0, 2.7, 6.0, eq.t1):
        def u(x, t=t):
            return eq.exact(x, t, mu)

        def residual(x, t=t):
            u_t = jax.jvp(lambda s: eq.exact(x, s, mu), (t,), (1.0,))[1]
            return u_t + 6 * u(x) * partial(u, x, 0) + partial3(u, x, 0)

        res = jax.vmap(residual)(xs[:, None])
        scale = jnp.max(jnp.abs(jax.vmap(lambda x: partial3(u, x, 0))(xs[:, None])))
        assert float(jnp.max(jnp.abs(res))) < 1e-10 * max(float(scale), 1.0), (t, res)
        # the equation's autodiff right-hand side is -6 u u_x - u_xxx
        rhs = jax.vmap(lambda x: eq.rhs(u, x, mu))(xs[:, None])
        u_t = jax.vmap(lambda x: jax.jvp(lambda s: eq.exact(x, s, mu), (t,), (1.0,))[1])(
            xs[:, None])
        assert float(jnp.max(jnp.abs(rhs - u_t))) < 1e-10 * max(float(scale), 1.0)


@pytest.mark.parametrize("mu", [1.5, 2.0])
def test_kdv_default_setup_as_documented(mu):
    # the larger soliton starts behind at x = -5, the smaller at x = 3; by t1 the larger one
    # is ahead, and the solution on the line is periodic to within 6e-9 throughout
    eq = pdes.KdV()
    x = eq.grid(6000)
    ends = jnp.array([[eq.lower[0]], [eq.upper[0]]])
    assert jnp.allclose(eq.initial_values(6000, mu), _kdv_exact(x, 0.0, mu), rtol=0, atol=1e-15)
    for t in np.linspace(0.0, eq.t1, 17):
        at_ends = jax.vmap(eq.exact, (0, None, None))(ends, t, mu)
        assert float(jnp.max(at_ends)) < 6e-9, (t, at_ends)
    u0, u1 = _kdv_exact(x, 0.0, mu), _kdv_exact(x, eq.t1, mu)
    xs = np.asarray(x[:, 0])
    assert abs(xs[np.argmax(u0)] - (-5.0)) < 0.05 and float(jnp.max(u0)) > 1.1
    big = xs[np.argmax(u1)]
    small = xs[np.argmax(jnp.where(x[:, 0] < big - 3, u1, 0))]
    assert small + 3 < big < eq.upper[0] - 10, (small, big)
    assert abs(float(jnp.max(u1)) - mu**2 / 2) < 1e-2


def test_allen_cahn_fd_self_convergence():
    ns, ref_n = [128, 256, 512], 4096
    ref = _ac_solve(ref_n).us[-1]
    errs = [float(jnp.sqrt(jnp.mean((_ac_solve(n).us[-1] - ref[:: ref_n // n]) ** 2)))
            for n in ns]
    slope = pdes.convergence_slope([1 / n for n in ns], errs)
    assert abs(slope - pdes.AllenCahn.fd_order) < 0.3, (slope, errs)


def test_allen_cahn_free_energy_decreases():
    eq = pdes.AllenCahn()
    s = _ac_solve(512)
    h = eq.lengths[0] / 512
    grad = (jnp.roll(s.us, -1, axis=1) - s.us) / h
    density = jax.vmap(jax.vmap(lambda x, u, g: eq.invariant_density(
        "free_energy", x, u, g[None], AC_MU), (0, 0, 0)), (None, 0, 0))(s.x, s.us, grad)
    free = np.asarray(density.sum(axis=1) * h)
    assert np.all(np.diff(free) < 0) and free[-1] < 0.5 * free[0], free
    # nothing is kept: the mass grows as u settles into the wells
    mass = np.asarray(s.us.sum(axis=1) * h)
    assert mass[-1] > 2 * mass[0], mass
    with pytest.raises(ValueError, match="no invariant"):
        eq.invariant_density("energy2", s.x[0], s.us[0, 0], grad[0, :1], AC_MU)


def test_allen_cahn_initial_condition_nearly_periodic():
    eq = pdes.AllenCahn()
    lo, hi = jnp.array([0.0]), jnp.array([2 * np.pi])
    assert abs(float(eq.initial_condition(hi, AC_MU) - eq.initial_condition(lo, AC_MU))) < 2e-13
    slope = [float(partial(lambda x: eq.initial_condition(x, AC_MU), p, 0)) for p in (lo, hi)]
    assert abs(slope[1] - slope[0]) < 2e-11, slope


@pytest.mark.parametrize("eq, mu, ns, u", [
    (pdes.KdV(), 2.0, (128, 256),  # nonlinear term dominates
     lambda x: 0.3 + jnp.sin(2 * jnp.pi * 5 * x[0] / 60) + 0.5 * jnp.cos(2 * jnp.pi * x[0] / 60)),
    (pdes.KdV(), 2.0, (128, 256),  # small amplitude: the third derivative dominates
     lambda x: 1e-3 * jnp.sin(2 * jnp.pi * 5 * x[0] / 60)),
    (pdes.AllenCahn(), 5e-3, (32, 64),
     lambda x: 0.3 + jnp.sin(2 * x[0]) * jnp.cos(x[-1])),
    (pdes.AllenCahn(lower=(0.0, 0.0), upper=(2 * np.pi, np.pi)), 5e-3, (32, 64),
     lambda x: 0.3 + jnp.sin(2 * x[0]) * jnp.cos(2 * x[-1])),
])
def test_autodiff_rhs_matches_fd_rhs(eq, mu, ns, u):
    # the two right-hand sides (Neural Galerkin's and the reference's) agree to O(h^2)
    diffs = []
    for n in ns:
        x = eq.grid(n)
        flat = x.reshape(-1, eq.ndim)
        auto = jax.vmap(lambda p: eq.rhs(u, p, mu))(flat).reshape(x.shape[:-1])
        dx = tuple(length / n for length in eq.lengths)
        fd = eq.fd_rhs(jax.vmap(u)(flat).reshape(x.shape[:-1]), mu, dx)
        diffs.append(float(jnp.max(jnp.abs(auto - fd)) / jnp.max(jnp.abs(auto))))
    assert diffs[1] < 2e-2 and 3.0 < diffs[0] / diffs[1] < 5.0, diffs
