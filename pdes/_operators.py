"""A vocabulary of derivatives at a point, so that a right-hand side is written once.

An equation states its right-hand side once, as `F(field, x, mu)`, against the operators of
`AbstractField`: `value()`, `grad()`, `laplacian()`, `derivative(axis, order)` and
`div(flux)`, the divergence of a flux that is a function of the field's value (so a
conservative equation stays conservative). Two evaluators implement them:

- `PointField(u, x)`: autodiff on a function `u` of one point, at the point `x` (what the
  Galerkin solve uses: `rhs(u, x, mu) = F(PointField(u, x), x, mu)`); every operator
  returns a scalar, `grad()` a vector of shape `(d,)`;
- `GridField(values, lengths)`: the same operators on a uniform periodic grid,
  pseudo-spectral (FFT derivatives), giving the reference `pdes.spectral_solve` without a
  hand-written discretisation; every operator returns an array of the grid's shape,
  `grad()` of shape `(d, *grid)`.

Written against the vocabulary, one `F` serves both, provided it treats values
element-wise: index the point `x` as `x[..., i]` (shape `(d,)` at a point, `(*grid, d)` on
a grid), take components of the gradient as `grad()[i]` (or `derivative(i, 1)`), and
combine with `+`, `*` and `jnp` element-wise functions.

Only scalar fields on periodic boxes for now. Systems of fields would give `value()` a
leading field axis and the flux a function of all fields' values; bounded directions would
give `GridField` a per-direction discretisation (finite differences or Chebyshev) in place
of the FFT along them. The interface above stays.
"""

import abc
from collections.abc import Callable, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ._base import PointFunction, derivatives

# a flux: the same function of the field's value along every axis, or one per axis
Flux = Callable[[Array], Array] | Sequence[Callable[[Array], Array]]


def _per_axis(flux: Flux, ndim: int) -> list[Callable[[Array], Array]]:
    if callable(flux):
        return [flux] * ndim
    flux = list(flux)
    if len(flux) != ndim:
        raise ValueError(f"a flux per axis needs {ndim} functions, got {len(flux)}")
    return flux


class AbstractField(eqx.Module):
    """A scalar field, through the derivatives a right-hand side needs (see the module's
    docstring). `PointField` evaluates them at one point by autodiff, `GridField` on a
    periodic grid by FFT."""

    @property
    @abc.abstractmethod
    def ndim(self) -> int:
        """The number of space directions `d`."""

    @abc.abstractmethod
    def value(self) -> Array:
        """The field's value `u`."""

    @abc.abstractmethod
    def derivative(self, axis: int, order: int = 1) -> Array:
        """`d^order u / dx_axis^order` (`order = 0`: the value)."""

    @abc.abstractmethod
    def div(self, flux: Flux) -> Array:
        """The divergence `sum_i d/dx_i f_i(u)` of the flux `f(u)`: `flux` is one function of
        the value, used along every axis (`lambda u: u**2 / 2` for Burgers), or a sequence of
        `d` functions, one per axis."""

    def grad(self) -> Array:
        """The gradient, its component `i` first: `grad()[i] = du/dx_i`."""
        return jnp.stack([self.derivative(i, 1) for i in range(self.ndim)])

    def laplacian(self) -> Array:
        """`sum_i d^2u/dx_i^2`."""
        return sum((self.derivative(i, 2) for i in range(1, self.ndim)), self.derivative(0, 2))


class PointField(AbstractField):
    """The field `u`, a function of one point, at the point `x`: every derivative by
    forward-mode autodiff (nested `jax.jvp`), exact to round-off. `div` applies the chain
    rule by differentiating `f_i(u(x))` along `x_i`, so a flux of any form works."""

    u: PointFunction
    x: Float[Array, " d"]

    @property
    def ndim(self) -> int:
        return self.x.shape[0]

    def value(self) -> Array:
        return self.u(self.x)

    def derivative(self, axis: int, order: int = 1) -> Array:
        return _partial_n(self.u, self.x, axis, order)

    def grad(self) -> Array:
        # one forward pass batched over the d directions
        eye = jnp.eye(self.ndim, dtype=self.x.dtype)
        return jax.vmap(lambda e: jax.jvp(self.u, (self.x,), (e,))[1])(eye)

    def laplacian(self) -> Array:
        return jnp.sum(derivatives(self.u, self.x)[2])

    def div(self, flux: Flux) -> Array:
        eye = jnp.eye(self.ndim, dtype=self.x.dtype)
        if callable(flux):  # the same flux along every axis: one batched pass
            f = flux
            return jnp.sum(jax.vmap(
                lambda e: jax.jvp(lambda y: f(self.u(y)), (self.x,), (e,))[1])(eye))
        terms = [jax.jvp(lambda y, f=f: f(self.u(y)), (self.x,), (eye[i],))[1]
                 for i, f in enumerate(_per_axis(flux, self.ndim))]
        return jnp.sum(jnp.stack(terms))


def _partial_n(u: Callable, x: Array, axis: int, order: int) -> Array:
    """`d^order u / dx_axis^order` at `x` by `order` nested forward-mode passes."""
    if order < 0:
        raise ValueError(f"the order of a derivative must be >= 0, got {order}")
    if order == 0:
        return u(x)
    e = jnp.zeros_like(x).at[axis].set(1.0)
    return jax.jvp(lambda y: _partial_n(u, y, axis, order - 1), (x,), (e,))[1]


class GridField(AbstractField):
    """The field's values on a uniform periodic grid over a box of side `lengths` (the grid
    of `equation.grid(n)`, right ends left out), with pseudo-spectral derivatives: along
    each axis, `irfft((i k)^order * rfft(u))`. For an odd order on an even number of points
    the Nyquist mode is dropped (its derivative is not real).

    **Dealiasing.** `div(flux)` evaluates the flux in physical space and dealiases by the
    2/3 rule applied to both its input and its result: `d/dx_i P f_i(P u)`, with `P`
    zeroing the Fourier modes `|k| >= n/3` along every axis. For a quadratic flux (Burgers'
    `u^2/2`) this is exact: the products of the kept modes alias only onto the modes the
    second `P` removes, so the discrete flux is the truncation of the true one and its
    divergence conserves `sum u` and (with `f = u^2/2`) the energy `sum u^2/2` of the kept
    modes. Filtering the result alone would let the unresolved top third of `u` alias onto
    the kept modes; filtering the input alone would keep the aliases. For a smooth,
    resolved solution the removed modes are at round-off, so the filter costs no accuracy.
    Non-quadratic fluxes are dealiased only partly (cubic ones would need a 1/2 rule), and
    pointwise terms of `F` (a reaction `u - u^3`) are collocated in physical space without
    a filter.
    """

    values: Float[Array, " *grid"]
    lengths: tuple[float, ...] = eqx.field(static=True)

    def __check_init__(self):
        if self.values.ndim != len(self.lengths):
            raise ValueError(f"values of shape {self.values.shape} on a box of "
                             f"{len(self.lengths)} directions")

    @property
    def ndim(self) -> int:
        return len(self.lengths)

    def value(self) -> Array:
        return self.values

    def derivative(self, axis: int, order: int = 1) -> Array:
        if order < 0:
            raise ValueError(f"the order of a derivative must be >= 0, got {order}")
        if order == 0:
            return self.values
        return _spectral_derivative(self.values, axis, order, self.lengths[axis])

    def div(self, flux: Flux) -> Array:
        v = _dealias(self.values)
        terms = [_spectral_derivative(_dealias(f(v)), i, 1, self.lengths[i])
                 for i, f in enumerate(_per_axis(flux, self.ndim))]
        return sum(terms[1:], terms[0])


def _along(a: Array, axis: int) -> tuple[int, ...]:
    """The shape that lays a vector along `axis` of an array of `a.ndim` axes."""
    shape = [1] * a.ndim
    shape[axis] = -1
    return tuple(shape)


def _spectral_derivative(a: Array, axis: int, order: int, length: float) -> Array:
    n = a.shape[axis]
    k = np.arange(n // 2 + 1)
    factor = (1j * 2 * np.pi / length * k) ** order
    if order % 2 == 1 and n % 2 == 0:
        factor[-1] = 0.0  # the Nyquist mode of an odd derivative
    a_hat = jnp.fft.rfft(a, axis=axis)
    return jnp.fft.irfft(a_hat * jnp.asarray(factor).reshape(_along(a, axis)), n=n, axis=axis)


def _dealias(a: Array) -> Array:
    """`a` with its Fourier modes `|k| >= n/3` zeroed along every axis (the 2/3 rule)."""
    for axis, n in enumerate(a.shape):
        keep = (3 * np.arange(n // 2 + 1) < n).astype(float)
        a_hat = jnp.fft.rfft(a, axis=axis) * jnp.asarray(keep).reshape(_along(a, axis))
        a = jnp.fft.irfft(a_hat, n=n, axis=axis)
    return a

