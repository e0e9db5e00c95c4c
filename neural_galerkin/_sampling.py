"""Where the Galerkin residual is taken: fixed, random, or steepness-adapted sample points, or
points drawn from the current density (`EnvelopeSampler`, for a density on R^d)."""

import abc
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, Float, Int, PRNGKeyArray

from ._network import CoLoRAMLP, set_phi


class AbstractSampler(eqx.Module):
    """Chooses the `n` sample points of the Galerkin least-squares problem.

    A *dynamic* sampler is called at the start of every time step with the current online
    weights and the number of accepted steps so far (a rejected step is retried on the same
    points); `solve` then wraps the time stepper in `GalerkinSolver`.
    """

    n: eqx.AbstractVar[int]
    dynamic: ClassVar[bool]

    @abc.abstractmethod
    def __call__(self, equation, net: CoLoRAMLP, phi: Float[Array, " p"],
                 step: Int[Array, ""]) -> Float[Array, "n d"]:
        """The sample points, shape `(n, d)`."""

    def fixed_points(self, equation) -> Float[Array, "m d"]:
        """Fixed points standing for this sampler where one set is needed (the initial fit,
        the residual diagnostic): its uniform grid of about `n` points."""
        return uniform_grid(equation, self.n)

    def diagnostic_points(self, equation, net: CoLoRAMLP, phi: Float[Array, " p"]
                          ) -> tuple[Float[Array, "n d"], Float[Array, "m d"]] | None:
        """Where the residual diagnostic solves the least squares and where it measures the
        residual, for a sampler whose points follow the solution (they then move with
        `phi`); `None` (the default): on `fixed_points` and on points between them."""
        return None


def points_per_direction(equation, n: int) -> int:
    """`round(n ** (1/d))`, at least 1: the points per direction of a grid of about `n`."""
    return max(int(round(n ** (1 / equation.ndim))), 1)


def uniform_grid(equation, n: int) -> Float[Array, "m d"]:
    """The uniform grid of about `n` points in all: `round(n ** (1/d))` per direction."""
    return equation.grid(points_per_direction(equation, n)).reshape(-1, equation.ndim)


class UniformSampler(AbstractSampler):
    """A fixed uniform periodic grid of about `n` points (`n ** (1/d)` per direction)."""

    n: int
    dynamic: ClassVar[bool] = False

    def __call__(self, equation, net, phi, step):
        return uniform_grid(equation, self.n)


class FixedSampler(AbstractSampler):
    """Given sample points, used at every step: `samples=points` of `solve` (an array of
    shape `(n, d)`) means `FixedSampler(points)`."""

    points: Float[Array, "n d"]
    n: int = eqx.field(static=True)
    dynamic: ClassVar[bool] = False

    def __init__(self, points: Float[Array, "n d"]):
        self.points = points
        self.n = points.shape[0]

    def __call__(self, equation, net, phi, step):
        return self.points

    def fixed_points(self, equation):
        return self.points


class RandomSampler(AbstractSampler):
    """`n` points drawn uniformly at random over the domain, anew at every time step.

    Each step's least-squares problem then sees a different quadrature of the residual: no
    systematic aliasing on a fixed grid, at the price of noise in `phi_dot` of relative size
    about `1/sqrt(n)` (which the adaptive step-size controller sees as error)."""

    n: int
    key: PRNGKeyArray
    dynamic: ClassVar[bool] = True

    def __call__(self, equation, net, phi, step):
        return equation.random_points(self.n, jr.fold_in(self.key, step))


class SteepSampler(AbstractSampler):
    """`n` points drawn at every step with density proportional to
    `uniform_fraction + (1 - uniform_fraction) |grad u| / mean |grad u|`, the gradient of the
    current solution taken on a uniform grid of about `n_fine` points (then jittered within
    its cells): denser where the solution is steep, never empty elsewhere."""

    n: int
    key: PRNGKeyArray
    n_fine: int = 4096
    uniform_fraction: float = 0.5
    dynamic: ClassVar[bool] = True

    def __check_init__(self):
        if not 0 < self.uniform_fraction <= 1:
            raise ValueError("uniform_fraction must lie in (0, 1]")

    def __call__(self, equation, net, phi, step):
        fine = uniform_grid(equation, self.n_fine)
        # the network's slope: a lift of boundary data (linear or quadratic) adds no
        # steepness of its own to place samples by
        u = set_phi(net, phi)
        slope = jnp.linalg.norm(jax.vmap(jax.grad(u))(fine), axis=1)
        density = self.uniform_fraction + (1 - self.uniform_fraction) * slope / jnp.maximum(
            jnp.mean(slope), 1e-300)
        k1, k2 = jr.split(jr.fold_in(self.key, step))
        idx = jr.choice(k1, fine.shape[0], (self.n,), p=density / jnp.sum(density))
        cell = jnp.asarray(equation.lengths) / round(self.n_fine ** (1 / equation.ndim))
        jitter = (jr.uniform(k2, (self.n, equation.ndim), fine.dtype) - 0.5) * cell[None]
        return fine[idx] + jitter


def envelope_points(net: CoLoRAMLP, phi: Float[Array, " p"], n: int,
                    key: PRNGKeyArray) -> Float[Array, "n d"]:
    """`n` points drawn from the Gaussian envelope of the network `net` at the online weights
    `phi` (`CoLoRAMLP(..., envelope=True)`): `mean + L z` with `z` standard normal."""
    envelope = set_phi(net, phi).envelope
    if envelope is None:
        raise ValueError("points drawn from the density need a network with a Gaussian "
                         "envelope (CoLoRAMLP(..., envelope=True), a model pretrained for an "
                         "equation on R^d); for a box use a RandomSampler or a grid")
    z = jr.normal(key, (n, envelope.ndim), envelope.mean.dtype)
    return envelope.points(z)


class AnsatzMoments(eqx.Module):
    """The mass, mean and covariance of a density ansatz on R^d (`ansatz_moments`), each with
    its standard error (one standard deviation of the estimate): `mass`, `mass_se` (scalars),
    `mean`, `mean_se` `(d,)`, `cov`, `cov_se` `(d, d)`; `ess` the importance sampling's
    effective sample size `(sum w)^2 / sum w^2` (`n` when the network's factor is 1)."""

    mass: Float[Array, ""]
    mass_se: Float[Array, ""]
    mean: Float[Array, " d"]
    mean_se: Float[Array, " d"]
    cov: Float[Array, "d d"]
    cov_se: Float[Array, "d d"]
    ess: Float[Array, ""]


@eqx.filter_jit
def ansatz_moments(net: CoLoRAMLP, phi: Float[Array, " p"], n: int,
                   key: PRNGKeyArray) -> AnsatzMoments:
    """The mass, mean and covariance of the density `u(x) = q(x) exp(N(z))` of a network with
    a Gaussian envelope (`CoLoRAMLP(..., envelope=True)`) at the online weights `phi`, by
    self-normalised importance sampling with the envelope `q` as the proposal: `n` draws
    `x_i ~ q`, weights `w_i = u(x_i) / q(x_i) = exp(N(z_i))`. The envelope's mean and
    covariance are the ansatz's only while the network's factor is 1; these are the
    ansatz's own, whatever the network carries.

    **Control variate.** The same draws estimate the envelope's own moments, which are known
    exactly; the estimate is corrected by their sampling error (`mean = m_q + sum_i W_i x_i -
    mean_i x_i`, `W_i = w_i / sum w`, and likewise for the covariance), so the statistical
    error scales with the spread of the weights, not of the density: with `N = 0` the result
    is the envelope's moments to round-off, and a small network correction is measured far
    more precisely than by plain sampling of `u`.

    **Mass.** `E_q[exp(N(z))]` with the Hermite polynomials of degree 1 to 3 of `z` (`z_i`,
    `z_i z_j - delta_ij`, `z_i^3 - 3 z_i`, mean zero under `q`) as control variates, their
    coefficients fitted by least squares on the same draws (the standard error then scales
    with what of `exp(N)` they do not explain: 14x smaller than plain sampling for the
    shipped `fokker-planck-8d` model; with `n` at least a few times their number,
    `d (d + 5) / 2`). With the same `key` at several `phi` the draws `z` are the same, so
    differences between them (a drift) are measured more precisely still.

    **Standard errors**: the delta method, the sample standard deviation of each estimate's
    influence terms (`W`-weighted deviations minus the control variate's) over `sqrt(n)`;
    `ess` says how far the weights are from uniform (an `ess` far below `n` means the
    envelope is a poor proposal and the errors are not to be trusted).

    **Raises:** `ValueError` without a Gaussian envelope (via `envelope_points`).
    """
    x = envelope_points(net, phi, n, key)
    u = set_phi(net, phi)
    assert u.envelope is not None
    log_w = jax.vmap(lambda p: jnp.log(u(p)) - u.envelope.log_density(p))(x)
    w = jnp.exp(log_w - jnp.max(log_w))  # the common factor cancels in W
    scale = jnp.exp(jnp.max(log_w))
    ratio = w / jnp.mean(w)  # n W_i
    m_q, S_q = u.envelope.mean, u.envelope.covariance()
    m_snis = jnp.mean(ratio[:, None] * x, axis=0)
    x_bar = jnp.mean(x, axis=0)
    mean = m_q + m_snis - x_bar
    dev_s, dev_p = x - m_snis[None], x - x_bar[None]
    outer_s = dev_s[:, :, None] * dev_s[:, None, :]
    outer_p = dev_p[:, :, None] * dev_p[:, None, :]
    S_snis = jnp.mean(ratio[:, None, None] * outer_s, axis=0)
    S_plain = jnp.mean(outer_p, axis=0)
    cov = S_q + S_snis - S_plain
    cov = (cov + cov.T) / 2
    mean_infl = ratio[:, None] * dev_s - dev_p
    cov_infl = ratio[:, None, None] * (outer_s - S_snis[None]) - (outer_p - S_plain[None])
    root = jnp.sqrt(jnp.asarray(n, x.dtype))
    z = jax.vmap(u.envelope.normalise)(x)
    hermite = _hermite_features(z)
    if n > 2 * hermite.shape[1]:
        beta = jnp.linalg.lstsq(hermite, w - jnp.mean(w))[0]
        w_cv = w - hermite @ beta
        ddof = 1 + hermite.shape[1]
    else:  # too few draws to fit the control variates
        w_cv, ddof = w, 1
    return AnsatzMoments(
        mass=scale * jnp.mean(w_cv), mass_se=scale * jnp.std(w_cv, ddof=ddof) / root, mean=mean,
        mean_se=jnp.std(mean_infl, axis=0, ddof=1) / root, cov=cov,
        cov_se=jnp.std(cov_infl, axis=0, ddof=1) / root,
        ess=jnp.sum(w) ** 2 / jnp.sum(w**2))


def _hermite_features(z: Float[Array, "n d"]) -> Float[Array, "n k"]:
    """The Hermite polynomials of degree 1 to 3 of standard normal `z` that have mean zero:
    `z_i`, `z_i z_j - delta_ij` (`i <= j`), `z_i^3 - 3 z_i`."""
    rows, cols = np.triu_indices(z.shape[1])
    second = z[:, rows] * z[:, cols] - jnp.asarray(rows == cols, z.dtype)[None]
    return jnp.concatenate([z, second, z**3 - 3 * z], axis=1)


class EnvelopeSampler(AbstractSampler):
    """`n` points drawn from the current density's Gaussian envelope, `mean + L z` with
    standard normal `z`, at the start of every step (through `GalerkinSolver`, from the
    current online weights): the samples follow the density as it moves and spreads, and the
    least squares weighs the residual by the envelope, where the mass is. For a density on
    R^d (a network with `envelope=True`); uniform points in a box are hopeless in high
    dimension (almost all fall where the density is zero).

    - `redraw=True`: new draws `z` at every step (key `fold_in(key, step)`): no fixed
      quadrature to alias with, at the price of noise in `phi_dot` of relative size about
      `1/sqrt(n)`; `redraw=False`: the same draws `z` at every step, mapped through the
      current envelope (a quadrature that moves with the density: `phi_dot` is then a smooth
      function of `phi`, as a deterministic ODE solver expects).
    - `fixed_points` (the initial fit, when no points are given): `n` draws from the Gaussian
      filling the equation's box (mean its centre, standard deviation a sixth of its sides);
      fit an initial density on points drawn from it instead where you can
      (`envelope_points` from a first guess, or your own draws).
    - The residual diagnostic solves and measures on two further sets of `n` draws from the
      current envelope (keys of their own, apart from the steps' `fold_in(key, step)`).
    """

    n: int
    key: PRNGKeyArray
    redraw: bool = eqx.field(default=True, static=True)
    dynamic: ClassVar[bool] = True

    def __call__(self, equation, net, phi, step):
        key = jr.fold_in(self.key, step) if self.redraw else self.key
        return envelope_points(net, phi, self.n, key)

    def fixed_points(self, equation):
        lower = jnp.asarray(equation.lower)
        lengths = jnp.asarray(equation.lengths)
        z = jr.normal(_side_key(self.key, 3), (self.n, equation.ndim), lower.dtype)
        return (lower + lengths / 2)[None] + z * (lengths / 6)[None]

    def diagnostic_points(self, equation, net, phi):
        return (envelope_points(net, phi, self.n, _side_key(self.key, 1)),
                envelope_points(net, phi, self.n, _side_key(self.key, 2)))


def _side_key(key: PRNGKeyArray, i: int) -> PRNGKeyArray:
    """A key for the `i`-th side use of a sampler's key, apart from its per-step keys
    `fold_in(key, step)`."""
    return jr.fold_in(jr.split(key)[1], i)
