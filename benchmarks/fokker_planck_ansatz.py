"""The choice of ansatz for a density on R^d, measured: the Gaussian envelope with online mean
and Cholesky factor times `exp(network)` (the shipped ansatz), against the log-density
carried by the network alone in a fixed frame (the same network with the envelope frozen at
the initial Gaussian: `log u = log q0 + N`, `N` a CoLoRA network; the envelope's fixed
quadratic part only makes it integrable).

    python benchmarks/fokker_planck_ansatz.py [--out benchmarks/results]

`pdes.FokkerPlanck` in 2D at `alpha = 0.35`, `t` in `[0, 1]` (the mean moves by about three
initial standard deviations); untrained networks (8 wide rank 2: 11 online weights, 6 of
them the network's; 16 wide rank 8: 29, 24), EQ from the initial Gaussian, 400 points drawn
from the envelope (the same draws every step), ridge 1e-6, Tsit5 at the default tolerances,
at most 500 steps. The frozen envelope through `ng.AdaptiveOnline(network weights,
tol=None)`. Errors: relative L2 of the density by importance sampling at 4000 points drawn
from the exact density.
"""

import argparse
import time

import jax

jax.config.update("jax_enable_x64", True)

import diffrax as dfx  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import jax.random as jr  # noqa: E402
import numpy as np  # noqa: E402
from _results import save_table  # noqa: E402

import neural_galerkin as ng  # noqa: E402
import pdes  # noqa: E402


def density_error(eq, net, phi, t, mu):
    x = eq.sample(4000, t, mu, jr.PRNGKey(5))
    p = jax.vmap(lambda y: eq.exact(y, t, mu))(x)
    u = jax.vmap(ng.set_phi(net, phi))(x)
    return float(jnp.sqrt(jnp.mean((u - p) ** 2 / p) / jnp.mean(p)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="benchmarks/results")
    args = ap.parse_args()
    eq = pdes.FokkerPlanck.in_dimension(2)
    mu, ts = 0.35, jnp.array([0.0, 0.5, 1.0])
    rows = []
    for width, rank in [(8, 2), (16, 8)]:
        emb = ng.PeriodicEmbedding(eq.lower, eq.lengths, unbounded=(True, True))
        net = ng.CoLoRAMLP(emb, width, 3, rank, envelope=True, key=jr.PRNGKey(0))
        phi0 = ng.envelope_phi(net, eq.mean0, eq.variance0 * jnp.eye(2))
        network = np.array(["envelope" not in name for name in ng.online_labels(net)])
        for ansatz, adaptive in [("envelope online x exp(network)", None),
                                 ("log-density network, envelope frozen",
                                  ng.AdaptiveOnline(network, tol=None))]:
            start = time.perf_counter()
            sol = ng.solve(eq, net, 0.0, 1.0, None, phi0, mu, saveat=dfx.SaveAt(ts=ts),
                           samples=ng.EnvelopeSampler(400, jr.PRNGKey(1), redraw=False),
                           lstsq=ng.LeastSquares(ridge=1e-6), adaptive=adaptive,
                           residual_tol=None, max_steps=500, throw=False)
            wall = time.perf_counter() - start
            errs = [density_error(eq, net, sol.phis[k], ts[k], mu) for k in (1, 2)]
            res = np.asarray(sol.residuals)
            row = {"width": width, "rank": rank, "online": int(ng.num_phi(net)),
                   "moving": int(ng.num_phi(net) if adaptive is None else network.sum()),
                   "ansatz": ansatz, "error_t05": errs[0], "error_t1": errs[1],
                   "max_residual": float(np.nanmax(res)) if np.isfinite(res).any() else None,
                   "steps": int(sol.stats["num_steps"]), "ok": sol.message == "successful",
                   "wall_s": wall}
            rows.append(row)
            print(row, flush=True)

    def fmt(e):
        return f"{e:.1e}" if np.isfinite(e) else "not reached"

    lines = ["Fokker-Planck 2D, alpha = 0.35, t in [0, 1], untrained networks, EQ from the "
             "initial Gaussian (400 envelope points, ridge 1e-6, at most 500 steps); relative "
             "L2 error of the density at points drawn from the exact one", "",
             "| network | ansatz | weights moving | error t = 0.5 | error t = 1 "
             "| max residual | steps | reached t = 1 | wall [s] |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        res = "-" if r["max_residual"] is None else f"{r['max_residual']:.1e}"
        lines.append(f"| {r['width']} wide, rank {r['rank']} | {r['ansatz']} | "
                     f"{r['moving']} of {r['online']} | {fmt(r['error_t05'])} | "
                     f"{fmt(r['error_t1'])} | {res} | {r['steps']} | "
                     f"{'yes' if r['ok'] else 'no'} | {r['wall_s']:.1f} |")
    save_table(args.out, "fokker_planck_ansatz", lines, rows)


if __name__ == "__main__":
    main()
