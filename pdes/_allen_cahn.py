import math

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ._base import AbstractEquation, d2
from ._operators import AbstractField


class AllenCahn(AbstractEquation):
    """Allen-Cahn `u_t = mu u_xx + u - u^3` on the periodic interval `[0, 2 pi)`; with
    `lower`/`upper` of length `d`, `u_t = mu Laplace(u) + u - u^3` on that periodic box.

    The parameter is the interface energy `mu = eps` in `[2.5e-3, 1e-2]`. Default initial
    condition `tanh(2 sin x) / 3 - exp(-23.5 (x - pi/2)^2) + exp(-27 (x - 4.2)^2)
    + exp(-38 (x - 5.4)^2)` (in `d > 1`: constant along `x_1, ...`): the bumps are not
    periodic, but their largest mismatch across the ends of the box is `1.3e-13` (in value;
    `1e-11` in slope), from the last one at `x = 2 pi`. The reaction drives `u` towards the
    wells `+-1` (to within a few percent by `t ~ 3`), leaving interfaces of width
    `~sqrt(2 mu)` at the eight zeros of the initial condition (one at `x = 0`), which barely
    move (metastability); default `t1 = 4`.

    The equation keeps nothing: `int u` changes by the reaction, and the free energy
    `int mu |grad u|^2 / 2 + (u^2 - 1)^2 / 4` (the invariant `"free_energy"`) decreases.

    Reference: central second differences (second order), explicit time stepping (Tsit5,
    adaptive); with `4 mu / h^2` the fastest diffusive rate, the work grows like `n^2`
    (measured, `mu = 1e-2`, `t1 = 4`, `rtol = 1e-8`: 1.2e3 steps at `n = 1024`, 4.8e3 at
    `n = 2048`, 1.9e4 at `n = 4096`, a few seconds; Kvaerno5 took 40x Tsit5's time at
    `n = 256`).
    """

    name = "allen-cahn"
    fd_order = 2
    conserved = ()
    dissipated = {"free_energy": "d/dt int mu |grad u|^2/2 + (u^2 - 1)^2/4 dx = -int u_t^2 dx"}
    lower: tuple[float, ...] = (0.0,)
    upper: tuple[float, ...] = (2 * math.pi,)
    mu_range: tuple[float, float] = (2.5e-3, 1e-2)
    t1: float = 4.0

    def F(self, field: AbstractField, x: Array, mu: ArrayLike) -> Array:
        v = field.value()
        return jnp.asarray(mu) * field.laplacian() + v - v**3

    def initial_condition(self, x: Float[Array, " d"], mu: ArrayLike) -> Float[Array, ""]:
        s = x[0]
        return (jnp.tanh(2 * jnp.sin(s)) / 3 - jnp.exp(-23.5 * (s - jnp.pi / 2) ** 2)
                + jnp.exp(-27 * (s - 4.2) ** 2) + jnp.exp(-38 * (s - 5.4) ** 2))

    def fd_rhs(self, u: Float[Array, "*grid"], mu: ArrayLike, dx: tuple[float, ...]) -> Array:
        return jnp.asarray(mu) * sum(d2(u, axis, h) for axis, h in enumerate(dx)) + u - u**3

    def invariant_density(self, name: str, x: Float[Array, " d"], u: Float[Array, ""],
                          grad_u: Float[Array, " d"], mu: ArrayLike) -> Float[Array, ""]:
        if name != "free_energy":
            return super().invariant_density(name, x, u, grad_u, mu)
        return 0.5 * jnp.asarray(mu) * jnp.sum(grad_u**2) + 0.25 * (u**2 - 1) ** 2
