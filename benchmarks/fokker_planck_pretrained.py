"""Fokker-Planck of interacting particles in d = 8 from the shipped pretrained model
(`neural_galerkin/weights/fokker-planck-8d`, recipe `fokker-planck-8d`): the data-driven (D)
and equation-driven (EQ) solutions at the held-out interactions, against the exact Gaussian.

    python benchmarks/fokker_planck_pretrained.py [--weights DIR] [--mus 0.125 0.375]
        [--samples 1000] [--quadratures sparse-grid monte-carlo] [--pretrain-history FILE]
        [--out benchmarks/results]

Both through `ng.compare(..., reference="exact")`, which for a density on R^d draws 4096
points from the exact density at each of 41 times in `[0, 8]` and measures by importance
sampling with the exact density as the proposal: the relative L2 error of the density (the
largest over time), the relative errors of its mean and covariance (the exact moments as
control variates; largest over time); the drift of the ansatz's mass in its own frame
(`ComparisonReport.mass_drift`, with its standard error). EQ starts from the online
weights fitted to the initial density at the points drawn from it (from the hypernetwork's at
`t = 0`), draws its Galerkin points from the current envelope at every step
(`EnvelopeSampler(--samples)`), holds the mass (`conserve="mass"`: constraint and
projection) on the Gauss-Hermite sparse grid of level 3 in the envelope's frame (the
default) and, for comparison, on Monte Carlo draws (`--quadratures`), Tsit5 with
`PIDController(rtol=1e-6, atol=1e-8)`; its time excludes compilation. The pretraining time is
read from the `history.json` that `neural-galerkin pretrain` writes beside the weights
(`--pretrain-history`).
"""

import argparse
import json
import pathlib

import jax

jax.config.update("jax_enable_x64", True)

import jax.random as jr  # noqa: E402
from _results import save_table  # noqa: E402

import neural_galerkin as ng  # noqa: E402
import pdes  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--weights", default=str(ng._recipes.shipped_weights("fokker-planck-8d")))
    p.add_argument("--mus", type=float, nargs="+", default=[0.125, 0.375])
    p.add_argument("--samples", type=int, default=1000)
    p.add_argument("--pretrain-history", default=None)
    p.add_argument("--quadratures", nargs="+", default=["sparse-grid", "monte-carlo"],
                   choices=["sparse-grid", "monte-carlo"],
                   help="the quadrature the mass is held on in EQ: the default sparse grid "
                        "(level 3) and/or Monte Carlo on as many draws as --samples (the "
                        "earlier default)")
    p.add_argument("--out", default="benchmarks/results")
    args = p.parse_args()
    eq = pdes.get("fokker-planck-8d")
    model = ng.load_model(args.weights)
    pretrain_s = None
    if args.pretrain_history is not None:
        pretrain_s = json.loads(pathlib.Path(args.pretrain_history).read_text())["time_s"]
    rows = []
    runs = [("d", None)] + [("eq", q) for q in args.quadratures]
    for mu in args.mus:
        for mode, quad in runs:
            held = ng.Conservation(("mass",), points=args.samples if quad == "monte-carlo"
                                   else None)
            extra = {} if mode == "d" else dict(
                samples=ng.EnvelopeSampler(args.samples, jr.PRNGKey(1)), conserve=held)
            r = ng.compare(eq, model, mu, mode=mode, reference="exact", rtol=1e-6, atol=1e-8,
                           **extra)
            row = {"mu": mu, "mode": mode, "quadrature": quad,
                   "mass_drift_se": r.mass_drift_se,
                   "density_error": float(max(r.errors_over_time)),
                   "rel_error_space_time": r.rel_error, "mean_error": r.moment_errors["mean"],
                   "cov_error": r.moment_errors["covariance"], "mass_drift": r.mass_drift,
                   "mass_drift_conserved": r.drifts.get("mass"), "time_s": r.time_online_s,
                   "compile_s": r.time_compile_s, "steps": r.num_steps,
                   "fit_error": r.fit_error, "max_residual": r.max_residual}
            rows.append(row)
            print(row, flush=True)
    lines = [f"Fokker-Planck, d = 8, t in [0, 8], from the shipped model (recipe "
             f"fokker-planck-8d, {model.num_phi} online weights; its training loop took "
             + (f"{pretrain_s:.0f} s" if pretrain_s is not None else "? s")
             + " by its history.json, data and start excluded"
             + ") at held-out interactions: errors by importance sampling at 4096 points drawn "
             "from the exact density at each of 41 times, the largest over time; EQ with "
             f"{args.samples} points drawn from the envelope per step, mass held "
             "(conserve='mass': constraint and projection) on the quadrature named: the "
             "Gauss-Hermite sparse grid of level 3 in the envelope's frame (1105 points, the "
             "default) or Monte Carlo on as many fixed draws as samples (the earlier "
             "default). Mass drift 'held': on that quadrature; 'true': the ansatz's own "
             "integral E_q[exp N], 2^16 draws (the same at every time) with Hermite control "
             "variates, +- its standard error", "",
             "| alpha | mode | mass held on | density error | mean error | covariance error "
             "| mass drift, true | mass drift, held | online time [s] | steps "
             "| initial fit error |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        eqm = r["mode"] == "eq"
        held = f"{r['mass_drift_conserved']:.1e}" if eqm else "-"
        lines.append(f"| {r['mu']:g} | {r['mode'].upper()} | {r['quadrature'] or '-'} | "
                     f"{r['density_error']:.2e} | {r['mean_error']:.2e} | "
                     f"{r['cov_error']:.2e} | {r['mass_drift']:.1e} +- "
                     f"{r['mass_drift_se']:.0e} | {held} | "
                     f"{r['time_s']:.2f} | {r['steps'] if eqm else '-'} | "
                     + (f"{r['fit_error']:.1e} |" if eqm else "- |"))
    save_table(args.out, "fokker_planck_pretrained", lines,
               {"rows": rows, "pretrain_s": pretrain_s, "weights": args.weights})


if __name__ == "__main__":
    main()
