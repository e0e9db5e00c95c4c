"""What a finished solve tells its caller: failures raised with what to change, a residual
above its tolerance warned about. For concrete solutions in Python, with where the solve
stopped; for traced ones through `eqx.error_if` with the `RESULTS` message."""

import warnings

import numpy as np

from ._checks import is_traced
from ._solution import (
    RESULTS,
    GalerkinResidualWarning,
    Solution,
    SolveError,
    finite_or,
    result_code,
    result_message,
)

_STEP_LIMIT = int(np.asarray(result_code(RESULTS.step_limit)))
_BLOW_UP = int(np.asarray(result_code(RESULTS.blow_up)))


def check_solution(sol: Solution, *, throw: bool = True) -> Solution:
    """`sol`, after raising `SolveError` for a failed solve (`throw=True`: for a batch, each
    failed member) and warning (`GalerkinResidualWarning`) where the Galerkin residual rose
    above the solve's `residual_tol`. `solve` and `solve_batch` call it; call it yourself on a
    solution computed with `throw=False` inside your own `jax.jit` once it is concrete."""
    if is_traced(sol.phis):
        if throw:
            sol = sol.result.error_if(sol, sol.result != RESULTS.successful)
        return sol
    if throw:
        _raise_on_failure(sol)
    _warn_residual(sol)
    return sol


def _raise_on_failure(sol: Solution) -> None:
    codes = np.asarray(result_code(sol.result))
    batched = codes.ndim == 1
    phis, residuals = (np.asarray(a) for a in (sol.phis, sol.residuals))
    steps = np.asarray(sol.stats.get("num_steps", np.zeros_like(codes)))
    if not batched:
        codes, phis, residuals, steps = (a[None] for a in (codes, phis, residuals, steps))
    reached = np.atleast_1d(sol.t_reached)
    failures = []
    for i, code in enumerate(codes):
        if code == 0:
            continue
        finite = np.all(np.isfinite(phis[i]), axis=-1)
        where = "no saved time has a solution"
        if finite.any():
            worst = np.max(finite_or(residuals[i][finite], -np.inf))
            where = (f"the last saved time with a solution is t={reached[i]:g}, the "
                     f"largest Galerkin residual until then {worst:.2g}")
        if code == _STEP_LIMIT:
            msg = (f"the equation-driven solve stopped after the maximum number of steps "
                   f"({int(steps[i])}); {where}. {result_message(code)}")
        elif code == _BLOW_UP:
            msg = f"the equation-driven solve produced NaN or inf ({where}): " + \
                result_message(code)
        else:
            msg = result_message(code)
        failures.append(f"batch member {i}: {msg}" if batched else msg)
    if failures:
        raise SolveError("\n".join(failures))


def _warn_residual(sol: Solution) -> None:
    exceeded = np.atleast_1d(np.asarray(sol.residual_exceeded))
    if not exceeded.any():
        return
    residuals = np.asarray(sol.residuals)
    res = finite_or(residuals, -np.inf).reshape(exceeded.shape[0], -1)
    ts = np.broadcast_to(np.asarray(sol.ts), residuals.shape).reshape(res.shape)
    worst = np.argmax(np.where(exceeded[:, None], res, -np.inf))
    who = (f" (batch members {', '.join(map(str, np.flatnonzero(exceeded)))})"
           if np.ndim(sol.residual_exceeded) else "")
    warnings.warn(GalerkinResidualWarning(
        f"the relative Galerkin residual reached {res.flat[worst]:.2g} at t="
        f"{ts.flat[worst]:g}{who}, above residual_tol={sol.residual_tol:g}: the network "
        "cannot follow the equation well there, and the reduced solution may be far from "
        "the PDE's. Check it against a reference (ng.compare) or the data-driven prediction, "
        "or retrain; residual_tol=None turns this check off"), stacklevel=4)
