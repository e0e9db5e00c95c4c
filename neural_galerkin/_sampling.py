"""Where the Galerkin residual is taken: fixed, random, or steepness-adapted sample points."""

import abc
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
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
