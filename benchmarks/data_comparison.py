"""D and EQ against a data trajectory (the CoLoRA authors' HDF5 folders) at held-out
parameters: the data-driven prediction, and the equation-driven solve from the data's first
snapshot, optionally keeping invariants (the projection holds them on the data's grid).

    python benchmarks/data_comparison.py PDE --data DIR [--weights W] [--mus ...]
        [--conserve mass] [--conserve-method projection] [--samples N [N ...]] [--rtol 1e-6]
        [--name NAME] [--out benchmarks/results]

Float64. Per parameter: D error, EQ error (space-time relative L2 over the data's snapshots,
and at the last one), the initial fit's error, the largest relative Galerkin residual, the
steps, the EQ online time (compilation excluded), the mass drift of the EQ solution on the
data's grid, and for a system the per-field EQ errors. Several `--samples` counts: one row
per parameter and count (EQ's convergence in the number of Galerkin samples). Writes
`NAME.md/.json` (default `PDE_data`) under `--out`.
"""

import argparse
import os

import jax

jax.config.update("jax_enable_x64", True)

from _results import add_data_arguments, load_data_problem, machine, save_table  # noqa: E402

import neural_galerkin as ng  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    add_data_arguments(p, several_samples=True)
    p.add_argument("--conserve", default=None)
    p.add_argument("--conserve-method", default="projection")
    p.add_argument("--rtol", type=float, default=1e-6)
    args = p.parse_args()
    eq, model, data, mus = load_data_problem(args)
    conserve = (None if not args.conserve else
                ng.Conservation(tuple(args.conserve.split(",")), args.conserve_method))
    counts = args.samples or [None]  # None: the equation's default
    scan = len(counts) > 1
    rows = []
    for mu in mus:
        d = ng.compare(eq, model, mu, mode="d", data=data)
        for n in counts:
            e = ng.compare(eq, model, mu, mode="eq", data=data, samples=n,
                           rtol=args.rtol, atol=args.rtol * 1e-2, conserve=conserve)
            rows.append({"mu": mu, "samples": n, "d_error": d.rel_error,
                         "d_error_final": d.rel_error_final, "eq": e.to_dict()})
            print(f"mu={mu:g}, samples {n or 'default'}: D {d.rel_error:.2e}, EQ "
                  f"{e.rel_error:.2e} (EQ / D {e.rel_error / d.rel_error:.2f}, fit "
                  f"{e.fit_error:.2e}, residual {e.max_residual:.2f}, {e.num_steps} steps, "
                  f"{e.time_online_s:.1f} s, mass drift {e.mass_drift:.1e})", flush=True)
    kept = (f", {args.conserve} kept by {args.conserve_method} on the data's grid"
            if conserve else "")
    fields = "" if eq.n_fields == 1 else " | EQ error per field"
    samples = ("the Galerkin samples of each row" if scan else
               f"{counts[0]} Galerkin samples" if counts[0] else
               f"the default Galerkin samples ({default_count(eq)})")
    lines = [f"{args.pde} against the data in {os.path.basename(os.path.normpath(args.data))} "
             f"(model {args.weights or 'shipped'}; EQ from the data's first snapshot, "
             f"{samples}, Tsit5 rtol {args.rtol:g}{kept}; float64, {machine()}). `python "
             f"benchmarks/data_comparison.py {args.pde} --data DIR"
             + (" --weights W" if args.weights else "")
             + (" --samples " + " ".join(map(str, counts)) if args.samples else "")
             + (f" --conserve {args.conserve} --conserve-method {args.conserve_method}"
                if conserve else "") + "`", "",
             "| mu | " + ("Galerkin samples | " if scan else "") + "D error | EQ error | EQ / D "
             f"| EQ at the last time | initial fit | max Galerkin residual | EQ steps | EQ online "
             f"time [s] | EQ mass drift{fields} |",
             "|---|" + ("---|" if scan else "") + "---|---|---|---|---|---|---|---|---|"
             + ("---|" if fields else "")]
    for r in rows:
        e = r["eq"]
        per = ("" if not fields else " | " + ", ".join(
            f"{k[len('rel_error_'):]} {v:.2e}" for k, v in e.items()
            if k.startswith("rel_error_") and k != "rel_error_final"))
        lines.append(f"| {r['mu']:g} | " + (f"{r['samples']} | " if scan else "")
                     + f"{r['d_error']:.2e} | {e['rel_error']:.2e} | "
                     f"{e['rel_error'] / r['d_error']:.2f} | "
                     f"{e['rel_error_final']:.2e} | {e['fit_error']:.2e} | "
                     f"{e['max_residual']:.2f} | {e['num_steps']} | {e['time_online_s']:.1f} | "
                     f"{e['mass_drift']:.1e}{per} |")
    save_table(args.out, args.name or f"{args.pde.replace('-', '_')}_data", lines, rows)


def default_count(eq) -> int | str:
    """The number of default Galerkin samples (or the sampler's name)."""
    s = ng.default_samples(eq)
    return s if isinstance(s, int) else type(s).__name__


if __name__ == "__main__":
    main()
