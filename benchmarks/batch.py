"""A batch of parameters in one solve against one parameter, on one device and sharded.

    python benchmarks/batch.py [--sizes 1 4 16 64] [--out benchmarks/results]
    python benchmarks/batch.py --host-devices 4 [--sizes 64]

Burgers with the shipped model, 128 Galerkin samples, t in [0, 0.4], viscosities spread over
the trained range. For each batch size B: the online wall time of `solve_batch` (compilation
excluded) and its ratio to one parameter's `solve`, and the largest difference of the batched
online weights from the single solves (three of them). With `--host-devices N`, JAX starts
with N CPU devices forced by `XLA_FLAGS` and the largest batch is also solved sharded over
them, against the unsharded batch (table `batch_sharded.md`). The forced devices share the
same cores, so that run shows correctness, not speed (and its times are not comparable).
"""

import argparse
import os
import sys

if __name__ == "__main__":  # the forced host devices must be set before JAX starts
    if "--host-devices" in sys.argv:
        n_dev = int(sys.argv[sys.argv.index("--host-devices") + 1])
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                                   + f" --xla_force_host_platform_device_count={n_dev}")

import platform  # noqa: E402

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import diffrax as dfx  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from _results import save_table  # noqa: E402

import neural_galerkin as ng  # noqa: E402
import pdes  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", type=int, nargs="+", default=[1, 4, 16, 64])
    p.add_argument("--host-devices", type=int, default=None)
    p.add_argument("--samples", type=int, default=128)
    p.add_argument("--out", default="benchmarks/results")
    args = p.parse_args()
    eq = pdes.Burgers()
    model = ng.load_pretrained("burgers")
    ts = jnp.linspace(0.0, 0.4, 11)
    kw = dict(samples=args.samples, saveat=dfx.SaveAt(ts=ts), timed=True)
    big = max(args.sizes)
    mus = np.geomspace(1.1e-3, 9.5e-3, big)
    phi0 = jnp.stack([ng.fit_initial_condition(eq, model, mu=m, samples=args.samples)[0]
                      for m in mus])
    singles = [ng.solve(eq, model, 0.0, 0.4, None, phi0[i], mus[i], **kw) for i in range(3)]
    t1 = singles[0].stats["time_run_s"]
    rows = [{"B": 1, "how": "solve", "time_s": t1, "ratio": 1.0,
             "steps": int(singles[0].stats["num_steps"]), "max_diff": 0.0}]
    print(rows[-1], flush=True)
    batches = {}
    for b in args.sizes:
        idx = np.round(np.linspace(0, big - 1, b)).astype(int) if b < big else np.arange(big)
        idx[:min(3, b)] = np.arange(min(3, b))  # the first three are the single solves
        sol = ng.solve_batch(eq, model, 0.0, 0.4, None, phi0[idx], mus[idx], **kw)
        batches[b] = sol
        diff = max(float(jnp.max(jnp.abs(sol.phis[i] - singles[i].phis)))
                   for i in range(min(3, b)))
        rows.append({"B": b, "how": "solve_batch (vmap)", "time_s": sol.stats["time_run_s"],
                     "ratio": sol.stats["time_run_s"] / t1,
                     "steps": int(np.max(sol.stats["num_steps"])), "max_diff": diff})
        print(rows[-1], flush=True)
    devices = jax.devices()
    if len(devices) > 1 and big % len(devices) == 0:
        sol = ng.solve_batch(eq, model, 0.0, 0.4, None, phi0, mus, devices=devices, **kw)
        diff = float(jnp.max(jnp.abs(sol.phis - batches[big].phis)))
        rows.append({"B": big, "how": f"solve_batch sharded over {len(devices)} devices",
                     "time_s": sol.stats["time_run_s"], "ratio": sol.stats["time_run_s"] / t1,
                     "steps": int(np.max(sol.stats["num_steps"])), "max_diff": diff,
                     "diff_to": "unsharded batch"})
        print(rows[-1], flush=True)
    lines = [f"Batches of viscosities, Burgers, shipped model, {args.samples} samples, "
             f"t in [0, 0.4] ({platform.machine()}, {len(devices)} {devices[0].platform} "
             f"device(s){' (forced)' if args.host_devices else ''} on "
             f"{len(os.sched_getaffinity(0))} core(s); `python benchmarks/batch.py"
             f"{f' --host-devices {args.host_devices}' if args.host_devices else ''}`)", "",
             "| B | how | online time [s] | time / one solve | steps (largest) | "
             "max abs difference of phi |", "|---|---|---|---|---|---|"]
    for r in rows:
        to = r.get("diff_to", "single solves")
        lines.append(f"| {r['B']} | {r['how']} | {r['time_s']:.3f} | {r['ratio']:.2f} | "
                     f"{r['steps']} | {r['max_diff']:.1e} (to {to}) |")
    save_table(args.out, "batch_sharded" if args.host_devices else "batch", lines, rows)


if __name__ == "__main__":
    main()
