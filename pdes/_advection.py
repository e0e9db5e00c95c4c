import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ._base import AbstractEquation, PointFunction, d1, partial


class Advection(AbstractEquation):
    """Linear advection `u_t + mu u_x = 0` on the periodic interval `[0, 1)`, speed `mu`.

    Default initial condition: the periodic bump `exp(-10 sin^2(pi (x - 1/2)))`.
    Exact solution: the initial condition translated by `mu t`.
    Reference: second-order central differences (conservative), Tsit5 in time.
    """

    name = "advection"
    fd_order = 2
    conserved = ("mass",)
    lower: tuple[float, ...] = (0.0,)
    upper: tuple[float, ...] = (1.0,)
    mu_range: tuple[float, float] = (0.5, 1.5)
    t1: float = 1.0

    def rhs(self, u: PointFunction, x: Float[Array, " d"], mu: ArrayLike) -> Float[Array, ""]:
        return -mu * partial(u, x, 0)

    def initial_condition(self, x: Float[Array, " d"], mu: ArrayLike) -> Float[Array, ""]:
        return jnp.exp(-10.0 * jnp.sin(jnp.pi * (x[0] - 0.5)) ** 2)

    def exact(self, x: Float[Array, " d"], t: ArrayLike, mu: ArrayLike) -> Float[Array, ""]:
        """Exact solution for the default initial condition."""
        return self.initial_condition(x - mu * t, mu)

    def fd_rhs(self, u: Float[Array, " n"], mu: ArrayLike, dx: tuple[float, ...]) -> Array:
        return -mu * d1(u, 0, dx[0])
