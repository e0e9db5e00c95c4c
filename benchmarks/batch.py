"""A batch of parameters in one solve against one parameter, on one device and sharded.

    python benchmarks/batch.py [--sizes 1 4 16 64] [--out benchmarks/results]
    python benchmarks/batch.py --host-devices 4 [--sizes 64]

Burgers with the shipped model, 128 Galerkin samples, t in [0, 0.4], viscosities spread over
the trained range. For each batch size B: the online wall time of `solve_batch` (compilation
excluded), with its default `batch_size` (on a CPU: one parameter after another) and with the
whole batch vmapped, and its ratio to one parameter's `solve`, and the largest difference of
the batched online weights from the single solves (three of them). With `--host-devices N`, JAX
starts with N CPU devices forced by `XLA_FLAGS` and the largest batch is also solved sharded
over them, against the unsharded batch (table `batch_sharded.md`). The forced devices share the
same cores, so that run shows correctness, not speed (and its times are not comparable).

The many-query comparison: the FD reference batched over the same viscosities on the same
device (`jax.vmap` of `pdes.fd_solve` over mu, one compiled call), on the coarsest grid of
64 ... 1024 points whose largest error over the batch (against FD on 2048 points) is at most
the EQ batch's largest error; both as parameters per second.
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
import time  # noqa: E402

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import diffrax as dfx  # noqa: E402
import equinox as eqx  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from _results import median_time, save_table  # noqa: E402

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
    kw = dict(samples=args.samples, saveat=dfx.SaveAt(ts=ts), throw=False)
    big = max(args.sizes)
    mus = np.geomspace(1.1e-3, 9.5e-3, big)
    phi0 = jnp.stack([ng.fit_initial_condition(eq, model, mu=m, samples=args.samples)[0]
                      for m in mus])

    def timed(fn, *args):  # compiled ahead, run once; the failures said as a plain call would
        sol, times = ng.compile_and_run(fn, *args)
        return ng.check_solution(sol), times["time_run_s"]

    singles, single_times = zip(*(timed(lambda p, m: ng.solve(
        eq, model, 0.0, 0.4, None, p, m, **kw), phi0[i], mus[i]) for i in range(3)))
    t1 = single_times[0]
    rows = [{"B": 1, "how": "solve", "time_s": t1, "ratio": 1.0,
             "steps": int(singles[0].stats["num_steps"]), "max_diff": 0.0}]
    print(rows[-1], flush=True)
    batches, default_times = {}, {1: t1}
    default = ("default: one after another" if jax.default_backend() == "cpu"
               else "default: the whole batch")
    for b in args.sizes:
        idx = np.round(np.linspace(0, big - 1, b)).astype(int) if b < big else np.arange(big)
        idx[:min(3, b)] = np.arange(min(3, b))  # the first three are the single solves
        for how, size in ((default, None), ("vmap, the whole batch", b)):
            if b == 1 and size is None:
                continue
            sol, time_s = timed(lambda p, m: ng.solve_batch(
                eq, model, 0.0, 0.4, None, p, m, batch_size=size, **kw), phi0[idx], mus[idx])
            batches[b] = sol  # the vmapped one last: the sharded batch is compared with it
            if size is None:
                default_times[b] = time_s
            diff = max(float(jnp.max(jnp.abs(sol.phis[i] - singles[i].phis)))
                       for i in range(min(3, b)))
            rows.append({"B": b, "how": f"solve_batch ({how})",
                         "time_s": time_s, "ratio": time_s / t1,
                         "steps": int(np.max(sol.stats["num_steps"])), "max_diff": diff})
            print(rows[-1], flush=True)
    devices = jax.devices()
    if len(devices) > 1 and big % len(devices) == 0:
        sol = ng.solve_batch(eq, model, 0.0, 0.4, None, phi0, mus, devices=devices, **kw)
        start = time.perf_counter()  # compiled by the call above
        sol = ng.check_solution(jax.block_until_ready(
            ng.solve_batch(eq, model, 0.0, 0.4, None, phi0, mus, devices=devices, **kw)))
        time_s = time.perf_counter() - start
        diff = float(jnp.max(jnp.abs(sol.phis - batches[big].phis)))
        rows.append({"B": big, "how": f"solve_batch sharded over {len(devices)} devices",
                     "time_s": time_s, "ratio": time_s / t1,
                     "steps": int(np.max(sol.stats["num_steps"])), "max_diff": diff,
                     "diff_to": "unsharded batch"})
        print(rows[-1], flush=True)
    # one right-hand side of the Galerkin ODE per parameter: alone (a loop over the batch)
    # against vmapped over the batch (mid-way phi of each viscosity)
    field = ng.GalerkinField(eq, model.net, ng.sample_points(eq, args.samples), ng.LeastSquares())
    phis = jnp.stack([model.phi(0.2, m) for m in mus])
    loop = eqx.filter_jit(lambda f, p, m: jax.lax.map(lambda a: f(0.0, *a), (p, m)))
    vmapped = eqx.filter_jit(lambda f, p, m: jax.vmap(lambda q, n: f(0.0, q, n))(p, m))
    rhs = [{"B": b, **{k: 1e3 * median_time(fn, field, phis[:b], jnp.asarray(mus[:b]),
                                            repeats=50) / b
                       for k, fn in (("loop_ms", loop), ("vmap_ms", vmapped))}}
           for b in args.sizes]
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
    lines += ["", "One right-hand side of the Galerkin ODE per parameter (median of 50 compiled "
              "calls over the batch, divided by B):", "",
              "| B | one after another (`lax.map`) [ms] | vmapped [ms] |", "|---|---|---|"]
    lines += [f"| {r['B']} | {r['loop_ms']:.3f} | {r['vmap_ms']:.3f} |" for r in rhs]
    fd = fd_batch(eq, mus, ts, batches[big], default_times[big])
    lines += ["", f"Many queries: the {big} viscosities by the reduced model (EQ, `solve_batch`'s "
              "default) and by the FD reference batched the same way (`jax.vmap` of "
              "`pdes.fd_solve` over mu) on the coarsest grid whose largest error over the batch "
              "is at most EQ's (errors against FD on 2048 points, space-time, largest over the "
              "batch):", "",
              "| method | grid | largest error | time [s] | parameters per second |",
              "|---|---|---|---|---|",
              f"| EQ ({args.samples} samples) | - | {fd['eq_error']:.2e} | "
              f"{fd['eq_time_s']:.3f} | {big / fd['eq_time_s']:.1f} |"]
    lines += [f"| FD, vmapped{' (matches EQ)' if r['n'] == fd['n'] else ''} | {r['n']} | "
              f"{r['error']:.2e} | {r['time_s']:.3f} | {big / r['time_s']:.1f} |"
              for r in fd["grids"]]
    save_table(args.out, "batch_sharded" if args.host_devices else "batch", lines,
               {"solves": rows, "rhs": rhs, "fd_batch": fd})


def fd_batch(eq, mus, ts, eq_sol, eq_time, grids=(64, 128, 256, 512, 1024), fine=2048):
    """The FD reference vmapped over `mus` on `grids` until one is at least as accurate as the
    EQ batch `eq_sol` (largest space-time error over the batch, against FD on `fine`)."""
    mus = jnp.asarray(mus)

    def batch(n):
        return lambda m: jax.vmap(lambda mu: pdes.fd_solve(eq, mu, n, ts,
                                                           solver=dfx.Tsit5()).us)(m)

    ref, _ = ng.compile_and_run(batch(fine), mus)
    x = eq.grid(fine)
    u = np.asarray(eq_sol.evaluate(x))
    eq_error = float(max(np.linalg.norm(u[i] - ref[i]) / np.linalg.norm(ref[i])
                         for i in range(len(mus))))
    out = {"eq_error": eq_error, "eq_time_s": eq_time, "grids": [], "n": None}
    for n in grids:
        us, times = ng.compile_and_run(batch(n), mus)
        coarse = np.asarray(ref)[:, :, :: fine // n]
        err = float(max(np.linalg.norm(us[i] - coarse[i]) / np.linalg.norm(coarse[i])
                        for i in range(len(mus))))
        out["grids"].append({"n": n, "error": err, "time_s": times["time_run_s"]})
        print(out["grids"][-1], flush=True)
        if err <= eq_error:
            out["n"] = n
            break
    return out


if __name__ == "__main__":
    main()
