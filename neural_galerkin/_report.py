"""`ComparisonReport`: what `compare` measured, as named fields, and its JSON summary."""

import dataclasses
from typing import Any

import numpy as np
from jaxtyping import Float

from ._solution import Solution

JSON_KEYS = ("pde", "mu", "mode", "rel_error", "rel_error_final", "mass_drift",
             "time_online_s", "time_reference_s", "time_compile_s", "num_steps")
# the scalars of the summary after `JSON_KEYS`, in this order; the equation-driven ones are left
# out of a data-driven report's summary, where they are `None`
_MORE_KEYS = ("t1", "n_ref", "reference", "mass_drift_reference", "num_steps_reference",
              "time_reference_compile_s", "fit_error", "max_residual", "time_fit_s",
              "mass_drift_se")


@dataclasses.dataclass(frozen=True, eq=False, kw_only=True)
class ComparisonReport:
    """What `compare` measured: a reduced solution against its reference at the same times.

    A frozen dataclass rather than an `eqx.Module`: the report holds host values (Python
    numbers and NumPy arrays, measured after the solve has finished) for a person, a table or a
    figure, and is never traced or passed through `jax.jit`, so it has no use for being a
    pytree. It compares by identity (`eq=False`), since its arrays have no single truth value.

    `report.to_dict()` (or `ng.summary(report)`) gives the scalars and the error curve as a
    JSON-able dict: what `neural-galerkin solve --json` writes.
    """

    pde: str
    """The equation's name (`equation.name`)."""
    mu: float
    """The parameter the reduced model and the reference were solved at."""
    mode: str
    """`"eq"` (equation-driven Neural Galerkin solve) or `"d"` (data-driven hypernetwork)."""
    t1: float
    """The final time (the comparison starts at the model's first trained time)."""
    reference: str
    """`"fd"` (the finite-difference reference), `"spectral"` (the pseudo-spectral one,
    from the equation's `F`) or `"exact"` (the equation's exact solution)."""
    n_ref: int
    """Reference points per direction on a grid (`d <= 3`, `"fd"` or `"spectral"`), else
    random points."""
    rel_error: float
    """Relative L2 error over space and time, `||u - u_ref|| / ||u_ref||`."""
    rel_error_final: float
    """Relative L2 error in space at the final time."""
    ts: Float[np.ndarray, " times"]
    """The times compared (equally spaced from the first trained time to `t1`)."""
    errors_over_time: Float[np.ndarray, " times"]
    """Relative L2 error in space at each of `ts`."""
    mass_drift: float
    """Largest relative drift of `int u dx` of the reduced solution, on the reference points;
    for a system, the largest over its fields. A field whose mass is zero in the reference
    (as the wave's `int v dx`) drifts relative to its largest `int |u| dx` there instead
    (`zero_mass_scales`). For a density on R^d (random reference
    points): a Monte Carlo estimate, with a Gaussian envelope in the ansatz's own frame
    (see `mass_drift_se`)."""
    mass_drift_reference: float
    """The same for the reference: its own level shows the quadrature's error."""
    mass_over_time: Float[np.ndarray, " times *fields"]
    """`int u dx` of the reduced solution at each of `ts`, on the reference points (a column
    per field for a system)."""
    time_online_s: float
    """Online time of the reduced model (the solve, or the prediction), without compilation."""
    time_compile_s: float
    """Its compilation time."""
    time_reference_s: float
    """Time of the reference (FD solve or exact solution), without compilation."""
    time_reference_compile_s: float
    """Its compilation time."""
    num_steps: int
    """Time steps of the reduced solve (0 for a data-driven prediction)."""
    num_steps_reference: int
    """Time steps of the FD reference (0 for an exact one)."""
    x: Float[np.ndarray, "*points d"]
    """The reference points: a grid of shape `(*grid, d)`, or `(n_ref, d)` random points."""
    u: Float[np.ndarray, " times *points"]
    """The reduced solution at `ts` and `x`."""
    u_ref: Float[np.ndarray, " times *points"]
    """The reference at `ts` and `x`."""
    solution: Solution
    """The reduced solution itself (`ng.Solution`), to evaluate elsewhere."""
    fit_error: float | None = None
    """Relative error of the initial fit (equation-driven only; `None` for `mode="d"`)."""
    time_fit_s: float | None = None
    """Time of the initial fit, compilation included (equation-driven only)."""
    max_residual: float | None = None
    """Largest relative Galerkin residual over `ts` (equation-driven only)."""
    residuals: Float[np.ndarray, " times"] | None = None
    """Relative Galerkin residual at each of `ts` (equation-driven only)."""
    invariants: dict[str, Float[np.ndarray, " times"]] = dataclasses.field(
        default_factory=dict)
    """The conserved invariants' values at `ts`, by name, on the conservation quadrature
    (`compare(..., conserve=...)`; empty otherwise)."""
    mass_scales: np.ndarray | None = None
    """Per field, the scale `mass_drift` divides by where it is not the mass at the start
    (`zero_mass_scales`: a field whose mass is zero); NaN elsewhere. None where not
    measured."""
    field_errors: dict[str, float] = dataclasses.field(default_factory=dict)
    """For a system of fields, the relative L2 error over space and time of each field, by
    name (`rel_error` is over all of them together); empty for one field."""
    moment_errors: dict[str, float] = dataclasses.field(default_factory=dict)
    """For a density on R^d compared at points drawn from the exact density: the largest
    relative errors over `ts` of its `"mean"` (`||m - m_exact|| / ||m_exact||`) and
    `"covariance"` (Frobenius), both by importance sampling; empty otherwise."""
    mass_drift_se: float | None = None
    """For a density on R^d whose ansatz has a Gaussian envelope: the standard error of
    `mass_drift`, measured then in the ansatz's own frame (`ansatz_moments`, the same draws
    at every time); `None` otherwise."""
    drifts: dict[str, float] = dataclasses.field(default_factory=dict)
    """Largest relative drift of each conserved invariant on the conservation quadrature, by
    name (`solution.drift()`); `mass_drift` is the mass's on the reference points."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON-able summary: the keys of `JSON_KEYS` first, then `t1`, `n_ref`,
        `reference`, `mass_drift_reference`, `num_steps_reference`,
        `time_reference_compile_s`, and for an equation-driven report `fit_error`,
        `max_residual`, `time_fit_s`, `mass_drift_se` where it is measured; then
        `<name>_drift` for each conserved invariant but the mass, `rel_error_<field>` for
        each field of a system, `mean_error` and `covariance_error` for a density on R^d,
        and the lists `ts` and `errors_over_time`."""
        out = {k: getattr(self, k) for k in JSON_KEYS + _MORE_KEYS
               if getattr(self, k) is not None}
        out.update({f"{name}_drift": v for name, v in self.drifts.items() if name != "mass"})
        out.update({f"rel_error_{name}": v for name, v in self.field_errors.items()})
        out.update({f"{name}_error": v for name, v in self.moment_errors.items()})
        out.update(ts=[float(t) for t in self.ts],
                   errors_over_time=[float(e) for e in self.errors_over_time])
        return out


def summary(report: ComparisonReport) -> dict[str, Any]:
    """The JSON-able summary of a `compare` report: `report.to_dict()`."""
    return report.to_dict()
