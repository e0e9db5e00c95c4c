import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pdes
from neural_galerkin._invariants import EquationInvariant, get_invariant


def _exact_on_grid(eq, n, t, mu):
    x = eq.grid(n)
    return jax.vmap(eq.exact, (0, None, None))(x.reshape(-1, 2), t, mu).reshape(x.shape[:-1])


def _invariants(eq, s, mu):
    """Mass, L2 energy and particle energy (through `invariant_density`) of the FD solution at
    every saved time, by the rectangle rule on its grid."""
    pts = s.x.reshape(-1, 2)
    dens = jax.vmap(lambda x, u: eq.invariant_density("total_energy", x, u, jnp.zeros(2), mu))
    w = eq.cell_volume(s.x.shape[:-1])
    total = jnp.stack([dens(pts, u.reshape(-1)).sum() for u in s.us])
    return (np.asarray(s.us.sum(axis=(1, 2)) * w), np.asarray((s.us**2).sum(axis=(1, 2)) * w / 2),
            np.asarray(total * w))


def _drift(values):
    return float(np.max(np.abs(values - values[0])) / abs(values[0]))


def test_vlasov_fd_order_against_exact():
    # at t = t1/2, where the grids 64..256 are in the asymptotic range (at n = 32 the blob,
    # of width 0.3 in v, spans barely one cell dv = 0.25)
    eq, mu, t, ns, errs = pdes.Vlasov(), 1.0, 2.0, [64, 128, 256], []
    for n in ns:
        s = pdes.fd_solve(eq, mu, n, [0.0, t], rtol=1e-10, atol=1e-12)
        errs.append(float(jnp.sqrt(jnp.mean((s.us[-1] - _exact_on_grid(eq, n, t, mu)) ** 2))))
    slope = pdes.convergence_slope([1 / n for n in ns], errs)
    assert abs(slope - eq.fd_order) < 0.3, (slope, errs)
    assert errs[-1] < 2e-3 and all(3.3 < a / b < 4.7 for a, b in zip(errs, errs[1:])), errs


def test_vlasov_autodiff_rhs_matches_fd_rhs():
    eq, mu = pdes.Vlasov(), 1.3
    k = 2 * jnp.pi / eq.lengths[1]

    def u(x):  # smooth and periodic on the box, not separable
        return 0.3 + jnp.sin(x[0] + 0.5) * jnp.cos(k * x[1]) + 0.2 * jnp.cos(2 * x[0] - k * x[1])

    diffs = []
    for n in (32, 64):
        x = eq.grid(n)
        flat = x.reshape(-1, 2)
        auto = jax.vmap(lambda p: eq.rhs(u, p, mu))(flat).reshape(n, n)
        dx = tuple(length / n for length in eq.lengths)
        fd = eq.fd_rhs(jax.vmap(u)(flat).reshape(n, n), mu, dx)
        diffs.append(float(jnp.max(jnp.abs(auto - fd)) / jnp.max(jnp.abs(auto))))
    assert diffs[1] < 2e-2 and 3.5 < diffs[0] / diffs[1] < 4.5, diffs


def test_vlasov_fd_keeps_invariants():
    # mu = 1.5: the strongest field, the most sheared solution. The scheme is skew-symmetric
    # and its field is the discrete gradient of phi, so mass, sum f^2/2 and sum f (v^2/2 + phi)
    # are all constant in semi-discrete time (up to the rows |v| = V, where f is negligible).
    # Tsit5 keeps the two linear ones (mass, particle energy) to round-off; the quadratic L2
    # energy drifts with the time-step tolerance (not with h): tightening rtol 100x cuts it.
    eq, mu, n = pdes.Vlasov(), 1.5, 128
    ts = jnp.linspace(0.0, eq.t1, 9)
    mass, l2, total = _invariants(eq, pdes.fd_solve(eq, mu, n, ts), mu)  # rtol 1e-8
    _, l2_tight, _ = _invariants(eq, pdes.fd_solve(eq, mu, n, ts, rtol=1e-10, atol=1e-12), mu)
    assert _drift(mass) < 1e-13, _drift(mass)
    assert _drift(total) < 1e-12, _drift(total)
    assert _drift(l2) < 1e-7, _drift(l2)
    assert _drift(l2_tight) < min(1e-9, _drift(l2) / 10), (_drift(l2_tight), _drift(l2))


def test_vlasov_exact():
    eq = pdes.Vlasov()
    x = eq.grid(32).reshape(-1, 2)
    exact = jax.jit(jax.vmap(eq.exact, (0, None, None)))
    f0 = jax.vmap(eq.initial_condition, (0, None))(x, 1.0)
    # t = 0: the initial condition
    assert float(jnp.max(jnp.abs(exact(x, 0.0, 1.0) - f0))) < 1e-14
    # the time direction and the field's sign: d/dt exact at t = 0 is the right-hand side
    h = 1e-3
    dfdt = (exact(x, h, 1.0) - exact(x, -h, 1.0)) / (2 * h)
    rhs = jax.vmap(lambda p: eq.rhs(lambda y: eq.initial_condition(y, 1.0), p, 1.0))(x)
    assert float(jnp.max(jnp.abs(dfdt - rhs)) / jnp.max(jnp.abs(rhs))) < 1e-5
    # negligible at |v| = V (the edge row v = -V, which is also v = +V) for t in [0, t1]
    edge = jnp.stack([jnp.linspace(0, 2 * jnp.pi, 64, endpoint=False), jnp.full(64, -4.0)], 1)
    for mu in eq.mu_range:
        for t in np.linspace(0.0, eq.t1, 5):
            assert float(jnp.max(exact(edge, t, mu))) < 1e-12, (mu, t)
    # the flow is area-preserving, so mass, L2 energy and particle energy of the exact
    # solution stay put (checks the accuracy of the traced characteristics)
    n, mu, t = 128, 1.0, 2.0
    grid = eq.grid(n)
    weight = grid[..., 1] ** 2 / 2 + eq.potential(grid[..., 0], mu)
    inv = [np.array([f.sum(), (f**2).sum() / 2, (f * weight).sum()])
           for f in (eq.initial_values(n, mu), _exact_on_grid(eq, n, t, mu))]
    assert np.max(np.abs(inv[1] - inv[0]) / inv[0]) < 1e-11, inv


def test_vlasov_total_energy_invariant():
    eq = pdes.get("vlasov")
    assert isinstance(eq, pdes.Vlasov) and "total_energy" in eq.conserved
    inv = get_invariant("total_energy", eq, 1.2)
    assert isinstance(inv, EquationInvariant)
    x, u = jnp.array([0.7, -1.5]), jnp.array(0.4)
    expected = 0.4 * (1.5**2 / 2 + 1.2 * (1 + np.cos(0.7)))
    assert abs(float(inv.density(x, u, jnp.zeros(2))) - expected) < 1e-14
    with pytest.raises(ValueError, match="no invariant called 'momentum'"):
        eq.invariant_density("momentum", x, u, jnp.zeros(2), 1.2)
