"""Work-precision: D, EQ and FD side by side in one process, for one shipped equation.

    python benchmarks/work_precision.py PDE [--weights DIR] [--mu MU] [--reference fd|exact]
                                        [--out benchmarks/results]

At one held-out parameter (default: the recipe's default_mu): the FD reference on a fine grid
(the equation's `reference_points`, else 4096 points in 1D, 512^2 in 2D; for d >= 4 the
exact solution at random points; `--reference exact`: the exact solution on that grid, for
an equation that has one, where the models are more accurate than the FD reference), then
- FD on a ladder of grids (d <= 3; with the exact reference up to the reference grid itself),
- EQ over several sample counts and time tolerances,
- D (the hypernetwork; its time is that of evaluating it on the grid of the FD solve that
  reaches its error, at the same times, so that both produce the same output),
each with its space-time relative L2 error against the reference, wall time excluding
compilation, compilation time and steps. Writes `PDE_work_precision.md/.json` and a
work-precision plot `PDE_work_precision.png` (error against online time) under --out.
"""

import argparse
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from _results import (  # noqa: E402
    fd_time_at,
    machine as host,  # noqa: E402
    save_table,
)

import neural_galerkin as ng  # noqa: E402
import pdes  # noqa: E402
from neural_galerkin._compare import relative_error  # noqa: E402
from neural_galerkin._recipes import RECIPES, shipped_weights  # noqa: E402

LADDERS = {1: (128, 256, 512, 1024, 2048), 2: (32, 64, 128, 256), 3: (12, 24, 48)}
EQ_SETTINGS = {1: ((128, 1e-4), (128, 1e-6), (512, 1e-6), (512, 1e-8)),
               2: ((24, 1e-4), (32, 1e-6), (64, 1e-6)),
               3: ((8, 1e-4), (12, 1e-6), (16, 1e-6))}
HIGH_D_SAMPLES = ((512, 1e-4), (1024, 1e-6), (2048, 1e-6))


def fd_row(eq, mu, n, ts, ref, n_ref):
    pdes.fd_solve(eq, mu, n, ts)  # compile
    start = time.perf_counter()
    sol = pdes.fd_solve(eq, mu, n, ts)
    us = np.asarray(jax.block_until_ready(sol.us))
    wall = time.perf_counter() - start
    step = n_ref // n
    sub = (slice(None),) + (slice(None, None, step),) * eq.ndim
    return {"method": "FD", "setting": f"n={n}", "n": n, "error": relative_error(us, ref[sub]),
            "time_s": wall, "compile_s": None, "steps": int(sol.num_steps)}


def d_time_on_grid(eq, model, mu, ts, n):
    """Wall time of the D prediction evaluated on the uniform grid with `n` points per
    direction at the times `ts` (the second of two calls: compilation excluded)."""
    x = eq.grid(n).reshape(-1, eq.ndim)

    def run():
        return np.asarray(ng.predict(model, ts, mu, equation=eq).evaluate(x))

    run()
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main():
    p = argparse.ArgumentParser()
    p.add_argument("pde")
    p.add_argument("--weights", default=None)
    p.add_argument("--mu", type=float, default=None)
    p.add_argument("--reference", choices=("fd", "exact"), default=None,
                   help="what the errors are measured against (default: FD in d <= 3, "
                        "else the exact solution)")
    p.add_argument("--out", default="benchmarks/results")
    args = p.parse_args()
    key = args.pde.lower()
    eq = pdes.get(key)
    model = ng.load_model(args.weights or shipped_weights(key))
    mu = args.mu if args.mu is not None else RECIPES[key].default_mu
    d = eq.ndim
    reference = args.reference or ("fd" if d <= 3 else "exact")
    if reference == "exact" and not isinstance(eq, pdes.AbstractExactEquation):
        p.error(f"{key} has no exact solution: use --reference fd")
    n_ref = getattr(eq, "reference_points", None) or {1: 4096, 2: 512, 3: 96}.get(d, 8192)
    rows = []
    first = None
    settings = EQ_SETTINGS.get(d)
    if settings is None:
        pts = {n: eq.random_points(n, jax.random.PRNGKey(0)) for n, _ in HIGH_D_SAMPLES}
        settings = [(pts[n], rtol, f"{n} random points") for n, rtol in HIGH_D_SAMPLES]
    else:
        settings = [(s, rtol, f"{s}^{d} points" if d > 1 else f"{s} points")
                    for s, rtol in settings]
    for samples, rtol, label in settings:
        r = ng.compare(eq, model, mu, mode="eq", n_ref=n_ref, samples=samples, rtol=rtol,
                       atol=rtol * 1e-2, reference=reference)
        first = first if first is not None else r
        rows.append({"method": "EQ", "setting": f"{label}, rtol={rtol:g}",
                     "error": r.rel_error, "time_s": r.time_online_s,
                     "compile_s": r.time_compile_s, "steps": r.num_steps})
        print(rows[-1], flush=True)
    r = ng.compare(eq, model, mu, mode="d", n_ref=n_ref, reference=reference)
    rows.append({"method": "D", "setting": "hypernetwork", "error": r.rel_error,
                 "time_s": r.time_online_s, "compile_s": r.time_compile_s, "steps": 0})
    print(rows[-1], flush=True)
    ref_time = first.time_reference_s
    if d <= 3:
        ts = jnp.asarray(first.ts)
        top = n_ref if reference == "exact" else n_ref - 1  # FD on the reference's own grid
        for n in (n for n in LADDERS[d] if n <= top and n_ref % n == 0):
            rows.append(fd_row(eq, mu, n, ts, first.u_ref, n_ref))
            print(rows[-1], flush=True)
    fd_rows = [r for r in rows if r["method"] == "FD"]
    if fd_rows:  # D's output on the grid of the FD solve it is compared with, not the reference
        d_row = next(r for r in rows if r["method"] == "D")
        match = next((r for r in fd_rows if r["error"] <= d_row["error"]), fd_rows[-1])
        n = match["n"]
        d_row["time_s"] = d_time_on_grid(eq, model, mu, first.ts, n)
        d_row["setting"] = f"hypernetwork, on the n={n} grid"
    for r in rows:
        if r["method"] != "FD" and fd_rows:
            t, bound = fd_time_at(r["error"], fd_rows)
            r["fd_time_at_error_s"], r["fd_bound"] = float(t), bound
            r["ratio"] = r["time_s"] / t
    machine = host()
    lines = [f"{key}, mu={mu:g}, t in [0, {first.t1:g}]; reference: {reference} "
             f"({n_ref} points{' per direction' if d <= 3 else ''}; its time "
             f"{ref_time:.3f} s); {machine}", "",
             "| method | setting | error | time [s] (no compile) | compile [s] | steps | "
             "FD time at this error [s] | time / FD time |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        c = "-" if r["compile_s"] is None else f"{r['compile_s']:.2f}"
        if "ratio" in r:
            b = {"<": "at most ", ">": "at least ", "": ""}[r["fd_bound"]]
            inv = {"<": "at least ", ">": "at most ", "": ""}[r["fd_bound"]]
            fd_cols = f"{b}{r['fd_time_at_error_s']:.4f} | {inv}{r['ratio']:.3g}"
        else:
            fd_cols = "- | -"
        lines.append(f"| {r['method']} | {r['setting']} | {r['error']:.2e} | "
                     f"{r['time_s']:.4f} | {c} | {r['steps']} | {fd_cols} |")
    if fd_rows:
        lines += ["", "FD time at an error: log-log interpolation between the two grids of "
                  "the ladder that bracket it (\"at most\": FD's coarsest grid is already more "
                  "accurate; \"at least\": finer than FD's finest grid). Targets (issue 6, for "
                  "2D and d >= 3): EQ time <= 1/10 of it (ratio <= 0.1), D <= 1/1000."]
    save_table(args.out, f"{key}_work_precision", lines, rows)
    plot(rows, f"{key}, mu={mu:g}", f"{args.out}/{key}_work_precision.png")


def plot(rows, title, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.5), constrained_layout=True)
    for method, marker in (("FD", "o-"), ("EQ", "s"), ("D", "*")):
        rs = [r for r in rows if r["method"] == method]
        if rs:
            ax.loglog([r["time_s"] for r in rs], [r["error"] for r in rs], marker,
                      label=method, ms=8)
            for r in rs:
                ax.annotate(r["setting"].split(",")[0], (r["time_s"], r["error"]),
                            fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set(xlabel="wall time [s] (no compilation)", ylabel="space-time relative L2 error",
           title=title)
    ax.legend()
    ax.grid(True, which="both", alpha=0.3)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
