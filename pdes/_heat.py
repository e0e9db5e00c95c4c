import math

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ._base import AbstractExactEquation
from ._boundary import AbstractBoundary, Dirichlet
from ._operators import AbstractField


class HeatDirichlet(AbstractExactEquation):
    """The heat equation `u_t = mu u_xx` on the interval `[0, 1]` with Dirichlet data at both
    ends, by default zero, `u(0, t) = u(1, t) = 0` (`boundaries = (pdes.Dirichlet(0, 0),)`):
    the simplest bounded problem, with a closed-form solution to check the bounded-direction
    machinery against.

    Other data: `HeatDirichlet(boundaries=(pdes.Dirichlet(a, b),))` with numbers `a`, `b`
    adds the steady state `a (1 - z) + b z` (`z = (x - lower) / L`) to the initial condition
    and to `exact` (the difference solves the problem with zero data); with functions
    `a(t, mu)`, `b(t, mu)` the initial condition gains `a(0, mu) (1 - z) + b(0, mu) z` and
    `exact` refuses (no closed form: compare with the reference), as it does for other
    conditions (`pdes.Neumann` ends: the initial condition is the sine series alone).

    The parameter is the diffusivity `mu` in `[0.01, 0.1]`. Default initial condition: the
    Fourier-sine series `u0 = sum_m a_m sin(k_m pi x)` of `modes` (pairs `(a_m, k_m)`, integer
    `k_m`), by default `sin(pi x) + 0.5 sin(3 pi x)`, which vanishes at both ends (compatible
    with the data). Exact solution (`exact`): each mode decays at the rate `mu (k pi)^2`,
    `u = sum_m a_m exp(-mu (k_m pi)^2 t) sin(k_m pi x)` (the classical separation of
    variables, e.g. Evans, *Partial Differential Equations*, or any text on Fourier series).
    Default `t1 = 1`: the slowest mode keeps `exp(-mu pi^2)`, 0.91 to 0.37 of its amplitude
    over the range of `mu`, so the solution decays but stays O(1); the `3 pi` mode keeps
    0.41 (at `mu = 0.01`) to `1e-4` (at `mu = 0.1`), so the two extremes of the range look
    different (two bumps against one).

    Invariants: none is kept (heat leaves through the ends), the L2 energy `int u^2/2`
    decreases at the rate `mu int u_x^2` (the boundary term `mu u u_x` vanishes with `u`).

    Reference: derived from `F` (no hand-written scheme): second-order central differences
    (`pdes.BOUNDED_ORDER`) on `n` points including both ends, the end nodes held at the data;
    explicit time stepping (Tsit5). Measured at `mu = 0.055`, `t = 0.25`, against `exact`
    (largest error): 5.9e-3, 1.4e-3, 3.5e-4 at `n = 16, 32, 64` (order 1.98). The explicit
    step is bounded by the diffusion, `~ h^2 / (2 mu)`: `reference_points = 512` (measured
    at `mu = 0.1` to `t1`: error 1.1e-6, 3e4 steps, 2 s) rather than the 1D default of 2048
    (16x the steps).
    """

    name = "heat-dirichlet"
    conserved = ()
    dissipated = {"energy": "d/dt int u^2/2 dx = -mu int u_x^2 dx (u = 0 at the ends)"}
    reference_points = 512
    lower: tuple[float, ...] = (0.0,)
    upper: tuple[float, ...] = (1.0,)
    boundaries: tuple[AbstractBoundary, ...] = (Dirichlet(0.0, 0.0),)
    mu_range: tuple[float, float] = (0.01, 0.1)
    t1: float = 1.0
    modes: tuple[tuple[float, int], ...] = ((1.0, 1), (0.5, 3))

    def __check_init__(self):
        if len(self.lower) != 1 or len(self.upper) != 1:
            raise ValueError("heat-dirichlet is one-dimensional: give lower and upper of "
                             "length 1")
        for a, k in self.modes:
            if int(k) != k or k < 1:
                raise ValueError(f"mode wave numbers must be positive integers, got {k}")

    def F(self, field: AbstractField, x: Array, mu: ArrayLike) -> Array:
        return jnp.asarray(mu) * field.laplacian()

    def initial_condition(self, x: Float[Array, " d"], mu: ArrayLike) -> Float[Array, ""]:
        return self._steady(x, 0.0, mu) + self._modes(x, 0.0, mu)

    def exact(self, x: Float[Array, " d"], t: ArrayLike, mu: ArrayLike) -> Float[Array, ""]:
        """`g_0 (1 - z) + g_1 z + sum_m a_m exp(-mu (k_m pi / L)^2 t) sin(k_m pi z)`,
        `z = (x - a) / L` on `[a, a + L]`, for constant data `g_0`, `g_1`.

        **Raises:** `ValueError` for time-dependent or non-Dirichlet data (no closed form
        here)."""
        b = self.boundaries[0]
        if not (isinstance(b, Dirichlet) and b.constant):
            raise ValueError(f"{self.name}: the exact solution is known for constant Dirichlet "
                             f"data only, not {b!r}; compare with the reference "
                             "(reference='spectral')")
        return self._steady(x, t, mu) + self._modes(x, t, mu)

    def _steady(self, x, t, mu):
        """The linear interpolation of Dirichlet data between the ends (zero otherwise)."""
        (a,), (length,) = self.lower, self.lengths
        z = (x[0] - a) / length
        b = self.boundaries[0]
        if not isinstance(b, Dirichlet):
            return jnp.zeros_like(z)
        lo, hi = b.values(t, mu)
        return lo * (1 - z) + hi * z

    def _modes(self, x, t, mu):
        (a,), (length,) = self.lower, self.lengths
        z = (x[0] - a) / length
        out = jnp.zeros_like(z)
        for amp, k in self.modes:
            rate = jnp.asarray(mu) * (k * math.pi / length) ** 2
            out = out + amp * jnp.exp(-rate * t) * jnp.sin(k * math.pi * z)
        return out
