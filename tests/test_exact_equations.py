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
