"""`ComparisonReport.to_dict`: the `--json` summary of a comparison, from the report's fields."""

import json

import numpy as np

import neural_galerkin as ng
from neural_galerkin._report import JSON_KEYS


def _report(**eq_only):
    ts = np.linspace(0.0, 0.4, 3)
    u = np.stack([np.sin(2 * np.pi * np.linspace(0, 1, 8, endpoint=False))] * 3)
    return ng.ComparisonReport(
        pde="burgers", mu=3.9e-3, mode="eq" if eq_only else "d", t1=0.4, reference="fd",
        n_ref=8, rel_error=1e-3, rel_error_final=2e-3, ts=ts,
        errors_over_time=np.array([1e-3, 1.5e-3, 2e-3]), mass_drift=4e-4,
        mass_drift_reference=1e-15, mass_over_time=np.zeros(3), time_online_s=1.0,
        time_compile_s=2.0, time_reference_s=0.5, time_reference_compile_s=0.3,
        num_steps=7 if eq_only else 0, num_steps_reference=20,
        x=np.linspace(0, 1, 8, endpoint=False)[:, None], u=u, u_ref=u, solution=None,
        **eq_only)


def test_to_dict_flattens_the_conserved_drifts_but_the_mass():
    report = _report(fit_error=1e-3, time_fit_s=0.1, max_residual=8e-3,
                     residuals=np.full(3, 8e-3), drifts={"mass": 3e-16, "energy": 5e-16})
    out = report.to_dict()
    assert out["energy_drift"] == 5e-16
    # `mass_drift` stays the one on the reference grid, not the conservation quadrature's
    assert out["mass_drift"] == report.mass_drift == 4e-4
    assert list(out)[:len(JSON_KEYS)] == list(JSON_KEYS)
    assert list(out)[-3:] == ["energy_drift", "ts", "errors_over_time"]
    assert out["ts"] == [0.0, 0.2, 0.4] and out["errors_over_time"] == [1e-3, 1.5e-3, 2e-3]
    assert ng.summary(report) == out
    json.dumps(out)  # JSON-able: plain numbers, strings and lists


def test_to_dict_of_a_data_driven_report_leaves_out_the_solve_only_keys():
    out = _report().to_dict()
    assert not {"fit_error", "max_residual", "time_fit_s"} & set(out)
    assert not any(k.endswith("_drift") for k in out
                   if k not in ("mass_drift", "mass_drift_reference"))
    assert json.loads(json.dumps(out))["num_steps"] == 0
