"""Anchors for the tangent term of pretraining: the online weights along equation-driven solves
at the training parameters, where the online solve goes (which is not where the data-driven
solution is once EQ has drifted from it).

    python benchmarks/eq_anchors.py PDE --weights W --out ANCHORS.npz [--mus ...]
        [--times 41] [--max-steps 20000] [--append OLD.npz]

EQ from the fitted initial condition at each parameter (the recipe's training parameters by
default), the solve's defaults (Galerkin samples, Tsit5 rtol 1e-6), online weights saved at
`--times` equally spaced times over the equation's window; a solve that stalls gives its
weights up to where it stopped. Writes `phis (n, p)`, `ts (n,)`, `mus (n,)` (the layout of
`pretrain(tangent_anchors=...)` and `budget_pretrain.py --tangent-anchors`) and, per anchor,
the relative Galerkin residual there. `--append` adds an earlier file's anchors (rounds of
anchors from successive models). Float64.
"""

import argparse
import time

import jax

jax.config.update("jax_enable_x64", True)

import diffrax as dfx  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import neural_galerkin as ng  # noqa: E402
from neural_galerkin._cli import shipped_equation  # noqa: E402
from neural_galerkin._files import atomic_path  # noqa: E402
from neural_galerkin._recipes import RECIPES  # noqa: E402

KEYS = ("phis", "ts", "mus", "residuals")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("pde")
    p.add_argument("--weights", required=True)
    p.add_argument("--out", required=True, help="the .npz file to write")
    p.add_argument("--mus", type=float, nargs="+", default=None,
                   help="default: the recipe's training parameters")
    p.add_argument("--times", type=int, default=41)
    p.add_argument("--max-steps", type=int, default=20_000)
    p.add_argument("--append", default=None, help="an earlier anchors file to keep")
    args = p.parse_args()
    if not args.out.endswith(".npz"):
        p.error(f"--out must name an .npz file, got {args.out!r}")
    if args.times < 2:
        p.error("--times must be at least 2")
    if args.mus is None and args.pde not in RECIPES:
        p.error(f"{args.pde} has no recipe whose training parameters to take: give --mus")
    eq = shipped_equation(args.pde)
    model = ng.load_model(args.weights)
    mus = args.mus if args.mus is not None else RECIPES[args.pde].train_mus
    ts = jnp.linspace(0.0, eq.t1, args.times)
    out = {k: [] for k in KEYS}
    if args.append:
        old = np.load(args.append)
        n_phi = np.asarray(ng.predict(model, ts[:1], mus[0]).phis).shape[1]
        if old["phis"].shape[1] != n_phi:
            p.error(f"{args.append} has {old['phis'].shape[1]} online weights per anchor, the "
                    f"model {n_phi}")
        for k in KEYS:
            out[k].append(old[k])
    for mu in mus:
        start = time.perf_counter()
        phi0, _ = ng.fit_initial_condition(eq, model, mu=mu)
        s = ng.solve(eq, model, 0.0, eq.t1, None, phi0, mu, saveat=dfx.SaveAt(ts=ts),
                     max_steps=args.max_steps, residual_tol=None, throw=False)
        ok = np.all(np.isfinite(np.asarray(s.phis)), axis=1)
        if not ok.any():
            p.error(f"mu={mu:g}: the solve gave no online weights at the saved times")
        res = np.asarray(s.residuals)[ok]
        out["phis"].append(np.asarray(s.phis)[ok])
        out["ts"].append(np.asarray(ts)[ok])
        out["mus"].append(np.full(int(ok.sum()), float(mu)))
        out["residuals"].append(res)
        print(f"mu={mu:g}: {int(ok.sum())} anchors up to t = {s.t_reached:g}, Galerkin residual "
              f"{np.min(res):.3g} to {np.max(res):.3g}, {time.perf_counter() - start:.1f} s",
              flush=True)
    arrays = {k: np.concatenate(v) for k, v in out.items()}
    with atomic_path(args.out) as tmp:
        np.savez(tmp, **arrays)
    print(f"saved {arrays['phis'].shape[0]} anchors to {args.out}")


if __name__ == "__main__":
    main()
