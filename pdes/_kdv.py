import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ._base import AbstractExactEquation
from ._operators import AbstractField


class KdV(AbstractExactEquation):
    """Korteweg-de Vries `u_t + 6 u u_x + u_xxx = 0` on the periodic interval `[-20, 40)`.

    The parameter `mu` in `[1.5, 2]` is the wave number `k_1` of the larger soliton of the
    exact two-soliton solution `exact` (Hirota): a soliton of wave number `k` has amplitude
    `k^2 / 2`, width `~1/k` and speed `k^2`. The smaller soliton has `k_2 = 1` (amplitude
    `1/2`, speed 1). Default initial condition: `exact` at `t = 0`, with the larger soliton
    centred at `x = -5` and the smaller one at `x = 3`. The faster, larger soliton catches up
    with the smaller one at `t ~ 8 / (mu^2 - 1)` (`t ~ 2.7` at `mu = 2`, `t ~ 6` at
    `mu = 1.5`) and leaves it behind; the two come out of the interaction with their shapes
    and speeds, the larger one shifted forward by `log(1/A) / k_1` and the smaller one back
    by `log(1/A) / k_2`, `A = ((k_1 - k_2) / (k_1 + k_2))^2`. For `mu < 1.62` (amplitude
    ratio below `(3 + sqrt 5) / 2`) the profile keeps two peaks throughout (the solitons
    exchange mass); above, the larger one briefly swallows the smaller. By the default
    `t1 = 8` the two are well apart for every `mu` in range (at `mu = 2` the larger one
    reaches `x ~ 28`). Both stay far enough from the ends of the box that the solution on the
    line is periodic to within `6e-9` over `[0, t1]` (its values at the two ends).

    Reference: conservative second-order finite differences, the flux of `3 u^2` in the
    skew-symmetric form `u_i^2 + u_i u_{i+1} + u_{i+1}^2` (like Burgers) and the central
    5-point third difference `(u_{i+2} - 2 u_{i+1} + 2 u_{i-1} - u_{i-2}) / (2 h^3)`, written
    as a flux difference too. The scheme keeps mass exactly and the L2 energy `int u^2/2`
    up to the time integration. Time stepping is explicit (Tsit5, adaptive): the third
    difference limits the step to `~ h^3` on fine grids (measured, `mu = 2`, `rtol = 1e-8`,
    over `t1 = 8`: 2.9e3 steps at `n = 256`, 1.3e4 at `n = 512`, 1.35e5 at `n = 1024`, a few
    seconds; `n = 2048` needs ~1.1e6, more than `fd_solve`'s default `max_steps`). The
    implicit Kvaerno5 is no way out: at `n = 512` over `t = 1` it took 80 s against Tsit5's
    0.03 s.
    """

    name = "kdv"
    fd_order = 2
    conserved = ("mass", "energy")
    dissipated = {}
    lower: tuple[float, ...] = (-20.0,)
    upper: tuple[float, ...] = (40.0,)
    mu_range: tuple[float, float] = (1.5, 2.0)
    t1: float = 8.0
    reference_points = 1024  # 2048 would need ~1.1e6 explicit steps (u_xxx: dt ~ dx^3)
    k2: float = 1.0
    centres: tuple[float, float] = (-5.0, 3.0)

    def __check_init__(self):
        if len(self.lower) != 1 or len(self.upper) != 1:
            raise ValueError("KdV is one-dimensional: give lower and upper of length 1")

    def F(self, field: AbstractField, x: Array, mu: ArrayLike) -> Array:
        return -field.div(lambda u: 3.0 * u**2) - field.derivative(0, 3)

    def initial_condition(self, x: Float[Array, " d"], mu: ArrayLike) -> Float[Array, ""]:
        return self.exact(x, 0.0, mu)

    def exact(self, x: Float[Array, " d"], t: ArrayLike, mu: ArrayLike) -> Float[Array, ""]:
        """The two-soliton solution on the line, `u = 2 (log tau)_xx` with Hirota's
        `tau = 1 + e^{eta_1} + e^{eta_2} / A + e^{eta_1 + eta_2}`,
        `eta_i = k_i (x - c_i - k_i^2 t)`, `k_1 = mu`, `k_2 = self.k2`, `c = self.centres`
        (each soliton is centred at `c_i` while the other is far away on its left, so the
        larger one must start behind). Computed stably: `(log tau)_xx` is the variance of the
        slopes `(0, k_1, k_2, k_1 + k_2)` of the four exponents under the softmax weights of
        the exponents."""
        k1 = jnp.asarray(mu, dtype=float)
        k2 = self.k2
        log_a = 2.0 * jnp.log(jnp.abs(k1 - k2) / (k1 + k2))
        eta1 = k1 * (x[0] - self.centres[0] - k1**2 * t)
        eta2 = k2 * (x[0] - self.centres[1] - k2**2 * t)
        exponents = jnp.stack([jnp.zeros_like(eta1), eta1, eta2 - log_a, eta1 + eta2])
        slopes = jnp.stack([jnp.zeros_like(k1), k1, jnp.full_like(k1, k2), k1 + k2])
        w = jax.nn.softmax(exponents)
        mean = jnp.sum(w * slopes)
        return 2.0 * jnp.sum(w * (slopes - mean) ** 2)

    def fd_rhs(self, u: Float[Array, "*grid"], mu: ArrayLike, dx: tuple[float, ...]) -> Array:
        (h,) = dx
        up, up2, um = jnp.roll(u, -1), jnp.roll(u, -2), jnp.roll(u, 1)
        # fluxes at i + 1/2: of 3 u^2 (skew-symmetric) and of u_xx (u_xxx = (u_xx)_x)
        flux = (u * u + u * up + up * up) + (up2 - up - u + um) / (2 * h**2)
        return -(flux - jnp.roll(flux, 1)) / h
