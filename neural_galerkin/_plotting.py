"""Figures of a comparison: solution against reference, and the error over space and time."""

import pathlib
from typing import Any

import numpy as np


def plot_comparison(report: dict[str, Any], path: str | pathlib.Path) -> pathlib.Path:
    """Save a figure of a `compare` report (1D): the reduced solution and the FD reference at
    three times, the pointwise error over `(x, t)`, and the relative error over time."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install 'neural-galerkin[plot]'") \
            from None
    x = np.asarray(report["x"])[..., 0]
    if x.ndim != 1:
        raise NotImplementedError("plot_comparison draws 1D solutions only")
    ts, u, ref = report["ts"], report["u"], report["u_ref"]
    fig, axes = plt.subplots(1, 4, figsize=(20, 4.2), constrained_layout=True)
    label = "EQ (Neural Galerkin)" if report["mode"] == "eq" else "D (hypernetwork)"
    for j, c in zip((0, len(ts) // 2, len(ts) - 1), ("C0", "C1", "C2")):
        axes[0].plot(x, ref[j], color=c, lw=2.5, alpha=0.4, label=f"FD, t={ts[j]:.2f}")
        axes[0].plot(x, u[j], color=c, ls="--", label=f"{report['mode'].upper()}, t={ts[j]:.2f}")
    axes[0].set(xlabel="x", ylabel="u", title=f"{report['pde']}, mu={report['mu']:.3g}: {label}")
    axes[0].legend(fontsize=8)
    im = axes[1].pcolormesh(x, ts, np.abs(u - ref), shading="auto", cmap="magma")
    fig.colorbar(im, ax=axes[1], label="|u - u_FD|")
    axes[1].set(xlabel="x", ylabel="t", title="pointwise error")
    axes[2].semilogy(ts, report["errors_over_time"], label="relative L2 error")
    if report.get("residuals") is not None:
        axes[2].semilogy(ts, report["residuals"], label="Galerkin residual ||J phi' - F||/||F||")
    axes[2].set(xlabel="t", title=f"space-time error {report['rel_error']:.2e}")
    axes[2].legend(fontsize=8)
    m = np.asarray(report["mass_over_time"])
    axes[3].semilogy(ts, np.abs(m - m[0]) / abs(m[0]) + 1e-17, label="mass (reference grid)")
    for name, vals in report.get("invariants", {}).items():
        vals = np.asarray(vals)
        axes[3].semilogy(ts, np.abs(vals - vals[0]) / abs(vals[0]) + 1e-17, ls="--",
                         label=f"{name} (conserved)")
    axes[3].set(xlabel="t", title="relative invariant drift |I(t) - I(0)| / |I(0)|")
    axes[3].legend(fontsize=8)
    path = pathlib.Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
