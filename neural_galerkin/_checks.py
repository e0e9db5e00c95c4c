"""The online phase's options normalised once at the boundary, and its inputs checked: in
Python where the values are concrete, through `eqx.error_if` where they are traced (under
`jax.jit` or `jax.vmap`)."""

import math

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.core import Tracer
from jaxtyping import Array, ArrayLike, Float

import pdes

from ._lift import BoundaryLift, boundary_lift
from ._model import CoLoRAModel
from ._network import CoLoRAMLP
from ._sampling import (
    AbstractSampler,
    EnvelopeSampler,
    FixedSampler,
    UniformSampler,
    points_per_direction,
)

# a fixed uniform grid of Galerkin samples beyond this many points is refused: the least
# squares costs grow linearly with the points, and past this the sampling error is far below
# what the network can represent anyway
MAX_GRID_SAMPLES = 2**18
# the least squares needs more sample points than online weights to be overdetermined: with
# fewer it fits any right-hand side exactly (its residual then says nothing)
MIN_SAMPLES_PER_WEIGHT = 2


def is_traced(*xs) -> bool:
    """Whether any array in `xs` is a tracer (inside `jax.jit`, `jax.vmap`, ...)."""
    return any(isinstance(leaf, Tracer) for leaf in jax.tree.leaves(xs))


def as_net(model: CoLoRAModel | CoLoRAMLP) -> CoLoRAMLP:
    """The CoLoRA network of a pretrained model, or the network itself."""
    if isinstance(model, CoLoRAModel):
        return model.net
    if isinstance(model, CoLoRAMLP):
        return model
    raise TypeError(f"expected a CoLoRAModel or CoLoRAMLP, got {type(model).__name__}")


def boundary_kinds(equation: pdes.AbstractEquation) -> tuple[str, ...]:
    """Per direction `"periodic"`, `"dirichlet"`, `"neumann"` or `"unbounded"` (what a
    `ModelConfig` stores),
    from the equation's `boundaries`."""
    return tuple(type(b).__name__.lower() for b in equation.boundaries)


def check_fits(equation: pdes.AbstractEquation, net: CoLoRAMLP) -> None:
    """Refuse a network whose outputs or boundary treatment do not match the equation's
    fields and boundary conditions, saying what to build instead."""
    fields = equation.fields
    if net.n_fields != len(fields):
        raise ValueError(
            f"{equation.name} has {len(fields)} field(s) {fields}, the network "
            f"{net.n_fields} output(s); pretrain a model with one output per field "
            f"(ModelConfig(fields={fields}))")
    kinds = boundary_kinds(equation)
    have = tuple("unbounded" if ub else "dirichlet" if dr else "neumann" if bd else "periodic"
                 for bd, dr, ub in zip(net.embedding.bounded, net.dirichlet,
                                       net.embedding.unbounded))
    if have != kinds:
        raise ValueError(
            f"{equation.name} has the boundaries {kinds}, the network's ansatz {have}; "
            f"pretrain a model for this box (ModelConfig(boundaries={kinds}))")
    boundary_lift(equation, net.embedding.bounded)  # refuses data it cannot lift


def net_lift(equation: pdes.AbstractEquation, net: CoLoRAMLP) -> BoundaryLift | None:
    """The lift of `equation`'s nonzero boundary data for `net` (`None` where the network's
    ansatz holds the data alone)."""
    return boundary_lift(equation, net.embedding.bounded)


def check_lift_data(lift: BoundaryLift | None, t, mu):
    """`mu`, or a `ValueError` (traced: `mu` through `eqx.error_if`) where the boundary data
    the lift carries are not finite at `(t, mu)`."""
    if lift is None:
        return mu
    what, advice = "the boundary data at the initial time", "give data g(t, mu) finite there"
    data = lift.data(t, mu)
    if not is_traced(data):
        check_finite(data, what, advice)
        return mu
    return eqx.error_if(mu, ~jnp.all(jnp.isfinite(data)), f"{what} contain NaN or inf; {advice}")


def check_mu(equation: pdes.AbstractEquation, model, mu):
    """`mu` checked against the model's training range (a pretrained model) or the
    equation's range: a float, or a `ValueError` naming the range; traced, a scalar array
    with an `eqx.error_if` saying the same."""
    mu_range = model.mu_range if isinstance(model, CoLoRAModel) else None
    if not is_traced(mu):
        return equation.check_mu(mu, mu_range)
    lo, hi = mu_range if mu_range is not None else equation.mu_range
    mu = jnp.asarray(mu, dtype=jnp.zeros(()).dtype)
    if mu.shape != ():
        raise ValueError(f"{equation.name}: mu must be a number, got shape {mu.shape}")
    inside = jnp.isfinite(mu) & (mu >= lo * (1 - 1e-12)) & (mu <= hi * (1 + 1e-12))
    return eqx.error_if(mu, ~inside, f"{equation.name}: mu is not a finite number inside the "
                        f"range [{lo:g}, {hi:g}]; choose mu inside it (a pretrained model is "
                        "only valid where it was trained)")


def check_finite(x, what: str, advice: str):
    """`x`, or a `ValueError` (traced: `eqx.error_if`) if it holds NaN or inf."""
    if not is_traced(x):  # NumPy: a concrete array stays concrete inside someone's trace
        if not np.all(np.isfinite(np.asarray(x))):
            raise ValueError(f"{what} contains NaN or inf; {advice}")
        return x
    return eqx.error_if(x, ~jnp.all(jnp.isfinite(x)), f"{what} contains NaN or inf; {advice}")


def default_samples(equation: pdes.AbstractEquation
                    ) -> int | Float[Array, "n d"] | AbstractSampler:
    """The Galerkin samples when none are given: the equation's own `galerkin_samples` where
    it states one (a uniform grid of about that many points: `pdes.VlasovCoLoRA`'s 100 x 100);
    else 512 points in 1D, 4096 in 2D and 3D (a 64 x 64 and a 16 x 16 x 16 grid), and above,
    2048 points drawn uniformly at random (fixed key), where no grid resolves anything. For
    an equation on R^d (`pdes.Unbounded()` directions), 1024 points drawn from the current
    density's envelope at every step (`EnvelopeSampler(1024, PRNGKey(0))`)."""
    if equation.unbounded:
        return EnvelopeSampler(1024, jax.random.PRNGKey(0))
    if equation.galerkin_samples is not None:
        return equation.galerkin_samples
    if equation.ndim <= 3:
        return {1: 512, 2: 4096, 3: 4096}[equation.ndim]
    return equation.random_points(2048, jax.random.PRNGKey(0))


def as_sampler(equation: pdes.AbstractEquation, samples) -> AbstractSampler:
    """`samples` normalised to a sampler:
    - `None`: `default_samples(equation)` (on R^d: an `EnvelopeSampler`);
    - an int `n`: `UniformSampler(n)`, a uniform periodic grid of about `n` points in all
      (`round(n ** (1/d))` per direction); at most `MAX_GRID_SAMPLES`, in up to 3 dimensions;
    - an array of shape `(n, d)`: `FixedSampler(points)`;
    - a sampler: itself.
    """
    if samples is None:
        samples = default_samples(equation)
    if isinstance(samples, AbstractSampler):
        n = samples.n
        if not (isinstance(n, int | np.integer) and n >= 1):
            raise ValueError(f"a sampler needs a positive number of points, got n={n!r}")
        return samples
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
        return UniformSampler(n)
    pts = jnp.asarray(samples, dtype=jnp.zeros(()).dtype)
    if pts.ndim != 2 or pts.shape[1] != equation.ndim:
        raise ValueError(f"samples must have shape (n, {equation.ndim}), got {pts.shape}")
    return FixedSampler(check_finite(pts, "samples", "give finite points"))


def sample_points(equation: pdes.AbstractEquation, samples=None) -> Float[Array, "n d"]:
    """The fixed Galerkin sample points of `samples` (see `as_sampler`; a dynamic sampler's
    uniform grid of the same size)."""
    return as_sampler(equation, samples).fixed_points(equation)


def check_sample_count(equation: pdes.AbstractEquation, sampler: AbstractSampler,
                       p: int) -> None:
    """Refuse fewer than `MIN_SAMPLES_PER_WEIGHT * p` sample points for `p` online weights."""
    n = int(sampler.n if sampler.dynamic else sampler.fixed_points(equation).shape[0])
    need = MIN_SAMPLES_PER_WEIGHT * p
    if n < need:
        raise ValueError(
            f"{n} Galerkin sample points for {p} online weights: with fewer than "
            f"{MIN_SAMPLES_PER_WEIGHT} per online weight the least squares fits any "
            "right-hand side (almost) exactly, so the solution is poorly determined and its "
            f"residual says nothing; use at least samples={need} (default: "
            "512 / 4096 / 4096 in 1 / 2 / 3 dimensions)")


def diagnostic_points(equation: pdes.AbstractEquation, n: int) -> Float[Array, "m d"]:
    """Points for the residual diagnostic that the least squares did not fit: in up to three
    dimensions the uniform grid of about `n` points shifted by half a cell (it falls between
    the points of a uniform sample grid), above that `n` random points from another key than
    the default samples'."""
    if equation.ndim > 3:
        return equation.random_points(n, jax.random.PRNGKey(1))
    per = points_per_direction(equation, n)
    # periodic directions: the grid shifted by half a cell, between the sample points;
    # bounded ones (whose grid holds both ends): the midpoints of `per` cells, inside the box
    axes = [a + (np.arange(per) + 0.5) * length / per
            for a, length in zip(equation.lower, equation.lengths)]
    mid = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, equation.ndim)
    return jnp.asarray(mid, jnp.zeros(()).dtype)


def check_times(t0, t1, dt0):
    """`t0 < t1` finite and `dt0` positive (or `None`); traced: through `eqx.error_if`."""
    t0, t1 = (jnp.asarray(t, dtype=jnp.zeros(()).dtype) for t in (t0, t1))
    if dt0 is not None:
        try:
            dt0 = jnp.asarray(dt0, dtype=t0.dtype)
        except (TypeError, ValueError):
            raise ValueError(f"dt0 must be a number or None, got {dt0!r}") from None
    if not is_traced(t0, t1, dt0):
        if not (math.isfinite(float(t0)) and math.isfinite(float(t1))):
            raise ValueError(f"t0 and t1 must be finite, got t0={t0}, t1={t1}")
        if not float(t1) > float(t0):
            raise ValueError(f"t1 must be greater than t0, got t0={t0}, t1={t1}")
        if dt0 is not None and not (math.isfinite(float(dt0)) and float(dt0) > 0):
            raise ValueError(f"dt0 must be a positive step size (or None, to let the step-size "
                             f"controller choose the first step), got {float(dt0)}")
        return t0, t1, dt0
    t1 = eqx.error_if(t1, ~(jnp.isfinite(t0) & jnp.isfinite(t1) & (t1 > t0)),
                      "t0 and t1 must be finite with t1 greater than t0")
    if dt0 is not None:
        dt0 = eqx.error_if(dt0, ~(jnp.isfinite(dt0) & (dt0 > 0)),
                           "dt0 must be a positive step size (or None)")
    return t0, t1, dt0


def check_stepping(stepsize_controller, max_steps) -> None:
    """Refuse a time stepping that cannot finish: tolerances that are negative or below
    round-off (the step size would shrink forever), or a non-positive `max_steps`."""
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


def check_residual_bounds(residual_tol, max_residual) -> None:
    for name, value in (("residual_tol", residual_tol), ("max_residual", max_residual)):
        if value is not None and not (isinstance(value, int | float) and value > 0):
            raise ValueError(f"{name} must be a positive number (or None for no check), got "
                             f"{value!r}")


def as_array(x: ArrayLike) -> Array:
    return jnp.asarray(x, dtype=jnp.zeros(()).dtype)
