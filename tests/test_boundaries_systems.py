"""Bounded directions (`pdes.Dirichlet`, `pdes.Neumann`) and systems of fields: grids and
quadrature, the field vocabulary with a field axis, the derived reference with boundary data
that change in time, and the errors bad inputs get. (The shipped equations' contract, for
systems and bounded ones too, is in `test_contract_equations.py`.)"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pdes
from pdes._operators import GridField, PointField


class Mixed(pdes.AbstractEquation):
    """`u_t = mu Laplace(u)` on `[0, 1) x [0, 2]`: periodic in x, Dirichlet in y."""

    name = "mixed"
    lower: tuple[float, ...] = (0.0, 0.0)
    upper: tuple[float, ...] = (1.0, 2.0)
    boundaries: tuple[pdes.AbstractBoundary, ...] = (pdes.Periodic(), pdes.Dirichlet(0.0, 0.0))
    mu_range: tuple[float, float] = (0.0, 1.0)
    t1: float = 1.0

    def F(self, field, x, mu):
        return mu * field.laplacian()

    def initial_condition(self, x, mu):
        return jnp.sin(2 * jnp.pi * x[0]) * jnp.sin(jnp.pi * x[1] / 2)


def test_grids_and_quadrature_on_bounded_and_periodic_directions():
    heat, mixed = pdes.get("heat-dirichlet"), Mixed()
    assert heat.periodic == (False,) and mixed.periodic == (True, False)
    assert pdes.get("burgers").periodic == (True,) and pdes.get("vlasov").periodic == (True, True)
    assert np.allclose(heat.grid(5)[:, 0], [0.0, 0.25, 0.5, 0.75, 1.0])  # both ends
    x = mixed.grid((4, 3))
    assert np.allclose(x[:, 0, 0], [0.0, 0.25, 0.5, 0.75]) and np.allclose(x[0, :, 1], [0, 1, 2])
    assert np.allclose(heat.quadrature_weights(5), [0.125, 0.25, 0.25, 0.25, 0.125])
    w = mixed.quadrature_weights((4, 3))
    assert w.shape == (4, 3) and np.allclose(w, [[0.125, 0.25, 0.125]] * 4)
    assert math.isclose(float(jnp.sum(w)), 2.0)  # the box's area
    # the trapezoid rule is second order: int_0^2 sin(pi y / 2) dy = 4 / pi
    wy, y = mixed.quadrature_weights((4, 65))[0] * 4, mixed.grid((4, 65))[0, :, 1]
    assert abs(float(jnp.sum(wy * jnp.sin(jnp.pi * y / 2))) - 4 / math.pi) < 1e-3
    burgers = pdes.get("burgers-2d")  # all periodic: as today
    assert np.allclose(burgers.quadrature_weights(8), burgers.cell_volume(8))
    with pytest.raises(ValueError, match="bounded directions.*quadrature_weights"):
        heat.cell_volume(8)


def test_boundary_conditions_are_checked_when_made():
    with pytest.raises(ValueError, match="boundaries has 2 entries for a box of 1 direction; "
                       "give one boundary condition per direction"):
        pdes.HeatDirichlet(boundaries=(pdes.Dirichlet(), pdes.Dirichlet()))
    with pytest.raises(TypeError, match="0.0 is not a boundary condition; use pdes.Periodic()"):
        pdes.HeatDirichlet(boundaries=(0.0,))
    with pytest.raises(TypeError, match="Dirichlet: lower must be a number or a function"):
        pdes.Dirichlet("zero", 0.0)
    b = pdes.Neumann(1.5, lambda t, mu: mu * t**2)
    lo, hi = b.values(2.0, 3.0)
    assert float(lo) == 1.5 and float(hi) == 12.0
    assert [float(r) for r in b.rates(2.0, 3.0)] == [0.0, 12.0]  # d/dt of mu t^2 = 2 mu t


def test_fields_of_a_system_at_a_point():
    x = jnp.array([0.3, 0.7])

    def u(y):  # two fields of two variables
        return jnp.stack([jnp.sin(y[0]) * y[1], y[0] ** 2 + jnp.cos(y[1])])

    f = PointField(u, x, names=("u", "v"))
    assert f.value().shape == (2,) and f.grad().shape == (2, 2)
    assert np.allclose(f.grad(), [[jnp.cos(0.3) * 0.7, 0.6], [jnp.sin(0.3), -jnp.sin(0.7)]])
    assert np.allclose(f.laplacian(), [-jnp.sin(0.3) * 0.7, 2 - jnp.cos(0.7)])
    assert np.allclose(f.derivative(1, 2), [0.0, -jnp.cos(0.7)])  # keeps the field axis
    # a flux of all fields: (u v, v) along both axes
    div = f.div(lambda w: jnp.stack([w[0] * w[1], w[1]]))
    assert div.shape == (2,)
    want = jax.jacfwd(lambda y: jnp.stack([u(y)[0] * u(y)[1], u(y)[1]]))(x).sum(axis=1)
    assert np.allclose(div, want)
    assert float(f["v"].value()) == float(f[1].value()) == float(u(x)[1])
    assert f["v"].grad().shape == (2,) and f["v"].names == ("v",)
    scalar = PointField(lambda y: y[0] ** 2, x, names=("u",))
    assert scalar[0] is scalar and scalar["u"] is scalar
    with pytest.raises(KeyError, match=r"no field 'w'; the fields are \('u', 'v'\)"):
        f["w"]
    with pytest.raises(KeyError, match="made without field names"):
        PointField(u, x)["u"]
    with pytest.raises(IndexError, match="field index 2 out of range for 2 fields"):
        f[2]


def test_fields_of_a_system_on_a_grid():
    n, length = 32, 2 * math.pi
    s = length * jnp.arange(n) / n
    values = jnp.stack([jnp.sin(s), jnp.cos(2 * s)])
    f = GridField(values, (length,), names=("eta", "lambda"))
    assert f.value().shape == (2, n) and f.grad().shape == (1, 2, n)
    assert np.allclose(f.derivative(0, 2), jnp.stack([-jnp.sin(s), -4 * jnp.cos(2 * s)]))
    assert np.allclose(f["lambda"].derivative(0, 1), -2 * jnp.sin(2 * s))
    div = f.div(lambda w: jnp.stack([w[0] * w[1], w[0]]))  # the flux of all fields
    assert np.allclose(div[1], jnp.cos(s)) and np.allclose(
        div[0], jnp.cos(s) * jnp.cos(2 * s) - 2 * jnp.sin(s) * jnp.sin(2 * s))


def test_finite_differences_along_a_bounded_direction():
    # Neumann data per field in ghost nodes: the central first difference at the ends is the
    # data; a function with that slope gets second-order second derivatives everywhere
    n = 65
    x = jnp.linspace(0.0, 1.0, n)
    values = jnp.stack([jnp.cos(jnp.pi * x), x**2 / 2 + x**3 / 3])  # slopes (0, 0), (0, 2)
    bc = (pdes.Neumann(0.0, lambda t, mu: jnp.array([0.0, 2.0])),)
    f = GridField(values, (1.0,), bc, names=("a", "b"))
    d1, d2 = f.derivative(0, 1), f.derivative(0, 2)
    assert np.allclose(d1[:, [0, -1]], [[0.0, 0.0], [0.0, 2.0]], atol=1e-12)
    want2 = jnp.stack([-jnp.pi**2 * jnp.cos(jnp.pi * x), 1 + 2 * x])
    assert float(jnp.max(jnp.abs(d2 - want2))) < 2e-3 * jnp.pi**2  # O(h^2)
    assert np.allclose(f["b"].derivative(0, 1)[-1], 2.0)  # per-field data, field taken out
    # Dirichlet: one-sided second-order differences at the end nodes
    g = GridField(jnp.exp(x), (1.0,), (pdes.Dirichlet(1.0, math.e),))
    errors = [float(jnp.max(jnp.abs(g.derivative(0, m) - jnp.exp(x)))) for m in (1, 2)]
    assert max(errors) < 20 / (n - 1) ** 2, errors
    with pytest.raises(NotImplementedError, match="order 3 along the bounded direction 0"):
        g.derivative(0, 3)
    assert pdes.BOUNDED_ORDER == 2


def _manufactured(kind, k=2.5, phase=0.4):
    """The heat equation on [0, 1] with data from `exp(-mu k^2 t) sin(k x + phase)`
    (Dirichlet: its values at the ends; Neumann: `cos` and its slopes there)."""
    def exact(x, t, mu):
        e = jnp.exp(-mu * k**2 * t)
        return e * (jnp.sin(k * x + phase) if kind == "dirichlet" else jnp.cos(k * x + phase))

    if kind == "dirichlet":
        bc = pdes.Dirichlet(lambda t, mu: exact(0.0, t, mu), lambda t, mu: exact(1.0, t, mu))
    else:  # d/dx cos(k x + p) = -k sin(k x + p)
        bc = pdes.Neumann(*(lambda t, mu, s=s: -k * jnp.exp(-mu * k**2 * t) * jnp.sin(k * s + phase)
                            for s in (0.0, 1.0)))
    return pdes.HeatDirichlet(boundaries=(bc,)), exact


@pytest.mark.parametrize("kind", ["dirichlet", "neumann"])
def test_time_dependent_boundary_data_are_honoured(kind):
    eq, exact = _manufactured(kind)
    mu, ts = 0.1, jnp.array([0.0, 0.5, 1.0])
    errors = []
    for n in (33, 65):
        x = eq.grid(n)[:, 0]
        u0 = exact(x, 0.0, mu)
        s = pdes.reference_solve(eq, mu, n, ts, u0=u0)
        want = jax.vmap(lambda t: exact(x, t, mu))(ts)
        errors.append(float(jnp.max(jnp.abs(s.us - want))))
        if kind == "dirichlet":  # the end nodes hold the data exactly
            assert float(jnp.max(jnp.abs(s.us[:, [0, -1]] - want[:, [0, -1]]))) < 1e-15
    # second order: measured 1.5e-4, 3.8e-5 (dirichlet), 3.4e-4, 8.6e-5 (neumann, largest at
    # the ends)
    assert 3.5 < errors[0] / errors[1] < 4.5 and errors[1] < 2e-4, errors


class BadSystem(pdes.AbstractEquation):
    """Two fields, but an `F` that returns one."""

    name = "bad-system"
    fields = ("u", "v")
    lower: tuple[float, ...] = (0.0,)
    upper: tuple[float, ...] = (1.0,)
    mu_range: tuple[float, float] = (0.0, 1.0)
    t1: float = 1.0

    def F(self, field, x, mu):
        return field["u"].laplacian()

    def initial_condition(self, x, mu):
        return jnp.stack([jnp.sin(2 * jnp.pi * x[0]), 0.0 * x[0]])


def test_a_system_gets_clear_errors_for_wrong_shapes():
    eq = BadSystem()
    assert eq.initial_values(16, 0.5).shape == (2, 16)
    with pytest.raises(ValueError, match=r"bad-system: F returned shape \(\) at a point, "
                       r"expected \(2,\) \(fields \('u', 'v'\)\); a system's F returns one value "
                       r"per field, built with jnp.stack"):
        eq.rhs(lambda y: jnp.stack([y[0], y[0]]), jnp.array([0.5]), 0.5)
    with pytest.raises(ValueError, match=r"F returned shape \(16,\) on the grid, expected "
                       r"\(2, 16\)"):
        pdes.reference_solve(eq, 0.5, 16, [0.0, 0.1])
    wave = pdes.get("wave-2d")
    with pytest.raises(ValueError, match=r"u0 has shape \(16, 16\), expected \(n_fields, \*grid\) "
                       r"= \(2, 16, 16\) for the fields \('u', 'v'\)"):
        pdes.reference_solve(wave, 0.8, 16, [0.0, 0.1], u0=jnp.zeros((16, 16)))

    class Twice(BadSystem):
        fields = ("u", "u")

    with pytest.raises(TypeError, match="fields must be a tuple of distinct field names"):
        Twice()


def test_a_system_reference_has_a_field_axis():
    eq = pdes.get("wave-2d")
    s = pdes.reference_solve(eq, 0.8, 16, jnp.array([0.0, 0.05]), rtol=1e-6, atol=1e-8)
    assert s.us.shape == (2, 2, 16, 16) and s.x.shape == (16, 16, 2)
    assert np.array_equal(s.us[0], eq.initial_values(16, 0.8))
