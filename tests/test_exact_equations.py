"""An exact solution is a typed feature of an equation: `pdes.AbstractExactEquation`."""

import jax.random as jr
import pytest

import neural_galerkin as ng
import pdes

# the shipped equations that have an exact solution from their default initial condition
WITH_EXACT = {"advection", "advection-diffusion", "fokker-planck", "heat-dirichlet", "kdv",
              "vlasov", "vlasov-colora", "wave-2d"}


@pytest.mark.parametrize("name", sorted(pdes.EQUATIONS))
def test_shipped_equations_with_an_exact_solution_say_so_by_type(name):
    eq = pdes.get(name)
    assert isinstance(eq, pdes.AbstractExactEquation) == (name in WITH_EXACT)
    assert isinstance(eq, pdes.AbstractEquation)


def test_an_exact_equation_must_define_exact():
    class NoExact(pdes.AbstractExactEquation):
        name = "no-exact"
        fd_order = 2
        lower: tuple[float, ...] = (0.0,)
        upper: tuple[float, ...] = (1.0,)
        mu_range: tuple[float, float] = (0.0, 1.0)
        t1: float = 1.0

        def rhs(self, u, x, mu):
            return 0.0 * u(x)

        def initial_condition(self, x, mu):
            return x[0]

        def fd_rhs(self, u, mu, dx):
            return 0.0 * u

    with pytest.raises(TypeError, match="abstract"):
        NoExact()


def test_data_from_an_exact_solution_needs_one():
    with pytest.raises(ValueError, match="burgers has no exact solution; use "
                                         "trajectories_from_fd"):
        ng.trajectories_from_exact(pdes.Burgers(), [5e-3], [0.0, 0.1], 16, key=jr.PRNGKey(0))
    data = ng.trajectories_from_exact(pdes.Advection(), [1.0], [0.0, 0.1], 16, key=jr.PRNGKey(0))
    assert data.u.shape == (1, 2, 16)


def test_recipe_data_seed():
    """A recipe's `"exact"` data are drawn with its `data_seed` where it has one (KdV: the
    shipped model's data were drawn with 0, its training key is 5), else with its `seed`; an
    explicit seed (`pretrain --seed`) draws both."""
    import dataclasses

    import numpy as np

    from neural_galerkin._data import recipe_data
    from neural_galerkin._recipes import RECIPES

    eq = pdes.Advection()
    rec = dataclasses.replace(RECIPES["kdv"], train_mus=(1.0,), n=16, n_times=2, seed=5,
                              data_seed=0)

    def points(recipe, seed=None):
        return np.asarray(recipe_data(eq, recipe, seed).points)

    by_data_seed = points(rec)
    np.testing.assert_array_equal(by_data_seed, points(rec, 0))
    assert not np.array_equal(by_data_seed, points(rec, 5))
    np.testing.assert_array_equal(points(dataclasses.replace(rec, data_seed=None)),
                                  points(rec, 5))


def test_exact_solution_on_the_grid():
    """`exact_on_grid`: the exact solution on `equation.grid(n)`, laid out as the reference
    trajectories are (a system: the fields after the time axis)."""
    import numpy as np

    from neural_galerkin._data import exact_on_grid

    with pytest.raises(ValueError, match="burgers has no exact solution"):
        exact_on_grid(pdes.Burgers(), [5e-3], [0.0], 8)
    eq = pdes.Wave2D()
    mus, ts = [0.5, 0.8], [0.0, 0.1, 0.3]
    data = exact_on_grid(eq, mus, ts, 8)
    assert data.u.shape == (2, 3, 2, 8, 8) and data.fields == eq.fields
    grid = np.asarray(eq.grid(8))
    for i, j in ((1, 2), (3, 7)):
        want = np.asarray(eq.exact(grid[i, j], ts[2], mus[1]))
        np.testing.assert_allclose(data.u[1, 2, :, i, j], want, rtol=1e-12, atol=1e-14)
        assert data.x[0][i] == grid[i, j, 0] and data.x[1][j] == grid[i, j, 1]
    adv = exact_on_grid(pdes.Advection(), [1.0], [0.0, 0.2], 16)
    assert adv.u.shape == (1, 2, 16)
    np.testing.assert_allclose(adv.u[0, 1, 5], float(pdes.Advection().exact(
        np.asarray(pdes.Advection().grid(16))[5], 0.2, 1.0)), rtol=1e-12)
