"""Boundary conditions, one per space direction of an equation (`equation.boundaries`).

- `Periodic()`: the direction is periodic (the grid leaves its right end out);
- `Dirichlet(lower, upper)`: the value of the solution at the two ends of the direction;
- `Neumann(lower, upper)`: the derivative of the solution *along the direction*
  (`du/dx_i`, not the outward normal derivative: at the lower end the outward normal
  derivative is `-lower`) at the two ends;
- `Unbounded()`: the direction is the whole real line and the solution decays along it (a
  density on R^d). The equation's box then only says where the mass is (for plots, the
  initial sampling and the residual diagnostic); no grid reference is derived (the solution
  does not live on the box), and the network's ansatz decays by construction (a Gaussian
  envelope, `CoLoRAMLP(..., envelope=True)`).

The data `lower`, `upper` are numbers, or callables `g(t, mu)` of the time and the parameter
(time-dependent data). A boundary applies to every field of a system; a callable may return
one value for all fields or one per field (shape `(n_fields,)`).
"""

import math
from collections.abc import Callable
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

# boundary data: a number, or a function of the time and the parameter
Data = float | Callable[[Array, Array], ArrayLike]


class AbstractBoundary(eqx.Module):
    """The condition at the two ends of one space direction."""

    periodic: ClassVar[bool] = False
    unbounded: ClassVar[bool] = False


class Periodic(AbstractBoundary):
    """A periodic direction: the solution repeats with the box's length."""

    periodic: ClassVar[bool] = True


class Unbounded(AbstractBoundary):
    """A direction along the whole real line, on which the solution decays (a density on
    R^d): no data, no ends. The box of the equation marks where the mass is."""

    unbounded: ClassVar[bool] = True


class _Data(AbstractBoundary):
    """A bounded direction with data at its two ends."""

    lower: Data = 0.0
    upper: Data = 0.0

    def __check_init__(self):
        for end, g in (("lower", self.lower), ("upper", self.upper)):
            if isinstance(g, bool) or not (isinstance(g, int | float) or callable(g)):
                raise TypeError(f"{type(self).__name__}: {end} must be a number or a function "
                                f"g(t, mu), got {g!r}")
            if not callable(g) and not math.isfinite(g):
                raise ValueError(f"{type(self).__name__}: {end} must be a finite number, got "
                                 f"{g!r}")

    @property
    def zero(self) -> bool:
        """Whether both data are the number zero (what the network's ansatz holds alone)."""
        return not (callable(self.lower) or callable(self.upper)) and (
            float(self.lower) == 0.0 and float(self.upper) == 0.0)

    @property
    def constant(self) -> bool:
        """Whether both data are numbers (not functions of time)."""
        return not (callable(self.lower) or callable(self.upper))

    def values(self, t: ArrayLike, mu: ArrayLike) -> tuple[Array, Array]:
        """The data at the lower and upper end at time `t`."""
        return _value(self.lower, t, mu), _value(self.upper, t, mu)

    def rates(self, t: ArrayLike, mu: ArrayLike) -> tuple[Array, Array]:
        """The time derivatives of the data at `t` (forward-mode autodiff in `t`; zero for
        numbers)."""
        return _rate(self.lower, t, mu), _rate(self.upper, t, mu)


class Dirichlet(_Data):
    """The solution's value at the two ends: `u(lower end) = lower`, `u(upper end) = upper`
    (numbers, or functions `g(t, mu)`)."""


class Neumann(_Data):
    """The solution's derivative along the direction at its two ends:
    `du/dx_i = lower` at the lower end, `du/dx_i = upper` at the upper end (numbers, or
    functions `g(t, mu)`). Zero data (the default) is a no-flux condition."""


def _value(g: Data, t: ArrayLike, mu: ArrayLike) -> Array:
    if callable(g):
        return jnp.asarray(g(jnp.asarray(t, dtype=float), jnp.asarray(mu, dtype=float)))
    return jnp.asarray(g, dtype=float)


def _rate(g: Data, t: ArrayLike, mu: ArrayLike) -> Array:
    if not callable(g):
        return jnp.zeros((), dtype=float)
    t = jnp.asarray(t, dtype=float)
    mu = jnp.asarray(mu, dtype=float)
    return jax.jvp(lambda s: jnp.asarray(g(s, mu)), (t,), (jnp.ones_like(t),))[1]


def check_boundaries(boundaries, ndim: int, name: str) -> tuple[AbstractBoundary, ...]:
    """`boundaries` checked: a tuple of `ndim` boundary conditions, or a `ValueError` /
    `TypeError` naming what to give."""
    if not isinstance(boundaries, tuple | list):
        raise TypeError(f"{name}: boundaries must be a tuple of one boundary condition per "
                        f"direction (pdes.Periodic(), pdes.Dirichlet(...), pdes.Neumann(...), "
                        f"pdes.Unbounded()), "
                        f"got {boundaries!r}")
    if len(boundaries) != ndim:
        raise ValueError(f"{name}: boundaries has {len(boundaries)} entries for a box of {ndim} "
                         f"direction{'s' if ndim != 1 else ''}; give one boundary condition per "
                         "direction")
    for b in boundaries:
        if not isinstance(b, AbstractBoundary):
            raise TypeError(f"{name}: {b!r} is not a boundary condition; use pdes.Periodic(), "
                            "pdes.Dirichlet(lower, upper), pdes.Neumann(lower, upper) or "
                            "pdes.Unbounded()")
    unbounded = [b.unbounded for b in boundaries]
    if any(unbounded) and not all(unbounded):
        raise ValueError(f"{name}: directions {[i for i, u in enumerate(unbounded) if u]} are "
                         "unbounded and the others not; an unbounded equation is a decaying "
                         "density on all of R^d (its ansatz is one Gaussian envelope over every "
                         "direction): make every direction pdes.Unbounded(), or none")
    return tuple(boundaries)
