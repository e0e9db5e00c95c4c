"""Pretrained pool components for the adaptive online set, on KdV through the collision.

    python benchmarks/pool_components.py [--pool-rank 2] [--steps 600] [--rounds 2]
                                         [--sigma 0.1] [--tol 0.05] [--mus 1.55 1.75]
                                         [--work /work/data/pool] [--out benchmarks/results]
                                         [--name pool_components]

The shipped KdV model gains pool components of rank `--pool-rank` in every layer
(`ng.add_pool`: the data-driven solution and the model's own tangent directions unchanged);
only the pool's factors are trained (`pretrain(train="pool")`), for the tangent term (weight 1,
ridge 1e-3, 8 snapshots x 256 points), in rounds:

- round 0: the tangent term along the hypernetwork's trajectories (`tangent_sigma`
  `--sigma`), the pool's scales zero there;
- round k >= 1: the tangent term at **anchors**, the online weights along the equation-driven
  solves at the six training parameters (33 times each in [0, 8]) of the previous round's
  model, own set and adaptive set alike, together with all earlier rounds' anchors: where
  the online solve goes, which is not where the data-driven solution is once it has drifted
  (`pretrain(tangent_anchors=...)`).

After each round, at each held-out `--mus`: EQ with the model's own online set (the plain
solve of the shipped model), the adaptive set (`AdaptiveOnline(~pool_mask, tol=--tol)`) and
the full set (pool always online), from the fitted `phi(0)` (pool at zero), 512 samples,
Tsit5 rtol 1e-6, at most 4000 steps; errors against the exact two-soliton solution at 1024
points, the largest over 17 times in [0, 8] (a solve stopped at max_steps: up to the time it
reached). Trained models are kept under `--work` (not shipped).
"""

import argparse
import json
import pathlib
import time

import jax

jax.config.update("jax_enable_x64", True)

import diffrax as dfx  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import jax.random as jr  # noqa: E402
import numpy as np  # noqa: E402
from _results import machine, save_table  # noqa: E402

import neural_galerkin as ng  # noqa: E402
import pdes  # noqa: E402
from neural_galerkin._compare import relative_error_over_time  # noqa: E402
from neural_galerkin._data import recipe_data  # noqa: E402
from neural_galerkin._recipes import RECIPES  # noqa: E402
from neural_galerkin._training import pretrain  # noqa: E402

TS = jnp.linspace(0.0, 8.0, 17)
ANCHOR_TS = jnp.linspace(0.0, 8.0, 33)
KW = dict(samples=512, residual_tol=None, max_steps=4000, throw=False)


def sets(model, tol):
    base = ~ng.pool_mask(model.net)
    return {"own set": ng.AdaptiveOnline(base, tol=None),
            f"adaptive, tol {tol:g}": ng.AdaptiveOnline(base, tol=tol), "full set": None}


def evaluate(model, eq, mu, tol):
    x = ng.sample_points(eq, 1024)
    exact = np.asarray(jax.vmap(lambda t: jax.vmap(lambda y: eq.exact(y, t, mu))(x))(TS))
    phi0, _ = ng.fit_initial_condition(eq, model, mu=mu, samples=512)
    out = {}
    for name, adaptive in sets(model, tol).items():
        start = time.perf_counter()
        s = ng.solve(eq, model, 0.0, 8.0, None, phi0, mu, saveat=dfx.SaveAt(ts=TS),
                     adaptive=adaptive, **KW)
        wall = time.perf_counter() - start
        err = np.asarray(relative_error_over_time(s.evaluate(x), exact))
        ok = np.isfinite(err)
        out[name] = {"EQ_max": float(np.max(err[ok])), "EQ_t5": float(err[10]),
                     "EQ_t8": float(err[-1]),
                     "reached": s.t_reached,
                     "max_residual": float(np.nanmax(np.asarray(s.residuals)[ok])),
                     "steps": int(s.stats["num_steps"]), "time_s": wall,
                     "added": int(s.stats.get("num_online_added", 0))}
    return out


def anchors_of(model, eq, rec, tol, max_steps):
    """Online weights along the equation-driven solves at the training parameters (own set
    and adaptive set), with their times and parameters (a solve that stalls: its weights up
    to where it stalled, at most `max_steps` steps)."""
    phis, ts, mus = [], [], []
    for mu in rec.train_mus:
        phi0, _ = ng.fit_initial_condition(eq, model, mu=mu, samples=512)
        for name, adaptive in sets(model, tol).items():
            if name == "full set":
                continue
            s = ng.solve(eq, model, 0.0, 8.0, None, phi0, mu, saveat=dfx.SaveAt(ts=ANCHOR_TS),
                         adaptive=adaptive, **{**KW, "max_steps": max_steps})
            ok = np.all(np.isfinite(np.asarray(s.phis)), axis=1)
            phis.append(np.asarray(s.phis)[ok])
            ts.append(np.asarray(ANCHOR_TS)[ok])
            mus.append(np.full(int(ok.sum()), mu))
    return np.concatenate(phis), np.concatenate(ts), np.concatenate(mus)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--pool-rank", type=int, default=2)
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--sigma", type=float, default=0.1)
    p.add_argument("--tol", type=float, default=0.05)
    p.add_argument("--learning-rate", type=float, default=3e-3)
    p.add_argument("--anchor-max-steps", type=int, default=4000)
    p.add_argument("--mus", type=float, nargs="+", default=[1.55, 1.75])
    p.add_argument("--work", default="/work/data/pool")
    p.add_argument("--out", default="benchmarks/results")
    p.add_argument("--name", default="pool_components")
    args = p.parse_args()
    eq, rec = pdes.KdV(), RECIPES["kdv"]
    data = recipe_data(eq, rec)
    model = ng.add_pool(ng.load_pretrained("kdv"), args.pool_rank, key=jr.PRNGKey(11))
    work = pathlib.Path(args.work) / f"q{args.pool_rank}_s{args.steps}_sigma{args.sigma:g}"
    rows, anchors = [], None
    for k in range(args.rounds + 1):
        folder = work / f"round{k}"
        if (folder / "history.json").exists():
            model = ng.load_model(folder)
            info = json.loads((folder / "history.json").read_text())
        else:
            if k > 0:
                new = anchors_of(model, eq, rec, args.tol, args.anchor_max_steps)
                anchors = new if anchors is None else tuple(
                    np.concatenate([a, b]) for a, b in zip(anchors, new))
            model, h = pretrain(data, equation="kdv", steps=args.steps, key=jr.PRNGKey(20 + k),
                                init=model, train="pool", pde=eq, tangent_weight=1.0,
                                tangent_sigma=args.sigma, tangent_points=256,
                                tangent_anchors=anchors, learning_rate=args.learning_rate,
                                progress=False, log_every=max(1, args.steps // 10))
            info = {"loss": h["loss"], "time_s": h["time_s"],
                    "anchors": 0 if anchors is None else int(anchors[0].shape[0])}
            ng.save_model(folder, model)
            (folder / "history.json").write_text(json.dumps(info))
        for mu in args.mus:
            cached = folder / f"eval_mu{mu:g}_tol{args.tol:g}.json"
            if not cached.exists():
                cached.write_text(json.dumps(evaluate(model, eq, mu, args.tol)))
            for name, r in json.loads(cached.read_text()).items():
                row = {"round": k, "anchors": info["anchors"], "train_s": info["time_s"],
                       "loss_first": info["loss"][0], "loss_last": info["loss"][-1],
                       "mu": mu, "set": name, **r}
                print(row, flush=True)
                rows.append(row)
    lines = [f"KdV, the shipped model with pool components of rank {args.pool_rank} in each of "
             f"its 5 layers ({model.num_phi} online weights: its own 11 and "
             f"{int(ng.pool_mask(model.net).sum())} pool scales), only the pool's factors trained "
             f"for the tangent term ({args.steps} steps a round, learning rate "
             f"{args.learning_rate:g}, sigma {args.sigma:g}; round 0 along the hypernetwork's "
             "trajectories, round k at the online weights of the EQ solves at the six training "
             "parameters of round k-1's model, own and adaptive set, with the earlier rounds' "
             "anchors). EQ from the fitted phi(0) (pool at zero), 512 samples, Tsit5 rtol 1e-6, "
             "at most 4000 steps; error against the exact solution at 1024 points, largest over "
             f"17 times in [0, 8] (a stopped solve: up to where it reached). {machine()}, shared "
             "with other jobs (times: their order only). `python benchmarks/pool_components.py "
             f"--pool-rank {args.pool_rank} --steps {args.steps} --rounds {args.rounds} --sigma "
             f"{args.sigma:g} --tol {args.tol:g}`", "",
             "| round | anchors | tangent loss first -> last | pool training [s] | mu | online "
             "set | EQ error (max) | EQ at t = 5 | EQ at t = 8 | reached t | steps | max "
             "Galerkin residual | pool members added | EQ time [s] |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]

    def at(e):
        return f"{e:.1e}" if np.isfinite(e) else "-"

    for r in rows:
        lines.append(f"| {r['round']} | {r['anchors']} | {r['loss_first']:.2e} -> "
                     f"{r['loss_last']:.2e} | {r['train_s']:.0f} | {r['mu']:g} | {r['set']} | "
                     f"{r['EQ_max']:.2e} | {at(r['EQ_t5'])} | {at(r['EQ_t8'])} | "
                     f"{r['reached']:g} | {r['steps']} | {r['max_residual']:.2f} | "
                     f"{r['added']} | {r['time_s']:.1f} |")
    save_table(args.out, args.name, lines, rows)


if __name__ == "__main__":
    main()
