import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pdes
from neural_galerkin._invariants import EquationInvariant, get_invariant


def _exact_on_grid(eq, n, t, mu):
    x = eq.grid(n)
    return jax.vmap(eq.exact, (0, None, None))(x.reshape(-1, 2), t, mu).reshape(x.shape[:-1])


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
