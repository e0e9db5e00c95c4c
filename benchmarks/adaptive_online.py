"""Adaptive online weights against a fixed set on a shipped model: EQ error and time.

    python benchmarks/adaptive_online.py [--equation burgers] [--mu 0.0039 ...]
                                         [--base alpha0] [--tols 0.05 0.02]
                                         [--samples 512] [--out benchmarks/results]
                                         [--name adaptive_online] [--weights DIR]

The shipped model's online weights are split into a base set and a pool: `--base alpha0`
keeps the first CoLoRA scale of every layer in the base (the second scales, and the embedding
shift where the model has one, are the pool); `--base last3` keeps the scales of the last three
layers; `--base own` (a model with pool components, `--weights DIR`: `ng.add_pool` and
`pretrain(train="pool")`) keeps the network's own online weights in the base and makes its
pool components the pool. Rows: the full set (every weight always online, the plain solve),
the fixed base set (`AdaptiveOnline(base, tol=None)`) and the adaptive set at each `--tols`
value. Errors are space-time relative L2 against the reference (`pdes.reference_solve`, its
default method, on 4096 points; an equation with an exact solution: that) at 41 times; times
are the shortest of two calls after a first, compiling one (the machine may be shared).
`--max-add`: as in `AdaptiveOnline` (1 unless given; the library's default is the whole
pool). Writes `NAME.md/.json` under `--out`.
"""

import argparse
import platform
import time

import jax

jax.config.update("jax_enable_x64", True)

import diffrax as dfx  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from _results import save_table  # noqa: E402

import neural_galerkin as ng  # noqa: E402
import pdes  # noqa: E402


def base_set(labels, kind, model):
    if kind == "own":  # the network's own online weights; its pool components are the pool
        return [int(i) for i in np.flatnonzero(~ng.pool_mask(model.net))]
    if kind == "alpha0":
        return [i for i, name in enumerate(labels) if name.endswith("alpha[0]")]
    if kind == "last3":
        layers = sorted({name.split(".")[0] for name in labels if name.startswith("layers")},
                        key=lambda s: int(s[7:-1]))
        return [i for i, name in enumerate(labels) if name.split(".")[0] in layers[-3:]]
    raise ValueError(f"unknown --base {kind!r}")


def timed(fn, repeats=2):
    """The result of `fn()` and its shortest wall time over `repeats` calls after a first
    (compiling) one: the shortest, since the machine may be shared."""
    out = fn()
    jax.block_until_ready(out.phis)
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn().phis)
        best = min(best, time.perf_counter() - start)
    return out, best


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--equation", default="burgers")
    p.add_argument("--mu", type=float, nargs="+", default=[0.0039])
    p.add_argument("--base", default="alpha0")
    p.add_argument("--tols", type=float, nargs="+", default=[0.05, 0.02])
    p.add_argument("--max-add", type=int, default=1)
    p.add_argument("--weights", default=None,
                   help="a model folder instead of the shipped weights (e.g. one with "
                        "pretrained pool components, with --base own)")
    p.add_argument("--samples", type=int, default=512)
    p.add_argument("--out", default="benchmarks/results")
    p.add_argument("--name", default="adaptive_online")
    args = p.parse_args()
    eq = pdes.get(args.equation)
    model = (ng.load_pretrained(args.equation) if args.weights is None
             else ng.load_model(args.weights))
    labels = ng.online_labels(model.net)
    base = base_set(labels, args.base, model)
    t0, t1 = model.t_range
    ts = jnp.linspace(t0, t1, 41)
    rows = []
    for mu in args.mu:
        if isinstance(eq, pdes.AbstractExactEquation):
            x = eq.grid(4096).reshape(-1, 1)
            ref = np.asarray(jax.vmap(lambda t: jax.vmap(lambda y: eq.exact(y, t, mu))(x))(ts))
            ref_name = "exact solution"
        else:
            x = eq.grid(4096).reshape(-1, 1)
            ref = np.asarray(pdes.reference_solve(eq, mu, 4096, ts).us)
            ref_name = "reference on 4096 points"
        phi0, _ = ng.fit_initial_condition(eq, model, mu=mu, samples=args.samples)
        kw = dict(samples=args.samples, saveat=dfx.SaveAt(ts=ts), residual_tol=None,
                  max_steps=20_000, throw=False)
        runs = [("full set", None, len(labels))]
        runs += [("fixed base set", ng.AdaptiveOnline(base, tol=None), len(base))]
        runs += [(f"adaptive, tol {tol:g}", ng.AdaptiveOnline(base, tol=tol,
                                                                max_add=args.max_add), None)
                 for tol in args.tols]
        for name, adaptive, n_active in runs:
            sol, wall = timed(lambda a=adaptive: ng.solve(eq, model, t0, t1, None, phi0, mu,
                                                          adaptive=a, **kw))
            u = np.asarray(sol.evaluate(x))
            err = float(np.linalg.norm(u - ref) / np.linalg.norm(ref))
            row = {"mu": mu, "set": name, "error": err, "time_s": wall,
                   "steps": int(sol.stats["num_steps"]),
                   "max_residual": float(jnp.nanmax(sol.residuals)), "result": sol.message}
            if adaptive is not None and adaptive.tol is not None:
                act = np.asarray(sol.active)
                row.update(mean_active=float(act.sum(1).mean()), final_active=[
                    labels[i] for i in np.flatnonzero(act[-1])],
                    added=int(sol.stats["num_online_added"]),
                    dropped=int(sol.stats["num_online_dropped"]))
            else:
                row.update(mean_active=float(n_active), added=0, dropped=0)
            rows.append(row)
            print(row, flush=True)
    which = "shipped model" if args.weights is None else f"model `{args.weights}`"
    lines = [f"{args.equation}, {which} ({len(labels)} online weights), base set "
             f"`{args.base}` ({len(base)} weights: "
             + ", ".join(labels[i] for i in base) + f"), t in [{t0:g}, {t1:g}], "
             f"{args.samples} samples, Tsit5 rtol 1e-6; error against the {ref_name} at 41 "
             f"times; time: shortest of two calls after the compiling one ({platform.machine()}, "
             f"{jax.device_count()} {jax.default_backend()} device). "
             "`python benchmarks/adaptive_online.py " + " ".join(
                 f"--{k.replace('_', '-')} {' '.join(map(str, v)) if isinstance(v, list) else v}"
                 for k, v in vars(args).items()
                 if k not in ("out", "name") and v is not None) + "`", "",
             "| mu | online set | EQ error | time [s] | steps | mean active weights | "
             "added / dropped | max Galerkin residual | result |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['mu']:g} | {r['set']} | {r['error']:.2e} | {r['time_s']:.2f} | "
                     f"{r['steps']} | {r['mean_active']:.1f} | {r['added']} / {r['dropped']} | "
                     f"{r['max_residual']:.2e} | {r['result']} |")
    save_table(args.out, args.name, lines, rows)


if __name__ == "__main__":
    main()
