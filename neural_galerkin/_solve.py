"""The equation-driven solve: the Galerkin dynamics of the online weights, integrated with
diffrax; its set-up (samples, conservation, saving) and its failures said in words."""

import time
import warnings
from collections.abc import Sequence

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import ArrayLike

import pdes

from ._checks import (
    as_net,
    check_mu,
    check_sample_count,
    check_start,
    check_stepping,
    default_samples,
    diagnostic_points,
    num_samples,
    sample_points,
)
from ._galerkin import GalerkinField, LeastSquares, SparseUpdates
from ._invariants import AbstractInvariant, Conservation, get_invariant
from ._model import CoLoRAModel
from ._network import CoLoRAMLP, num_phi
from ._sampling import AbstractSampler, UniformSampler
from ._solution import (
    GalerkinResidualWarning,
    Solution,
    SolveError,
    finite_or,
    result_message,
    runtime_error_message,
)
from ._solver import GalerkinSolver


def solve(
    equation: pdes.AbstractEquation,
    model: CoLoRAModel | CoLoRAMLP,
    t0: float,
    t1: float,
    dt0: float | None,
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
    conserve: Sequence[str | AbstractInvariant] = (),
    conserve_method: str = "both",
    conserve_points: int | None = None,
    sparse_updates: SparseUpdates | None = None,
    residual_tol: float | None = 0.1,
    timed: bool = False,
) -> Solution:
    """Equation-driven (Neural Galerkin) solve: integrate `phi_dot = argmin ||J phi_dot - F||`
    from `phi(t0) = phi0` to `t1` with diffrax. Shaped like `diffrax.diffeqsolve`.

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
      (`UniformSampler`, `RandomSampler`, `SteepSampler`; a dynamic sampler redraws the
      points at every step, the solver is then wrapped in `GalerkinSolver`). Default: 512
      points in 1D, 4096 in 2D and 3D, 2048 random points above. At least twice as many
      points as online weights.
    - `lstsq`: the least-squares solve and its regularisation (`LeastSquares`).
    - `conserve`: invariants to keep (`"mass"`, `"energy"`, or `AbstractInvariant`s such as
      `Functional`), each integrated by the rectangle rule on a uniform grid with
      `conserve_points` points per direction (default: as many as the samples').
    - `conserve_method`: `"constraint"` (`phi_dot` subject to `dI_k/dt = 0`; drift then
      follows the time-stepping error), `"projection"` (Gauss-Newton back onto
      `I_k(phi) = I_k(phi0)` after every accepted step and at every saved time: round-off) or
      `"both"`.
    - `sparse_updates`: `SparseUpdates(n_active, key)`: move only a random subset of
      `n_active` online weights at each step (randomised sparse Neural Galerkin), for networks
      with many online weights.
    - `residual_tol`: warn (`GalerkinResidualWarning`) and flag the solution
      (`Solution.residual_exceeded`) when the relative Galerkin residual, measured at the
      saved times on points the least squares did not fit, rises above it; `None`: no check.
    - `timed`: compile ahead of time and record `time_compile_s` and `time_run_s` in `stats`.

    **Returns:** a `Solution`.

    **Raises:** `ValueError` for `mu` out of range, a wrongly shaped or non-finite `phi0`,
    `t1 <= t0`, a non-positive `dt0`, tolerances that are negative or below round-off, too
    few samples, an unknown invariant, one the equation does not keep at `mu`, or a name
    given twice. With `throw=True`: `SolveError` saying what to change if the time
    integration fails (the step limit reached: usually the reduced solution left what the
    network can represent; degenerate constraints), `FloatingPointError` if the saved weights
    are NaN or inf (an unstable fixed step). With `throw=False` the `Solution`'s `result`
    and `message` say what happened.
    """
    net = as_net(model)
    mu = check_mu(equation, model, mu)
    p = num_phi(net)
    phi0 = jnp.asarray(phi0, dtype=jnp.zeros(()).dtype)
    if phi0.shape != (p,):
        raise ValueError(f"phi0 has shape {phi0.shape}, the model has {p} online weights")
    samples = check_options(equation, net, phi0, t0, t1, dt0, stepsize_controller,
                             max_steps, samples, residual_tol)
    check_kept(equation, mu, conserve)
    field, solver, saveat, conservation = assemble(
        equation, net, phi0, mu, solver, saveat, samples, lstsq, conserve, conserve_method,
        conserve_points, sparse_updates)
    args = (field, solver, jnp.asarray(t0, float), jnp.asarray(t1, float),
            None if dt0 is None else jnp.asarray(dt0, float), phi0, jnp.asarray(mu, float),
            saveat, stepsize_controller, max_steps, progress_meter)
    sol, stats = run_solve(_solve, args, timed)
    phis, residuals, invariants = sol.ys
    if throw:
        raise_on_failure(sol.result, sol.ts, phis, residuals, max_steps)
    stats.update({k: int(v) for k, v in sol.stats.items() if k.startswith("num_")})
    inv = {} if conservation is None else {
        name: invariants[:, k] for k, name in enumerate(conservation.names)}
    out = Solution(ts=sol.ts, phis=phis, net=net, residuals=residuals, stats=stats,
                   result=sol.result, mode="eq", invariants=inv, residual_tol=residual_tol)
    warn_residual(out)
    return out


def check_options(equation, net, phi0, t0, t1, dt0, controller, max_steps, samples,
                   residual_tol):
    """The checks `solve` and `solve_batch` share; returns `samples` with its default."""
    check_start(phi0, t0, t1)
    check_stepping(controller, dt0, max_steps)
    if samples is None:
        samples = default_samples(equation)
    check_sample_count(equation, samples, num_phi(net))
    if residual_tol is not None and not residual_tol > 0:
        raise ValueError(f"residual_tol must be positive (or None for no check), got "
                         f"{residual_tol!r}")
    return samples


def run_solve(fn, args, timed: bool):
    """`fn(*args)`; with `timed`, compiled ahead of time and both phases timed. A check that
    failed inside the compiled solve (`eqx.error_if`) becomes a `SolveError` with its message
    alone."""
    try:
        if not timed:
            return fn(*args), {}
        start = time.perf_counter()
        compiled = fn.lower(*args).compile()
        stats = {"time_compile_s": time.perf_counter() - start}
        start = time.perf_counter()
        out = jax.block_until_ready(compiled(*args))
        stats["time_run_s"] = time.perf_counter() - start
        return out, stats
    except eqx.EquinoxRuntimeError as e:
        raise SolveError(runtime_error_message(e)) from None


_MAX_STEPS = int(np.asarray(dfx.RESULTS.max_steps_reached._value))


def raise_on_failure(result, ts, phis, residuals, max_steps) -> None:
    """`SolveError` (or `FloatingPointError` for NaN weights from a fixed step) with what to
    change, for a solve or, with a leading batch axis, for each failed member of a batch."""
    codes = np.asarray(result._value)
    ts, phis, residuals = (np.asarray(a) for a in (ts, phis, residuals))
    batched = codes.ndim == 1
    if not batched:
        codes, ts, phis, residuals = codes[None], ts[None], phis[None], residuals[None]
    failures = []
    for i, code in enumerate(codes):
        finite = np.all(np.isfinite(phis[i]), axis=-1)
        if code == 0 and finite.all():
            continue
        where = "no saved time has a solution"
        if finite.any():
            worst = np.max(finite_or(residuals[i][finite], -np.inf))
            where = (f"the last saved time with a solution is t={ts[i][finite][-1]:g}, the "
                     f"largest Galerkin residual until then {worst:.2g}")
        if code == _MAX_STEPS:
            msg = (f"the equation-driven solve stopped after the maximum number of steps "
                   f"({max_steps}); {where}. The step size collapsed: usually the reduced "
                   "solution has "
                   "left what the network can represent (a residual of 0.1 or more says "
                   "so): compare with the data-driven prediction or retrain the network; "
                   "else raise max_steps, loosen the tolerances or regularise the least "
                   "squares (LeastSquares(rcond=..., ridge=...))")
        elif code != 0:
            msg = f"the equation-driven solve failed ({where}): {result_message(code)}"
        else:
            raise FloatingPointError(
                f"the equation-driven solve produced NaN or inf ({where}"
                f"{f' of batch member {i}' if batched else ''}): the dynamics blew up (an "
                "unstable time step, or online weights so large that the network overflows)."
                " Use an adaptive stepsize_controller (diffrax.PIDController) or a smaller "
                "dt0, check phi0, or regularise the least squares "
                "(LeastSquares(rcond=..., ridge=...))")
        failures.append(f"batch member {i}: {msg}" if batched else msg)
    if failures:
        raise SolveError("\n".join(failures))


def warn_residual(sol: Solution) -> None:
    exceeded = np.atleast_1d(sol.residual_exceeded)
    if not exceeded.any():
        return
    res = finite_or(sol.residuals, -np.inf).reshape(exceeded.shape[0], -1)
    ts = np.broadcast_to(np.asarray(sol.ts), res.shape)
    worst = np.argmax(np.where(exceeded[:, None], res, -np.inf))
    who = (f" (batch members {', '.join(map(str, np.flatnonzero(exceeded)))})"
           if np.ndim(sol.residual_exceeded) else "")
    warnings.warn(GalerkinResidualWarning(
        f"the relative Galerkin residual reached {res.flat[worst]:.2g} at t="
        f"{ts.flat[worst]:g}{who}, above residual_tol={sol.residual_tol:g}: the network "
        "cannot follow the equation well there, and the reduced solution may be far from "
        "the PDE's. Check it against a reference (ng.compare) or the data-driven prediction, "
        "or retrain; residual_tol=None turns this check off"), stacklevel=3)


def conservation_setup(equation, net, phi0, mu, samples, conserve, method, points,
                       one_by_one=False):
    if not conserve:
        return None
    if method not in ("constraint", "projection", "both"):
        raise ValueError(f"conserve_method must be 'constraint', 'projection' or 'both', got "
                         f"{method!r}")
    invariants = tuple(get_invariant(c, equation, mu) if isinstance(c, str) else c
                       for c in conserve)
    for inv in invariants:
        if not isinstance(inv, AbstractInvariant):
            raise TypeError(f"conserve takes invariant names or AbstractInvariants, got {inv!r}")
    names = [inv.name for inv in invariants]
    if len(set(names)) != len(names):
        raise ValueError(f"an invariant is named twice in {names}")
    if points is None:  # per direction, matching the samples
        points = max(round(num_samples(equation, samples) ** (1 / equation.ndim)), 1)
    grid = equation.grid(points).reshape(-1, equation.ndim)
    cons = Conservation(invariants, grid, equation.cell_volume(points),
                        constrain=method != "projection", project=method != "constraint",
                        one_by_one=one_by_one)
    return eqx.tree_at(lambda c: c.targets, cons, cons.values(net, phi0),
                       is_leaf=lambda x: x is None)


def check_kept(equation, mu, conserve) -> None:
    kept = equation.conserved_at(mu)
    for c in conserve:
        if isinstance(c, str) and get_invariant(c, equation, mu).name not in kept:
            raise ValueError(
                f"{equation.name} does not keep {c!r} at mu={mu:g} (it keeps: "
                f"{', '.join(kept)}); holding it would force a wrong solution. For a quantity "
                "you know to be invariant in your setting, pass an AbstractInvariant object")


_DEFAULT_SAVE_FN = dfx.SaveAt(t1=True).subs.fn


def assemble(equation, net, phi0, mu, solver, saveat, samples, lstsq, conserve,
             conserve_method, conserve_points, sparse=None):
    """The Galerkin field, the (wrapped) solver, the saving function and the conservation
    set-up for one solve; traceable in `phi0` and `mu` (so that `solve_batch` can vmap it)."""
    conservation = conservation_setup(equation, net, phi0, mu, samples, conserve,
                                      conserve_method, conserve_points, lstsq.one_by_one)
    constraint = conservation if conservation is not None and conservation.constrain else None
    projection = conservation if conservation is not None and conservation.project else None
    sampler = None
    if isinstance(samples, AbstractSampler):
        # the residual diagnostic solves on a fixed uniform grid, comparable across samplers
        fit = GalerkinField(equation, net, UniformSampler(samples.n)(equation, net, phi0, 0),
                            lstsq, constraint)
        sampler = samples if samples.dynamic else None
        field = GalerkinField(equation, net, samples(equation, net, phi0, jnp.array(0)), lstsq,
                              constraint)
    else:
        field = GalerkinField(equation, net, sample_points(equation, samples), lstsq,
                              constraint)
        fit = field
    if sparse is not None:
        if not isinstance(sparse, SparseUpdates):
            raise TypeError(f"sparse_updates must be a SparseUpdates, got {sparse!r}")
        field = eqx.tree_at(lambda f: f.active, field, sparse(phi0.shape[0], jnp.array(0)),
                            is_leaf=lambda x: x is None)
    if sampler is not None or projection is not None or sparse is not None:
        solver = GalerkinSolver(solver, sampler, projection, sparse)
    subs = saveat.subs
    if not isinstance(subs, dfx.SubSaveAt) or subs.fn is not _DEFAULT_SAVE_FN:
        raise ValueError("saveat must be a single diffrax.SaveAt without fn")
    save = _Save(fit, diagnostic_points(equation, fit.samples.shape[0]), projection,
                 conservation)
    saveat = eqx.tree_at(lambda s: s.subs.fn, saveat, save)
    return field, solver, saveat, conservation


class _Save(eqx.Module):
    """Saves `phi` (projected onto the invariants' level set where projection is on, so that
    interpolated saves hold them too), the residual diagnostic (the least squares solved on
    the field's samples, its residual measured at `points`, which it did not fit) and the
    invariants' values."""

    field: GalerkinField
    points: jax.Array
    projection: Conservation | None
    conservation: Conservation | None

    def __call__(self, t, phi, mu):
        if self.projection is not None:  # then it is also `self.conservation`
            phi, inv = self.projection.project_with_values(self.field.net, phi)
        elif self.conservation is not None:
            inv = self.conservation.values(self.field.net, phi)
        else:
            inv = jnp.zeros((0,), phi.dtype)
        return phi, self.field.residual(t, phi, mu, self.points), inv


@eqx.filter_jit
def _solve(field, solver, t0, t1, dt0, phi0, mu, saveat, controller, max_steps,
           progress_meter):
    # failures come back as the result code; `solve` raises them with what to change
    return dfx.diffeqsolve(
        dfx.ODETerm(field), solver, t0, t1, dt0, phi0, mu, saveat=saveat,
        stepsize_controller=controller, max_steps=max_steps, throw=False,
        progress_meter=progress_meter,
    )
