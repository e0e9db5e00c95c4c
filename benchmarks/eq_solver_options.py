"""Whether the equation-driven solve's own options move its error: the same model, the same
fitted `phi(0)`, solved with the defaults and with one option changed at a time (the
least squares' truncation `rcond` and ridge, a tighter time-stepping tolerance, more
Galerkin samples, an invariant kept by projection), errors against the equation's reference at
saved times. Where none of them moves the error, it comes from the manifold (its tangent
space along the path, `residual_along.py`), not from how the small system is solved.

    python benchmarks/eq_solver_options.py PDE [--weights W] [--mus MU ...] [--times 11]
        [--variants NAME ...] [--keep INVARIANT] [--name NAME] [--out benchmarks/results]

Variants: `default`, `rcond1e-4` (`LeastSquares(rcond=1e-4)`; default 1e-10), `ridge1e-3`
and `ridge1e-2` (`LeastSquares(ridge=...)`), `rtol1e-8` (PID rtol 1e-8, atol 1e-10; default
1e-6 / 1e-8), `samples4x` (four times the default Galerkin samples), `keep` (`--keep`'s
invariant by projection). Float64; at most 2000 steps a solve. Writes `NAME.md/.json` (default
`PDE_eq_solver_options`).
"""

import argparse
import time

import jax

jax.config.update("jax_enable_x64", True)

import diffrax as dfx  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from _results import machine, save_table  # noqa: E402

import neural_galerkin as ng  # noqa: E402
import pdes  # noqa: E402
from neural_galerkin._cli import shipped_equation  # noqa: E402
from neural_galerkin._compare import relative_error, relative_error_over_time  # noqa: E402
from neural_galerkin._recipes import RECIPES, shipped_weights  # noqa: E402
from neural_galerkin._solution import max_residual  # noqa: E402

VARIANTS = ("default", "rcond1e-4", "ridge1e-3", "ridge1e-2", "rtol1e-8", "samples4x", "keep")


def options(name: str, eq, keep: str | None) -> dict:
    """The solve's keyword arguments of the variant `name` (only its own are built: an
    equation that keeps no invariant has no `keep`)."""
    if name == "rcond1e-4":
        return dict(lstsq=ng.LeastSquares(rcond=1e-4))
    if name in ("ridge1e-3", "ridge1e-2"):
        return dict(lstsq=ng.LeastSquares(ridge=float(name[len("ridge"):])))
    if name == "rtol1e-8":
        return dict(stepsize_controller=dfx.PIDController(rtol=1e-8, atol=1e-10))
    if name == "samples4x":
        samples = ng.default_samples(eq)
        if not isinstance(samples, int):
            raise SystemExit(f"{eq.name}'s default samples are not a count: drop samples4x")
        return dict(samples=4 * samples)
    if name == "keep":
        return dict(conserve=ng.Conservation((keep,), method="projection"))
    return {}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("pde")
    p.add_argument("--weights", default=None)
    p.add_argument("--mus", type=float, nargs="+", default=None,
                   help="default: the recipe's held-out parameters")
    p.add_argument("--times", type=int, default=11)
    p.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    p.add_argument("--keep", default=None,
                   help="the invariant of the `keep` variant (default: the equation's first "
                   "conserved one)")
    p.add_argument("--name", default=None)
    p.add_argument("--out", default="benchmarks/results")
    args = p.parse_args()
    eq = shipped_equation(args.pde)
    keep = args.keep or (eq.conserved[0] if eq.conserved else None)
    variants = [v for v in args.variants if v != "keep" or keep is not None]
    model = ng.load_model(args.weights or shipped_weights(args.pde))
    mus = args.mus or list(RECIPES[args.pde].test_mus)
    ts = jnp.linspace(0.0, eq.t1, args.times)
    rows = []
    for mu in mus:
        ref = pdes.reference_solve(eq, mu, eq.reference_points or 256, ts)
        phi0, fit = ng.fit_initial_condition(eq, model, mu=mu)
        for name in variants:
            start = time.perf_counter()
            s = ng.solve(eq, model, 0.0, eq.t1, None, phi0, mu, saveat=dfx.SaveAt(ts=ts),
                         max_steps=2000, residual_tol=None, throw=False,
                         **options(name, eq, keep))
            u = np.asarray(s.evaluate(ref.x))
            wall = time.perf_counter() - start
            rows.append({"mu": mu, "variant": name, "fit": float(fit),
                         "error": relative_error(u, ref.us),
                         "over_time": relative_error_over_time(u, ref.us).tolist(),
                         "max_residual": float(max_residual(s.residuals)),
                         "steps": int(s.stats["num_steps"]), "reached": s.t_reached,
                         "wall_s": wall})
            print(rows[-1], flush=True)
    shown = [0, len(ts) // 2, len(ts) - 1]
    lines = [f"{args.pde}, model {args.weights or 'shipped'}: EQ from the fitted phi(0) with "
             "one option of the solve changed at a time (`benchmarks/eq_solver_options.py`: "
             "the variants" + (f"; `keep` holds {keep} by projection" if keep else "")
             + "); errors against the "
             f"equation's reference ({machine()}, float64; times include compilation). "
             f"`python benchmarks/eq_solver_options.py {args.pde}"
             + (" --weights W" if args.weights else "")
             + (f" --mus {' '.join(f'{m:g}' for m in mus)}" if args.mus else "")
             + (f" --times {args.times}" if args.times != 11 else "")
             + (f" --variants {' '.join(args.variants)}" if args.variants != list(VARIANTS)
                else "")
             + (f" --name {args.name}" if args.name else "") + "`", "",
             "| mu | variant | EQ error | " + " | ".join(
                 f"at t = {float(ts[i]):g}" for i in shown)
             + " | max Galerkin residual | steps | reached t | wall [s] |",
             "|---|---|---|" + "---|" * len(shown) + "---|---|---|---|"]
    lines += [f"| {r['mu']:g} | {r['variant']} | {r['error']:.3e} | "
              + " | ".join(f"{r['over_time'][i]:.2e}" for i in shown)
              + f" | {r['max_residual']:.3f} | {r['steps']} | {r['reached']:g} | "
              f"{r['wall_s']:.0f} |" for r in rows]
    save_table(args.out, args.name or f"{args.pde}_eq_solver_options", lines, rows)


if __name__ == "__main__":
    main()
