import math

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ._base import AbstractEquation, d2
from ._boundary import AbstractBoundary, Neumann
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
        return _allen_cahn_rhs(field, mu)

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
        return _free_energy(u, grad_u, mu)


def _allen_cahn_rhs(field: AbstractField, mu: ArrayLike) -> Array:
    """`mu Laplace(u) + u - u^3`: the right-hand side of both Allen-Cahn equations."""
    v = field.value()
    return jnp.asarray(mu) * field.laplacian() + v - v**3


def _free_energy(u: Array, grad_u: Array, mu: ArrayLike) -> Array:
    """The Allen-Cahn free energy density `mu |grad u|^2 / 2 + (u^2 - 1)^2 / 4`."""
    return 0.5 * jnp.asarray(mu) * jnp.sum(grad_u**2) + 0.25 * (u**2 - 1) ** 2


class AllenCahnNeumann(AbstractEquation):
    """Allen-Cahn `u_t = mu u_xx + u - u^3` on the bounded interval `[0, 1]` with no-flux
    (zero Neumann) ends, `u_x(0, t) = u_x(1, t) = 0` (`boundaries = (pdes.Neumann(0, 0),)`):
    the phase-field model of Allen & Cahn (Acta Metall. 27, 1979) in its usual bounded
    setting, where the ends neither feed nor drain the phases.

    The parameter is the interface energy `mu = eps^2` in `[1e-3, 1e-2]` (interfaces of width
    `~sqrt(2 mu)`, 0.045 to 0.14: from several to a dozen grid cells of the reference at
    `n = 256`). Default initial condition `0.6 cos(2 pi x) + 0.3 cos(5 pi x) + 0.1`: smooth,
    with zero slope at both ends (every `cos(k pi x)` has), so compatible with the data, and
    not symmetric about `x = 1/2`, with two zeros (`x ~ 0.20, 0.71`). The reaction drives
    `u` towards the wells `+-1` (to within 1% by `t ~ 3` at `mu = 1e-3`; at `mu = 1e-2` the
    interfaces, of width `~0.14`, overlap across the negative phase, which stays above -0.72)
    and leaves two interfaces near the initial zeros that then drift slowly (the negative
    phase between them shrinks, faster at larger `mu`); default `t1 = 4`.

    The equation keeps nothing; the free energy `int mu u_x^2 / 2 + (u^2 - 1)^2 / 4` (the
    invariant `"free_energy"`) decreases, `d/dt = -int u_t^2` (the boundary term
    `mu u_x u_t` vanishes at no-flux ends).

    Reference: derived from `F`: second-order central differences with mirrored ghost nodes
    at the ends (`pdes.BOUNDED_ORDER`; measured self-convergence order 1.99 at `mu = 5e-3`,
    `t = 1`), explicit time stepping (Tsit5; the diffusive step `~ h^2 / (2 mu)` bounds it:
    `reference_points = 1024`, 5e4 steps at `mu = 1e-2` to `t1`, under 2 s).
    """

    name = "allen-cahn-neumann"
    conserved = ()
    dissipated = {"free_energy": "d/dt int mu u_x^2/2 + (u^2 - 1)^2/4 dx = -int u_t^2 dx"}
    reference_points = 1024
    lower: tuple[float, ...] = (0.0,)
    upper: tuple[float, ...] = (1.0,)
    boundaries: tuple[AbstractBoundary, ...] = (Neumann(0.0, 0.0),)
    mu_range: tuple[float, float] = (1e-3, 1e-2)
    t1: float = 4.0

    def F(self, field: AbstractField, x: Array, mu: ArrayLike) -> Array:
        return _allen_cahn_rhs(field, mu)

    def initial_condition(self, x: Float[Array, " d"], mu: ArrayLike) -> Float[Array, ""]:
        s = (x[0] - self.lower[0]) / self.lengths[0]
        return 0.6 * jnp.cos(2 * jnp.pi * s) + 0.3 * jnp.cos(5 * jnp.pi * s) + 0.1

    def invariant_density(self, name: str, x: Float[Array, " d"], u: Float[Array, ""],
                          grad_u: Float[Array, " d"], mu: ArrayLike) -> Float[Array, ""]:
        if name != "free_energy":
            return super().invariant_density(name, x, u, grad_u, mu)
        return _free_energy(u, grad_u, mu)
