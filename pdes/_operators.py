"""A vocabulary of derivatives at a point, so that a right-hand side is written once.

An equation states its right-hand side once, as `F(field, x, mu)`, against the operators of
`AbstractField`: `value()`, `grad()`, `laplacian()`, `derivative(axis, order)` and
`div(flux)`, the divergence of a flux that is a function of the field's value (so a
conservative equation stays conservative). Two evaluators implement them:

- `PointField(u, x)`: autodiff on a function `u` of one point, at the point `x` (what the
  Galerkin solve uses: `rhs(u, x, mu) = F(PointField(u, x), x, mu)`); every operator
  returns the value's shape, `grad()` puts the `d` directions first;
- `GridField(values, lengths, ...)`: the same operators on the uniform grid of
  `equation.grid(n)`, per direction: pseudo-spectral (FFT) along periodic directions,
  second-order central finite differences (`BOUNDED_ORDER`) along bounded ones, with the
  boundary conditions in ghost nodes; it gives the derived reference
  `pdes.reference_solve(..., method="spectral")` without a hand-written discretisation.

Written against the vocabulary, one `F` serves both, provided it treats values
element-wise: index the point `x` as `x[..., i]` (shape `(d,)` at a point, `(*grid, d)` on
a grid), take components of the gradient as `grad()[i]` (or `derivative(i, 1)`), and
combine with `+`, `*` and `jnp` element-wise functions.

**Systems.** For an equation of several fields (`equation.fields`), `value()` has a leading
field axis (`(n_fields,)` at a point, `(n_fields, *grid)` on a grid), every derivative keeps
it, `grad()` is `(d, n_fields, ...)`, and `field[k]` (`k` an index or a field's name) is the
scalar field `k`. A flux of `div` is a function of the value with its field axis, returning
the same shape. `F` returns one value per field: `jnp.stack([...])`.
"""

import abc
from collections.abc import Callable, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ._base import PointFunction, derivatives
from ._boundary import AbstractBoundary, Dirichlet, Neumann, check_boundaries

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
    """A field, or a system of fields, through the derivatives a right-hand side needs (see
    the module's docstring). `PointField` evaluates them at one point by autodiff,
    `GridField` on a grid (FFT along periodic directions, finite differences along bounded
    ones). `time()` is the time, for a right-hand side that reads it (an equation that is
    not `autonomous`)."""

    @abc.abstractmethod
    def time(self) -> ArrayLike:
        """The time at which the field is taken (for a right-hand side that depends on it;
        0 where none was given)."""

    @property
    @abc.abstractmethod
    def ndim(self) -> int:
        """The number of space directions `d`."""

    @abc.abstractmethod
    def value(self) -> Array:
        """The field's value `u` (with the field axis first, for a system)."""

    @abc.abstractmethod
    def derivative(self, axis: int, order: int = 1) -> Array:
        """`d^order u / dx_axis^order` (`order = 0`: the value)."""

    @abc.abstractmethod
    def div(self, flux: Flux) -> Array:
        """The divergence `sum_i d/dx_i f_i(u)` of the flux `f(u)`: `flux` is one function of
        the value, used along every axis (`lambda u: u**2 / 2` for Burgers), or a sequence of
        `d` functions, one per axis. For a system the function takes the value with its
        field axis and returns the same shape."""

    @abc.abstractmethod
    def __getitem__(self, k: int | str) -> "AbstractField":
        """The scalar field `k` of a system, by index or by name (`field["v"]`); of a scalar
        field, the field itself (`k = 0` or its name)."""

    def grad(self) -> Array:
        """The gradient, its component `i` first: `grad()[i] = du/dx_i`."""
        return jnp.stack([self.derivative(i, 1) for i in range(self.ndim)])

    def laplacian(self) -> Array:
        """`sum_i d^2u/dx_i^2`."""
        return sum((self.derivative(i, 2) for i in range(1, self.ndim)), self.derivative(0, 2))


def _field_index(k: int | str, names: tuple[str, ...] | None, n_fields: int) -> int:
    """The position of field `k` (an index or a name) among `n_fields`, or a clear error."""
    if isinstance(k, str):
        if names is None:
            raise KeyError(f"field {k!r}: this field was made without field names; index it by "
                           f"position (0 to {n_fields - 1}) or give names")
        if k not in names:
            raise KeyError(f"no field {k!r}; the fields are {names}")
        return names.index(k)
    if isinstance(k, bool) or not isinstance(k, int | np.integer):
        raise TypeError(f"index a field by position or name, got {k!r}")
    if not -n_fields <= int(k) < n_fields:
        raise IndexError(f"field index {k} out of range for {n_fields} field"
                         f"{'s' if n_fields != 1 else ''}")
    return int(k) % n_fields


class PointField(AbstractField):
    """The field `u`, a function of one point, at the point `x`: every derivative by
    forward-mode autodiff (nested `jax.jvp`), exact to round-off. `div` applies the chain
    rule by differentiating `f_i(u(x))` along `x_i`, so a flux of any form works. `u` returns
    a scalar, or a vector `(n_fields,)` for a system; `names` (optional, static) names the
    fields, so that `field["v"]` works; `t` is the time, for a right-hand side that reads
    it (an equation that is not `autonomous`)."""

    u: PointFunction
    x: Float[Array, " d"]
    names: tuple[str, ...] | None = eqx.field(default=None, static=True)
    # the time, for a right-hand side that depends on it (`GridField.t` likewise)
    t: ArrayLike = 0.0

    @property
    def ndim(self) -> int:
        return self.x.shape[0]

    @property
    def value_shape(self) -> tuple[int, ...]:
        """The shape of `u`'s value: `()` for one field, `(n_fields,)` for a system."""
        return tuple(jax.eval_shape(self.u, self.x).shape)

    def __getitem__(self, k: int | str) -> "PointField":
        shape = self.value_shape
        n = shape[0] if shape else 1
        i = _field_index(k, self.names, n)
        if not shape:
            return self
        names = None if self.names is None else (self.names[i],)
        return PointField(lambda y: self.u(y)[i], self.x, names=names, t=self.t)

    def value(self) -> Array:
        return self.u(self.x)

    def time(self) -> ArrayLike:
        return self.t

    def derivative(self, axis: int, order: int = 1) -> Array:
        return _partial_n(self.u, self.x, axis, order)

    def grad(self) -> Array:
        # one forward pass batched over the d directions
        eye = jnp.eye(self.ndim, dtype=self.x.dtype)
        return jax.vmap(lambda e: jax.jvp(self.u, (self.x,), (e,))[1])(eye)

    def laplacian(self) -> Array:
        return jnp.sum(derivatives(self.u, self.x)[2], axis=0)

    def div(self, flux: Flux) -> Array:
        eye = jnp.eye(self.ndim, dtype=self.x.dtype)
        if callable(flux):  # the same flux along every axis: one batched pass
            f = flux
            return jnp.sum(jax.vmap(
                lambda e: jax.jvp(lambda y: f(self.u(y)), (self.x,), (e,))[1])(eye), axis=0)
        terms = [jax.jvp(lambda y, f=f: f(self.u(y)), (self.x,), (eye[i],))[1]
                 for i, f in enumerate(_per_axis(flux, self.ndim))]
        return jnp.sum(jnp.stack(terms), axis=0)


def _partial_n(u: Callable, x: Array, axis: int, order: int) -> Array:
    """`d^order u / dx_axis^order` at `x` by `order` nested forward-mode passes."""
    if order < 0:
        raise ValueError(f"the order of a derivative must be >= 0, got {order}")
    if order == 0:
        return u(x)
    e = jnp.zeros_like(x).at[axis].set(1.0)
    return jax.jvp(lambda y: _partial_n(u, y, axis, order - 1), (x,), (e,))[1]


# the order of the finite differences of `GridField` along bounded directions
BOUNDED_ORDER = 2


class GridField(AbstractField):
    """The field's values on the uniform grid of `equation.grid(n)` over a box of side
    `lengths`, with a discretisation per direction:

    - **periodic** directions (the grid's right end left out): pseudo-spectral, along each
      axis `irfft((i k)^order * rfft(u))`; for an odd order on an even number of points the
      Nyquist mode is dropped (its derivative is not real);
    - **bounded** directions (`pdes.Dirichlet`, `pdes.Neumann` in `boundaries`; the grid
      has both ends): second-order central finite differences (`BOUNDED_ORDER = 2`),
      `(u_{j+1} - u_{j-1}) / 2h` and `(u_{j+1} - 2 u_j + u_{j-1}) / h^2`, on the values
      extended by one ghost node at each end. Neumann: the ghost mirrors its neighbour so
      that the central difference at the end equals the data,
      `u_{-1} = u_1 - 2 h g_lower` (second order); Dirichlet: the ghost is the cubic
      extrapolation `4 u_0 - 6 u_1 + 4 u_2 - u_3`, so that the differences at the end nodes
      are the second-order one-sided ones (the reference replaces the end nodes' rates by
      the data's time derivative anyway). Orders above 2 along a bounded direction are not
      implemented. `div(flux)` there is the central difference of `f` of the extended
      values.

    `values` has shape `(*grid)`, or `(n_fields, *grid)` for a system (the spatial axes
    offset by one). `boundaries` (default: all periodic), the time `t` and the parameter
    `mu` give the boundary data `g(t, mu)`; `names` names the fields (`field["v"]`).

    **Dealiasing** (periodic directions only). `div(flux)` evaluates the flux in physical
    space and dealiases by the 2/3 rule applied to both its input and its result:
    `d/dx_i P f_i(P u)`, with `P` zeroing the Fourier modes `|k| >= n/3` along every
    periodic axis. For a quadratic flux (Burgers' `u^2/2`) this is exact: the products of
    the kept modes alias only onto the modes the second `P` removes, so the discrete flux is
    the truncation of the true one and its divergence conserves `sum u` and (with
    `f = u^2/2`) the energy `sum u^2/2` of the kept modes. Filtering the result alone would
    let the unresolved top third of `u` alias onto the kept modes; filtering the input alone
    would keep the aliases. For a smooth, resolved solution the removed modes are at
    round-off, so the filter costs no accuracy. Non-quadratic fluxes are dealiased only
    partly (cubic ones would need a 1/2 rule), and pointwise terms of `F` (a reaction
    `u - u^3`) are collocated in physical space without a filter.
    """

    values: Float[Array, " ..."]
    lengths: tuple[float, ...] = eqx.field(static=True)
    boundaries: tuple[AbstractBoundary, ...] | None = None
    t: ArrayLike = 0.0
    mu: ArrayLike = 0.0
    names: tuple[str, ...] | None = eqx.field(default=None, static=True)
    # for a scalar field taken out of a system (`field[k]`): k, to pick per-field data
    component: int | None = eqx.field(default=None, static=True)

    def __check_init__(self):
        d = len(self.lengths)
        if self.values.ndim not in (d, d + 1):
            raise ValueError(f"values of shape {self.values.shape} on a box of {d} directions: "
                             f"expected (*grid) or (n_fields, *grid)")
        if self.boundaries is not None:
            check_boundaries(self.boundaries, d, "GridField")

    @property
    def ndim(self) -> int:
        return len(self.lengths)

    @property
    def offset(self) -> int:
        """The position of the first spatial axis in `values` (1 for a system)."""
        return self.values.ndim - len(self.lengths)

    @property
    def periodic(self) -> tuple[bool, ...]:
        if self.boundaries is None:
            return (True,) * self.ndim
        return tuple(b.periodic for b in self.boundaries)

    def __getitem__(self, k: int | str) -> "GridField":
        n = self.values.shape[0] if self.offset else 1
        i = _field_index(k, self.names, n)
        if not self.offset:
            return self
        names = None if self.names is None else (self.names[i],)
        return GridField(self.values[i], self.lengths, self.boundaries, self.t, self.mu,
                         names=names, component=i)

    def value(self) -> Array:
        return self.values

    def time(self) -> ArrayLike:
        return self.t

    def spacing(self, axis: int) -> float:
        """The grid spacing along `axis`: `L / n` periodic, `L / (n - 1)` bounded."""
        n = self.values.shape[axis + self.offset]
        return self.lengths[axis] / (n if self.periodic[axis] else n - 1)

    def derivative(self, axis: int, order: int = 1) -> Array:
        if order < 0:
            raise ValueError(f"the order of a derivative must be >= 0, got {order}")
        if order == 0:
            return self.values
        ax = axis + self.offset
        if self.periodic[axis]:
            return _spectral_derivative(self.values, ax, order, self.lengths[axis])
        if order > 2:
            raise NotImplementedError(
                f"a derivative of order {order} along the bounded direction {axis}: the "
                f"finite differences along bounded directions (order {BOUNDED_ORDER}) have "
                "orders 1 and 2 only")
        return _central(self._extend(self.values, axis), ax, order, self.spacing(axis))

    def div(self, flux: Flux) -> Array:
        periodic_axes = [i + self.offset for i, p in enumerate(self.periodic) if p]
        v = _dealias(self.values, periodic_axes)
        terms = []
        for i, f in enumerate(_per_axis(flux, self.ndim)):
            if self.periodic[i]:
                terms.append(_spectral_derivative(_dealias(f(v), periodic_axes), i + self.offset,
                                                  1, self.lengths[i]))
            else:
                terms.append(_central(f(self._extend(v, i)), i + self.offset, 1,
                                      self.spacing(i)))
        return sum(terms[1:], terms[0])

    def _extend(self, a: Array, axis: int) -> Array:
        """`a` with one ghost node at each end of the bounded direction `axis`."""
        assert self.boundaries is not None
        b = self.boundaries[axis]
        ax = axis + self.offset
        h = self.spacing(axis)
        first, second = (jax.lax.index_in_dim(a, j, ax, keepdims=True) for j in (0, 1))
        last, before = (jax.lax.index_in_dim(a, j, ax, keepdims=True) for j in (-1, -2))
        if isinstance(b, Neumann):
            lo, hi = (self._data(g, first) for g in b.values(self.t, self.mu))
            ghost_lo, ghost_hi = second - 2 * h * lo, before + 2 * h * hi
        elif isinstance(b, Dirichlet):
            third, fourth = (jax.lax.index_in_dim(a, j, ax, keepdims=True) for j in (2, 3))
            third_last, fourth_last = (jax.lax.index_in_dim(a, j, ax, keepdims=True)
                                       for j in (-3, -4))
            ghost_lo = 4 * first - 6 * second + 4 * third - fourth
            ghost_hi = 4 * last - 6 * before + 4 * third_last - fourth_last
        else:
            raise TypeError(f"no finite differences for the boundary condition {b!r}")
        return jnp.concatenate([ghost_lo, a, ghost_hi], axis=ax)

    def _data(self, g: Array, like: Array) -> Array:
        """Boundary data `g` (a scalar, or one value per field) shaped to broadcast against
        the slice `like` of the values at one end."""
        return _data_for(g, like.ndim, self.offset, self.component)


def _data_for(g: Array, ndim: int, offset: int, component: int | None = None) -> Array:
    """Boundary data `g` (shape `()` or `(n_fields,)`) shaped to broadcast against an array
    of `ndim` axes whose field axis (if `offset`) comes first."""
    g = jnp.asarray(g)
    if g.ndim == 0:
        return g
    if g.ndim != 1:
        raise ValueError(f"boundary data must be a number or one value per field, got shape "
                         f"{g.shape}")
    if offset:
        return g.reshape((-1,) + (1,) * (ndim - 1))
    if component is None:
        if g.shape[0] == 1:
            return g[0]
        raise ValueError(f"boundary data of shape {g.shape} (one value per field) for a "
                         "scalar field")
    return g[component]


def _central(p: Array, axis: int, order: int, h: float) -> Array:
    """Second-order central differences of order 1 or 2 along `axis` of `p`, which has one
    ghost node at each end: the result has two nodes fewer."""
    n = p.shape[axis]
    right = jax.lax.slice_in_dim(p, 2, n, axis=axis)
    left = jax.lax.slice_in_dim(p, 0, n - 2, axis=axis)
    if order == 1:
        return (right - left) / (2 * h)
    centre = jax.lax.slice_in_dim(p, 1, n - 1, axis=axis)
    return (right - 2 * centre + left) / h**2


def impose_dirichlet(a: Array, boundaries: tuple[AbstractBoundary, ...], t: ArrayLike,
                     mu: ArrayLike, rates: bool = False) -> Array:
    """`a` (`(*grid)` or `(n_fields, *grid)`) with its end nodes along every Dirichlet
    direction set to the data at time `t` (`rates=True`: to the data's time derivative, for
    a right-hand side)."""
    offset = a.ndim - len(boundaries)
    for axis, b in enumerate(boundaries):
        if not isinstance(b, Dirichlet):
            continue
        ax = axis + offset
        lo, hi = b.rates(t, mu) if rates else b.values(t, mu)
        for j, g in ((0, lo), (a.shape[ax] - 1, hi)):
            index = (slice(None),) * ax + (j,)
            a = a.at[index].set(jnp.broadcast_to(_data_for(g, a.ndim - 1, offset),
                                                 a[index].shape).astype(a.dtype))
    return a


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


def _dealias(a: Array, axes: Sequence[int] | None = None) -> Array:
    """`a` with its Fourier modes `|k| >= n/3` zeroed along each of `axes` (default: every
    axis; the 2/3 rule)."""
    for axis in range(a.ndim) if axes is None else axes:
        n = a.shape[axis]
        keep = (3 * np.arange(n // 2 + 1) < n).astype(float)
        a_hat = jnp.fft.rfft(a, axis=axis) * jnp.asarray(keep).reshape(_along(a, axis))
        a = jnp.fft.irfft(a_hat, n=n, axis=axis)
    return a
