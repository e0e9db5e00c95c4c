"""Fokker-Planck of interacting particles in d = 8: EQ with the Gaussian-envelope ansatz against
the exact moments, Monte Carlo at the same moment errors, and the grid a method-of-lines solver
would need.

    python benchmarks/fokker_planck_highd.py [--d 8] [--mus 0.125 0.375] [--t1 8]
        [--samples 1000] [--particles 10000 100000] [--out benchmarks/results]

EQ: a network with a Gaussian envelope (`envelope=True`, 16 wide, 3 layers, rank 2: 6 alphas
and `d + d(d+1)/2` envelope weights online), **not pretrained**: it starts as the exact initial
Gaussian (`envelope_phi`), the Galerkin points (`--samples`) are drawn from the current
envelope at every step (`EnvelopeSampler`), mass is held by projection (on the Gauss-Hermite
sparse grid in the envelope's frame, the default), Tsit5 with
`PIDController(rtol=1e-6, atol=1e-8)`. Online time excludes compilation (`compile_and_run`).

Errors, at 17 times in `[0, t1]`, the largest over time:
- density: the relative L2 error on R^d, `||u - u_exact|| / ||u_exact||`, by importance sampling
  with the exact density as the proposal (4096 draws: `int f^2 = E_p[f^2 / p]`);
- mean and covariance: `||m - m_exact|| / ||m_exact||`, `||S - S_exact||_F / ||S_exact||_F`
  (the envelope's moments, which are the ansatz's moments while the network's factor stays 1;
  the table gives the largest online weight of the network, which says how far it is from 1);
- mass: the largest relative change of the projection's quadrature.

Monte Carlo: Euler-Maruyama (`FokkerPlanck.monte_carlo`, `dt = 1e-2`) on `--particles`
particles, its moment errors against the exact ones and its wall time (compilation excluded:
a first call compiles). The particles that would reach EQ's moment errors are
extrapolated from the standard errors (`n (SE / target)^2`, statistical error only: the
scheme's `O(dt)` bias would also have to fall below the target, which needs a smaller `dt`
too).

Grid: at `alpha = 0` the operator is a sum of one-dimensional ones and the initial density a
product, so a method-of-lines solution on the `n^d` grid is the product of `d`
one-dimensional ones (second-order central differences in flux form on the box
`[-0.5, 4.5]`, zero at its ends, Tsit5 at `rtol = 1e-10`): its relative L2 error on the full
grid follows from one-dimensional sums
(`||prod a_i - prod b_i||^2 = prod |a_i|^2 - 2 prod <a_i, b_i> + prod |b_i|^2`). The
interaction only adds to what a grid must resolve, so this is the least grid that reaches the
density error. Memory: `pdes._fd.grid_memory_bytes` (float64, 10 copies of the grid for the
Runge-Kutta stages plus 17 saved times).
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
from pdes._fd import grid_memory_bytes  # noqa: E402
from pdes._fokker_planck import trap  # noqa: E402


def rel(a, b, axis=None):
    return np.linalg.norm(np.asarray(a - b), axis=axis) / np.linalg.norm(np.asarray(b), axis=axis)


def density_error(u, mean, cov, key, n=4096):
    """Relative L2 error of `u` on R^d against N(mean, cov), by importance sampling with the
    exact density as the proposal."""
    L = jnp.linalg.cholesky(cov)
    x = mean[None] + jr.normal(key, (n, mean.shape[0])) @ L.T
    p = jax.vmap(lambda y: pdes.gaussian_density(y, mean, cov))(x)
    diff = jax.vmap(u)(x) - p
    return float(jnp.sqrt(jnp.mean(diff**2 / p) / jnp.mean(p)))


def eq_solver(eq, ts, samples, key):
    """The EQ solve `run(phi0, mu)` (throw=False) and its `phi0`: the network, sampler and
    options of this benchmark."""
    emb = ng.PeriodicEmbedding(eq.lower, eq.lengths, unbounded=(True,) * eq.ndim)
    net = ng.CoLoRAMLP(emb, 16, 3, 2, envelope=True, key=key)
    phi0 = ng.envelope_phi(net, eq.mean0, eq.variance0 * jnp.eye(eq.ndim))
    sampler = ng.EnvelopeSampler(samples, jr.fold_in(key, 1))

    def run(phi0, mu):
        return ng.solve(eq, net, ts[0], ts[-1], None, phi0, mu, saveat=dfx.SaveAt(ts=ts),
                        samples=sampler, conserve="mass", throw=False)

    return run, phi0


def eq_run(eq, mu, ts, samples, key):
    run, phi0 = eq_solver(eq, ts, samples, key)
    sol, timing = ng.compile_and_run(run, phi0, jnp.asarray(mu))
    sol = ng.check_solution(sol)
    net = sol.net
    means, covs = eq.moments(ts, mu)
    dens, mean_e, cov_e = [], [], []
    for k in range(len(ts)):
        u = ng.set_phi(net, sol.phis[k])
        dens.append(density_error(u, means[k], covs[k], jr.fold_in(key, 100 + k)))
        mean_e.append(float(rel(u.envelope.mean, means[k])))
        cov_e.append(float(rel(u.envelope.covariance(), covs[k])))
    mass = np.asarray(sol.invariants["mass"])
    n_alpha = ng.num_phi(net) - eq.ndim - eq.ndim * (eq.ndim + 1) // 2
    return {"density_error": max(dens), "mean_error": max(mean_e), "cov_error": max(cov_e),
            "mass_drift": float(np.max(np.abs(mass - mass[0])) / abs(mass[0])),
            "time_s": timing["time_run_s"], "compile_s": timing["time_compile_s"],
            "steps": int(sol.stats["num_accepted_steps"]),
            "rejected": int(sol.stats["num_rejected_steps"]),
            "max_network_weight": float(np.max(np.abs(np.asarray(sol.phis)[:, :n_alpha]))),
            "num_phi": ng.num_phi(net), "max_residual": float(np.max(np.asarray(sol.residuals)))}


def mc_run(eq, mu, ts, n, dt, key):
    jax.block_until_ready(eq.monte_carlo(mu, ts, n, key=jr.fold_in(key, 1), dt=dt).cov)
    start = time.perf_counter()  # compiled by the call above: the run alone
    mc = eq.monte_carlo(mu, ts, n, key=key, dt=dt)
    jax.block_until_ready(mc.cov)
    wall = time.perf_counter() - start
    means, covs = eq.moments(ts, mu)
    k = slice(1, None)  # t = 0: the particles' initial draw, not the scheme
    mean_e = rel(mc.mean[k], means[k], axis=1)
    cov_e = np.linalg.norm(np.asarray(mc.cov[k] - covs[k]), axis=(1, 2)) / np.linalg.norm(
        np.asarray(covs[k]), axis=(1, 2))
    # the statistical part, from the standard errors
    mean_se = np.linalg.norm(np.asarray(mc.mean_se[k]), axis=1) / np.linalg.norm(
        np.asarray(means[k]), axis=1)
    cov_se = np.linalg.norm(np.asarray(mc.cov_se[k]), axis=(1, 2)) / np.linalg.norm(
        np.asarray(covs[k]), axis=(1, 2))
    return {"n": n, "dt": dt, "mean_error": float(mean_e.max()), "cov_error": float(cov_e.max()),
            "mean_se": float(mean_se.max()), "cov_se": float(cov_se.max()), "time_s": wall,
            "steps": mc.num_steps}


def fd_1d(mean0, var0, beta, n, ts, lower=-0.5, upper=4.5):
    """The one-dimensional method of lines of `u_t = ((x - a(t)) u)_x + u_xx / beta` on `n`
    points of `[lower, upper]` (zero at both ends), saved at `ts`; and the exact solution."""
    x = jnp.linspace(lower, upper, n)
    h = (upper - lower) / (n - 1)

    def rhs(t, u, args):
        flux = (x - trap(t)) * u
        out = jnp.zeros_like(u)
        inner = ((flux[2:] - flux[:-2]) / (2 * h)
                 + (u[2:] - 2 * u[1:-1] + u[:-2]) / (h**2 * beta))
        return out.at[1:-1].set(inner)

    u0 = jnp.exp(-(x - mean0) ** 2 / (2 * var0)) / jnp.sqrt(2 * jnp.pi * var0)
    u0 = u0.at[0].set(0.0).at[-1].set(0.0)
    sol = dfx.diffeqsolve(dfx.ODETerm(rhs), dfx.Tsit5(), ts[0], ts[-1], None, u0, None,
                          saveat=dfx.SaveAt(ts=ts), max_steps=1_000_000,
                          stepsize_controller=dfx.PIDController(rtol=1e-10, atol=1e-12))
    return np.asarray(sol.ys), np.asarray(x)


def fd_tensor_error(eq, n, ts):
    """The relative L2 error over time (largest) of the FD solution on the n^d grid at
    alpha = 0, from one-dimensional solves."""
    means, covs = eq.moments(ts, 0.0)
    aa, ab, bb = 1.0, 1.0, 1.0
    for i, m0 in enumerate(np.asarray(eq.mean0)):
        u, x = fd_1d(float(m0), eq.variance0, eq.beta, n, ts)
        m = np.asarray(means[:, i])[:, None]
        v = np.asarray(covs[:, i, i])[:, None]
        ex = np.exp(-(x[None] - m) ** 2 / (2 * v)) / np.sqrt(2 * np.pi * v)
        aa, ab, bb = aa * np.sum(u * u, 1), ab * np.sum(u * ex, 1), bb * np.sum(ex * ex, 1)
    err2 = np.maximum(aa - 2 * ab + bb, 0.0)
    return float(np.max(np.sqrt(err2 / bb)))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--d", type=int, default=8)
    p.add_argument("--mus", type=float, nargs="+", default=[0.125, 0.375])
    p.add_argument("--t1", type=float, default=8.0)
    p.add_argument("--samples", type=int, default=1000)
    p.add_argument("--particles", type=int, nargs="+", default=[10_000, 100_000])
    p.add_argument("--grids", type=int, nargs="+", default=[64, 128, 256, 512])
    p.add_argument("--out", default="benchmarks/results")
    args = p.parse_args()
    eq = pdes.FokkerPlanck.in_dimension(args.d)
    ts = jnp.linspace(0.0, args.t1, 17)
    key = jr.PRNGKey(0)
    rows = []
    for mu in args.mus:
        e = eq_run(eq, mu, ts, args.samples, key)
        mcs = [mc_run(eq, mu, ts, n, 1e-2, jr.fold_in(key, n)) for n in args.particles]
        big = mcs[-1]
        target = max(e["mean_error"], e["cov_error"])
        need = big["n"] * (max(big["mean_se"] / e["mean_error"], big["cov_se"] / e["cov_error"])
                           ** 2)
        per = big["time_s"] / (big["n"] * big["steps"])
        rows.append({"d": args.d, "mu": mu, "eq": e, "mc": mcs, "mc_particles_needed": need,
                     "mc_time_needed_s": need * big["steps"] * per, "target": target})
        print(rows[-1], flush=True)
    fd = []
    for n in args.grids:
        fd.append({"n": n, "error": fd_tensor_error(eq, n, ts),
                   "memory_bytes": grid_memory_bytes((n,) * args.d, len(ts))})
        print(fd[-1], flush=True)
    lines = [f"Fokker-Planck, d = {args.d}, t in [0, {args.t1:g}]: EQ (Gaussian envelope, not "
             f"pretrained, {args.samples} points drawn from the envelope per step, mass by "
             "projection) against the exact moments; errors the largest over 17 times", "",
             "| alpha | density error | mean error | covariance error | mass drift | EQ time [s] "
             "| steps (rejected) | online weights | largest network weight |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        e = r["eq"]
        lines.append(f"| {r['mu']:g} | {e['density_error']:.2e} | {e['mean_error']:.2e} | "
                     f"{e['cov_error']:.2e} | {e['mass_drift']:.1e} | {e['time_s']:.2f} | "
                     f"{e['steps']} ({e['rejected']}) | {e['num_phi']} | "
                     f"{e['max_network_weight']:.1e} |")
    lines += ["", "Monte Carlo (Euler-Maruyama, dt = 1e-2; time without compilation), and the "
              "particles its standard errors say would reach EQ's moment errors "
              "(extrapolated, statistical error only)", "",
              "| alpha | particles | mean error (SE) | covariance error (SE) | time [s] | "
              "particles for EQ's errors | their time (extrapolated) [s] |",
              "|---|---|---|---|---|---|---|"]
    for r in rows:
        for m in r["mc"]:
            last = m is r["mc"][-1]
            lines.append(f"| {r['mu']:g} | {m['n']:.0e} | {m['mean_error']:.1e} "
                         f"({m['mean_se']:.1e}) | {m['cov_error']:.1e} ({m['cov_se']:.1e}) | "
                         f"{m['time_s']:.1f} | "
                         + (f"{r['mc_particles_needed']:.1e} | {r['mc_time_needed_s']:.1e} |"
                            if last else "| |"))
    lines += ["", f"Method of lines on the n^{args.d} grid at alpha = 0 (the product of "
              "one-dimensional solves; relative L2 error on the grid, largest over time) and "
              "its memory", "", "| n | density error | memory [GiB] |", "|---|---|---|"]
    for f in fd:
        lines.append(f"| {f['n']} | {f['error']:.2e} | {f['memory_bytes'] / 2**30:.2e} |")
    save_table(args.out, "fokker_planck_highd", lines,
               {"rows": rows, "fd": fd, "d": args.d, "t1": args.t1})


if __name__ == "__main__":
    main()
