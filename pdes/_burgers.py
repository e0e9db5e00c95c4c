import math

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ._base import AbstractEquation, d2
from ._operators import AbstractField


class Burgers(AbstractEquation):
    """Viscous Burgers `u_t + (u^2/2)_x = mu u_xx` on the periodic interval `[0, 1)`; with
    `lower`/`upper` of length `d`, the scalar Burgers equation
    `u_t + u (u_x1 + ... + u_xd) = mu Laplace(u)` on that periodic box.

    The parameter is the viscosity `mu` in `[1e-3, 1e-2]`. Initial condition (`initial`):
    - `"sine"` (the default): `0.25 + sin(2 pi x_1)` (constant along the other directions): a
      front steepens by `t ~ 0.16` and then decays; default `t1 = 0.4`;
    - `"bump"`: the flat-topped bump `exp(-196 pi^2 |x - c|^4)`, `c = (pi/10, ..., pi/10)`,
      `|x - c|` the distance to the nearest periodic image of `c`, the same for every `mu`:
      the initial condition of the CoLoRA authors' 2D data (it matches their `t = 0` snapshot
      to `3e-8`, the data's float32 rounding). Values in `(0, 1]`, `1e-53` at the farthest
      point of the unit box, so periodic to round-off there.

    `Burgers.in_dimension(d)` (`pdes.get("burgers-2d")`) is the unit box `[0, 1)^d`, and in
    `d >= 2` the setup of the CoLoRA authors' 2D data: the bump and `t1 = 1`
    (`Burgers(lower=(0, 0), upper=(1, 1), t1=1.0, initial="bump")`).

    Reference: conservative finite volumes with the skew-symmetric (energy-conserving) flux
    `f_{i+1/2} = (u_i^2 + u_i u_{i+1} + u_{i+1}^2) / 6` and central diffusion, second order.
    It is free of grid oscillations while the cell Peclet number `|u| dx / mu < 2`
    (for the default data: `n >= 1024` at `mu = 1e-3`). Mass is kept exactly by the scheme.
    Time stepping is explicit (Tsit5, adaptive) unless diffusion dominates the stability
    limit by a wide margin, then implicit (Kvaerno5).
    """

    name = "burgers"
    fd_order = 2
    conserved = ("mass",)
    dissipated = {"energy": "d/dt int u^2/2 dx = -mu int u_x^2 dx"}
    lower: tuple[float, ...] = (0.0,)
    upper: tuple[float, ...] = (1.0,)
    mu_range: tuple[float, float] = (1e-3, 1e-2)
    t1: float = 0.4
    initial: str = "sine"

    def __check_init__(self):
        if self.initial not in ("sine", "bump"):
            raise ValueError(f"initial must be 'sine' or 'bump', got {self.initial!r}")

    @classmethod
    def in_dimension(cls, d: int) -> "Burgers":
        """The periodic unit box `[0, 1)^d`; in `d >= 2` the setup of the CoLoRA authors' 2D
        data: the `"bump"` initial condition and `t1 = 1`."""
        if not (isinstance(d, int) and d >= 1):
            raise ValueError(f"the dimension must be a positive integer, got {d!r}")
        if d == 1:
            return cls()
        return cls(lower=(0.0,) * d, upper=(1.0,) * d, t1=1.0, initial="bump")

    def F(self, field: AbstractField, x: Array, mu: ArrayLike) -> Array:
        return jnp.asarray(mu) * field.laplacian() - field.div(lambda u: u**2 / 2)

    def initial_condition(self, x: Float[Array, " d"], mu: ArrayLike) -> Float[Array, ""]:
        if self.initial == "sine":
            return 0.25 + jnp.sin(2 * jnp.pi * x[0])  # in d > 1: constant along x_1, ...
        lengths = jnp.asarray(self.lengths)
        # the offset to the nearest periodic image of the centre
        offset = jnp.remainder(x - math.pi / 10 + lengths / 2, lengths) - lengths / 2
        r2 = jnp.sum(offset**2)
        return jnp.exp(-196 * math.pi**2 * r2**2)

    def fd_rhs(self, u: Float[Array, "*grid"], mu: ArrayLike, dx: tuple[float, ...]) -> Array:
        out = jnp.zeros_like(u)
        for axis, h in enumerate(dx):
            up = jnp.roll(u, -1, axis)
            flux = (u * u + u * up + up * up) / 6.0  # at i + 1/2 along this axis
            out = out - (flux - jnp.roll(flux, 1, axis)) / h + mu * d2(u, axis, h)
        return out

    def conserved_at(self, mu: float) -> tuple[str, ...]:
        # viscosity dissipates the energy int u^2/2 at the rate mu int u_x^2; inviscid Burgers
        # keeps it until a shock forms (t = 1/(2 pi) for the default initial condition)
        return ("mass",) if mu > 0 else ("mass", "energy")

    def fd_stiff(self, mu: float, n: tuple[int, ...]) -> bool:
        # explicit diffusive limit ~ dx^2 / (2 mu) against the advective one ~ dx / max|u|
        dx = self.lengths[0] / n[0]
        # measured: at n = 1024, mu = 1e-2 (ratio 13) Tsit5 took 0.07 s and Kvaerno5 61 s, so the
        # implicit solver only pays where the explicit one would need ~1000x the advective steps
        return 2 * mu / (1.5 * dx) > 1000.0  # (dx / 1.5) / (dx^2 / (2 mu)), safe at mu = 0


def cole_hopf(x: ArrayLike, t: ArrayLike, mu: ArrayLike, a: float = 0.5) -> Array:
    """Exact viscous Burgers solution on `[0, 1)`, by the Cole-Hopf transform of
    `phi = 1 + a exp(-4 pi^2 mu t) cos(2 pi x)`: `u = -2 mu phi_x / phi`."""
    e = a * jnp.exp(-4 * jnp.pi**2 * mu * t)
    k = 2 * jnp.pi
    return 2 * jnp.asarray(mu) * k * e * jnp.sin(k * x) / (1 + e * jnp.cos(k * x))
