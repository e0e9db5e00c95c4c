"""The per-field weights of the Galerkin least squares on a system: all 1 against weights that
balance the fields by the size of their time derivatives.

    python benchmarks/field_weights.py [--pde rde] [--mus 2.3 2.7] [--t1 5] [--samples 512]
        [--max-steps 10000] [--ratios R ...] [--out benchmarks/results]

`solve(..., field_weights=w)` minimises `sum_k w_k^2 ||u_k_t - F_k||^2` at the samples. With
`w = 1` ("plain") a field whose `u_t` is small counts little; balanced weights are
`w_k = 1 / rms(u_k_t)` scaled so that the largest is 1 (the scale of the weights does not
change the least squares' solution, only its regularisation's relative size), with the rms
taken either as `solve(..., field_weights="balanced")` takes it, along the model's
data-driven trajectories over its training ranges (`balanced_field_weights`), or over the
reference trajectory at the parameter itself (finite differences in time); `--ratios` adds
rows with the weights `(1, R)` of a two-field system (how sensitive the solve is to them).
Writes
`PDE_field_weights.md/.json`. For each parameter: the EQ
solve from the fitted initial condition with the shipped weights (Tsit5, `rtol = 1e-6`) up
to `--t1`, its space-time relative L2 error against the equation's reference on
`reference_points` (all fields, and per field), its steps, its largest Galerkin residual and
its wall time (compilation apart).
"""

import argparse

import jax

jax.config.update("jax_enable_x64", True)

import diffrax as dfx  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from _results import machine, save_table  # noqa: E402

import neural_galerkin as ng  # noqa: E402
import pdes  # noqa: E402
from neural_galerkin._compare import relative_error  # noqa: E402
from neural_galerkin._recipes import shipped_weights  # noqa: E402
from neural_galerkin._solve import balanced_field_weights  # noqa: E402


def run(eq, model, mu, ts, samples, weights, max_steps):
    phi0, _ = ng.fit_initial_condition(eq, model, mu=mu, samples=samples)

    def fn(phi0):
        return ng.solve(eq, model, ts[0], ts[-1], None, phi0, mu, saveat=dfx.SaveAt(ts=ts),
                        samples=samples, field_weights=weights, throw=False,
                        residual_tol=None, max_steps=max_steps)

    sol, timing = ng.compile_and_run(fn, phi0)
    return sol, timing


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--pde", default="rde")
    p.add_argument("--mus", type=float, nargs="+", default=[2.3, 2.7])
    p.add_argument("--t1", type=float, default=5.0)
    p.add_argument("--samples", type=int, default=512)
    p.add_argument("--max-steps", type=int, default=10_000)
    p.add_argument("--ratios", type=float, nargs="*", default=[],
                   help="more rows: the weights (1, R) of a two-field system")
    p.add_argument("--out", default="benchmarks/results")
    args = p.parse_args()
    eq = pdes.get(args.pde)
    if eq.n_fields < 2:
        raise SystemExit(f"{args.pde} has one field: field weights do not apply")
    if args.ratios and eq.n_fields != 2:
        raise SystemExit(f"--ratios are the second field's weight of two; {args.pde} has "
                         f"{eq.n_fields} fields")
    model = ng.load_model(shipped_weights(args.pde))
    n_ref = getattr(eq, "reference_points", None) or 512
    ts = jnp.linspace(0.0, args.t1, 26)
    default = eq.galerkin_field_weights
    plain = "all 1 (plain)" + (" (default)" if default == "plain" else "")
    solves = "balanced along D (solve's 'balanced')" + (" (default)" if default == "balanced"
                                                         else "")
    rows = []
    for mu in args.mus:
        ref = pdes.reference_solve(eq, mu, n_ref, ts)
        us_ref = np.asarray(ref.us)  # (t, fields, *grid)
        x = ref.x.reshape(-1, eq.ndim)
        ut = np.diff(us_ref, axis=0) / np.diff(np.asarray(ts))[:, None, *([None] * eq.ndim)]
        rms = np.sqrt(np.mean(np.moveaxis(ut, 1, 0).reshape(eq.n_fields, -1) ** 2, axis=1))
        balanced = tuple(float(w) for w in rms.min() / rms)
        along_d = tuple(float(w) for w in balanced_field_weights(eq, model))
        for name, w in ((plain, tuple([1.0] * eq.n_fields)), (solves, along_d),
                        ("balanced by the reference's rms u_t", balanced),
                        *((f"1, {r:g}", (1.0, r)) for r in args.ratios)):
            sol, timing = run(eq, model, mu, ts, args.samples, w, args.max_steps)
            ok = bool(sol.result == ng.RESULTS.successful)
            u = np.asarray(sol.evaluate(x)).reshape(us_ref.shape) if ok else None
            row = {"mu": mu, "weights": name, "w": list(w),
                   "rms_ut": rms.tolist(), "finished": ok, "reached": sol.t_reached,
                   "error": relative_error(u, us_ref) if ok else None,
                   "field_errors": ({f: relative_error(u[:, k], us_ref[:, k])
                                     for k, f in enumerate(eq.fields)} if ok else None),
                   "steps": int(sol.stats["num_accepted_steps"]),
                   "max_residual": float(np.nanmax(np.asarray(sol.residuals))),
                   "time_s": timing["time_run_s"]}
            rows.append(row)
            print(row, flush=True)
    fields = eq.fields
    lines = [f"{args.pde}: EQ with the shipped weights, t in [0, {args.t1:g}], {args.samples} "
             f"samples, Tsit5 rtol 1e-6, errors (space-time relative L2) against the "
             f"{pdes.reference_method(eq)} reference on {n_ref} points; the Galerkin least "
             "squares' field weights: all 1, and 1 / rms(u_k_t) scaled to a largest "
             "weight of 1 (rms along the model's data-driven trajectories, or over the "
             f"reference at mu); at most {args.max_steps} steps; {machine()}", "",
             "| mu | field weights | w | error | " + " | ".join(f"error of {f}" for f in fields)
             + " | steps | max Galerkin residual | time [s] |",
             "|---|---|---|---|" + "---|" * len(fields) + "---|---|---|"]
    for r in rows:
        w = ", ".join(f"{v:.3g}" for v in r["w"])
        if not r["finished"]:
            errs = (f"stopped (last saved t = {r['reached']:.3g}) | "
                    + " | ".join("-" for _ in fields))
        else:
            errs = f"{r['error']:.2e} | " + " | ".join(f"{r['field_errors'][f]:.2e}"
                                                       for f in fields)
        lines.append(f"| {r['mu']:g} | {r['weights']} | {w} | {errs} | {r['steps']} | "
                     f"{r['max_residual']:.2f} | {r['time_s']:.1f} |")
    save_table(args.out, f"{args.pde}_field_weights", lines, rows)


if __name__ == "__main__":
    main()
