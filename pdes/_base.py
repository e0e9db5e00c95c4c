"""Abstract base of the shipped equations: a PDE `u_t = F(u; mu)` for one field or a system of
fields, on a box whose directions are periodic or bounded (`pdes.Periodic`, `pdes.Dirichlet`,
`pdes.Neumann`)."""

import abc
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ._boundary import AbstractBoundary, Periodic, check_boundaries

if TYPE_CHECKING:
    from ._operators import AbstractField

PointFunction = Callable[[Float[Array, " d"]], Float[Array, ""]]


class AbstractEquation(eqx.Module):
    """A parameterised PDE `u_t = F(u; mu)` on the box `[lower, upper]`, for one field
    (`fields = ("u",)`, the default) or a system of fields (`fields = ("u", "v")`: `u` has a
    leading field axis, see below).

    **Boundaries.** `boundaries` holds one condition per direction: `pdes.Periodic()` (the
    default for every direction), `pdes.Dirichlet(lower, upper)` or
    `pdes.Neumann(lower, upper)`; a condition applies to every field. `periodic` says which
    directions are periodic. On a periodic direction the grid `grid(n)` leaves the right end
    out; on a bounded one it has `n` points including both ends.

    **Systems.** With `n_fields > 1`, the value at a point has shape `(n_fields,)` and on a
    grid `(n_fields, *grid)`: `initial_condition(x, mu)` and `F` at a point return
    `(n_fields,)` (build it with `jnp.stack([...])`), `initial_values(n, mu)` and the
    reference's snapshots have the field axis before the grid's. A one-field equation keeps
    the shapes without it (`()` at a point, `(*grid)` on a grid).

    An equation knows
    - its right-hand side `F(u; mu)(x)`, written against a *function* `u(x)` so that
      x-derivatives come from autodiff (used by the Neural Galerkin solve);
    - a conservative finite-difference semi-discretisation of the same right-hand side on a
      uniform periodic grid (the reference solver, integrated with diffrax);
    - its default initial condition, parameter range, default final time and the invariants
      its equation keeps.

    **Stating the right-hand side once.** An equation may write its right-hand side once, as
    `F(field, x, mu)` against the vocabulary of `pdes._operators` (`field.value()`,
    `.grad()`, `.laplacian()`, `.derivative(axis, order)`, `.div(flux)`), instead of `rhs`
    by hand. Then `rhs` is derived (autodiff at a point, `PointField`) and so is a
    pseudo-spectral reference, `pdes.reference_solve(..., method="spectral")` (FFT on the
    periodic grid, `GridField`). For example, viscous Burgers:

        def F(self, field, x, mu):
            return mu * field.laplacian() - field.div(lambda u: u**2 / 2)

    A hand-written `fd_rhs` (a structure-preserving scheme) is optional: where it is given
    it stays the default reference (`method="fd"`), tested against the derived one. Shipped
    with `F`: advection-diffusion, Burgers, KdV, Allen-Cahn, and (with `F` only) the heat
    equation with Dirichlet ends, Allen-Cahn with Neumann ends, the 2D wave equation and the
    rotating detonation engine model. Along bounded directions the derived reference uses
    second-order central differences (`pdes.BOUNDED_ORDER`) in place of the FFT.

    Subclasses are final and set the class variables below.
    """

    # the equation's name (weights and the command line refer to it); default: the class's
    # name in lower case
    name: ClassVar[str] = "equation"
    # the names of the fields, in the order of the field axis (one field: no field axis)
    fields: ClassVar[tuple[str, ...]] = ("u",)
    lower: eqx.AbstractVar[tuple[float, ...]]
    upper: eqx.AbstractVar[tuple[float, ...]]
    mu_range: eqx.AbstractVar[tuple[float, float]]
    t1: eqx.AbstractVar[float]
    # the order of the hand-written `fd_rhs`; None where there is none (the spectral reference)
    fd_order: ClassVar[int | None] = None
    # the invariants it keeps, and those it dissipates (name -> the law); default: none
    conserved: ClassVar[tuple[str, ...]] = ()
    dissipated: ClassVar[dict[str, str]] = {}
    # whether the right-hand side is free of the time (False: `F` reads `field.time()`, and `rhs`
    # takes the time as its fourth argument)
    autonomous: ClassVar[bool] = True
    # grid points per direction of the FD reference used by `compare` by default (None: 2048
    # in 1D, 256 in 2D, 48 in 3D); set where the default grid would be too costly
    reference_points: ClassVar[int | None] = None
    # the default weights of a system's fields in the Galerkin least squares: "plain" (all 1)
    # or "balanced" (by the size of each field's u_t; see `neural_galerkin.solve`)
    galerkin_field_weights: ClassVar[str] = "plain"
    # the fields whose residual's spatial gradient also enters the Galerkin least squares (a
    # Sobolev norm; weights `galerkin_gradient_weights(mu)`); default: none
    galerkin_gradient_fields: ClassVar[tuple[str, ...]] = ()
    # the default number of Galerkin sample points (a uniform grid of about that many; None: the
    # dimension's default, see `neural_galerkin.default_samples`); set where that grid does not
    # resolve the solution's smallest scale
    galerkin_samples: ClassVar[int | None] = None

    def galerkin_gradient_weights(self, mu: ArrayLike) -> Float[Array, " g"]:
        """The weights of the `galerkin_gradient_fields`' gradient rows at `mu` (one per
        field named there; traceable in `mu`): the least squares then minimises
        `sum_k w_k^2 ||u_k_t - F_k||^2 + sum_j g_j^2 ||grad(u_j_t - F_j)||^2`. Default: 1
        each. `pdes.Wave2D` weights `grad(u_t - v)` by the wave speed: its energy norm."""
        del mu
        return jnp.ones(len(self.galerkin_gradient_fields))

    @property
    def ndim(self) -> int:
        return len(self.lower)

    @property
    def n_fields(self) -> int:
        """The number of fields (1: a scalar equation, no field axis)."""
        return len(self.fields)

    @property
    def value_shape(self) -> tuple[int, ...]:
        """The shape of the solution's value at a point: `()` for one field, `(n_fields,)`
        for a system."""
        return () if self.n_fields == 1 else (self.n_fields,)

    @property
    def boundaries(self) -> tuple[AbstractBoundary, ...]:
        """One boundary condition per direction; by default every direction is periodic.
        Equations with bounded directions set it (a field or a class attribute)."""
        return (Periodic(),) * self.ndim

    @property
    def periodic(self) -> tuple[bool, ...]:
        """Whether each direction is periodic."""
        return tuple(b.periodic for b in self.boundaries)

    @property
    def unbounded(self) -> bool:
        """Whether the equation lives on all of R^d (every direction `pdes.Unbounded()`): a
        decaying density, whose box only marks where the mass is."""
        return all(b.unbounded for b in self.boundaries)

    @property
    def lengths(self) -> tuple[float, ...]:
        return tuple(b - a for a, b in zip(self.lower, self.upper))

    def F(self, field: "AbstractField", x: Array, mu: ArrayLike) -> Array:
        """The right-hand side stated once, against the vocabulary of `pdes._operators`
        (`field.value()`, `.grad()`, `.laplacian()`, `.derivative(axis, order)`,
        `.div(flux)`), at the point or grid `x` (index it as `x[..., i]`). From it come
        `rhs` (the field a `PointField`: autodiff at one point) and the pseudo-spectral
        reference `pdes.spectral_solve` (a `GridField`). Equations that state their
        right-hand side by hand only (`rhs` and `fd_rhs`) leave this undefined."""
        raise NotImplementedError(
            f"{self.name} states its right-hand side by hand (rhs, fd_rhs), not as F")

    def rhs(self, u: PointFunction, x: Float[Array, " d"], mu: ArrayLike,
            t: ArrayLike = 0.0) -> Float[Array, "*f"]:
        """`F(u; mu)` at one point `x` (and time `t`, read by equations that are not
        `autonomous`), for a function `u` of one point (of shape `()`, or `(n_fields,)` for
        a system). By default derived from `F` by autodiff
        (`F(PointField(u, x, names=fields, t=t), x, mu)`); equations without `F` override it.

        **Raises:** `ValueError` where `F` returns another shape than `value_shape`."""
        from ._operators import PointField

        out = self.F(PointField(u, x, names=self.fields, t=t), x, mu)
        check_F_shape(self, out, self.value_shape, "at a point")
        return out

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:  # a user's class need not name itself
            cls.name = cls.__name__.lower()

    def __check_init__(self):
        cls = type(self)
        if cls.F is AbstractEquation.F and cls.rhs is AbstractEquation.rhs:
            raise TypeError(f"{cls.__name__} states no right-hand side: define F(field, x, mu) "
                            "(once, for the Galerkin solve and the spectral reference) or rhs")
        fields = cls.fields
        if (not isinstance(fields, tuple) or not fields
                or not all(isinstance(f, str) for f in fields) or len(set(fields)) != len(fields)):
            raise TypeError(f"{cls.__name__}.fields must be a tuple of distinct field names, "
                            f"got {fields!r}")
        check_boundaries(self.boundaries, len(self.lower), cls.__name__)

    @abc.abstractmethod
    def initial_condition(self, x: Float[Array, " d"], mu: ArrayLike) -> Float[Array, "*f"]:
        """The default initial condition at one point `x` (shape `value_shape`)."""

    def fd_rhs(
        self, u: Float[Array, "*grid"], mu: ArrayLike, dx: tuple[float, ...]
    ) -> Float[Array, "*grid"]:
        """A hand-written finite-difference right-hand side on the uniform grid `grid(n)` (a
        structure-preserving scheme of order `fd_order`), the reference
        `pdes.reference_solve(..., method="fd")`. Optional: an equation that states `F` has
        the reference derived from it (`method="spectral"`) instead. On a bounded direction
        `dx` is `L / (n - 1)` and the scheme treats its ends itself (the reference then
        imposes Dirichlet data on the end nodes)."""
        raise NotImplementedError(
            f"{self.name} has no hand-written finite-difference right-hand side fd_rhs; state "
            "its right-hand side as F(field, x, mu) and use the spectral reference "
            "(pdes.reference_solve(..., method='spectral'), compare(..., "
            "reference='spectral')), or write fd_rhs")

    def invariant_density(self, name: str, x: Float[Array, " d"], u: Float[Array, "*f"],
                          grad_u: Float[Array, " d *f"], mu: ArrayLike) -> Float[Array, ""]:
        """The integrand of an invariant this equation defines itself, beyond `"mass"`
        (`int u`) and `"energy"` (the L2 energy `int u^2/2`) which every scalar equation
        shares: `I(u) = int density(x, u(x), grad u(x); mu) dx`. Equations that name such an
        invariant in `conserved` or `dissipated` override this (and may read `mu`). For a
        system `u` has shape `(n_fields,)` and `grad_u` `(d, n_fields)`."""
        raise ValueError(f"{self.name} defines no invariant called {name!r}")

    @classmethod
    def in_dimension(cls, d: int) -> "AbstractEquation":
        """The equation in `d` dimensions (`pdes.get("NAME-Kd")`), for the equations that are
        posed in any dimension (they override this); the others raise a `ValueError`."""
        raise ValueError(f"{cls.name} is shipped in its default dimension only")

    def conserved_at(self, mu: float) -> tuple[str, ...]:
        """The invariants (by name) the equation keeps at parameter `mu`."""
        return self.conserved

    def fd_stiff(self, mu: float, n: tuple[int, ...]) -> bool:
        """Whether the reference time integration should use a stiff solver."""
        return False

    def grid(self, n: int | tuple[int, ...]) -> Float[Array, "*grid d"]:
        """Uniform grid with `n` points per direction: on a periodic direction the right end
        is left out (`a + j L / n`), on a bounded one both ends are in (`a + j L / (n - 1)`)."""
        n = _as_tuple(n, self.ndim)
        axes = [a + (b - a) * jnp.arange(m) / (m if p else m - 1)
                for a, b, m, p in zip(self.lower, self.upper, n, self.periodic)]
        return jnp.stack(jnp.meshgrid(*axes, indexing="ij"), axis=-1)

    def spacing(self, n: int | tuple[int, ...]) -> tuple[float, ...]:
        """The grid spacing of `grid(n)` per direction: `L / n` periodic, `L / (n - 1)`
        bounded."""
        n = _as_tuple(n, self.ndim)
        return tuple(length / (m if p else m - 1)
                     for length, m, p in zip(self.lengths, n, self.periodic))

    def quadrature_weights(self, n: int | tuple[int, ...]) -> Float[Array, "*grid"]:
        """Weights of `grid(n)` for `int f dx ~ sum w f`: the rectangle rule `L / n` along a
        periodic direction (spectrally accurate for smooth periodic `f`), the trapezoid rule
        (`h`, `h / 2` at both ends) along a bounded one; the product over directions."""
        n = _as_tuple(n, self.ndim)
        out = jnp.ones(())
        for m, h, p in zip(n, self.spacing(n), self.periodic):
            w = jnp.full((m,), h)
            if not p:
                w = w.at[0].set(h / 2).at[-1].set(h / 2)
            out = jnp.tensordot(out, w, axes=0)  # the outer product
        return out

    def cell_volume(self, n: int | tuple[int, ...]) -> float:
        """The volume `prod L_i / n_i` of a grid cell of an all-periodic box (the weight of
        every point). **Raises:** `ValueError` for a box with a bounded direction (use
        `quadrature_weights`)."""
        if not all(self.periodic):
            raise ValueError(f"{self.name} has bounded directions: its grid points do not all "
                             "have the same weight; use equation.quadrature_weights(n)")
        n = _as_tuple(n, self.ndim)
        vol = 1.0
        for length, m in zip(self.lengths, n):
            vol *= length / m
        return vol

    def random_points(self, n: int, key) -> Float[Array, "n d"]:
        """`n` points drawn uniformly at random in the box `[lower, upper)`."""
        lower = jnp.asarray(self.lower)
        z = jax.random.uniform(key, (n, self.ndim), lower.dtype)
        return lower[None] + jnp.asarray(self.lengths)[None] * z

    def initial_values(self, n: int | tuple[int, ...], mu: ArrayLike) -> Float[Array, " ..."]:
        """The default initial condition sampled on `grid(n)`: shape `(*grid)`, or
        `(n_fields, *grid)` for a system."""
        x = self.grid(n)
        flat = x.reshape(-1, self.ndim)
        vals = jax.vmap(self.initial_condition, in_axes=(0, None))(flat, mu)
        if vals.shape[1:] != self.value_shape:
            raise ValueError(f"{self.name}: initial_condition returned shape {vals.shape[1:]} at "
                             f"a point, expected {self.value_shape} (fields {self.fields})")
        vals = vals.reshape(x.shape[:-1] + self.value_shape)
        return jnp.moveaxis(vals, -1, 0) if self.n_fields > 1 else vals

    def check_mu(self, mu: ArrayLike, mu_range: tuple[float, float] | None = None) -> float:
        """Raise a `ValueError` a person can act on if `mu` is not a finite number in range."""
        return check_parameter(mu, self.mu_range if mu_range is None else mu_range, self.name)


def rhs_at(equation: AbstractEquation, u: PointFunction, x: Float[Array, " d"], mu: ArrayLike,
           t: ArrayLike) -> Float[Array, "*f"]:
    """`equation.rhs` at the point `x` and time `t`: the time is passed only to an equation
    that is not `autonomous` (so that an equation's own `rhs(u, x, mu)` keeps working)."""
    if getattr(equation, "autonomous", True):  # (an object that only has `rhs`: autonomous)
        return equation.rhs(u, x, mu)
    return equation.rhs(u, x, mu, t)


def check_F_shape(equation: AbstractEquation, out: Any, expected: tuple[int, ...],
                  where: str) -> None:
    """A `ValueError` naming the expected shape where `F` returned another one."""
    shape = jnp.shape(out)
    if shape != expected:
        system = ("; a system's F returns one value per field, built with jnp.stack([...])"
                  if equation.n_fields > 1 else "")
        raise ValueError(f"{equation.name}: F returned shape {shape} {where}, expected "
                         f"{expected} (fields {equation.fields}){system}")


class AbstractExactEquation(AbstractEquation):
    """An equation whose solution from its default initial condition is known in closed form:
    `exact(x, t, mu)`. `compare(..., reference="exact")` compares with it, and
    `trajectories_from_exact` trains on it; equations without one derive from
    `AbstractEquation` alone."""

    @abc.abstractmethod
    def exact(self, x: Float[Array, " d"], t: ArrayLike, mu: ArrayLike) -> Float[Array, "*f"]:
        """The exact solution at one point `x` and time `t`, from the default initial
        condition (shape `value_shape`)."""


def check_parameter(mu: Any, mu_range: tuple[float, float], name: str) -> float:
    """`mu` (whatever was given) as a float, or a `ValueError` saying why it is not a finite
    number inside `mu_range` (the range is named in the message)."""
    lo, hi = mu_range
    try:
        value = float(mu)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: mu must be a number, got {mu!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"{name}: mu must be finite, got {value}")
    if not lo * (1 - 1e-12) <= value <= hi * (1 + 1e-12):
        raise ValueError(
            f"{name}: mu={value:g} is outside the range [{lo:g}, {hi:g}]; "
            "choose mu inside it (a pretrained model is only valid where it was trained)"
        )
    return value


def _as_tuple(n: int | tuple[int, ...], ndim: int) -> tuple[int, ...]:
    if isinstance(n, int):
        return (n,) * ndim
    n = tuple(int(m) for m in n)
    if len(n) != ndim:
        raise ValueError(f"expected {ndim} grid sizes, got {n}")
    return n


def d1(u: Array, axis: int, dx: float) -> Array:
    """Second-order central first difference on a periodic axis."""
    return (jnp.roll(u, -1, axis) - jnp.roll(u, 1, axis)) / (2 * dx)


def d2(u: Array, axis: int, dx: float) -> Array:
    """Second-order central second difference on a periodic axis."""
    return (jnp.roll(u, -1, axis) - 2 * u + jnp.roll(u, 1, axis)) / dx**2


def derivatives(u: Callable, x: Array) -> tuple[Array, Array, Array]:
    """`u(x)`, its gradient and the diagonal of its Hessian (`u_{x_i x_i}`, summing to the
    Laplacian) at one point, by forward-over-forward autodiff batched over the `d` directions:
    one batched pass instead of `2 d` separate ones (measured 4-6x faster for a Laplacian in
    4D than calling `partial` and `partial2` per direction)."""

    def along(e):
        (val, first), (_, second) = jax.jvp(lambda y: jax.jvp(u, (y,), (e,)), (x,), (e,))
        return val, first, second

    val, grad, second = jax.vmap(along)(jnp.eye(x.shape[0], dtype=x.dtype))
    return val[0], grad, second


def partial(u: Callable, x: Array, i: int) -> Array:
    """`du/dx_i` at `x` by forward-mode autodiff."""
    e = jnp.zeros_like(x).at[i].set(1.0)
    return jax.jvp(u, (x,), (e,))[1]


def partial2(u: Callable, x: Array, i: int) -> Array:
    """`d^2u/dx_i^2` at `x` by forward-over-forward autodiff."""
    e = jnp.zeros_like(x).at[i].set(1.0)
    return jax.jvp(lambda y: partial(u, y, i), (x,), (e,))[1]


def partial3(u: Callable, x: Array, i: int) -> Array:
    """`d^3u/dx_i^3` at `x` by forward-over-forward-over-forward autodiff."""
    e = jnp.zeros_like(x).at[i].set(1.0)
    return jax.jvp(lambda y: partial2(u, y, i), (x,), (e,))[1]
