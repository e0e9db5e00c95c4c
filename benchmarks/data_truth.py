"""D and EQ against the data and against the PDE's own solution from the data's first snapshot.

    python benchmarks/data_truth.py PDE --data FILE_OR_DIR [--weights W] [--mus ...]
        [--n 256] [--check-n 384] [--samples N] [--name NAME] [--out benchmarks/results]

The equation-driven solve (EQ) follows the PDE; the data-driven prediction (D) follows the
data. Where the data are not the PDE's solution to the accuracy asked of EQ (another
discretisation, a coarser solver), EQ's error against the data has a floor that no network
can remove. This script measures it: the **truth** is the pseudo-spectral reference
(`pdes.reference_solve(method="spectral")`, dealiased, Tsit5 rtol 1e-10) on `--n` points per
direction started from the data's first snapshot (Fourier-interpolated from the data's
periodic grid), sampled back onto the data's grid; `--check-n` repeats it on a finer grid to
show it is converged. Then, per held-out parameter: the data against the truth, D and EQ
against the data (`ng.compare(data=...)`) and against the truth (`ng.compare` with the truth
as the data: EQ from the same first snapshot). Space-time relative L2 over the data's
snapshots, float64. Periodic boxes with a uniform grid (as the CoLoRA authors' 2D Burgers).
"""

import argparse
import dataclasses
import time

import jax

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402
from _results import add_data_arguments, load_data_problem, machine, save_table  # noqa: E402

import neural_galerkin as ng  # noqa: E402
import pdes  # noqa: E402
from neural_galerkin._compare import relative_error  # noqa: E402


def fourier_resample(u: np.ndarray, n: int) -> np.ndarray:
    """A periodic array on `m^d` points (the last `d` axes) on `n^d` points, `n` even and at
    least `m`: its trigonometric interpolant (the Nyquist mode of an even `m` split evenly
    between +/- m/2, so the result stays real)."""
    d = u.ndim
    m = u.shape[0]
    if n == m:
        return u
    spec = np.fft.fftn(u)
    out = np.zeros((n,) * d, complex)
    half = m // 2
    idx = [np.r_[0:half, n - half:n] for _ in range(d)]
    src = [np.r_[0:half, m - half:m] for _ in range(d)]
    if m % 2 == 0:  # split the Nyquist mode
        for ax in range(d):
            sl = [slice(None)] * d
            sl[ax] = half
            spec[tuple(sl)] *= 0.5
        idx = [np.r_[0:half + 1, n - half:n] for _ in range(d)]
        src = [np.r_[0:half + 1, m - half:m] for _ in range(d)]
    out[np.ix_(*idx)] = spec[np.ix_(*src)]
    return np.real(np.fft.ifftn(out)) * (n / m) ** d


def truth(eq, data: ng.Trajectories, i: int, n: int) -> tuple[np.ndarray, float]:
    """The spectral reference at `data.mu[i]` on `n` points per direction from the data's
    first snapshot, on the data's grid; and its wall time."""
    m = len(data.x[0])
    if n % m:
        raise ValueError(f"--n {n} must be a multiple of the data's {m} points per direction")
    first = np.asarray(data.u[i, 0])
    u0 = (fourier_resample(first, n) if data.n_fields == 1 else
          np.stack([fourier_resample(f, n) for f in first]))
    start = time.perf_counter()
    ref = pdes.reference_solve(eq, float(data.mu[i]), n, np.asarray(data.t), method="spectral",
                               u0=u0)
    us = np.asarray(ref.us)
    wall = time.perf_counter() - start
    step = n // m
    sl = (slice(None),) * (1 + (data.n_fields > 1)) + (slice(None, None, step),) * data.ndim
    out = np.array(us[sl])
    out[0] = first  # the same first snapshot exactly (the interpolant holds it to round-off)
    return out, wall


def main():
    p = argparse.ArgumentParser()
    add_data_arguments(p)
    p.add_argument("--n", type=int, default=256)
    p.add_argument("--check-n", type=int, default=384)
    args = p.parse_args()
    eq, model, data, mus = load_data_problem(args)
    rows = []
    for mu in mus:
        i = int(np.flatnonzero(np.isclose(data.mu, mu, rtol=1e-9))[0])
        u_true, wall = truth(eq, data, i, args.n)
        u_check, wall_check = truth(eq, data, i, args.check_n)
        one = dataclasses.replace(data, u=u_true[None], mu=np.asarray([data.mu[i]]))
        row = {"mu": mu, "data_vs_truth": relative_error(np.asarray(data.u[i]), u_true),
               "truth_vs_check": relative_error(u_true, u_check), "truth_s": wall,
               "check_s": wall_check}
        for name, against in (("data", data), ("truth", one)):
            d = ng.compare(eq, model, mu, mode="d", data=against)
            e = ng.compare(eq, model, mu, mode="eq", data=against, samples=args.samples)
            row.update({f"D_vs_{name}": d.rel_error, f"EQ_vs_{name}": e.rel_error,
                        f"EQ_fit_{name}": e.fit_error, f"EQ_residual_{name}": e.max_residual,
                        f"EQ_time_{name}": e.time_online_s})
        print(row, flush=True)
        rows.append(row)
    lines = [f"{args.pde}: D and EQ (model {args.weights or 'shipped'}, "
             f"{args.samples or 'default'} Galerkin samples, EQ from the data's first snapshot) "
             "against the data and against the truth: the pseudo-spectral reference on "
             f"{args.n} points per direction from the data's first snapshot (Fourier-"
             f"interpolated), on the data's grid ({args.check_n} points: the 'truth n vs check "
             f"n' column). Space-time relative L2, float64, {machine()}. `python "
             f"benchmarks/data_truth.py {args.pde} --data FILE --n {args.n} --check-n "
             f"{args.check_n}`", "",
             "| mu | data vs truth | truth n vs check n | D vs data | EQ vs data | EQ / D (data) "
             "| D vs truth | EQ vs truth | EQ vs truth / D vs data | EQ max Galerkin residual | "
             "truth time [s] |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['mu']:g} | {r['data_vs_truth']:.2e} | {r['truth_vs_check']:.1e} | "
                     f"{r['D_vs_data']:.2e} | {r['EQ_vs_data']:.2e} | "
                     f"{r['EQ_vs_data'] / r['D_vs_data']:.2f} | {r['D_vs_truth']:.2e} | "
                     f"{r['EQ_vs_truth']:.2e} | {r['EQ_vs_truth'] / r['D_vs_data']:.2f} | "
                     f"{r['EQ_residual_truth']:.3f} | {r['truth_s']:.1f} |")
    save_table(args.out, args.name or f"{args.pde.replace('-', '_')}_truth", lines, rows)


if __name__ == "__main__":
    main()
