"""What is particular to KdV and Allen-Cahn; what every equation keeps is checked in
test_contract_equations.py."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pdes
from pdes._base import partial

AC_MU = 5e-3


def _kdv_exact(x, t, mu):
    eq = pdes.KdV()
    return jax.vmap(eq.exact, (0, None, None))(x.reshape(-1, 1), t, mu).reshape(x.shape[:-1])


def test_registered():
    assert isinstance(pdes.get("kdv"), pdes.KdV) and pdes.get("kdv").name == "kdv"
    assert isinstance(pdes.get("Allen-Cahn"), pdes.AllenCahn)
    assert pdes.get("allen-cahn").name == "allen-cahn"


def test_kdv_scheme_keeps_mass_and_energy_for_any_grid_function():
    # the semi-discretisation itself keeps both to round-off, for any grid function (in time,
    # over a solve: test_contract_equations.py)
    u = jax.random.normal(jax.random.PRNGKey(0), (200,))
    du = pdes.KdV().fd_rhs(u, 2.0, (0.3,))
    scale = float(jnp.sum(jnp.abs(du)) * jnp.max(jnp.abs(u)))
    assert abs(float(jnp.sum(du))) < 1e-13 * scale
    assert abs(float(jnp.sum(u * du))) < 1e-13 * scale


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


def test_allen_cahn_initial_condition_nearly_periodic():
    eq = pdes.AllenCahn()
    lo, hi = jnp.array([0.0]), jnp.array([2 * np.pi])
    assert abs(float(eq.initial_condition(hi, AC_MU) - eq.initial_condition(lo, AC_MU))) < 2e-13
    slope = [float(partial(lambda x: eq.initial_condition(x, AC_MU), p, 0)) for p in (lo, hi)]
    assert abs(slope[1] - slope[0]) < 2e-11, slope
