"""A KdV model of a chosen size trained from scratch on the recipe's data. Its defaults are
the shipped model's recipe (rank 3, four Fourier frequencies in the input embedding: the box
is 60 long, a soliton about 1 wide) except the number of steps: `--steps 60000` made the
shipped weights (float32, on a GPU). `neural-galerkin pretrain kdv` has the same data,
settings and key but trains in float64, as the command line does, so its weights differ;
the default 23,000 steps is the CPU run of the "larger model" study in docs/benchmarks.md.

    python benchmarks/kdv_larger_model.py --out DIR [--steps 23000] [--time-limit 2500]
        [--width 48 --depth 5 --rank 3 --n-freq 4] [--residual-points 128] [--seed 5]

The recipe's data (`neural-galerkin pretrain kdv`: the exact two-soliton solution at 4096
random points, 101 times, the six training wave numbers), its residual term (weight 1) and
peak learning rate (3e-3), the online embedding shift; float32 (x64 is not switched on).
Writes the model to `DIR/model` (checkpoints in `DIR/checkpoint`). Measure it with
`python benchmarks/kdv_eq_drift.py --weights DIR/model [--mu 1.75]`.
"""

import argparse
import json
import time

import jax.random as jr

import neural_galerkin as ng
from neural_galerkin._cli import shipped_equation
from neural_galerkin._data import recipe_data
from neural_galerkin._recipes import RECIPES
from neural_galerkin._training import pretrain


def main():
    rec = RECIPES["kdv"]  # the defaults of the sizes, residual points and seed are its
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--steps", type=int, default=23_000)
    p.add_argument("--time-limit", type=float, default=None, help="seconds")
    for size in ("width", "depth", "rank", "n_freq"):
        p.add_argument("--" + size.replace("_", "-"), type=int, default=rec.model[size])
    p.add_argument("--residual-points", type=int, default=rec.residual_points)
    p.add_argument("--seed", type=int, default=rec.seed, help="the training key")
    args = p.parse_args()
    eq = shipped_equation("kdv")
    start = time.time()
    model, h = pretrain(recipe_data(eq, rec), equation="kdv", width=args.width,
                        depth=args.depth, rank=args.rank, n_freq=args.n_freq,
                        online_shift=rec.model["online_shift"], steps=args.steps,
                        key=jr.PRNGKey(args.seed), pde=eq,
                        residual_weight=rec.residual_weight,
                        residual_points=args.residual_points, learning_rate=rec.learning_rate,
                        log_every=500, time_limit=args.time_limit, progress=False,
                        checkpoint_dir=f"{args.out}/checkpoint", checkpoint_every=2000)
    ng.save_model(f"{args.out}/model", model)
    print(json.dumps({"time_s": time.time() - start, "done": h["done"],
                      "stopped": h["stopped"], "last_loss": h["loss"][-3:]}), flush=True)


if __name__ == "__main__":
    main()
