"""The equation-driven solve: the Galerkin dynamics of the online weights, integrated with
diffrax. `solve` traces: checks on concrete inputs run in Python, on traced ones through
`eqx.error_if`, and failures come back as a `RESULTS` code."""

from collections.abc import Sequence

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

import pdes

from ._adaptive import AdaptiveOnline
from ._checks import (
    as_array,
    as_net,
    as_sampler,
    check_finite,
    check_fits,
    check_lift_data,
    check_mu,
    check_residual_bounds,
    check_sample_count,
    check_stepping,
    check_times,
    diagnostic_points,
    is_traced,
    net_lift,
    sample_points,
)
from ._galerkin import GalerkinField, LeastSquares, SparseUpdates
from ._invariants import (
    AbstractInvariant,
    Conservation,
    InvariantConstraints,
    as_conservation,
    get_invariant,
)
from ._lift import BoundaryLift
from ._model import CoLoRAModel
from ._network import CoLoRAMLP, num_phi, set_phi
from ._outcome import check_solution
from ._sampling import AbstractSampler
from ._solution import RESULTS, Solution, max_residual
from ._solver import GalerkinSolver


def solve(
    equation: pdes.AbstractEquation,
    model: CoLoRAModel | CoLoRAMLP,
    t0: ArrayLike,
    t1: ArrayLike,
    dt0: ArrayLike | None,
    phi0: ArrayLike,
    mu: ArrayLike,
    *,
    solver: dfx.AbstractSolver = dfx.Tsit5(),
    saveat: dfx.SaveAt = dfx.SaveAt(t0=True, t1=True),
    stepsize_controller: dfx.AbstractStepSizeController = dfx.PIDController(
        rtol=1e-6, atol=1e-8
    ),
    samples: int | ArrayLike | AbstractSampler | None = None,
    lstsq: LeastSquares = LeastSquares(),
    max_steps: int | None = 100_000,
    throw: bool = True,
    progress_meter: dfx.AbstractProgressMeter = dfx.NoProgressMeter(),
    conserve: Conservation | Sequence[str | AbstractInvariant] | None = None,
    sparse_updates: SparseUpdates | None = None,
    residual_tol: float | None = 0.1,
    max_residual: float | None = None,
    field_weights: Sequence[float] | str | None = None,
    adaptive: AdaptiveOnline | None = None,
    gradient_weights: dict[str, float] | str | None = None,
) -> Solution:
    """Equation-driven (Neural Galerkin) solve: integrate `phi_dot = argmin ||J phi_dot - F||`
    from `phi(t0) = phi0` to `t1` with diffrax. Shaped like `diffrax.diffeqsolve`, and like
    it traceable: `jax.jit` and `jax.vmap` (over `mu`, `phi0`, the times) work and give the
    numbers of the plain call.

    **Arguments:**
    - `equation`: the PDE (a `pdes.AbstractEquation`).
    - `model`: a pretrained `CoLoRAModel` (its offline weights are used, and `mu` must lie in
      its training range) or a bare `CoLoRAMLP`.
    - `t0`, `t1`, `dt0`, `phi0`: as in `diffeqsolve` (`phi0` from `fit_initial_condition`;
      `dt0` positive or `None`).
    - `mu`: the PDE parameter.
    - `solver`, `saveat`, `stepsize_controller`, `max_steps`, `throw`, `progress_meter`: passed
      to `diffrax.diffeqsolve` (`saveat` must be a single `SaveAt` without `fn`).
    - `samples`: sample points of the Galerkin residual: an int `n` (a uniform grid of about
      `n` points in all, `round(n ** (1/d))` per direction), an `(n, d)` array, or a sampler
      (`UniformSampler`, `FixedSampler`, `RandomSampler`, `SteepSampler`; a dynamic sampler
      redraws the points at every step, the solver is then wrapped in `GalerkinSolver`).
      Default: 512 points in 1D, 4096 in 2D and 3D, 2048 random points above. At least twice
      as many points as online weights.
    - `lstsq`: the least-squares solve and its regularisation (`LeastSquares`).
    - `conserve`: the invariants to keep and how (a `Conservation`; names or invariants alone
      mean `Conservation(them)`, by constraint and projection).
    - `sparse_updates`: `SparseUpdates(n_active, key)`: move only a random subset of
      `n_active` online weights at each step (randomised sparse Neural Galerkin), for networks
      with many online weights.
    - `residual_tol`: warn (`GalerkinResidualWarning`, concrete calls) and flag the solution
      (`Solution.residual_exceeded`) when the relative Galerkin residual, measured at the
      saved times on points the least squares did not fit, rises above it; `None`: no check.
    - `max_residual`: a hard bound on the same residual: above it the solve fails
      (`RESULTS.residual_above_bound`).
    - `field_weights`: for a system of fields, one positive weight per field on its
      residual in the least squares (`GalerkinField`); `"plain"`: all 1, the L2
      Dirac-Frenkel condition over every field; `"balanced"`: `1 / rms(u_k_t)`, each field's
      time derivative along the model's data-driven trajectories (`balanced_field_weights`),
      so that every field's equation counts alike whatever its size. Default: the equation's
      `galerkin_field_weights` (`"plain"` unless it says otherwise: `pdes.Wave2D`, whose
      `v_t = c^2 Laplace(u)` is 15 to 23 times the size of `u_t = v`, is `"balanced"`).
    - `adaptive`: `AdaptiveOnline(base, tol=..., drop_tol=..., max_add=...)`: only the
      `base` online weights move from the start; the others (the pool) come online where
      the Galerkin residual of the active set rises above `tol` and go offline where they
      stop contributing. `Solution.active` records the set in force at the saved times, and
      the residuals are those of that set. Not with `sparse_updates`.
    - `gradient_weights`: a Sobolev norm for the least squares: `{field: g}` adds, at each
      sample point, the spatial gradient of that field's residual weighted by `g`
      (`GalerkinField`); `"none"`: no gradient rows. Default: the equation's
      (`galerkin_gradient_fields`, weighted by `galerkin_gradient_weights(mu)`; none unless
      it says otherwise: `pdes.Wave2D` weights `grad(u_t - v)` by the wave speed, which with
      its plain field weights is the wave's energy norm, in which the wave operator is
      skew; its equation-driven error at `mu = 0.55 / 0.85` fell from 5.1e-2 / 2.6e-2 (L2,
      fields balanced) to 7.2e-3 / 8.8e-3 with the model shipped then, the start fitted in
      the same norm, `fit_initial_condition`). The gradient rows' Jacobian is a second
      derivative of the network per sample: the wave's steps took 1.7 to 1.9 times as long.

    **Returns:** a `Solution`; its `result` says what happened (`RESULTS`).

    **Raises:** `ValueError` for options that cannot work, before anything is compiled: `mu`
    out of range, a wrongly shaped or non-finite `phi0`, `t1 <= t0`, a non-positive `dt0`,
    tolerances that are negative or below round-off, too few samples, an unknown invariant
    or one the equation does not keep at `mu` (traced inputs: the same checks through
    `eqx.error_if`). With `throw=True`, `SolveError` for a failed solve (its `RESULTS`
    message, and for a concrete call where it stopped); with `throw=False` the `Solution`'s
    `result` and `message` say it.
    """
    net = as_net(model)
    setup = Setup.make(equation, net, solver, saveat, stepsize_controller, samples, lstsq,
                       max_steps, progress_meter, conserve, sparse_updates, residual_tol,
                       max_residual, as_field_weights(field_weights, equation, model), adaptive,
                       as_gradient_weights(gradient_weights, equation))
    phi0, mu, t0, t1, dt0 = check_inputs(equation, model, net, setup, phi0, mu, t0, t1, dt0)
    return check_solution(_integrate(setup, net, phi0, mu, t0, t1, dt0), throw=throw)


class Setup(eqx.Module):
    """A solve's options, normalised once: what does not change with `phi0`, `mu` or the
    times (so that a batch shares it)."""

    equation: pdes.AbstractEquation
    solver: dfx.AbstractSolver
    saveat: dfx.SaveAt
    controller: dfx.AbstractStepSizeController
    sampler: AbstractSampler
    lstsq: LeastSquares
    conservation: Conservation | None
    sparse: SparseUpdates | None
    adaptive: AdaptiveOnline | None
    progress_meter: dfx.AbstractProgressMeter
    field_weights: Array | None
    lift: BoundaryLift | None
    gradient: "GradientRows | None"
    max_steps: int | None = eqx.field(static=True)
    residual_tol: float | None = eqx.field(static=True)
    max_residual: float | None = eqx.field(static=True)

    @classmethod
    def make(cls, equation, net, solver, saveat, controller, samples, lstsq, max_steps,
             progress_meter, conserve, sparse, residual_tol, max_residual,
             field_weights=None, adaptive=None, gradient=None) -> "Setup":
        if not isinstance(equation, pdes.AbstractEquation):
            raise TypeError(f"equation must be a pdes.AbstractEquation, got "
                            f"{type(equation).__name__}")
        check_fits(equation, net)
        lift = net_lift(equation, net)
        conservation = as_conservation(conserve)
        if lift is not None and conservation is not None:
            raise ValueError(
                f"{equation.name} has nonzero or time-dependent boundary data: its invariants "
                "change through the boundary and are not held (conserve= is for zero data); "
                "leave conserve out")
        if conservation is not None and conservation.level is not None and not equation.unbounded:
            raise ValueError(f"Conservation(level=...) is the sparse grid of a density on R^d; "
                             f"{equation.name} lives on a box: give points (grid points per "
                             "direction) or neither")
        weights = field_weights  # normalised by as_field_weights
        check_stepping(controller, max_steps)
        sampler = as_sampler(equation, samples)
        check_sample_count(equation, sampler, num_phi(net))
        check_residual_bounds(residual_tol, max_residual)
        if sparse is not None and not isinstance(sparse, SparseUpdates):
            raise TypeError(f"sparse_updates must be a SparseUpdates, got {sparse!r}")
        if adaptive is not None:
            if not isinstance(adaptive, AdaptiveOnline):
                raise TypeError(f"adaptive must be an AdaptiveOnline, got {adaptive!r}")
            if sparse is not None:
                raise ValueError("adaptive online weights choose which weights move from the "
                                 "residual, sparse updates draw them at random: use one of "
                                 "adaptive= and sparse_updates=")
            adaptive.mask(num_phi(net))  # the base fits the network
        subs = saveat.subs
        if not isinstance(subs, dfx.SubSaveAt) or subs.fn is not _DEFAULT_SAVE_FN:
            raise ValueError("saveat must be a single diffrax.SaveAt without fn")
        return cls(equation, solver, saveat, controller, sampler, lstsq, conservation, sparse,
                   adaptive, progress_meter, weights, lift, gradient, max_steps, residual_tol,
                   max_residual)


def as_field_weights(weights, equation: pdes.AbstractEquation, model) -> Array | None:
    """`field_weights` of `solve` normalised: `None` (all 1) or one positive weight per field;
    the equation's default where not given."""
    fields = equation.fields
    if weights is None:
        weights = equation.galerkin_field_weights
    if isinstance(weights, str):
        if weights not in ("plain", "balanced"):
            raise ValueError(f"field_weights must be 'plain', 'balanced' or one positive "
                             f"number per field {fields}, got {weights!r}")
        if weights == "plain" or len(fields) == 1:
            return None
        if not isinstance(model, CoLoRAModel):
            raise ValueError("field_weights='balanced' takes the fields' scales from the "
                             "model's data-driven trajectories, and a bare network has none: "
                             f"give a CoLoRAModel, or one weight per field {fields}")
        return balanced_field_weights(equation, model)
    w = np.asarray(weights, dtype=float)
    if w.shape != (len(fields),) or not np.all(np.isfinite(w)) or not np.all(w > 0):
        raise ValueError(f"field_weights must be {len(fields)} positive finite numbers, one per "
                         f"field {fields}, got {weights!r}")
    return jnp.asarray(w, dtype=jnp.zeros(()).dtype)


class GradientRows(eqx.Module):
    """The gradient rows of the least squares (`solve`'s `gradient_weights`, normalised):
    the indices of the fields whose residual's gradient enters, and their weights: fixed
    (`weights`) or, where `None`, the equation's `galerkin_gradient_weights(mu)`."""

    fields: tuple[int, ...] = eqx.field(static=True)
    weights: Array | None

    def at(self, equation: pdes.AbstractEquation, mu: ArrayLike) -> Array:
        w = equation.galerkin_gradient_weights(mu) if self.weights is None else self.weights
        return jnp.asarray(w, dtype=jnp.zeros(()).dtype).reshape(len(self.fields))


def as_gradient_weights(weights, equation: pdes.AbstractEquation) -> GradientRows | None:
    """`gradient_weights` of `solve` normalised: `None` (no gradient rows) or the fields and
    their weights; the equation's default where not given."""
    fields = equation.fields
    if weights is None:
        names = equation.galerkin_gradient_fields
        unknown = [f for f in names if f not in fields]
        if unknown:
            raise ValueError(f"{equation.name}: galerkin_gradient_fields names {unknown}, which "
                             f"are not among its fields {fields}")
        return GradientRows(tuple(fields.index(f) for f in names), None) if names else None
    if isinstance(weights, str):
        if weights != "none":
            raise ValueError(f"gradient_weights must be 'none' or a dict {{field: positive "
                             f"weight}} over the fields {fields}, got {weights!r}")
        return None
    if not isinstance(weights, dict) or not weights:
        raise ValueError(f"gradient_weights must be 'none' or a non-empty dict {{field: "
                         f"positive weight}} over the fields {fields}, got {weights!r}")
    unknown = [f for f in weights if f not in fields]
    w = np.asarray(list(weights.values()), dtype=float)
    if unknown or not np.all(np.isfinite(w)) or not np.all(w > 0):
        raise ValueError(f"gradient_weights must map fields of {fields} to positive finite "
                         f"numbers, got {weights!r}")
    return GradientRows(tuple(fields.index(f) for f in weights),
                        jnp.asarray(w, dtype=jnp.zeros(()).dtype))


def balanced_field_weights(equation: pdes.AbstractEquation, model: CoLoRAModel,
                           n_times: int = 17, n_mus: int = 5,
                           n_points: int = 1024) -> Float[Array, " fields"]:
    """Field weights `w_k = 1 / rms(u_k_t)`, scaled so that the largest is 1: the root mean
    square of each field's time derivative `d/dt u(x; h(t, mu))` along the model's
    data-driven trajectories, over `n_times` times and `n_mus` parameters spanning its
    training ranges and about `n_points` points of the equation's box (those of
    `sample_points`). The same for every `mu`, so that a batch shares them; the weights of
    pretraining's tangent term, there from the data. With them the least squares asks every
    field's equation to hold to the same relative accuracy; with all 1, a field whose `u_t`
    is small (the displacement of a wave, `u_t = v`, beside `v_t = c^2 Laplace(u)`) is
    barely held, and its error grows unchecked."""
    cfg = model.config
    dtype = jnp.zeros(()).dtype
    ts = jnp.linspace(*cfg.t_range, n_times, dtype=dtype)
    lo, hi = cfg.mu_range
    mus = jnp.asarray(np.geomspace(lo, hi, n_mus) if cfg.log_mu else np.linspace(lo, hi, n_mus),
                      dtype)
    x = sample_points(equation, n_points)

    def rate(t, mu):
        phi, phi_t = jax.jvp(lambda s: model.hyper(s, mu), (t,), (jnp.ones_like(t),))
        return jax.vmap(lambda xi: jax.jvp(lambda p: set_phi(model.net, p)(xi), (phi,),
                                           (phi_t,))[1])(x)

    u_t = jax.vmap(lambda t: jax.vmap(lambda mu: rate(t, mu))(mus))(ts)
    rms = jnp.sqrt(jnp.mean(u_t.reshape(-1, equation.n_fields) ** 2, axis=0))
    rms = jnp.maximum(rms, 1e-12 * jnp.max(rms))  # a field that does not move: a finite weight
    return (1 / rms) / jnp.max(1 / rms)


def check_inputs(equation, model, net, setup: Setup, phi0, mu, t0, t1, dt0):
    """The inputs that change from call to call, checked (in Python where concrete, by
    `eqx.error_if` where traced)."""
    if dt0 is None and isinstance(setup.controller, dfx.ConstantStepSize):
        raise ValueError("a constant step size needs dt0 (the step); or use an adaptive "
                         "diffrax.PIDController with dt0=None")
    p = num_phi(net)
    phi0 = as_array(phi0)
    if phi0.shape != (p,):
        raise ValueError(f"phi0 has shape {phi0.shape}, the model has {p} online weights")
    phi0 = check_finite(phi0, "phi0", "refit the initial condition")
    mu = check_mu(equation, model, mu)
    check_kept(equation, mu, setup.conservation)
    t0, t1, dt0 = check_times(t0, t1, dt0)
    mu = check_lift_data(setup.lift, t0, as_array(mu))
    return phi0, mu, t0, t1, dt0


def check_kept(equation, mu, conservation: Conservation | None) -> None:
    """Refuse to hold, by name, an invariant the equation does not keep at `mu` (for a traced
    `mu`: the invariants it declares it keeps)."""
    if conservation is None:
        return
    kept = equation.conserved if is_traced(mu) else equation.conserved_at(mu)
    where = "" if is_traced(mu) else f" at mu={mu:g}"
    for c in conservation.invariants:
        if isinstance(c, str) and get_invariant(c, equation, mu).name not in kept:
            raise ValueError(
                f"{equation.name} does not keep {c!r}{where} (it keeps: {', '.join(kept)}); "
                "holding it would force a wrong solution. For a quantity you know to be "
                "invariant in your setting, pass an AbstractInvariant object")


@eqx.filter_jit
def _integrate(setup: Setup, net: CoLoRAMLP, phi0, mu, t0, t1, dt0) -> Solution:
    """The solve itself, traceable in everything but `setup`'s static parts."""
    field, solver, saveat, constraints = assemble(setup, net, phi0, mu)
    sol = dfx.diffeqsolve(
        dfx.ODETerm(field), solver, t0, t1, dt0, phi0, mu, saveat=saveat,
        stepsize_controller=setup.controller, max_steps=setup.max_steps, throw=False,
        progress_meter=setup.progress_meter)
    assert sol.ys is not None and sol.ts is not None  # saved as `saveat` asks
    phis, residuals, invariants, degenerate = sol.ys
    stats = {k: v for k, v in sol.stats.items() if k.startswith("num_")}
    active = None
    degenerate_active = None
    if setup.adaptive is not None:
        assert sol.solver_state is not None  # saved for the record of the active set
        record = sol.solver_state[2]
        active = record.active_at(sol.ts, jnp.asarray(setup.adaptive.mask(phi0.shape[0])))
        if constraints is not None and constraints.project:
            phis, invariants = _active_projections(constraints, net, sol.ts, phis, invariants,
                                                   active)
        residuals = _active_residuals(saveat.subs.fn, sol.ts, phis, mu, active)
        stats.update(num_online_changes=record.n_changes, num_online_added=record.n_added,
                     num_online_dropped=record.n_dropped)
        degenerate_active = record.degenerate if constraints is not None else None
    if constraints is not None and constraints.constrain:
        # at the start, and at the saved times the solve reached (the others are filled in)
        reached = jnp.isfinite(jnp.asarray(sol.ts))
        degenerate = jnp.any(degenerate & reached) | constraints.degenerate(net, phi0)
    else:
        degenerate = jnp.array(False)
    result = classify(sol.result, phis, residuals, degenerate, setup.max_residual,
                      degenerate_active)
    names = () if constraints is None else constraints.names
    return Solution(ts=sol.ts, phis=phis, net=net, residuals=residuals,
                    stats=stats, result=result, mode="eq", active=active,
                    invariants={name: invariants[:, k] for k, name in enumerate(names)},
                    residual_tol=setup.residual_tol, lift=setup.lift,
                    mu=None if setup.lift is None else mu)


def classify(dfx_result, phis, residuals, degenerate, bound,
             degenerate_active=None) -> RESULTS:
    """The solve's `RESULTS` code from diffrax's and what the saved values show
    (`degenerate_active`: with adaptive online weights, whether a step's active columns had
    degenerate invariant gradients)."""
    result = RESULTS.where(dfx_result == dfx.RESULTS.max_steps_reached, RESULTS.step_limit,
                           RESULTS.promote(dfx_result))
    ok = result == RESULTS.successful
    result = RESULTS.where(ok & ~jnp.all(jnp.isfinite(phis)), RESULTS.blow_up, result)
    if bound is not None:
        above = max_residual(residuals) > bound
        result = RESULTS.where((result == RESULTS.successful) & above,
                               RESULTS.residual_above_bound, result)
    if degenerate_active is not None:
        result = RESULTS.where(degenerate_active, RESULTS.degenerate_active_constraints, result)
    return RESULTS.where(degenerate, RESULTS.degenerate_constraints, result)


def constraint_setup(setup: Setup, net, phi0, mu) -> InvariantConstraints | None:
    """The invariants of `setup.conservation` at `mu`, their quadrature, and their values at
    `phi0` as the targets."""
    cons = setup.conservation
    if cons is None:
        return None
    equation = setup.equation
    invariants = tuple(get_invariant(c, equation, mu) if isinstance(c, str) else c
                       for c in cons.invariants)
    if equation.unbounded:  # a sparse grid (or Monte Carlo) in the frame of the envelope
        out = InvariantConstraints.on_envelope(invariants, equation.ndim, cons.points,
                                               cons.level,
                                               constrain=cons.method != "projection",
                                               project=cons.method != "constraint",
                                               one_by_one=setup.lstsq.one_by_one)
        return eqx.tree_at(lambda c: c.targets, out, out.values(net, phi0),
                           is_leaf=lambda x: x is None)
    points = cons.points
    if points is None:  # per direction, matching the samples
        n = setup.sampler.fixed_points(equation).shape[0]
        points = max(round(n ** (1 / equation.ndim)), 1)
    grid = equation.grid(points).reshape(-1, equation.ndim)
    out = InvariantConstraints(invariants, grid, equation.cell_volume(points),
                               constrain=cons.method != "projection",
                               project=cons.method != "constraint",
                               one_by_one=setup.lstsq.one_by_one)
    return eqx.tree_at(lambda c: c.targets, out, out.values(net, phi0),
                       is_leaf=lambda x: x is None)


_DEFAULT_SAVE_FN = dfx.SaveAt(t1=True).subs.fn


def gradient_rows(gradient: GradientRows | None, equation, mu) -> dict:
    """`GalerkinField`'s gradient-row arguments at `mu`."""
    if gradient is None:
        return {}
    return dict(gradient_fields=gradient.fields, gradient_weights=gradient.at(equation, mu))


def assemble(setup: Setup, net, phi0, mu):
    """The Galerkin field, the (wrapped) solver, the saving function and the invariant
    constraints for one solve; traceable in `phi0` and `mu`."""
    equation = setup.equation
    constraints = constraint_setup(setup, net, phi0, mu)
    constraint = constraints if constraints is not None and constraints.constrain else None
    projection = constraints if constraints is not None and constraints.project else None
    sampler = setup.sampler
    field = GalerkinField(equation, net, sampler(equation, net, phi0, jnp.array(0)),
                          setup.lstsq, constraint, field_weights=setup.field_weights,
                          lift=setup.lift, **gradient_rows(setup.gradient, equation, mu))
    # the residual diagnostic solves on fixed points, comparable across samplers, and is
    # measured on points it did not fit
    fit = eqx.tree_at(lambda f: f.samples, field, sampler.fixed_points(equation))
    if setup.sparse is not None:
        field = eqx.tree_at(lambda f: f.active, field,
                            setup.sparse(phi0.shape[0], jnp.array(0)),
                            is_leaf=lambda x: x is None)
    adaptive = setup.adaptive
    if adaptive is not None:
        field = eqx.tree_at(lambda f: f.mask, field, jnp.asarray(adaptive.mask(phi0.shape[0])),
                            is_leaf=lambda x: x is None)
    solver = setup.solver
    if (sampler.dynamic or projection is not None or setup.sparse is not None
            or adaptive is not None):
        solver = GalerkinSolver(solver, sampler if sampler.dynamic else None, projection,
                                setup.sparse, adaptive)
    # with adaptive online weights the residual is measured after the solve, with the set in
    # force at each saved time (the saving function does not see the solver's state)
    # (and, with a projection, the saved weights are projected after the solve, along the set
    # in force at each saved time)
    save = _Save(fit, diagnostic_points(equation, fit.samples.shape[0]),
                 projection if adaptive is None else None, constraints, sampler,
                 with_residual=adaptive is None)
    saveat = eqx.tree_at(lambda s: s.subs.fn, setup.saveat, save)
    if adaptive is not None:  # the record of the active set is in the final solver state
        saveat = eqx.tree_at(lambda s: s.solver_state, saveat, True)
    return field, solver, saveat, constraints


def _active_projections(constraints: InvariantConstraints, net, ts, phis, invariants, active):
    """The saved weights projected onto the invariants along the set in force at each saved
    time (`_Save` projects along every column, without the set), and the invariants there;
    the saved times the solve did not reach are left as they are."""
    projected, values = jax.vmap(
        lambda phi, mask: constraints.project_with_values(net, phi, mask))(phis, active)
    reached = jnp.isfinite(jnp.asarray(ts))
    return (jnp.where(reached[:, None], projected, phis),
            jnp.where(reached[:, None], values, invariants))


def _active_residuals(save: "_Save", ts, phis, mu, active):
    """The residual diagnostic of `_Save` at the saved times, with the active set there."""

    def one(t, phi, mask):
        field = eqx.tree_at(lambda f: f.mask, save.field, mask, is_leaf=lambda x: x is None)
        return save.residual(field, t, phi, mu)

    return jax.vmap(one)(ts, phis, active)


class _Save(eqx.Module):
    """Saves `phi` (projected onto the invariants' level set where projection is on, so that
    interpolated saves hold them too), the residual diagnostic (the least squares solved on
    the field's samples, its residual measured at `points`, which it did not fit), the
    invariants' values and whether the constraints are degenerate there."""

    field: GalerkinField
    points: Array
    projection: InvariantConstraints | None
    constraints: InvariantConstraints | None
    sampler: AbstractSampler | None = None
    with_residual: bool = eqx.field(default=True, static=True)

    def __call__(self, t, phi, mu):
        net = self.field.net
        if self.projection is not None:  # then it is also `self.constraints`
            phi, inv = self.projection.project_with_values(net, phi)
        elif self.constraints is not None:
            inv = self.constraints.values(net, phi)
        else:
            inv = jnp.zeros((0,), phi.dtype)
        degenerate = (self.constraints.degenerate(net, phi)
                      if self.constraints is not None and self.constraints.constrain
                      else jnp.array(False))
        residual = (self.residual(self.field, t, phi, mu) if self.with_residual
                    else jnp.zeros((), phi.dtype))
        return phi, residual, inv, degenerate

    def residual(self, field: GalerkinField, t, phi, mu):
        """The residual diagnostic of `field` at `phi`: on `points`, or on points that follow
        the solution where the sampler draws them."""
        points = self.points
        moving = (None if self.sampler is None
                  else self.sampler.diagnostic_points(field.equation, field.net, phi))
        if moving is not None:  # points that follow the solution, drawn at this phi
            field = eqx.tree_at(lambda f: f.samples, field, moving[0])
            points = moving[1]
        return field.residual(t, phi, mu, points)
