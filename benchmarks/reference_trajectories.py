"""The equation's own converged reference at the parameters, times and grid of a data set,
saved as an `.npz` that `pretrain --data` and `benchmarks/budget_pretrain.py --data` read:
training data for a model that should hold the equation's solutions rather than the data's
(the CoLoRA authors' RDE snapshots carry the first-order time error of their backward-Euler
steps, 3e-3 to 1e-2, which EQ, solving the equation itself, does not follow).

    python benchmarks/reference_trajectories.py PDE --like DATA --out FILE.npz [--from-data N]

Prints, per parameter, the relative L2 difference (all times and fields) between the data and
the reference. Float64; the reference is `ng.trajectories_from_fd` (the equation's default
reference method) on the data's grid, from the equation's own initial condition. With
`--from-data N` it starts instead from each parameter's first data snapshot and is the
pseudo-spectral reference on `N` points per direction sampled back onto the data's grid
(`data_truth.truth`, the "truth" of `benchmarks/data_truth.py`): for data whose initial
conditions are not the equation's default (the CoLoRA authors' 2D Burgers).
"""

import argparse
import dataclasses
import time
from typing import Any

import jax

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402
from data_truth import truth  # noqa: E402

import neural_galerkin as ng  # noqa: E402
from neural_galerkin._cli import shipped_equation  # noqa: E402
from neural_galerkin._files import atomic_path  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("pde")
    p.add_argument("--like", required=True, help="the data whose parameters, times and grid "
                   "the reference takes (an .npz file or a folder of HDF5 files)")
    p.add_argument("--out", required=True, help="the .npz file to write")
    p.add_argument("--from-data", type=int, metavar="N", default=None,
                   help="start from each parameter's first data snapshot; the spectral "
                   "reference on N points per direction (a multiple of the data's)")
    args = p.parse_args()
    if not args.out.endswith(".npz"):
        p.error(f"--out must name an .npz file, got {args.out!r}")
    eq = shipped_equation(args.pde)
    data = ng.load_trajectories(args.like)
    if not isinstance(data, ng.Trajectories) or data.points.shape[-1] != eq.ndim:
        p.error(f"{args.like} is not grid data of a {eq.ndim}-dimensional equation")
    n = data.u.shape[-1]
    if data.u.shape[-eq.ndim:] != (n,) * eq.ndim:
        p.error(f"the data's grid {data.u.shape[-eq.ndim:]} is not n points per direction")
    if args.from_data is not None and (args.from_data < n or args.from_data % n):
        p.error(f"--from-data {args.from_data} must be a multiple of the data's {n} points "
                "per direction")
    start = time.perf_counter()
    if args.from_data is None:
        ref = ng.trajectories_from_fd(eq, data.mu, n, data.t)
        if not np.allclose(np.asarray(ref.points), np.asarray(data.points), atol=1e-6):
            p.error(f"the equation's grid of {n} points per direction is not the data's")
    else:
        us = []
        for i in range(len(data.mu)):
            us.append(truth(eq, data, i, args.from_data)[0])
            print(f"mu={float(data.mu[i]):g}: {time.perf_counter() - start:.1f} s", flush=True)
        ref = dataclasses.replace(data, u=np.stack(us))
    print(f"reference at {len(data.mu)} parameters, {len(data.t)} times, {n} points per "
          f"direction: {time.perf_counter() - start:.1f} s")
    for mu, r, u in zip(data.mu, np.asarray(ref.u), np.asarray(data.u)):
        print(f"mu={mu:g}: data - reference {np.linalg.norm(u - r) / np.linalg.norm(u):.2e}")
    grid = np.asarray(ref.points).reshape(-1, eq.ndim)
    arrays: dict[str, Any] = {"u": np.asarray(ref.u), "mu": np.asarray(ref.mu),
                              "t": np.asarray(ref.t), "fields": np.array(eq.fields)}
    arrays.update({f"x{i}": np.unique(grid[:, i]) for i in range(eq.ndim)})
    with atomic_path(args.out) as tmp:
        np.savez(tmp, **arrays)
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
