"""Figures of a comparison: solution against reference, and the error over space and time."""

import pathlib
from typing import Any

import numpy as np

from ._compare import mass_drift_over_time
from ._files import atomic_path
from ._report import ComparisonReport


class MissingMatplotlib(ImportError):
    """Plotting asked for where matplotlib (the `plot` extra) is not installed."""


def plot_comparison(report: ComparisonReport, path: str | pathlib.Path) -> pathlib.Path:
    """Save a figure of a `compare` report. 1D: the reduced solution and the reference at
    three times, the pointwise error over `(x, t)`, the relative error and the Galerkin
    residual over time, and the invariants' drift. 2D: images of the reduced solution, the
    reference and the pointwise error at three times, and the same curves over time. A
    system of fields gets the solution and error panels once per field."""
    plt = _pyplot()
    x = report.x
    names = list(report.field_errors) or [None]  # a system's fields; None: one field
    if x.ndim == 3 and x.shape[-1] == 2:
        return _plot_2d(report, path, plt, names)
    x = x[..., 0]
    if x.ndim != 1:
        raise NotImplementedError("plot_comparison draws solutions on 1D and 2D grids only")
    ts = report.ts
    fig, axes = plt.subplots(len(names), 4, figsize=(20, 4.2 * len(names)),
                             constrained_layout=True, squeeze=False)
    label = "EQ (Neural Galerkin)" if report.mode == "eq" else "D (hypernetwork)"
    for k, name in enumerate(names):
        u, ref = _of_field(report.u, k, name), _of_field(report.u_ref, k, name)
        field = name or "u"
        ax = axes[k]
        for j, c in zip((0, len(ts) // 2, len(ts) - 1), ("C0", "C1", "C2")):
            ax[0].plot(x, ref[j], color=c, lw=2.5, alpha=0.4, label=f"reference, t={ts[j]:.2f}")
            ax[0].plot(x, u[j], color=c, ls="--", label=f"{report.mode.upper()}, t={ts[j]:.2f}")
        ax[0].set(xlabel="x", ylabel=field, title=f"{report.pde}, mu={report.mu:.3g}: {label}")
        ax[0].legend(fontsize=8)
        im = ax[1].pcolormesh(x, ts, np.abs(u - ref), shading="auto", cmap="magma")
        fig.colorbar(im, ax=ax[1], label=f"|{field} - {field}_ref|")
        ax[1].set(xlabel="x", ylabel="t", title=f"pointwise error of {field}")
        if k:
            ax[2].axis("off")
            ax[3].axis("off")
    _curves(report, axes[0, 2], axes[0, 3])
    return _save(fig, path, plt)


def _of_field(u, k: int, name: str | None):
    """Field `k` of solution values `(times, [fields,] *grid)`: all of them for one field."""
    return u if name is None else u[:, k]


def plot_history(history: dict[str, Any], path: str | pathlib.Path) -> pathlib.Path:
    """Save a figure of a `pretrain` loss history: the loss against the step (log scale)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4), constrained_layout=True)
    ax.semilogy(history["step"], history["loss"], marker=".")
    ax.set(xlabel="step", ylabel="relative loss (mean over the steps before)",
           title=f"pretraining: {history['time_s']:.0f} s of wall time")
    ax.grid(True, which="both", alpha=0.3)
    return _save(fig, path, plt)


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise MissingMatplotlib("plotting needs matplotlib: pip install 'neural-galerkin[plot]'") \
            from None
    return plt


def _plot_2d(report: ComparisonReport, path, plt, names):
    x, ts = report.x, report.ts
    rows = 3 * len(names)
    fig, axes = plt.subplots(rows, 4, figsize=(19, 4 * rows), constrained_layout=True)
    d0, d1 = x[1, 0, 0] - x[0, 0, 0], x[0, 1, 1] - x[0, 0, 1]  # periodic cells: show the box
    # x_1 across, x_2 up (images are indexed [x_1, x_2]: transposed for imshow)
    extent = (x[0, 0, 0], x[-1, 0, 0] + d0, x[0, 0, 1], x[0, -1, 1] + d1)
    mode = report.mode.upper()
    for k, name in enumerate(names):
        u, ref = _of_field(report.u, k, name), _of_field(report.u_ref, k, name)
        lo, hi = min(u.min(), ref.min()), max(u.max(), ref.max())
        field = "" if name is None else f"{name}: "
        for col, j in enumerate((0, len(ts) // 2, len(ts) - 1)):
            for row, (img, title, cmap, kw) in enumerate((
                    (u[j], f"{field}{mode}, t={ts[j]:.2f}", "viridis", dict(vmin=lo, vmax=hi)),
                    (ref[j], f"{field}reference, t={ts[j]:.2f}", "viridis",
                     dict(vmin=lo, vmax=hi)),
                    (np.abs(u[j] - ref[j]), f"{field}|error|, t={ts[j]:.2f}" + (
                        f" (rel. {report.errors_over_time[j]:.1e})" if name is None else ""),
                     "magma", {}))):
                ax = axes[3 * k + row, col]
                im = ax.imshow(img.T, origin="lower", extent=extent, aspect="auto", cmap=cmap,
                               **kw)
                ax.set(xlabel="x_1", ylabel="x_2", title=title)
                fig.colorbar(im, ax=ax)
    _curves(report, axes[0, 3], axes[1, 3])
    for row in range(2, rows):
        axes[row, 3].axis("off")
    fig.suptitle(f"{report.pde}, mu={report.mu:.3g}: space-time error "
                 f"{report.rel_error:.2e}")
    return _save(fig, path, plt)


def _save(fig, path, plt) -> pathlib.Path:
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=110)
    finally:
        plt.close(fig)
    return pathlib.Path(path)


def _curves(report: ComparisonReport, ax_err, ax_drift):
    """The relative error and the Galerkin residual over time; the invariants' drift."""
    ts = report.ts
    ax_err.semilogy(ts, report.errors_over_time, label="relative L2 error")
    if report.residuals is not None:
        ax_err.semilogy(ts, report.residuals, label="Galerkin residual ||J phi' - F||/||F||")
    ax_err.set(xlabel="t", title=f"space-time error {report.rel_error:.2e}")
    ax_err.legend(fontsize=8)
    drifts = mass_drift_over_time(report.mass_over_time, report.mass_scales)  # as reported
    names = list(report.field_errors) or ["u"]
    for k in range(drifts.shape[1]):
        ax_drift.semilogy(ts, drifts[:, k] + 1e-17,
                          label="mass (reference grid)" if drifts.shape[1] == 1
                          else f"mass of {names[k]} (reference grid)")
    for name, vals in report.invariants.items():
        ax_drift.semilogy(ts, np.abs(vals - vals[0]) / max(abs(vals[0]), 1e-300) + 1e-17,
                          ls="--", label=f"{name} (conserved)")
    ax_drift.set(xlabel="t", title="relative invariant drift |I(t) - I(0)| / |I(0)|")
    ax_drift.legend(fontsize=8)
