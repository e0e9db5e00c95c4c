"""D and EQ errors at held-out parameters, and the reference grid that reaches the same error.

    python benchmarks/accuracy_table.py PDE [--weights DIR] [--mus ...] [--n-ref N]
                                            [--reference fd|spectral|exact]
                                            [--max-steps 10000]
                                            [--out benchmarks/results]

For each test parameter of the PDE's recipe (or --mus): the data-driven (D) and
equation-driven (EQ) space-time relative L2 errors against a fine reference (`--n-ref`
points per direction; default the equation's `reference_points`, else 4096 in 1D, 512 in
2D; `--reference exact` for an equation with an exact solution), the EQ online wall time
(compilation excluded), and the coarsest grid of the equation's own reference solve
(`pdes.reference_solve`, its default method: FD where it has `fd_rhs`, else derived from
`F`; n_ref/64 ... n_ref/2 points per direction, at least 16; on a bounded box 2^j + 1
points) whose error against the same reference is at most the EQ error, with its wall time.
The model is the shipped one, or --weights (as written by `neural-galerkin pretrain`).
Prints a markdown table and writes it, with a JSON of the numbers, under --out.
"""

import argparse
import platform
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from _results import save_table  # noqa: E402

import neural_galerkin as ng  # noqa: E402
import pdes  # noqa: E402
from neural_galerkin._compare import compare, relative_error  # noqa: E402
from neural_galerkin._recipes import RECIPES, shipped_weights  # noqa: E402


def fd_at(eq, mu, n, ts):
    """The equation's reference solve (its default method: finite differences where it has
    `fd_rhs`, else derived from `F`) on n points per direction, and its wall time."""
    jax.block_until_ready(pdes.reference_solve(eq, mu, n, ts).us)  # compile
    start = time.perf_counter()
    sol = pdes.reference_solve(eq, mu, n, ts)
    jax.block_until_ready(sol.us)
    return sol, time.perf_counter() - start


def ladder(eq, n_ref):
    """Coarse grids that subsample the reference grid exactly: n_ref/64 ... n_ref/2 points
    per direction (at least 16); on a box with a bounded direction (whose grid holds both
    ends) n_ref - 1 must be a power of two and the grids have 2^j + 1 points."""
    if all(eq.periodic):
        out, n = [], max(16, n_ref // 64)
        while n <= n_ref // 2:
            out.append((n, n_ref // n))
            n *= 2
        return out
    cells = n_ref - 1
    if cells & (cells - 1):
        raise SystemExit(f"--n-ref {n_ref}: on a bounded box give 2^k + 1 points")
    return [(cells // s + 1, s) for s in (64, 32, 16, 8, 4, 2) if cells // s >= 16]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("pde")
    p.add_argument("--weights", default=None)
    p.add_argument("--mus", type=float, nargs="+", default=None)
    p.add_argument("--n-ref", type=int, default=None)
    p.add_argument("--reference", default=None, choices=("fd", "spectral", "exact"),
                   help="what the errors are measured against (default: the equation's "
                   "reference solve on --n-ref points)")
    p.add_argument("--max-steps", type=int, default=10_000,
                   help="cap on the EQ solve's steps: one that crawls stops with a row that "
                   "says so")
    p.add_argument("--out", default="benchmarks/results")
    args = p.parse_args()
    key = args.pde.lower()
    eq = pdes.get(key)
    n_ref = args.n_ref or getattr(eq, "reference_points", None) or {1: 4096, 2: 512}.get(
        eq.ndim, 64)
    mus = args.mus or RECIPES[key].test_mus
    model = ng.load_model(args.weights or shipped_weights(key))
    rows = []
    for mu in mus:
        d = compare(eq, model, mu, mode="d", n_ref=n_ref, reference=args.reference)
        try:
            e = compare(eq, model, mu, mode="eq", n_ref=n_ref, reference=args.reference,
                        max_steps=args.max_steps)
        except ng.SolveError as err:  # a row that says so, not a traceback that loses the rest
            print(f"mu={mu:g}: D {d.rel_error:.2e}, EQ failed: {err}", flush=True)
            rows.append({"mu": mu, "d_error": d.rel_error, "d_time_s": d.time_online_s,
                         "eq_failed": str(err)})
            continue
        ts = jnp.asarray(e.ts)
        ref = e.u_ref
        fd_rows = []
        for n, step in ladder(eq, n_ref):
            sol, t = fd_at(eq, mu, n, ts)
            fields = (slice(None),) if eq.n_fields > 1 else ()
            sub = (slice(None), *fields) + (slice(None, None, step),) * eq.ndim
            err = relative_error(np.asarray(sol.us), ref[sub])
            fd_rows.append({"n": n, "error": err, "time_s": t})
        match = next((r for r in fd_rows if r["error"] <= e.rel_error), None)
        rows.append({
            "mu": mu, "d_error": d.rel_error, "eq_error": e.rel_error,
            "eq_error_final": e.rel_error_final, "eq_time_s": e.time_online_s,
            "eq_compile_s": e.time_compile_s, "eq_steps": e.num_steps,
            "eq_max_residual": e.max_residual, "eq_mass_drift": e.mass_drift,
            "d_time_s": d.time_online_s, "fd": fd_rows, "fd_match": match,
        })
        print(f"mu={mu:g}: D {d.rel_error:.2e}, EQ {e.rel_error:.2e}", flush=True)
    lines = [
        f"{key}, model {args.weights or 'shipped'}, t in [0, {eq.t1:g}], reference "
        f"{d.reference} on {n_ref} points per direction; the ladder: the equation's "
        f"{pdes.reference_method(eq)} reference on coarser grids "
        f"({platform.processor() or platform.machine()}, {jax.device_count()} "
        f"{jax.devices()[0].platform} device)",
        "",
        "| mu | D error | EQ error | EQ online time [s] | EQ steps | max Galerkin residual "
        "| reference grid at EQ error | its error | its time [s] |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "eq_failed" in r:  # the solver's first sentence (where it stopped), not its advice
            lines.append(f"| {r['mu']:g} | {r['d_error']:.2e} | failed: "
                         f"{r['eq_failed'].split('. ')[0]} | - | - | - | - | - | - |")
            continue
        m = r["fd_match"]
        fd = (f"{m['n']} | {m['error']:.2e} | {m['time_s']:.3f}" if m else
              "none up to n_ref/2 | - | -")
        lines.append(f"| {r['mu']:g} | {r['d_error']:.2e} | {r['eq_error']:.2e} | "
                     f"{r['eq_time_s']:.2f} | {r['eq_steps']} | {r['eq_max_residual']:.2e} | "
                     f"{fd} |")
    save_table(args.out, f"{key}_accuracy", lines, rows)


if __name__ == "__main__":
    main()
