
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ._base import AbstractExactEquation, d1, d2
from ._operators import AbstractField

Mode = tuple[float, tuple[int, ...], float]  # amplitude, integer wave vector, phase


def _bump_coefficients(kappa: float, k_max: int = 40) -> np.ndarray:
    """Cosine-series coefficients `c_k` of `exp(kappa (cos(theta) - 1)) = sum_k c_k
    cos(k theta)` (`c_k` are scaled modified Bessel functions; computed by the trapezoidal
    rule, exact to round-off for a periodic analytic integrand)."""
    theta = 2 * np.pi * np.arange(4 * k_max) / (4 * k_max)
    f = np.exp(kappa * (np.cos(theta) - 1))
    c = np.array([np.mean(f * np.cos(k * theta)) for k in range(k_max)])
    c[1:] *= 2
    return c


class AdvectionDiffusion(AbstractExactEquation):
    """Advection-diffusion (heat equation with drift) `u_t + c . grad u = mu Laplace(u)` on the
    periodic box `[lower, upper)` in any dimension `d`, velocity `c` fixed by the equation and
    diffusivity `mu` in `[5e-3, 5e-2]` as the parameter. `AdvectionDiffusion.in_dimension(d)`
    gives the unit box with velocity `(1, ..., 1)` and `kappa = 2/d`; the default is 1D.

    The initial condition is a constant, a periodic bump centred in the box, and optional
    Fourier modes: with `z_i = (x_i - lower_i) / L_i`,
    `u0(x) = offset + prod_i exp(kappa (cos(2 pi (z_i - 1/2)) - 1)) + sum_m a_m sin(2 pi k_m . z
    + p_m)` (`modes`: tuples `(a_m, k_m, p_m)` with integer `k_m`; none by default). Both
    parts have known Fourier series, so the exact solution is known for all `t` (`exact`):
    every Fourier mode `k` is carried along by `c` and decays at the rate
    `mu |2 pi k / L|^2`; the bump stays a product of one-dimensional profiles, each a cosine
    series with modified-Bessel coefficients. The bump is genuinely `d`-dimensional (not a
    sum of one-dimensional functions) and its width is set by `kappa`.

    Reference: `exact` in any dimension. The FD reference (second-order central differences,
    Tsit5) is for small `d` only: its grid has `n^d` points (`pdes.fd_solve` refuses a grid
    that does not fit in memory). Mass is kept; the L2 energy decays at
    `-mu int |grad u|^2`.
    """

    name = "advection-diffusion"
    fd_order = 2
    conserved = ("mass",)
    dissipated = {"energy": "d/dt int u^2/2 dx = -mu int |grad u|^2 dx"}
    lower: tuple[float, ...] = (0.0,)
    upper: tuple[float, ...] = (1.0,)
    velocity: tuple[float, ...] = (1.0,)
    kappa: float = 2.0
    offset: float = 0.0
    modes: tuple[Mode, ...] = ()
    mu_range: tuple[float, float] = (5e-3, 5e-2)
    t1: float = 1.0

    def __check_init__(self):
        d = len(self.lower)
        if not len(self.upper) == len(self.velocity) == d:
            raise ValueError("lower, upper and velocity must have one entry per dimension")
        for a, k, p in self.modes:
            if len(k) != d or any(int(j) != j for j in k):
                raise ValueError(f"mode wave vector {k} must have {d} integer entries")

    @classmethod
    def in_dimension(cls, d: int, **kwargs) -> "AdvectionDiffusion":
        """The unit box `[0, 1)^d` with velocity `(1, ..., 1)` and `kappa = 2 / d`: the bump
        `exp((2/d) sum_i (cos(2 pi (x_i - 1/2)) - 1))` keeps its range `[e^-4, 1]` in every
        dimension, instead of shrinking to a spike that is zero on most of the box."""
        if not (isinstance(d, int) and d >= 1):
            raise ValueError(f"the dimension must be a positive integer, got {d!r}")
        kwargs = {"lower": (0.0,) * d, "upper": (1.0,) * d, "velocity": (1.0,) * d,
                  "kappa": 2.0 / d, **kwargs}
        return cls(**kwargs)

    def F(self, field: AbstractField, x: Array, mu: ArrayLike) -> Array:
        # the drift from the whole gradient (at a point: one pass batched over the d directions)
        drift = jnp.tensordot(jnp.asarray(self.velocity), field.grad(), axes=1)
        return jnp.asarray(mu) * field.laplacian() - drift

    def initial_condition(self, x: Float[Array, " d"], mu: ArrayLike) -> Float[Array, ""]:
        return self.exact(x, 0.0, mu)

    def exact(self, x: Float[Array, " d"], t: ArrayLike, mu: ArrayLike) -> Float[Array, ""]:
        """The exact solution at one point `x` and time `t`."""
        lower = jnp.asarray(self.lower)
        lengths = jnp.asarray(self.lengths)
        z = (x - lower - jnp.asarray(self.velocity) * t) / lengths
        c = _bump_coefficients(self.kappa)
        k = np.arange(len(c))
        out = jnp.asarray(self.offset)
        if self.kappa > 0:
            bump = 1.0
            for i in range(self.ndim):
                decay = jnp.exp(-jnp.asarray(mu) * (2 * np.pi * k / lengths[i]) ** 2 * t)
                bump = bump * jnp.sum(c * decay * jnp.cos(2 * np.pi * k * (z[i] - 0.5)))
            out = out + bump
        for a, k, p in self.modes:
            k = jnp.asarray(k, dtype=z.dtype)
            rate = mu * jnp.sum((2 * jnp.pi * k / lengths) ** 2)
            out = out + a * jnp.exp(-rate * t) * jnp.sin(2 * jnp.pi * jnp.dot(k, z) + p)
        return out

    def fd_rhs(self, u: Float[Array, "*grid"], mu: ArrayLike, dx: tuple[float, ...]) -> Array:
        out = jnp.zeros_like(u)
        for i, (c, h) in enumerate(zip(self.velocity, dx)):
            out = out - c * d1(u, i, h) + mu * d2(u, i, h)
        return out

    def fd_stiff(self, mu: float, n: tuple[int, ...]) -> bool:
        # explicit diffusive limit ~ dx^2 / (2 d mu) against the advective one ~ dx / |c|;
        # the same threshold as Burgers' (implicit only pays where it is ~1000x)
        dx = min(length / m for length, m in zip(self.lengths, n))
        speed = max(sum(abs(c) for c in self.velocity), 1e-300)
        return 2 * len(n) * mu / (speed * dx) > 1000.0
