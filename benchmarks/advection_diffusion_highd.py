"""Advection-diffusion in d = 4, 5, 6: EQ and D against the exact solution, and the grid an FD
solver would need for the same error.

    python benchmarks/advection_diffusion_highd.py [--dims 4 5 6] [--out benchmarks/results]

The shipped models `advection-diffusion-Kd` are used at the recipe's held-out diffusivities.
Errors are space-time relative L2 over 41 times in [0, 1] at 4096 random points (exact
solution), EQ online time excludes compilation.

The FD column needs no d-dimensional grid: the default initial condition is
`offset + prod_i w(x_i)` and the FD operator is a sum of one-dimensional operators acting on
different directions, so the FD solution is exactly `offset + prod_i w_i^FD(x_i, t)` with
`w_i^FD` the one-dimensional FD solution. Its error on the full `n^d` grid follows from 1D
sums (`||prod a_i - prod b_i||^2 = prod |a_i|^2 - 2 prod <a_i, b_i> + prod |b_i|^2`). Memory
is that of a method-of-lines solve on the `n^d` grid (`pdes._fd.grid_memory_bytes`: float64,
10 copies of the grid for the Runge-Kutta stages plus the saved times); the time is
extrapolated from the measured cost per grid point and step of the 3D FD solve.
"""

import argparse
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from _results import save_table  # noqa: E402

import neural_galerkin as ng  # noqa: E402
import pdes  # noqa: E402
from neural_galerkin._recipes import RECIPES, shipped_weights  # noqa: E402
from pdes._fd import grid_memory_bytes  # noqa: E402

TS = jnp.linspace(0.0, 1.0, 41)
MEMORY = 24 * 2**30  # this machine's


def fd_tensor_error(eq, mu, n):
    """Space-time relative L2 error of the FD solution on the n^d grid, from 1D solves."""
    one = pdes.AdvectionDiffusion(kappa=eq.kappa, offset=0.0)
    w_fd = np.asarray(pdes.fd_solve(one, mu, n, TS, rtol=1e-10, atol=1e-12).us)  # (t, n)
    x = np.asarray(one.grid(n)).reshape(-1, 1)
    w_ex = np.asarray(jax.vmap(lambda t: jax.vmap(lambda p: one.exact(p, t, mu))(x))(TS))
    d, c = eq.ndim, eq.offset
    err2 = np.sum(w_fd**2, 1) ** d - 2 * np.sum(w_fd * w_ex, 1) ** d + np.sum(w_ex**2, 1) ** d
    # ||c + prod w||^2 over the grid = c^2 n^d + 2 c prod(sum w) + prod(sum w^2)
    ref2 = c**2 * n**d + 2 * c * np.sum(w_ex, 1) ** d + np.sum(w_ex**2, 1) ** d
    return float(np.sqrt(np.sum(err2) / np.sum(ref2)))


def fd_cost_per_point_step():
    """Measured seconds per grid point and time step of the 3D FD solve (n = 48)."""
    eq3 = pdes.AdvectionDiffusion.in_dimension(3)
    pdes.fd_solve(eq3, 2e-2, 48, TS)
    start = time.perf_counter()
    s = pdes.fd_solve(eq3, 2e-2, 48, TS)
    jax.block_until_ready(s.us)
    return (time.perf_counter() - start) / (48**3 * int(s.num_steps)), int(s.num_steps)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dims", type=int, nargs="+", default=[4, 5, 6])
    p.add_argument("--out", default="benchmarks/results")
    args = p.parse_args()
    per_point, steps48 = fd_cost_per_point_step()
    rows = []
    for d in args.dims:
        key = f"advection-diffusion-{d}d"
        eq = pdes.get(key)
        model = ng.load_model(shipped_weights(key))
        for mu in RECIPES[key].test_mus:
            e = ng.compare(eq, model, mu, mode="eq", reference="exact", n_times=41)
            dd = ng.compare(eq, model, mu, mode="d", reference="exact", n_times=41)
            fd = []
            for n in (8, 16, 32, 64, 128):
                err = fd_tensor_error(eq, mu, n)
                # explicit steps scale like 1/h (advective limit) from the measured 3D solve
                fd.append({"n": n, "error": err,
                           "memory_gib": grid_memory_bytes((n,) * d, len(TS)) / 2**30,
                           "time_s": per_point * n**d * steps48 * n / 48, "estimated": True})
            match = next((r for r in fd if r["error"] <= e.rel_error), None)
            rows.append({"d": d, "mu": mu, "eq_error": e.rel_error,
                         "eq_time_s": e.time_online_s, "eq_steps": e.num_steps,
                         "eq_max_residual": e.max_residual, "d_error": dd.rel_error,
                         "d_time_s": dd.time_online_s, "fd": fd, "fd_match": match,
                         "mass_drift": e.mass_drift})
            print(rows[-1], flush=True)
    lines = ["Advection-diffusion, exact reference (4096 random points, 41 times in [0, 1]); "
             f"FD grid at the EQ error from the tensor-product identity; this machine has "
             f"{MEMORY / 2**30:.0f} GiB", "",
             "| d | mu | EQ error | EQ time [s] | EQ steps | max residual | D error | "
             "D time [s] | FD grid at EQ error | its error | its memory [GiB] | "
             "its time (estimated) [s] |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        m = r["fd_match"]
        fd = (f"{m['n']}^{r['d']} | {m['error']:.2e} | {m['memory_gib']:.3g} | "
              f"{m['time_s']:.3g}" if m else "beyond 128^d | - | - | -")
        lines.append(f"| {r['d']} | {r['mu']:g} | {r['eq_error']:.2e} | {r['eq_time_s']:.2f} | "
                     f"{r['eq_steps']} | {r['eq_max_residual']:.2e} | {r['d_error']:.2e} | "
                     f"{r['d_time_s']:.4f} | {fd} |")
    save_table(args.out, "advection_diffusion_highd", lines, rows)


if __name__ == "__main__":
    main()
