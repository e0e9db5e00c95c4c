"""D and EQ on the CoLoRA authors' 2D Burgers data at the held-out viscosities, against the data
and against FD started from the same snapshot.

    python benchmarks/burgers2d_eq.py --weights DIR [--data FILE.npz] [--mus 0.00397 0.00793]

The model is one trained on the data without the test viscosities:
    neural-galerkin pretrain burgers-2d --data colora_burgers2d.npz --exclude-mu 0.00397 0.00793
        --out DIR
For each test viscosity: the data-driven (D) error, the equation-driven (EQ) error (initial
fit to the data's t = 0 snapshot on every second grid point, the Galerkin samples; solved over
[0, 1]), both as space-time relative L2 over the data's 51 snapshots on its 128 x 128 grid; the
EQ online wall time (compilation excluded) and steps; and FD on n x n grids started from the
same snapshot (Fourier-interpolated), with its error against the data and its wall time.
"""

import argparse
import pathlib
import time

import jax

jax.config.update("jax_enable_x64", True)

import diffrax as dfx  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from _results import fd_time_at, save_table  # noqa: E402
from burgers2d_data import fourier_resample  # noqa: E402

import neural_galerkin as ng  # noqa: E402
import pdes  # noqa: E402
from neural_galerkin._compare import relative_error  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--weights", required=True)
    p.add_argument("--data", default=str(pathlib.Path(__file__).parents[2] / "shared" / "data"
                                         / "colora_burgers2d.npz"))
    p.add_argument("--mus", type=float, nargs="+", default=[0.00397, 0.00793])
    p.add_argument("--stride", type=int, default=2, help="Galerkin samples: every k-th point")
    p.add_argument("--rtol", type=float, default=1e-6)
    p.add_argument("--n", type=int, nargs="+", default=[64, 128, 256])
    p.add_argument("--out", default="benchmarks/results")
    args = p.parse_args()
    data = ng.load_trajectories(args.data)
    model = ng.load_model(args.weights)
    eq = pdes.get("burgers-2d")
    grid = jnp.asarray(data.points)
    ts = jnp.asarray(data.t)
    rows = []
    for mu in args.mus:
        i = int(np.argmin(np.abs(data.mu - mu)))
        ref = data.u[i]
        d = ng.predict(model, ts, data.mu[i], equation=eq)
        d_err = relative_error(d.evaluate(grid), ref)  # compiles; the second call is timed
        start = time.perf_counter()
        np.asarray(ng.predict(model, ts, data.mu[i], equation=eq).evaluate(grid))
        d_time = time.perf_counter() - start
        k = args.stride
        pts = grid[::k, ::k].reshape(-1, 2)
        phi0, fit = ng.fit_initial_condition(eq, model, ref[0][::k, ::k].ravel(), data.mu[i],
                                             samples=pts)
        t1 = float(ts[-1])  # outside the jitted function, whose closed-over arrays it traces
        sol, times = ng.compile_and_run(
            lambda phi0: ng.solve(eq, model, 0.0, t1, None, phi0, data.mu[i],
                                  samples=pts, saveat=dfx.SaveAt(ts=ts), throw=False,
                                  stepsize_controller=dfx.PIDController(
                                      rtol=args.rtol, atol=args.rtol * 1e-2)), phi0)
        sol = ng.check_solution(sol)
        eq_err = relative_error(sol.evaluate(grid), ref)
        fd = []
        m = ref.shape[-1]
        for n in args.n:
            u0 = fourier_resample(ref[0], n) if n >= m else ref[0][:: m // n, :: m // n]
            pdes.fd_solve(eq, data.mu[i], n, ts, u0=u0)  # compile
            start = time.perf_counter()
            s = pdes.fd_solve(eq, data.mu[i], n, ts, u0=u0)
            us = np.asarray(jax.block_until_ready(s.us))
            wall = time.perf_counter() - start
            if n >= m:
                err = relative_error(us[:, :: n // m, :: n // m], ref)
            else:
                err = relative_error(us, ref[:, :: m // n, :: m // n])
            fd.append({"n": n, "error": err, "time_s": wall})
        fd_eq, eq_bound = fd_time_at(eq_err, fd)
        fd_d, d_bound = fd_time_at(d_err, fd)
        rows.append({"mu": float(data.mu[i]), "d_error": d_err, "d_time_s": d_time,
                     "eq_error": eq_err, "fd_time_at_eq_error_s": float(fd_eq),
                     "eq_bound": eq_bound, "fd_time_at_d_error_s": float(fd_d),
                     "d_bound": d_bound,
                     "fit_error": fit, "eq_time_s": times["time_run_s"],
                     "eq_compile_s": times["time_compile_s"],
                     "eq_steps": int(sol.stats["num_steps"]),
                     "eq_max_residual": float(jnp.max(sol.residuals)), "fd": fd})
        print(rows[-1], flush=True)
    lines = [f"2D Burgers (CoLoRA data), model {args.weights}, {len(pts)} Galerkin samples; "
             "errors: space-time relative L2 against the data (51 snapshots, 128 x 128)", "",
             "| mu | D error | D time [s] | EQ error | EQ time [s] | EQ steps | max residual | "
             + " | ".join(f"FD n={n}: error, time [s]" for n in args.n)
             + " | EQ time / FD time at EQ error | D time / FD time at D error |",
             "|---|---|---|---|---|---|---|" + "---|" * (len(args.n) + 2)]
    bound = {"<": "at least ", ">": "at most ", "": ""}
    for r in rows:
        lines.append(f"| {r['mu']:.5f} | {r['d_error']:.2e} | {r['d_time_s']:.3f} | "
                     f"{r['eq_error']:.2e} | {r['eq_time_s']:.2f} | {r['eq_steps']} | "
                     f"{r['eq_max_residual']:.2e} | "
                     + " | ".join(f"{f['error']:.2e}, {f['time_s']:.2f}" for f in r["fd"])
                     + f" | {bound[r['eq_bound']]}{r['eq_time_s'] / r['fd_time_at_eq_error_s']:.3g}"
                     + f" | {bound[r['d_bound']]}{r['d_time_s'] / r['fd_time_at_d_error_s']:.3g} |")
    lines += ["", "FD time at an error: log-log interpolation between the FD grids that bracket "
              "it (\"at least\": FD's coarsest grid is already more accurate, so the ratio is a "
              "lower bound; \"at most\": more accurate than FD's finest grid against the data). "
              "Targets (issue 6): EQ <= 0.1, D <= 0.001."]
    save_table(args.out, "burgers2d_eq", lines, rows)


if __name__ == "__main__":
    main()
