"""The Fokker-Planck equation of interacting particles in a moving trap, on all of R^d: the
high-dimensional benchmark of Neural Galerkin schemes, with its exact Gaussian solution (moment
ODEs integrated with diffrax) and an Euler-Maruyama Monte Carlo reference."""

import abc
import math
from collections.abc import Callable
from typing import Self

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from ._base import AbstractEquation, AbstractExactEquation
from ._boundary import AbstractBoundary, Unbounded
from ._operators import AbstractField

# the moment ODEs' tolerances: far below any error the comparisons resolve
MOMENT_RTOL, MOMENT_ATOL = 1e-12, 1e-14


def trap(t: ArrayLike) -> Array:
    """The centre of the moving trap, `a(t) = 1.25 (sin(pi t) + 1.5)`."""
    return 1.25 * (jnp.sin(jnp.pi * jnp.asarray(t)) + 1.5)


class _ParticlesInATrap(AbstractEquation):
    """What `FokkerPlanck` and `FokkerPlanckQuartic` share: the density on R^d of `d`
    particles `dX = b(X, t; mu) dt + sqrt(2 / beta) dW` (`drift` is each one's), its
    right-hand side written from the drift, the box, the initial Gaussian and the Monte Carlo
    reference. See `FokkerPlanck` for the set-up."""

    conserved = ("mass",)
    autonomous = False
    lower: tuple[float, ...] = (-0.5,) * 8
    upper: tuple[float, ...] = (4.5,) * 8
    mu_range: tuple[float, float] = (0.0, 0.5)
    t1: float = 8.0
    beta: float = 100.0
    variance0: float = 0.1

    def __check_init__(self):
        if len(self.lower) != len(self.upper) or not self.lower:
            raise ValueError("lower and upper must have one entry per dimension")
        if not (self.beta > 0 and self.variance0 > 0):
            raise ValueError(f"beta and variance0 must be positive, got beta={self.beta}, "
                             f"variance0={self.variance0}")

    @classmethod
    def in_dimension(cls, d: int, **kwargs) -> Self:
        """The equation for `d` particles, on the box `[-0.5, 4.5]^d`."""
        if not (isinstance(d, int) and d >= 1):
            raise ValueError(f"the dimension must be a positive integer, got {d!r}")
        return cls(**{"lower": (-0.5,) * d, "upper": (4.5,) * d, **kwargs})

    @property
    def boundaries(self) -> tuple[AbstractBoundary, ...]:
        return (Unbounded(),) * self.ndim

    @property
    def mean0(self) -> Float[Array, " d"]:
        """The initial mean, `linspace(0.9, 3, d)` (the middle of that range in 1D)."""
        d = self.ndim
        return jnp.asarray(np.linspace(0.9, 3.0, d) if d > 1 else np.array([1.95]))

    @abc.abstractmethod
    def drift(self, x: Float[Array, " d"], t: ArrayLike, mu: ArrayLike) -> Float[Array, " d"]:
        """The particles' drift `b(x, t; mu)`."""

    def F(self, field: AbstractField, x: Array, mu: ArrayLike) -> Array:
        b = lambda y: self.drift(y, field.time(), mu)  # noqa: E731
        div_b = jnp.trace(jax.jacfwd(b)(x))
        grad = field.grad()
        return (-div_b * field.value() - jnp.sum(b(x) * grad)
                + field.laplacian() / self.beta)

    def initial_condition(self, x: Float[Array, " d"], mu: ArrayLike) -> Float[Array, ""]:
        cov = self.variance0 * jnp.eye(self.ndim)
        return gaussian_density(x, self.mean0, cov)

    def monte_carlo(self, mu: ArrayLike, ts: ArrayLike, n: int, *, key: PRNGKeyArray,
                    dt: float = 1e-3) -> "MonteCarloMoments":
        """Moments by Euler-Maruyama on `n` particles drawn from the initial density (see
        `monte_carlo`)."""
        return monte_carlo(self.drift, self.beta, self.mean0,
                           self.variance0 * jnp.eye(self.ndim), mu, ts, n, key=key, dt=dt)


class FokkerPlanck(_ParticlesInATrap, AbstractExactEquation):
    r"""The Fokker-Planck equation of `d` interacting particles in a moving trap,

        u_t = div[(x - a(t) 1 + alpha (x - xbar 1)) u] + (1/beta) Laplace(u),
        xbar = mean_i x_i,  a(t) = 1.25 (sin(pi t) + 1.5),

    on all of R^d (every direction `pdes.Unbounded()`): the density of the particles of
    `dX_i = (a - X_i + alpha (Xbar - X_i)) dt + sqrt(2 / beta) dW_i` (Bruna, Peherstorfer and
    Vanden-Eijnden, J. Comput. Phys. 2024, the set-up of their high-dimensional example).
    Default `d = 8` (`FokkerPlanck.in_dimension(d)` for others), `beta = 100`, `t1 = 8`, and
    the initial density the Gaussian of mean `linspace(0.9, 3, d)` and variance `0.1` in each
    direction.

    **The parameter** `mu` is the interaction `alpha`, in `[0, 0.5]`: it couples the
    particles (at `alpha = 0` they are independent and the density a product of
    one-dimensional ones), so it is what makes the problem genuinely `d`-dimensional: the
    correlations between the particles grow with it. `beta` (fixed) only scales the
    stationary variance `~ 1 / beta`.

    **Right-hand side.** The drift `b(x, t)` of the particles is a method (`drift`), and `F`
    is written from it: `-div(b u) + (1/beta) Laplace(u) = -(div b) u - b . grad u +
    (1/beta) Laplace(u)` (the divergence of the flux `-b u` expanded by the product rule,
    since the flux depends on the point, not only on `u`; `div b` by autodiff). The
    equation depends on time through `a(t)` (`autonomous = False`: `F` reads `field.time()`).

    **Exact solution.** The drift is linear, `b = A x + a(t) 1` with
    `A = -(1 + alpha) I + (alpha / d) 1 1^T`, so a Gaussian stays Gaussian: its mean and
    covariance obey `m' = A m + a(t) 1`, `S' = A S + S A^T + (2 / beta) I`
    (`moments`: integrated with diffrax, Dopri8, `rtol = 1e-12`, `atol = 1e-14`), and
    `exact(x, t, mu)` is that Gaussian's density. Mass is kept (`int u = 1`).

    **Monte Carlo** (`monte_carlo`): Euler-Maruyama on particles, moments with their
    standard errors; also the reference of the variants whose drift is not linear.

    **Box.** `lower`, `upper` only mark where the mass is (plots, uniformly drawn points):
    the means stay in `[0.9, 3]` and the standard deviations at most `0.32` (their initial
    value; measured over `t` in `[0, 8]` at `alpha = 0, 0.25, 0.5`), so the default box
    `[-0.5, 4.5]^d` holds the mass with more than 4 standard deviations to spare.
    """

    name = "fokker-planck"

    def drift(self, x: Float[Array, " d"], t: ArrayLike, mu: ArrayLike) -> Float[Array, " d"]:
        """The particles' drift `b(x, t) = a(t) - x + alpha (xbar - x)`."""
        return trap(t) - x + jnp.asarray(mu) * (jnp.mean(x) - x)

    def drift_matrix(self, mu: ArrayLike) -> Float[Array, "d d"]:
        """`A` of the linear drift `b = A x + a(t) 1`."""
        d, alpha = self.ndim, jnp.asarray(mu, dtype=float)
        return -(1 + alpha) * jnp.eye(d) + alpha / d * jnp.ones((d, d))

    @eqx.filter_jit
    def moments(self, ts: ArrayLike, mu: ArrayLike) -> tuple[Float[Array, "t d"],
                                                            Float[Array, "t d d"]]:
        """The exact mean and covariance at the times `ts` (increasing, from `ts[0] >= 0`):
        the moment ODEs from `t = 0`, integrated with diffrax (Dopri8, `rtol = 1e-12`,
        `atol = 1e-14`). Jitted; differentiable in forward mode (in `t` and `mu`)."""
        ts = jnp.atleast_1d(jnp.asarray(ts, dtype=float))
        A = self.drift_matrix(mu)
        d = self.ndim

        def rhs(t, y, args):
            m, S = y
            return A @ m + trap(t), A @ S + S @ A.T + (2 / self.beta) * jnp.eye(d)

        y0 = (self.mean0, self.variance0 * jnp.eye(d))
        sol = dfx.diffeqsolve(
            dfx.ODETerm(rhs), dfx.Dopri8(), 0.0, ts[-1], None, y0, None,
            saveat=dfx.SaveAt(ts=ts), max_steps=100_000, adjoint=dfx.ForwardMode(),
            stepsize_controller=dfx.PIDController(rtol=MOMENT_RTOL, atol=MOMENT_ATOL))
        assert sol.ys is not None
        means, covs = sol.ys
        return means, (covs + jnp.swapaxes(covs, -1, -2)) / 2

    def exact(self, x: Float[Array, " d"], t: ArrayLike, mu: ArrayLike) -> Float[Array, ""]:
        """The exact density: the Gaussian of the `moments` at `t`."""
        means, covs = self.moments(jnp.asarray(t, dtype=float), mu)
        return gaussian_density(x, means[-1], covs[-1])

    def sample(self, n: int, t: ArrayLike, mu: ArrayLike, key: PRNGKeyArray
               ) -> Float[Array, "n d"]:
        """`n` points drawn from the exact density at `(t, mu)` (`mean + L z`, `z` standard
        normal, `L L^T` the exact covariance): the training points of a density on R^d
        (`trajectories_from_exact`), where uniform points of the box would miss its mass.
        Traceable in `t` and `mu` (vmap over snapshots)."""
        means, covs = self.moments(jnp.asarray(t, dtype=float), mu)
        L = jnp.linalg.cholesky(covs[-1])
        z = jr.normal(key, (n, self.ndim), means.dtype)
        return means[-1][None] + z @ L.T



def gaussian_density(x: Float[Array, " d"], mean: Float[Array, " d"],
                     cov: Float[Array, "d d"]) -> Float[Array, ""]:
    """The Gaussian density `N(x; mean, cov)` at one point (through a Cholesky factor)."""
    L = jnp.linalg.cholesky(cov)
    z = jax.scipy.linalg.solve_triangular(L, x - mean, lower=True)
    log_det = jnp.sum(jnp.log(jnp.diagonal(L)))
    return jnp.exp(-0.5 * jnp.sum(z**2) - log_det - 0.5 * mean.shape[0] * math.log(2 * math.pi))


class MonteCarloMoments(eqx.Module):
    """Moments of a particle simulation at the saved times, with their standard errors
    (one standard deviation of the estimate, from the particles' sample variance):

    - `ts`: the times; `mean` `(t, d)`, `mean_se` `(t, d)`;
    - `cov` `(t, d, d)` (the unbiased sample covariance), `cov_se` `(t, d, d)`;
    - `n`: the number of particles, `dt` the Euler-Maruyama step, `num_steps` the steps.
    """

    ts: Float[Array, " t"]
    mean: Float[Array, "t d"]
    mean_se: Float[Array, "t d"]
    cov: Float[Array, "t d d"]
    cov_se: Float[Array, "t d d"]
    n: int = eqx.field(static=True)
    dt: float = eqx.field(static=True)
    num_steps: int = eqx.field(static=True)


def monte_carlo(drift: Callable[[Array, Array, Array], Array], beta: float,
                mean0: ArrayLike, cov0: ArrayLike, mu: ArrayLike, ts: ArrayLike, n: int, *,
                key: PRNGKeyArray, dt: float = 1e-3) -> MonteCarloMoments:
    """Euler-Maruyama for `dX = b(X, t; mu) dt + sqrt(2 / beta) dW` on `n` particles drawn
    from `N(mean0, cov0)`, with the moments (and their standard errors) at the times `ts`.

    Jitted (one compilation per particle count and number of steps), a `jax.lax.scan` over
    the intervals between saved times and one over the steps in each; reproducible from
    `key`. Every interval is cut into the same number of equal steps, `ceil(longest / dt)`
    (so no step is longer than `dt`; `num_steps` counts them all).
    The standard errors are statistical only: the scheme's weak error is `O(dt)` on top.

    **Raises:** `ValueError` for `n < 2`, a non-positive `dt`, or `ts` not increasing from
    `ts[0] >= 0` (the particles start at `t = 0`).
    """
    ts_np = np.atleast_1d(np.asarray(ts, dtype=float))
    if not (isinstance(n, int | np.integer) and n >= 2):
        raise ValueError(f"the Monte Carlo run needs at least 2 particles, got n={n!r}")
    if not (isinstance(dt, int | float) and math.isfinite(dt) and dt > 0):
        raise ValueError(f"dt must be a positive step, got {dt!r}")
    if ts_np[0] < 0 or np.any(np.diff(ts_np) <= 0) or not np.all(np.isfinite(ts_np)):
        raise ValueError(f"ts must be finite, increasing and from ts[0] >= 0 (the particles "
                         f"start at t = 0), got {ts_np}")
    edges = np.concatenate([[0.0], ts_np])
    # the same number of steps in every interval (one compiled loop), each at most dt
    steps = max(int(math.ceil(np.max(np.diff(edges)) / dt - 1e-9)), 1)
    mean0 = jnp.asarray(mean0, dtype=float)
    L0 = jnp.linalg.cholesky(jnp.asarray(cov0, dtype=float))
    k0, k1 = jr.split(key)
    x0 = mean0[None] + jr.normal(k0, (int(n), mean0.shape[0])) @ L0.T
    out = _em_run(drift, float(beta), x0, jnp.asarray(mu, dtype=float),
                  jnp.asarray(edges), steps, k1)
    return MonteCarloMoments(jnp.asarray(ts_np), *out, n=int(n), dt=float(dt),
                             num_steps=steps * len(ts_np))


@eqx.filter_jit
def _em_run(drift, beta, x0, mu, edges, steps, key):
    noise = math.sqrt(2 / beta)
    n = x0.shape[0]

    def interval(x, i):
        h = (edges[i + 1] - edges[i]) / steps

        def step(x, j):
            t = edges[i] + j * h
            dw = jr.normal(jr.fold_in(jr.fold_in(key, i), j), x.shape, x.dtype) * jnp.sqrt(h)
            return x + jax.vmap(lambda y: drift(y, t, mu))(x) * h + noise * dw, None

        x, _ = jax.lax.scan(step, x, jnp.arange(steps))
        mean = jnp.mean(x, axis=0)
        dev = x - mean[None]
        second = dev.T @ dev / n  # without the (n, d, d) products: memory stays (n, d)
        fourth = (dev**2).T @ (dev**2) / n
        # the standard error of a mean is the sample standard deviation over sqrt(n); of
        # the covariance entries, that of the products dev_i dev_j
        out = (mean, jnp.sqrt(jnp.diagonal(second) / (n - 1)), second * n / (n - 1),
               jnp.sqrt(jnp.maximum(fourth - second**2, 0.0) / (n - 1)))
        return x, out

    _, out = jax.lax.scan(interval, x0, jnp.arange(edges.shape[0] - 1))
    return out


class FokkerPlanckQuartic(_ParticlesInATrap):
    r"""The Fokker-Planck equation of `d` interacting particles in a moving **anharmonic**
    trap: `FokkerPlanck` with a cubic term added to the trap's restoring force,

        u_t = -div(b u) + (1/beta) Laplace(u),
        b(x, t) = -(y + gamma y^3) + alpha (xbar 1 - x),  y = x - a(t) 1,

    (the cube taken entrywise), the density of the particles of
    `dX_i = b_i(X, t) dt + sqrt(2 / beta) dW_i`. Everything else is `FokkerPlanck`'s: `d = 8`
    by default (`in_dimension(d)`), `beta = 100`, `t1 = 8`, the initial Gaussian of mean
    `linspace(0.9, 3, d)` and variance `0.1`, the parameter `mu = alpha` in `[0, 0.5]`, every
    direction `pdes.Unbounded()`, `F` from `drift` (its divergence by autodiff), mass kept.

    **No exact solution.** The drift is not linear, so a Gaussian does not stay Gaussian and
    the moments do not close: the reference is `monte_carlo` (Euler-Maruyama), and the
    equation is an `AbstractEquation`, not an exact one.

    **Why a quartic trap, `gamma = 5`.** The potential `y^2 / 2 + gamma y^4 / 4` has one
    well, so every particle's marginal keeps one mode, the shape a Gaussian envelope times a
    network is made for (a double well would split the marginal of a particle that
    starts near its barrier into two modes at `beta = 100`). The particles lag the moving
    trap by `|y| ~ 1`, where the restoring force's curvature `6 gamma y` is large, so the
    density is skewed: the marginals' skewness and excess kurtosis on `10^5` Euler-Maruyama
    particles (`dt = 2e-3`, `d = 4`; `benchmarks/fokker_planck_nonlinear.py --shape`) are
    `+1.4` and `+3.0` at `t = 0.25` (the transient from the initial Gaussian, whose far side
    lies deep in the steep wall), `+0.5` and `+0.4` at `t = 0.5`, and swing within about
    `+-0.25` and `0.13` with the trap's period after that (standard errors `0.008` and
    `0.015`); the linear trap's density is Gaussian (both 0).

    **Stiffness.** The restoring rate `1 + 3 gamma y^2` reaches about 110 for particles
    five initial standard deviations out (`y ~ 2.7`); Euler-Maruyama is stable for
    `dt * rate < 2`, so by this estimate `dt <= 1e-2` is stable (not run at `10^6`
    particles); its `O(dt)` bias is large here: the `dt = 1e-3` and `2e-3` runs differ by
    `8.3e-4` in the mean and `1.2e-2` in the covariance (relative, `d = 4`, `2e5`
    particles), above their standard errors, so the benchmark's reference is their
    Richardson extrapolation.

    **Equation-driven solves** (`benchmarks/fokker_planck_nonlinear.py`, `d = 4`, `t` in
    `[0, 2]`): the Gaussian-envelope ansatz has relative moment errors of about `2.9e-3`
    (mean) and `1.2e-2` (covariance) at `t = 2` but `1.4e-2` and `0.42` in the transient,
    and the network's online weights do not make them smaller (see the benchmark's table).
    """

    name = "fokker-planck-quartic"
    gamma: float = 5.0

    def __check_init__(self):  # (the shared fields are checked by the base's)
        if not (math.isfinite(self.gamma) and self.gamma >= 0):
            raise ValueError(f"gamma (the cubic restoring force) must be finite and >= 0, "
                             f"got {self.gamma}")

    def drift(self, x: Float[Array, " d"], t: ArrayLike, mu: ArrayLike) -> Float[Array, " d"]:
        """The particles' drift `b(x, t) = -(y + gamma y^3) + alpha (xbar - x)`,
        `y = x - a(t)`."""
        y = x - trap(t)
        return -(y + self.gamma * y**3) + jnp.asarray(mu) * (jnp.mean(x) - x)
