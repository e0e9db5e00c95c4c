"""`GalerkinSolver`: wraps a diffrax solver to redraw the sample points at every step and to
project onto invariants after every accepted step."""

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp

from ._adaptive import AdaptiveOnline
from ._galerkin import GalerkinField, SparseUpdates
from ._invariants import InvariantConstraints
from ._sampling import AbstractSampler


def _is_field(x) -> bool:
    return isinstance(x, GalerkinField)


def _set_on_field(terms, where, value):
    """`terms` with `where(field)` of its `GalerkinField` set to `value` (which may be `None`
    or replace a `None`)."""
    return jax.tree.map(
        lambda x: eqx.tree_at(where, x, value, is_leaf=lambda v: v is None) if _is_field(x)
        else x, terms, is_leaf=_is_field)


def find_field(terms) -> GalerkinField:
    """The `GalerkinField` among diffrax's `terms` (the vector field of `solve`'s term)."""
    field = next((x for x in jax.tree.leaves(terms, is_leaf=_is_field) if _is_field(x)), None)
    if field is None:
        raise ValueError("no GalerkinField among the terms: this solver steps the Galerkin "
                         "dynamics of `neural_galerkin.solve`; use it through `solve`")
    return field


class GalerkinSolver(dfx.AbstractWrappedSolver):
    """Wraps any diffrax solver (adaptive or not: `isinstance` checks pass through) so that a
    dynamic sampler chooses the Galerkin sample points at the start of every step, from the
    current online weights. All stages of a step use the same points, so the step's error
    estimate is consistent; a rejected step is retried on the same points. A first-same-as-last
    stage is recomputed after resampling (the vector field changed).

    With a `projection` (`InvariantConstraints` with `project=True`), every step's result is moved
    back onto `{I_k(phi) = targets_k}` before the controller accepts it and the next step
    starts from it: the invariants are then held to round-off at every step.

    With `sparse` (`SparseUpdates`), a new random subset of online weights is drawn at the
    start of every step, and only those move during it.

    With `adaptive` (`AdaptiveOnline`), the set of online weights that move is chosen at the
    start of every step from the Galerkin system there (`AdaptiveOnline.decide`), after the
    resampling; it is part of the solver state, so a rejected step is retried with the set it
    started with, and its changes are recorded there. The projection then moves the step's
    active weights alone, and whether the invariants' gradients on them are degenerate is
    recorded with the set (`InvariantConstraints.degenerate` with the mask)."""

    solver: dfx.AbstractSolver  # pyright: ignore[reportIncompatibleVariableOverride]
    sampler: AbstractSampler | None = None
    projection: InvariantConstraints | None = None  # with `project=True`
    sparse: SparseUpdates | None = None
    adaptive: AdaptiveOnline | None = None

    @property
    def term_structure(self):  # pyright: ignore[reportIncompatibleVariableOverride]
        return self.solver.term_structure

    @property
    def interpolation_cls(self):  # pyright: ignore[reportIncompatibleMethodOverride]
        return self.solver.interpolation_cls

    def order(self, terms):
        return self.solver.order(terms)

    def strong_order(self, terms):
        return self.solver.strong_order(terms)

    def error_order(self, terms):
        return self.solver.error_order(terms)

    def init(self, terms, t0, t1, y0, args):
        adaptive = (None if self.adaptive is None
                    else self.adaptive.init(y0.shape[0], jnp.result_type(y0)))
        return self.solver.init(terms, t0, t1, y0, args), jnp.array(0), adaptive

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        inner, count, adaptive = solver_state
        field = find_field(terms)
        if self.sampler is not None:
            pts = self.sampler(field.equation, field.net, y0, count)
            terms = _set_on_field(terms, lambda f: f.samples, pts)
            made_jump = True
        if self.sparse is not None:
            active = self.sparse(y0.shape[0], count)
            terms = _set_on_field(terms, lambda f: f.active, active)
            made_jump = True
        if self.adaptive is not None:
            # on this step's points (a dynamic sampler has just redrawn them)
            whole = eqx.tree_at(lambda f: f.mask, find_field(terms), None,
                                is_leaf=lambda x: x is None)
            J, F = whole.system(y0, args, t0)
            base = jnp.asarray(self.adaptive.mask(y0.shape[0]))
            mask, added, dropped = self.adaptive.decide(J, F, adaptive.mask, field.lstsq, base)
            made_jump = made_jump | jnp.any(mask != adaptive.mask)
            invariants = self.projection if self.projection is not None else field.conservation
            degenerate = (False if invariants is None
                          else invariants.degenerate(field.net, y0, mask))
            adaptive = self.adaptive.record(adaptive, t0, mask, added, dropped, degenerate)
            terms = _set_on_field(terms, lambda f: f.mask, mask)
        else:
            mask = None
        y1, y_error, dense_info, inner, result = self.solver.step(
            terms, t0, t1, y0, args, inner, made_jump)
        if self.projection is not None:
            y1 = self.projection.project_phi(field.net, y1, mask)
            if isinstance(dense_info, dict) and "y1" in dense_info:
                dense_info = dict(dense_info, y1=y1)
        return y1, y_error, dense_info, (inner, count + 1, adaptive), result

    def func(self, terms, t0, y0, args):
        return self.solver.func(terms, t0, y0, args)
