"""The online time of the d = 8 Fokker-Planck EQ solve of `fokker_planck_highd.py`, as wall
and process CPU time over repeated runs of the compiled solve: on a shared machine the wall
time measures the load as much as the solve, the CPU time what the run itself used.

    python benchmarks/fokker_planck_eq_time.py [--mu 0.375] [--repeat 3] [--out benchmarks/results]

The solve is that of `fokker_planck_highd.py` (the same network, key, sampler, conservation
and tolerances; `t` in `[0, 8]`, 17 saved times), compiled once by a first call.
"""

import argparse
import os
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import jax.random as jr  # noqa: E402
from _results import save_table  # noqa: E402
from fokker_planck_highd import eq_solver  # noqa: E402

import pdes  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mu", type=float, default=0.375)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--out", default="benchmarks/results")
    args = p.parse_args()
    eq = pdes.FokkerPlanck.in_dimension(8)
    ts = jnp.linspace(0.0, 8.0, 17)
    run, phi0 = eq_solver(eq, ts, 1000, jr.PRNGKey(0))
    solve = jax.jit(lambda phi0, mu: run(phi0, mu).phis)
    jax.block_until_ready(solve(phi0, args.mu))  # compiles
    rows = []
    for k in range(args.repeat):
        load = os.getloadavg()[0]
        wall, cpu = time.perf_counter(), time.process_time()
        jax.block_until_ready(solve(phi0, args.mu))
        rows.append({"run": k + 1, "wall_s": time.perf_counter() - wall,
                     "cpu_s": time.process_time() - cpu, "load": load})
        print(rows[-1], flush=True)
    lines = [f"Fokker-Planck d = 8, alpha = {args.mu:g}: the compiled EQ solve of "
             "fokker_planck_highd.py run again, wall and process CPU time, with the machine's "
             f"load average (1 min) at the start ({os.cpu_count()} cores)", "",
             "| run | wall [s] | CPU [s] | load |", "|---|---|---|---|"]
    lines += [f"| {r['run']} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | {r['load']:.1f} |"
              for r in rows]
    save_table(args.out, "fokker_planck_eq_time", lines, rows)


if __name__ == "__main__":
    main()
