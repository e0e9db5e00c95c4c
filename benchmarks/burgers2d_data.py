"""Does the FD reference reproduce the CoLoRA authors' 2D Burgers data?

    python benchmarks/burgers2d_data.py [--data FILE.npz] [--n 128 256 512]

Starts `pdes.Burgers(lower=(0, 0), upper=(1, 1))` (u_t + u (u_x + u_y) = mu Laplace u, periodic)
from the data's t = 0 snapshot (Fourier-interpolated to n x n), integrates to t = 1 and prints
the relative L2 error against the data at t = 0.5 and t = 1 on the data's 128 x 128 grid, for
each viscosity, with the wall time (compilation excluded). Writes a markdown table.
"""

import argparse
import pathlib
import time

import jax

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402
from _results import save_table  # noqa: E402

import pdes  # noqa: E402
from neural_galerkin._training import load_trajectories  # noqa: E402


def fourier_resample(u: np.ndarray, n: int) -> np.ndarray:
    """Periodic band-limited interpolation of a square snapshot onto an n x n grid."""
    m = u.shape[0]
    if n == m:
        return u
    spec = np.fft.fftshift(np.fft.fft2(u))
    out = np.zeros((n, n), complex)
    lo = (n - m) // 2
    out[lo : lo + m, lo : lo + m] = spec
    return np.real(np.fft.ifft2(np.fft.ifftshift(out))) * (n / m) ** 2


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", default=str(pathlib.Path(__file__).parents[2] / "shared" / "data"
                                         / "colora_burgers2d.npz"))
    p.add_argument("--n", type=int, nargs="+", default=[128, 256, 512])
    p.add_argument("--out", default="benchmarks/results")
    args = p.parse_args()
    data = load_trajectories(args.data)
    m = data.u.shape[-1]
    eq = pdes.Burgers(lower=(0.0, 0.0), upper=(1.0, 1.0), t1=1.0)
    j_half = int(np.argmin(np.abs(data.t - 0.5)))
    ts = np.array([0.0, data.t[j_half], data.t[-1]])
    lines = [f"2D Burgers data ({args.data}, {m} x {m} periodic grid) against the FD reference "
             "started from its t = 0 snapshot: relative L2 error on the data grid", "",
             "| mu | " + " | ".join(f"n={n}: t=0.5, t=1, time [s]" for n in args.n) + " |",
             "|---|" + "---|" * len(args.n)]
    for i, mu in enumerate(data.mu):
        cells = []
        for n in args.n:
            u0 = fourier_resample(data.u[i, 0], n)
            pdes.fd_solve(eq, mu, n, ts, u0=u0)  # compile
            start = time.perf_counter()
            sol = pdes.fd_solve(eq, mu, n, ts, u0=u0)
            us = np.asarray(jax.block_until_ready(sol.us))
            wall = time.perf_counter() - start
            step = n // m
            errs = [np.linalg.norm(us[k][::step, ::step] - data.u[i, j]) /
                    np.linalg.norm(data.u[i, j]) for k, j in ((1, j_half), (2, -1))]
            cells.append(f"{errs[0]:.2e}, {errs[1]:.2e}, {wall:.2f}")
        lines.append(f"| {mu:.5f} | " + " | ".join(cells) + " |")
        print(lines[-1], flush=True)
    save_table(args.out, "burgers2d_data", lines)


if __name__ == "__main__":
    main()
