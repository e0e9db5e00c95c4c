import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ._base import AbstractExactEquation, PointFunction, d1


class Advection(AbstractExactEquation):
    """Linear advection `u_t + mu c . grad u = 0` on the periodic box `[lower, upper)`, speed
    `mu` along the fixed direction `c` (default: 1D on `[0, 1)`, `c = (1,)`).

    Default initial condition: the periodic bump `prod_i exp(-10 sin^2(pi (x_i - a_i)/L_i -
    pi/2))`, centred in the box. Exact solution: the initial condition translated by
    `mu c t`. Reference: second-order central differences (conservative), Tsit5 in time.
    Keeps mass and every `int f(u) dx`, the L2 energy among them.
    """

    name = "advection"
    fd_order = 2
    conserved = ("mass", "energy")
    dissipated = {}
    lower: tuple[float, ...] = (0.0,)
    upper: tuple[float, ...] = (1.0,)
    direction: tuple[float, ...] = (1.0,)
    mu_range: tuple[float, float] = (0.5, 1.5)
    t1: float = 1.0

    def __check_init__(self):
        if not len(self.lower) == len(self.upper) == len(self.direction):
            raise ValueError("lower, upper and direction must have one entry per dimension")

    def rhs(self, u: PointFunction, x: Float[Array, " d"], mu: ArrayLike,
            t: ArrayLike = 0.0) -> Float[Array, ""]:
        # one directional derivative c . grad u
        return -jnp.asarray(mu) * jax.jvp(u, (x,), (jnp.asarray(self.direction, x.dtype),))[1]

    def initial_condition(self, x: Float[Array, " d"], mu: ArrayLike) -> Float[Array, ""]:
        out = jnp.asarray(1.0)
        for i, (a, b) in enumerate(zip(self.lower, self.upper)):
            out = out * jnp.exp(-10.0 * jnp.sin(jnp.pi * (x[i] - a) / (b - a) - jnp.pi / 2) ** 2)
        return out

    def exact(self, x: Float[Array, " d"], t: ArrayLike, mu: ArrayLike) -> Float[Array, ""]:
        """Exact solution for the default initial condition."""
        return self.initial_condition(x - mu * t * jnp.asarray(self.direction), mu)

    def fd_rhs(self, u: Float[Array, "*grid"], mu: ArrayLike, dx: tuple[float, ...]) -> Array:
        return -jnp.asarray(mu) * sum(c * d1(u, i, h)
                                      for i, (c, h) in enumerate(zip(self.direction, dx)))
