"""Nonzero and time-dependent boundary data by a lift: `u(x, t) = L(x, t, mu) + N(x; phi)`.

The network `N` holds zero data exactly by its ansatz (the even `cos(pi m z)` embedding of a
bounded direction: zero slope at both ends; the `sin(pi z)` factor of a Dirichlet direction:
zero value). The lift `L` is a simple function that carries the data: along a Dirichlet
direction the linear interpolation `g_0 (1 - z) + g_1 z` of the end values, along a Neumann
direction the quadratic `L_i (g_0 z + (g_1 - g_0) z^2 / 2)` whose slopes at the ends are the
data (`z = (x_i - a_i) / L_i`). `u = L + N` then holds the data exactly whatever `phi`, and
the Galerkin system becomes `J phi_dot ~ F(L + N) - L_t` (`L_t` by autodiff of the data in
`t`).

Several bounded directions: the lift is the sum of the directions' lifts. The data of a
direction are constant along each face, so where two faces meet the data must agree: a
Neumann lift has a slope along its own direction only, so several Neumann directions with
any data add up exactly, and so does one Dirichlet direction with nonzero data when every
other bounded direction is Neumann with zero data. Other combinations (nonzero data on a
direction and a Dirichlet direction elsewhere, or Neumann data beside a Dirichlet direction)
have no continuous solution at the corners unless the data happen to agree there, and are
refused; a blended (transfinite) lift would not help, the data themselves conflict.
"""

from typing import TypeGuard

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

import pdes


class BoundaryLift(eqx.Module):
    """`L(x, t, mu)`: the sum over the lifted directions of their lifts (see the module).

    - `boundaries`: per direction, the condition whose data the lift carries, or `None`
      (a periodic direction, zero data, or a direction the network does not hold).
    - `lower`, `lengths`: the box.
    - `value_shape`: `()` for one field, `(n_fields,)` for a system (data of shape `()` apply
      to every field, data of shape `(n_fields,)` one value per field).
    """

    boundaries: tuple[pdes.Dirichlet | pdes.Neumann | None, ...] = eqx.field(static=True)
    lower: tuple[float, ...] = eqx.field(static=True)
    lengths: tuple[float, ...] = eqx.field(static=True)
    value_shape: tuple[int, ...] = eqx.field(static=True)

    def __call__(self, x: Float[Array, " d"], t: ArrayLike, mu: ArrayLike
                 ) -> Float[Array, "*fields"]:
        out = jnp.zeros(self.value_shape, x.dtype)
        for i, b in enumerate(self.boundaries):
            if b is None:
                continue
            z = (x[i] - self.lower[i]) / self.lengths[i]
            lo, hi = b.values(t, mu)
            if isinstance(b, pdes.Dirichlet):
                out = out + lo * (1 - z) + hi * z
            else:  # Neumann: du/dx_i = lo + (hi - lo) z
                out = out + self.lengths[i] * (lo * z + (hi - lo) * z**2 / 2)
        return out

    def rate(self, x: Float[Array, " d"], t: ArrayLike, mu: ArrayLike
             ) -> Float[Array, "*fields"]:
        """`dL/dt` at one point (forward-mode autodiff in `t`)."""
        t = jnp.asarray(t, x.dtype)
        return jax.jvp(lambda s: self(x, s, mu), (t,), (jnp.ones_like(t),))[1]

    def on(self, u, t: ArrayLike, mu: ArrayLike):
        """The function `x -> L(x, t, mu) + u(x)` of one point."""
        return lambda x: self(x, t, mu) + u(x)

    def check_shapes(self) -> None:
        """Refuse data functions that fail on scalar arrays or return the wrong shape, with a
        `ValueError` saying which."""
        for i, b in enumerate(self.boundaries):
            if b is None:
                continue
            for end in ("lower", "upper"):
                g = getattr(b, end)
                if not callable(g):
                    continue
                where = f"{type(b).__name__} data {end}={g!r} of direction {i}"
                try:
                    out = jax.eval_shape(lambda s, m: jnp.asarray(g(s, m)), jnp.zeros(()),
                                         jnp.zeros(()))
                except Exception as e:  # the user's function, said with what it was given
                    first = (str(e).splitlines() or [""])[0]
                    raise ValueError(f"{where} failed on scalar arrays t, mu ({type(e).__name__}"
                                     f": {first}); write it with jax.numpy so that it takes "
                                     "traced t and mu") from None
                if out.shape not in ((), self.value_shape):
                    raise ValueError(f"{where} returned shape {out.shape}; return one number "
                                     f"(or one per field, shape {self.value_shape})")

    def data(self, t: ArrayLike, mu: ArrayLike) -> Array:
        """The data the lift carries at `(t, mu)`, stacked (two ends per lifted direction)."""
        return jnp.stack([jnp.broadcast_to(v, self.value_shape) for b in self.boundaries
                          if b is not None for v in b.values(t, mu)])


def boundary_lift(equation: pdes.AbstractEquation, bounded: tuple[bool, ...] | None = None
                  ) -> BoundaryLift | None:
    """The lift of `equation`'s nonzero boundary data along the directions `bounded` (those
    whose zero data the network holds by its ansatz; default: every bounded direction), or
    `None` where there are none (the plain network holds the data).

    **Raises:** `ValueError` for data whose faces conflict at the corners (see the module),
    saying what to give instead."""
    # an object that only has `rhs` (no `boundaries`): periodic, nothing to lift
    bounds = getattr(equation, "boundaries", ())
    if bounded is None:
        bounded = tuple(not b.periodic for b in bounds)
    lifted = tuple(b if held and _nonzero(b) else None for b, held in zip(bounds, bounded))
    if all(b is None for b in lifted):
        return None
    for i, b in enumerate(lifted):
        if b is None:
            continue
        for j, other in enumerate(bounds):
            if j == i or other.periodic:
                continue
            if isinstance(other, pdes.Dirichlet) or (
                    isinstance(b, pdes.Dirichlet) and _nonzero(other)):
                raise ValueError(
                    f"{equation.name}: {type(b).__name__} data on direction {i} and "
                    f"{type(other).__name__} data {other!r} on direction {j} meet at the "
                    "corners, where data that are constant along each face cannot both hold "
                    "(a continuous solution needs them to agree there). Give nonzero data on "
                    "one Dirichlet direction with zero-Neumann directions beside it, or "
                    "Neumann data on every bounded direction; else write the equation for u "
                    "minus a lift of your own that carries the data")
    lift = BoundaryLift(lifted, tuple(equation.lower), tuple(equation.lengths),
                        equation.value_shape)
    lift.check_shapes()
    return lift


def _nonzero(b: pdes.AbstractBoundary) -> TypeGuard[pdes.Dirichlet | pdes.Neumann]:
    """Whether `b` has boundary data other than the number zero."""
    return isinstance(b, pdes.Dirichlet | pdes.Neumann) and not b.zero


def lifted(u, lift: BoundaryLift | None, t, mu):
    """`u` (a function of one point) plus the lift at `(t, mu)`; `u` itself without one.
    Every place that builds the solution from the network goes through here."""
    if lift is None:
        return u
    if t is None:
        raise ValueError("the boundary data's lift needs the time t")
    return lift.on(u, t, mu)
