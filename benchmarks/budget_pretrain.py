"""Pretrain a shipped system's model within a wall-time budget (for a borrowed GPU): a short
calibration run measures the time per step, then one run whose cosine schedule is sized to
the time left, so that the learning rate has decayed when the budget ends (a `time_limit`
alone would stop mid-schedule, at a high rate). Writes the model and a JSON record of the run
(steps, time per step, loss, D errors at the held-out parameters) to `--out`.

    python benchmarks/budget_pretrain.py JOB --out DIR --budget SECONDS [--data PATH]
        [--init WEIGHTS] [--width W --depth D --rank R --n-freq K]
        [--batch-snapshots 32 --batch-points 4096] [--learning-rate 1e-3]
        [--residual-weight 0.1 --residual-points 256 --residual-snapshots 16]
        [--early-weight 20 --early-fade 0.025]
        [--tangent-weight 1 --tangent-sigma 0.1 --tangent-points 128 --tangent-snapshots 8]
        [--tangent-anchors ANCHORS.npz]

JOB names the data and held-out parameters: `vlasov-colora` (the CoLoRA authors' HDF5 folder,
held out 0.25, 0.35), `rde` (their RDE folder, held out 2.3, 2.7), `burgers-2d` (their 2D
Burgers snapshots as one `.npz`, held out 0.00397, 0.00793), `wave-2d` (the exact
solution on the 64 x 64 grid at 81 times, the recipe's six training speeds, held out 0.55,
0.85). Float32 unless JAX_ENABLE_X64 is set. The D errors printed here are float32
evaluations; the tables quote float64 ones measured afterwards.
"""

import argparse
import json
import pathlib
import time

import jax
import jax.random as jr
import numpy as np
from _results import held_out_split

import neural_galerkin as ng
import pdes
from neural_galerkin._cli import shipped_equation
from neural_galerkin._compare import relative_error
from neural_galerkin._data import exact_on_grid
from neural_galerkin._files import write_text_atomic
from neural_galerkin._recipes import RECIPES
from neural_galerkin._training import Trajectories, early_time_weights, load_trajectories, pretrain

HELD_OUT = {"vlasov-colora": (0.25, 0.35), "rde": (2.3, 2.7), "wave-2d": (0.55, 0.85),
            "burgers-2d": (0.00397, 0.00793)}


def wave_data(n: int = 64, n_times: int = 81) -> Trajectories:
    """The wave-2d exact solution on the `n x n` grid at `n_times` times in [0, t1], at the
    recipe's training speeds and the held-out ones."""
    eq = pdes.Wave2D()
    mus = np.array(sorted({*RECIPES["wave-2d"].train_mus, *HELD_OUT["wave-2d"]}))
    return exact_on_grid(eq, mus, np.linspace(0.0, eq.t1, n_times), n)


def d_errors(model, data: Trajectories, test) -> list[dict]:
    pts = np.asarray(data.points)
    out = []
    for i in test:
        u = np.asarray(ng.predict(model, data.t, float(data.mu[i])).evaluate(pts))
        ref = np.asarray(data.u[i]).reshape(u.shape)
        row: dict = {"mu": float(data.mu[i]), "error": relative_error(u, ref)}
        if model.config.n_fields > 1:  # (t, fields, *grid)
            row["per_field"] = [relative_error(u[:, k], ref[:, k]) for k in range(u.shape[1])]
        out.append(row)
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("job", choices=sorted(HELD_OUT))
    p.add_argument("--out", required=True)
    p.add_argument("--budget", type=float, required=True, help="seconds in all, from start")
    p.add_argument("--data", help="the authors' data (vlasov-colora, rde, burgers-2d)")
    p.add_argument("--init", help="weights to continue from (else a fresh model)")
    p.add_argument("--width", type=int, default=40)
    p.add_argument("--depth", type=int, default=6)
    p.add_argument("--rank", type=int, default=3)
    p.add_argument("--n-freq", type=int, default=1)
    p.add_argument("--batch-snapshots", type=int, default=32)
    p.add_argument("--batch-points", type=int, default=4096)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--residual-weight", type=float, default=0.0)
    p.add_argument("--residual-points", type=int, default=256)
    p.add_argument("--residual-snapshots", type=int, default=16)
    p.add_argument("--early-weight", type=float, default=0.0,
                   help="draw the first snapshot 1 + this many times as often as the late ones "
                   "(early_time_weights; 0: uniform)")
    p.add_argument("--early-fade", type=float, default=None,
                   help="the time over which that emphasis fades (default: a 40th of the data's "
                   "time span)")
    p.add_argument("--tangent-weight", type=float, default=0.0,
                   help="weight of the tangent-space term (pretrain's tangent_weight: the "
                   "Galerkin least-squares residual at perturbed online weights)")
    p.add_argument("--tangent-sigma", type=float, default=0.0,
                   help="perturbation of the online weights in the tangent term, in units "
                   "of their spread over the training trajectories")
    p.add_argument("--tangent-anchors", default=None,
                   help="an .npz of anchors (benchmarks/eq_anchors.py): the tangent term at "
                   "these online weights, times and parameters instead of the trajectories'")
    p.add_argument("--tangent-points", type=int, default=128)
    p.add_argument("--tangent-snapshots", type=int, default=8)
    p.add_argument("--calibration-steps", type=int, default=400)
    p.add_argument("--reserve", type=float, default=40.0,
                   help="seconds kept for the final evaluation and saving")
    p.add_argument("--safety", type=float, default=0.8,
                   help="fraction of the time left that the sized schedule is to take")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    if args.job != "wave-2d" and args.data is None:
        p.error(f"{args.job} trains on the CoLoRA authors' data: give --data")
    if args.calibration_steps < 2 or args.calibration_steps % 2:
        p.error("--calibration-steps must be an even number >= 2 (two halves: compile, time)")
    if args.tangent_weight <= 0 and (args.tangent_sigma > 0 or args.tangent_anchors):
        p.error("--tangent-sigma and --tangent-anchors need --tangent-weight (the tangent term)")
    start = time.time()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    record: dict = {"args": vars(args), "devices": [str(d) for d in jax.devices()],
                    "jax": jax.__version__}

    def note(**kw):
        record.update(kw)
        write_text_atomic(out / "record.json", json.dumps(record, indent=1))
        print(args.job, json.dumps(kw), flush=True)

    data = wave_data() if args.job == "wave-2d" else load_trajectories(args.data)
    test, train = held_out_split(data, HELD_OUT[args.job])
    note(loaded_s=time.time() - start, train_mus=train.mu.tolist(),
         test_mus=[float(data.mu[i]) for i in test])
    kw = dict(batch_snapshots=args.batch_snapshots, batch_points=args.batch_points,
              learning_rate=args.learning_rate, progress=False)
    if args.early_weight > 0:
        kw["time_weights"] = early_time_weights(data.t, args.early_weight, args.early_fade)
    if args.residual_weight > 0:
        kw.update(pde=shipped_equation(args.job), residual_weight=args.residual_weight,
                  residual_points=args.residual_points,
                  residual_snapshots=args.residual_snapshots)
    if args.tangent_weight > 0:
        kw.update(pde=shipped_equation(args.job), tangent_weight=args.tangent_weight,
                  tangent_sigma=args.tangent_sigma, tangent_points=args.tangent_points,
                  tangent_snapshots=args.tangent_snapshots)
        if args.tangent_anchors:
            a = np.load(args.tangent_anchors)
            kw["tangent_anchors"] = (a["phis"], a["ts"], a["mus"])
    if args.init:
        model = ng.load_model(args.init)
        fresh = {}
    else:
        model = None
        fresh = dict(equation=args.job, width=args.width, depth=args.depth, rank=args.rank,
                     n_freq=args.n_freq, fields=tuple(getattr(data, "fields", ("u",))))
    n_cal = args.calibration_steps
    # a continued model calibrates at a tenth of the rate, so that it is not thrown off
    cal_kw = dict(kw, learning_rate=args.learning_rate / (10 if model is not None else 1))
    model, h = pretrain(train, steps=n_cal, log_every=n_cal // 2, key=jr.PRNGKey(args.seed),
                        **({"init": model} if model is not None else fresh), **cal_kw)
    per_step = (h["wall_s"][1] - h["wall_s"][0]) / (n_cal // 2)
    compile_s = h["wall_s"][0] - per_step * (n_cal // 2)
    left = args.budget - (time.time() - start) - args.reserve - compile_s
    steps = max(1000, int(args.safety * left / per_step) // 1000 * 1000)
    note(calibration={"per_step_s": per_step, "compile_s": compile_s, "loss": h["loss"]},
         steps=steps, errors_after_calibration=d_errors(model, data, test))
    ckpt = out / "checkpoint"
    model, h = pretrain(train, steps=steps, log_every=1000, key=jr.PRNGKey(args.seed + 1),
                        init=model, checkpoint_dir=ckpt, checkpoint_every=5000,
                        time_limit=max(60.0, args.budget - (time.time() - start)
                                       - args.reserve),
                        **kw)
    ng.save_model(out / "model", model)
    record["history"] = {k: h[k] for k in ("step", "loss", "wall_s")}
    note(time_s=h["time_s"], done=h["done"], stopped=h["stopped"], last_loss=h["loss"][-3:],
         d_errors=d_errors(model, data, test), total_s=time.time() - start)


if __name__ == "__main__":
    main()
