"""Invariants as functionals of `u`, and the machinery that keeps them: the constrained
least-squares step and the projection after each accepted step."""

import abc
from collections.abc import Callable
from functools import partial
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float

import pdes

from . import _linalg
from ._cubature import default_level, gauss_hermite_sparse_grid
from ._linalg import one_by_one, svd_solve
from ._network import CoLoRAMLP, set_phi


class AbstractInvariant(eqx.Module):
    """A functional `I(u) = int rho(x, u(x), grad u(x)) dx` over the periodic domain."""

    name: eqx.AbstractVar[str]
    # whether `density` reads `grad_u` (if not, it is not computed: cheaper)
    uses_gradient: ClassVar[bool]

    @abc.abstractmethod
    def density(self, x: Float[Array, " d"], u: Float[Array, ""],
                grad_u: Float[Array, " d"] | None) -> Float[Array, ""]:
        """The integrand `rho` at one point."""


class Mass(AbstractInvariant):
    """`int u dx`; of the field number `field` of a system (`"mass:NAME"` by name)."""

    name: str = eqx.field(default="mass", static=True)
    field: int | None = eqx.field(default=None, static=True)
    uses_gradient: ClassVar[bool] = False

    def density(self, x, u, grad_u):
        return u if self.field is None else u[self.field]


class Energy(AbstractInvariant):
    """The L2 energy `int u^2 / 2 dx`; of the field number `field` of a system
    (`"energy:NAME"` by name)."""

    name: str = eqx.field(default="energy", static=True)
    field: int | None = eqx.field(default=None, static=True)
    uses_gradient: ClassVar[bool] = False

    def density(self, x, u, grad_u):
        return 0.5 * (u if self.field is None else u[self.field]) ** 2


class Functional(AbstractInvariant):
    """A user-defined invariant: `int density(x, u, grad_u) dx`."""

    name: str = eqx.field(static=True)
    fn: Callable = eqx.field(static=True)
    uses_gradient: ClassVar[bool] = True

    def density(self, x, u, grad_u):
        return self.fn(x, u, grad_u)


def relative_drift(values) -> float:
    """Largest relative change of an invariant over time: `max_t |I(t) - I(0)| / |I(0)|`
    (relative to `max_t |I(t)|` where `I(0)` is zero)."""
    values = np.asarray(values, dtype=float)
    scale = abs(values[0]) if values[0] != 0 else np.max(np.abs(values))
    return float(np.max(np.abs(values - values[0])) / max(scale, 1e-300))


INVARIANTS: dict[str, Callable[..., AbstractInvariant]] = {"mass": Mass, "energy": Energy}


class EquationInvariant(AbstractInvariant):
    """An invariant an equation defines itself (`equation.invariant_density(name, ...)`), at
    the parameter `mu` (for example the total energy of a particle in a `mu`-dependent field)."""

    name: str = eqx.field(static=True)
    equation: pdes.AbstractEquation
    mu: Float[Array, ""]
    uses_gradient: ClassVar[bool] = True

    def density(self, x, u, grad_u):
        assert grad_u is not None  # `uses_gradient`: the values come with their gradient
        return self.equation.invariant_density(self.name, x, u, grad_u, self.mu)


def get_invariant(name: str, equation=None, mu=None) -> AbstractInvariant:
    """The invariant called `name`: `"mass"`, `"energy"` (L2), or one `equation` defines
    itself (named in its `conserved` or `dissipated`), at parameter `mu`. For a system of
    fields, `"mass:NAME"` and `"energy:NAME"` are those of the field `NAME`."""
    fields = tuple(getattr(equation, "fields", ("u",)))
    base, _, field = name.partition(":")
    if base.lower() in INVARIANTS:
        if not field and len(fields) > 1:
            raise ValueError(f"{getattr(equation, 'name', 'the equation')} has the fields "
                             f"{fields}: name the field, e.g. {base.lower()}:{fields[-1]}")
        if not field:
            return INVARIANTS[base.lower()]()
        if field not in fields or len(fields) == 1:
            raise ValueError(f"{name!r}: no field {field!r} in a system of the fields "
                             f"{fields}" if len(fields) > 1 else
                             f"{name!r}: a scalar equation's invariant is just {base!r}")
        return INVARIANTS[base.lower()](name=name, field=fields.index(field))
    own = () if equation is None else (*equation.conserved, *equation.dissipated)
    if name in own and equation is not None:
        return EquationInvariant(name=name, equation=equation, mu=jnp.asarray(mu, dtype=float))
    raise ValueError(f"unknown invariant {name!r}; known: {', '.join((*INVARIANTS, *own))} "
                     "(or pass a Functional)")


class Conservation(eqx.Module):
    """Which invariants an equation-driven solve keeps, and how: the `conserve=` option of
    `solve`, `solve_batch` and `compare` (a sequence of names or invariants there means
    `Conservation(that)`).

    - `invariants`: names (`"mass"`, `"energy"`, or one the equation defines itself) or
      `AbstractInvariant`s such as `Functional`.
    - `method`: `"constraint"` (`phi_dot` subject to `dI_k/dt = 0`; the drift then follows the
      time-stepping error), `"projection"` (Gauss-Newton back onto `I_k(phi) = I_k(phi0)` after
      every accepted step and at every saved time: round-off) or `"both"`.
    - `points`: grid points per direction of the rectangle-rule quadrature of the invariants
      (default: as many as the Galerkin samples have per direction); for an equation on
      R^d (`pdes.Unbounded()` directions), `points=n` asks for a Monte Carlo quadrature of
      `n` standard normal draws in the frame of the network's Gaussian envelope instead of
      the default sparse grid (see `InvariantConstraints.on_envelope`).
    - `level`: for an equation on R^d, the level of the Gauss-Hermite sparse grid in the
      envelope's frame on which the invariants are held (`gauss_hermite_sparse_grid`; exact
      for polynomials of total degree `2 level + 1`; default the highest level with at most
      2048 points: 3 in d = 8, 1105 points; 10 in d = 2). Not with `points`, and only on
      R^d.
    """

    invariants: tuple[str | AbstractInvariant, ...]
    method: str = eqx.field(default="both", static=True)
    points: int | None = eqx.field(default=None, static=True)
    level: int | None = eqx.field(default=None, static=True)

    def __check_init__(self):
        if not self.invariants:
            raise ValueError("give at least one invariant to conserve")
        for inv in self.invariants:
            if not isinstance(inv, str | AbstractInvariant):
                raise TypeError(f"conserve takes invariant names or AbstractInvariants, got "
                                f"{inv!r}")
        names = [inv if isinstance(inv, str) else inv.name for inv in self.invariants]
        if len(set(names)) != len(names):
            raise ValueError(f"an invariant is named twice in {names}")
        if self.method not in ("constraint", "projection", "both"):
            raise ValueError(f"the conservation method must be 'constraint', 'projection' or "
                             f"'both', got {self.method!r}")
        if self.points is not None and not (isinstance(self.points, int) and self.points >= 1):
            raise ValueError(f"the quadrature needs a positive number of points per "
                             f"direction, got points={self.points!r}")
        if self.level is not None and not (isinstance(self.level, int) and self.level >= 0):
            raise ValueError(f"the sparse grid's level is an integer >= 0, got "
                             f"level={self.level!r}")
        if self.level is not None and self.points is not None:
            raise ValueError("give points (a Monte Carlo quadrature of that many draws) or level "
                             "(a sparse grid), not both")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(inv if isinstance(inv, str) else inv.name for inv in self.invariants)


def as_conservation(conserve) -> Conservation | None:
    """`conserve` normalised: `None` or empty for none, a `Conservation` as it is, a name, an
    invariant or a sequence of them as `Conservation(them)`."""
    if conserve is None or isinstance(conserve, Conservation):
        return conserve
    if isinstance(conserve, str | AbstractInvariant):
        conserve = (conserve,)
    conserve = tuple(conserve)
    return Conservation(conserve) if conserve else None


def value_and_gradient(u: Callable, x: Float[Array, " d"]):
    """`u(x)` and its gradient in the layout invariant densities read: shape `(d,)` for a
    scalar field (reverse mode), `(d, n_fields)` for a system (`u(x)` of shape
    `(n_fields,)`; forward mode, one network evaluation and one tangent per direction)."""
    if not jax.eval_shape(u, x).shape:
        return jax.value_and_grad(u)(x)
    ux, push = jax.linearize(u, x)
    return ux, jax.vmap(push)(jnp.eye(x.shape[0], dtype=x.dtype))


class InvariantConstraints(eqx.Module):
    """The machinery that keeps the invariants of a `Conservation` during one solve.

    - `invariants`: the functionals, integrated by the rectangle rule on `grid` (a uniform
      periodic grid; spectrally accurate for smooth periodic integrands) with cell volume
      `weight`. Drift is measured with the same quadrature. With `envelope=True` (a density
      on R^d, `on_envelope`), `grid` holds fixed nodes `z_j` of a rule for the standard normal
      density instead (with weights `weight`, a vector), and the quadrature moves with the
      network's Gaussian envelope `q`: `I ~ sum_j w_j rho(x_j) / q(x_j)` at
      `x_j = mean + L z_j` (for the mass of `u = q exp(N)`, `sum_j w_j exp(N(z_j))`).
    - `constrain`: solve the Galerkin least squares subject to `dI_k/dt = rates_k`, i.e.
      `G phi_dot = rates` with `G = dI/dphi` (exact in time only to the stepper's order, since
      `I` is nonlinear in `phi`).
    - `project`: after every accepted step, move `phi` back onto `{I_k(phi) = targets_k}` by
      Gauss-Newton (minimum-norm corrections `G^T (G G^T)^{-1} (targets - I(phi))`), which
      holds the invariants to round-off.
    - `targets`: the invariants' values at `phi0` (set by `solve`).
    - `one_by_one`: the small SVDs one batch member at a time under `jax.vmap` (set with
      `LeastSquares.one_by_one`, for several CPU devices; see `_linalg.one_by_one`).
    """

    invariants: tuple[AbstractInvariant, ...]
    grid: Float[Array, "n d"]
    weight: float | Float[Array, " n"]
    constrain: bool = eqx.field(static=True)
    project: bool = eqx.field(static=True)
    rates: Float[Array, " k"] | None = None
    targets: Float[Array, " k"] | None = None
    rcond: float = 1e-10
    newton_steps: int = eqx.field(default=4, static=True)
    one_by_one: bool = eqx.field(default=False, static=True)
    envelope: bool = eqx.field(default=False, static=True)

    @classmethod
    def on_envelope(cls, invariants, ndim: int, n: int | None = None,
                    level: int | None = None, *,
                    constrain: bool, project: bool,
                    one_by_one: bool = False) -> "InvariantConstraints":
        """The invariants of a density on R^d in the frame of the network's Gaussian
        envelope: on the Gauss-Hermite sparse grid of `level` (`gauss_hermite_sparse_grid`;
        default the highest level with at most 2048 points, `default_level`: 10 in 2D, 3 in
        8D), or with `n` given, by Monte Carlo on `n` fixed standard normal draws (key 2).

        The sparse grid is the default: its error is a smooth function of the online weights
        and small (the shipped `fokker-planck-8d` model's mass, level 3: about 5e-6 of it,
        against 7e-5 for 1000 draws), so what the projection holds to round-off is close to
        the ansatz's true integral, and drifts from it only as the quadrature error changes
        along the solution (measured in `benchmarks/fokker_planck_pretrained.py`)."""
        dtype = jnp.zeros(()).dtype
        if n is not None:
            z = jax.random.normal(jax.random.PRNGKey(2), (n, ndim), dtype)
            return cls(invariants, z, 1.0 / n, constrain=constrain, project=project,
                       one_by_one=one_by_one, envelope=True)
        z, w = gauss_hermite_sparse_grid(ndim, default_level(ndim) if level is None else level)
        return cls(invariants, jnp.asarray(z, dtype), jnp.asarray(w, dtype),
                   constrain=constrain, project=project, one_by_one=one_by_one,
                   envelope=True)

    def __check_init__(self):
        if not self.invariants:
            raise ValueError("give at least one invariant to conserve")
        if not (self.constrain or self.project):
            raise ValueError("choose constrain, project or both")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(inv.name for inv in self.invariants)

    def values(self, net: CoLoRAMLP, phi: Float[Array, " p"]) -> Float[Array, " k"]:
        u = set_phi(net, phi)

        need_grad = any(inv.uses_gradient for inv in self.invariants)
        if self.envelope:
            env = u.envelope
            if env is None:
                raise ValueError("the invariants of a density on R^d are integrated in the "
                                 "frame of the network's Gaussian envelope; this network has "
                                 "none (CoLoRAMLP(..., envelope=True))")
            x = env.points(self.grid)

            def weighted(x):
                ux, grad = value_and_gradient(u, x) if need_grad else (u(x), None)
                dens = jnp.stack([inv.density(x, ux, grad) for inv in self.invariants])
                return dens * jnp.exp(-env.log_density(x))

            vals = jax.vmap(weighted)(x)
            if jnp.ndim(self.weight) == 1:  # a rule's own weights
                return jnp.asarray(self.weight) @ vals
            return self.weight * jnp.sum(vals, axis=0)

        def point(x):
            ux, grad = value_and_gradient(u, x) if need_grad else (u(x), None)
            return jnp.stack([inv.density(x, ux, grad) for inv in self.invariants])

        return self.weight * jnp.sum(jax.vmap(point)(self.grid), axis=0)

    def jacobian(self, net, phi) -> Float[Array, "k p"]:
        # reverse mode: k invariants are far fewer than p online weights
        return jax.jacrev(lambda p: self.values(net, p))(phi)

    def constrained_lstsq(self, lstsq, J, F, G, mask=None) -> Float[Array, " p"]:
        """`constrained_lstsq` with `G v = rates` (zero rates by default). With `mask` (the
        online weights that move, `AdaptiveOnline`), the constraints on those columns alone:
        `v` is zero where they are degenerate (`degenerate` with the mask)."""
        if mask is None:
            return constrained_lstsq(lstsq, J, F, G, self.rates, one_by_one=self.one_by_one)
        G, floor = self._active(G, mask)
        return constrained_lstsq(lstsq, J, F, G, self.rates, one_by_one=self.one_by_one,
                                 floor=floor)

    def _singular_values(self, G):
        svd = partial(jnp.linalg.svd, compute_uv=False)
        return (one_by_one(svd) if self.one_by_one else svd)(G)

    def _active(self, G, mask):
        """`G` restricted to the columns of `mask` (the others zeroed), and the singular value
        below which its rank counts as deficient: `rcond` times the largest singular value of
        the whole `G`, so that columns whose gradients are round-off next to the frozen
        weights' count as zero."""
        return jnp.where(mask, G, 0.0), self.rcond * self._singular_values(G)[0]

    def degenerate(self, net, phi, mask=None) -> Bool[Array, ""]:
        """Whether the constraint gradients `G = dI/dphi` at `phi` are rank deficient: an
        invariant with (nearly) zero gradient, or invariants dependent on each other.

        With `mask` (the online weights that move, `AdaptiveOnline`), whether the gradients
        restricted to those columns are: their smallest singular value below `rcond` (1e-10)
        times the largest of the whole `G`. The invariants then (nearly) do not depend on the
        weights that move, and neither the constraint nor the projection can hold them. For
        the mass of an envelope network `q exp(N(z))` on R^d (`pdes.FokkerPlanck`, d = 2)
        with the envelope's weights alone active, the measured ratio is 3e-15 to 3e-14 at
        five points: round-off, pointing in a direction that changes from point to point."""
        G = self.jacobian(net, phi)
        if mask is None:
            return ~_full_rank(self._singular_values(G))
        G, floor = self._active(G, mask)
        return ~_full_rank(self._singular_values(G), floor)

    def _solve(self, G, r, rcond):
        solve = partial(svd_solve, rcond=rcond)
        return (one_by_one(solve) if self.one_by_one else solve)(G, r)

    def project_phi(self, net, phi, mask=None) -> Float[Array, " p"]:
        """Gauss-Newton (chord: one Jacobian, at most `newton_steps` corrections, stopping
        once every invariant is within 4 ulp of its target) onto the targets.

        With `mask` (the online weights that move, `AdaptiveOnline`), the corrections move
        those weights alone (minimum norm among them); where their gradients are degenerate
        (`degenerate` with the mask) `phi` is left as it is, and the solve reports it."""
        return self.project_with_values(net, phi, mask)[0]

    def project_with_values(self, net, phi, mask=None):
        """`project_phi`, and the invariants' values at the projected `phi`."""
        # one forward pass gives the invariants and, through k reverse passes, G
        targets = self.targets
        assert targets is not None, "solve sets the targets (the invariants at phi0)"
        vals, pullback = jax.vjp(lambda p: self.values(net, p), phi)
        G = jax.vmap(lambda e: pullback(e)[0])(jnp.eye(vals.shape[0], dtype=vals.dtype))
        tol = 4 * jnp.finfo(phi.dtype).eps * jnp.abs(targets)
        movable = None
        if mask is not None:
            G, floor = self._active(G, mask)
            movable = _full_rank(self._singular_values(G), floor)

        def cond(carry):
            i, _, res = carry
            go = (i < self.newton_steps) & jnp.any(jnp.abs(res) > tol)
            return go if movable is None else go & movable

        def body(carry):
            i, phi, res = carry
            phi = phi + self._solve(G, res, self.rcond)
            return i + 1, phi, targets - self.values(net, phi)

        _, phi, res = jax.lax.while_loop(cond, body, (0, phi, targets - vals))
        return phi, targets - res


def constrained_lstsq(lstsq, J: Float[Array, "n p"], F: Float[Array, " n"],
                      G: Float[Array, "k p"], rates: Float[Array, " k"] | None = None, *,
                      one_by_one: bool = False, floor=None) -> Float[Array, " p"]:
    """`argmin ||J v - F||` subject to the linear equality constraints `G v = rates` (zero
    where `None`), by the null-space method: `v = G^+ r + N w`, with `N` an orthonormal basis
    of the null space of `G` from its SVD and `w` the (regularised, `lstsq`) least-squares
    solution of `J N w ~ F - J G^+ r`. Where `G` is rank deficient the constraints cannot be
    imposed and `v` is zero (the invariants' solve reports `RESULTS.degenerate_constraints`).
    `one_by_one`: the small SVDs one batch member at a time under `jax.vmap`. `floor`: the
    singular value below which `G` counts as rank deficient (default: `1e-12` times its
    largest)."""
    k, p = G.shape
    svd = partial(jnp.linalg.svd, full_matrices=True)
    _, s, vt = (_linalg.one_by_one(svd) if one_by_one else svd)(G)
    r = jnp.zeros((k,), G.dtype) if rates is None else rates
    solve = partial(svd_solve, rcond=None)
    v_p = (_linalg.one_by_one(solve) if one_by_one else solve)(G, r)
    N = vt[k:].T  # (p, p - k)
    w = lstsq(J @ N, F - J @ v_p)
    return jnp.where(_full_rank(s, floor), v_p + N @ w, 0.0)


def _full_rank(s: Float[Array, " k"], floor=None) -> Bool[Array, ""]:
    """Whether the smallest singular value of `s` is above `floor` (default: `1e-12` times the
    largest)."""
    if floor is None:
        return s[-1] > 1e-12 * jnp.maximum(s[0], 1e-300)
    return s[-1] > jnp.maximum(floor, 1e-300)
