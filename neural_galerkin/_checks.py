"""Checks of the online phase's inputs, made once at the boundary on concrete values, and the
Galerkin sample points they normalise to."""

import math

import diffrax as dfx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ._model import CoLoRAModel
from ._network import CoLoRAMLP
from ._sampling import AbstractSampler, uniform_grid

# a fixed uniform grid of Galerkin samples beyond this many points is refused: the least
# squares costs grow linearly with the points, and past this the sampling error is far below
# what the network can represent anyway
MAX_GRID_SAMPLES = 2**18
# the least squares needs more sample points than online weights to be overdetermined: with
# fewer it fits any right-hand side exactly (its residual then says nothing)
MIN_SAMPLES_PER_WEIGHT = 2


def check_mu(equation, model, mu) -> float:
    """`mu` as a float, or a `ValueError` naming the range it must lie in: the model's
    training range for a pretrained model, else the equation's range."""
    mu_range = model.mu_range if isinstance(model, CoLoRAModel) else None
    return equation.check_mu(mu, mu_range)


def default_samples(equation) -> int | Float[Array, "n d"]:
    """The Galerkin samples when none are given: 512 points in 1D, 4096 in 2D and 3D (a
    64 x 64 and a 16 x 16 x 16 grid), and above, 2048 points drawn uniformly at random (fixed
    key), where no grid resolves anything."""
    if equation.ndim <= 3:
        return {1: 512, 2: 4096, 3: 4096}[equation.ndim]
    return equation.random_points(2048, jax.random.PRNGKey(0))


def sample_points(equation, samples: int | ArrayLike | None = None) -> Float[Array, "n d"]:
    """The Galerkin sample points of `samples`:
    - an int `n`: a uniform periodic grid of about `n` points in all (`round(n ** (1/d))` per
      direction, as `UniformSampler(n)`); at most `MAX_GRID_SAMPLES`, in up to 3 dimensions;
    - an array of shape `(n, d)`: those points;
    - `None`: `default_samples(equation)`.
    """
    if samples is None:
        samples = default_samples(equation)
    if isinstance(samples, AbstractSampler):
        raise TypeError("a sampler chooses its points during the solve; pass it to solve")
    if isinstance(samples, bool):
        raise TypeError(f"samples must be a number of points or an array of points, got "
                        f"{samples!r}")
    if isinstance(samples, int | np.integer):
        n = int(samples)
        if n < 1:
            raise ValueError(f"samples must be a positive number of points, got {n}")
        if equation.ndim > 3:
            raise ValueError(
                f"samples={n}: in {equation.ndim} dimensions a uniform grid of about {n} "
                f"points has only {round(n ** (1 / equation.ndim))} per direction; pass the "
                f"points themselves (an array of shape (n, {equation.ndim}), e.g. "
                "equation.random_points(n, key)) or a RandomSampler(n), or leave samples out "
                "(2048 random points)")
        if n > MAX_GRID_SAMPLES:
            raise ValueError(
                f"samples={n} asks for a grid of {n} points, more than the {MAX_GRID_SAMPLES} "
                "a Galerkin solve needs; give fewer (it is the total number of points, not "
                f"points per direction), or in {equation.ndim} dimensions a RandomSampler(n) "
                f"or an array of points of shape (n, {equation.ndim})")
        return uniform_grid(equation, n)
    pts = jnp.asarray(samples, dtype=jnp.zeros(()).dtype)
    if pts.ndim != 2 or pts.shape[1] != equation.ndim:
        raise ValueError(f"samples must have shape (n, {equation.ndim}), got {pts.shape}")
    if not isinstance(pts, jax.core.Tracer) and not bool(jnp.all(jnp.isfinite(pts))):
        raise ValueError("samples contain NaN or inf")
    return pts


def num_samples(equation, samples) -> int:
    """How many points `samples` (an int, an array or a sampler) gives."""
    if isinstance(samples, AbstractSampler):
        n = samples.n
        if not (isinstance(n, int | np.integer) and n >= 1):
            raise ValueError(f"a sampler needs a positive number of points, got n={n!r}")
        return int(uniform_grid(equation, n).shape[0]) if not samples.dynamic else int(n)
    return int(sample_points(equation, samples).shape[0])


def check_sample_count(equation, samples, p: int) -> None:
    """Refuse fewer than `MIN_SAMPLES_PER_WEIGHT * p` sample points for `p` online weights."""
    n = num_samples(equation, samples)
    need = MIN_SAMPLES_PER_WEIGHT * p
    if n < need:
        raise ValueError(
            f"{n} Galerkin sample points for {p} online weights: with fewer than "
            f"{MIN_SAMPLES_PER_WEIGHT} per online weight the least squares fits any "
            "right-hand side (almost) exactly, so the solution is poorly determined and its "
            f"residual says nothing; use at least samples={need} (default: "
            "512 / 4096 / 4096 in 1 / 2 / 3 dimensions)")


def diagnostic_points(equation, n: int) -> Float[Array, "m d"]:
    """Points for the residual diagnostic that the least squares did not fit: in up to three
    dimensions the uniform grid of about `n` points shifted by half a cell (it falls between
    the points of a uniform sample grid), above that `n` random points from another key than
    the default samples'."""
    if equation.ndim > 3:
        return equation.random_points(n, jax.random.PRNGKey(1))
    grid = uniform_grid(equation, n)
    per = round(grid.shape[0] ** (1 / equation.ndim))
    cell = jnp.asarray(equation.lengths, grid.dtype) / per
    return grid + 0.5 * cell[None]


def check_start(phi0, t0, t1) -> None:
    if not bool(jnp.all(jnp.isfinite(phi0))):
        raise ValueError("phi0 contains NaN or inf; refit the initial condition")
    if not (math.isfinite(float(t0)) and math.isfinite(float(t1))):
        raise ValueError(f"t0 and t1 must be finite, got t0={t0}, t1={t1}")
    if not float(t1) > float(t0):
        raise ValueError(f"t1 must be greater than t0, got t0={t0}, t1={t1}")


def check_stepping(stepsize_controller, dt0, max_steps) -> None:
    """Refuse a time stepping that cannot finish: a non-positive `dt0`, tolerances that are
    negative or below round-off (the step size would shrink forever), a constant step without
    `dt0`, or a non-positive `max_steps`."""
    if dt0 is not None:
        try:
            dt = float(dt0)
        except (TypeError, ValueError):
            raise ValueError(f"dt0 must be a number or None, got {dt0!r}") from None
        if not (math.isfinite(dt) and dt > 0):
            raise ValueError(f"dt0 must be a positive step size (or None, to let the step-size "
                             f"controller choose the first step), got {dt0}")
    elif isinstance(stepsize_controller, dfx.ConstantStepSize):
        raise ValueError("a constant step size needs dt0 (the step); or use an adaptive "
                         "diffrax.PIDController with dt0=None")
    if isinstance(stepsize_controller, dfx.PIDController):
        rtol, atol = float(stepsize_controller.rtol), float(stepsize_controller.atol)
        floor = 10 * float(jnp.finfo(jnp.zeros(()).dtype).eps)
        if not (rtol >= 0 and atol >= 0) or max(rtol, atol) < floor:
            raise ValueError(
                f"the step-size controller's tolerances rtol={rtol:g}, atol={atol:g} must be "
                f"non-negative and not both below round-off ({floor:.1e}): the step size "
                "would shrink without end. Use e.g. rtol=1e-6, atol=1e-8")
    if max_steps is not None and not (isinstance(max_steps, int | np.integer) and max_steps > 0):
        raise ValueError(f"max_steps must be a positive integer or None, got {max_steps!r}")


def as_net(model: CoLoRAModel | CoLoRAMLP) -> CoLoRAMLP:
    """The CoLoRA network of a pretrained model, or the network itself."""
    if isinstance(model, CoLoRAModel):
        return model.net
    if isinstance(model, CoLoRAMLP):
        return model
    raise TypeError(f"expected a CoLoRAModel or CoLoRAMLP, got {type(model).__name__}")
