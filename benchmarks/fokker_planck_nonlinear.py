"""Fokker-Planck in an anharmonic trap (`pdes.FokkerPlanckQuartic`): no exact solution, so EQ's
moments are measured against a reference Monte Carlo run with its error bar, and EQ's time
against the Monte Carlo time for the same moment accuracy.

    python benchmarks/fokker_planck_nonlinear.py [--d 4] [--mus 0.125 0.375] [--t1 2]
        [--samples 1000] [--ridge 1.0] [--ref-particles 200000] [--out benchmarks/results]
    python benchmarks/fokker_planck_nonlinear.py --shape [--d 4] [--mus 0.375] [--t1 2]
    python benchmarks/fokker_planck_nonlinear.py --plot [--d 4] [--mus 0.375] [--t1 2]

`--plot`: the first particle's marginal density at `t = t1 / 8` (the transient) and `t1`, EQ
(envelope only, and envelope + network; a histogram of `4e5` envelope draws weighted by
`u / q`) against a histogram of `1e5` Euler-Maruyama particles (`dt = 1e-3`), saved as
`fokker_planck_nonlinear_marginal.png` under `--out`.

`--shape`: only how far from Gaussian the density is: the skewness and excess kurtosis of each
particle's marginal (largest in absolute value over the particles) at the saved times, from
Euler-Maruyama on `1e5` particles at `dt = 2e-3` (the standard error of a skewness is about
`sqrt(6 / n) = 0.008`, of an excess kurtosis `sqrt(24 / n) = 0.015`); the linear trap's are 0.

EQ: the network of `fokker_planck_highd.py` (Gaussian envelope, 16 wide, 3 layers, rank 2, not
pretrained: it starts as the exact initial Gaussian), the Galerkin points drawn from the current
envelope (`EnvelopeSampler(redraw=False)`: the same standard normal draws mapped through the
envelope at every step, so that `phi_dot` is a smooth function of `phi`; with `redraw=True` the
draws' noise made the step size collapse here), Tsit5 with `PIDController(rtol=1e-6,
atol=1e-8)` and a ridge on the least squares (`LeastSquares(ridge=--ridge)`: without it the
network's CoLoRA coefficients, whose columns of `J` are tiny at the start, got velocities of
about 3000 and the first steps were 1e-10 long: measured in 2D). Three online sets:

- **envelope only**: the network's coefficients held at zero (`AdaptiveOnline(envelope,
  tol=None)`), the ansatz a Gaussian; it keeps its mass exactly (a normalised Gaussian), and
  no mass projection is asked for (with only the envelope online the mass constraint's
  Jacobian row is zero);
- **envelope + network**: every online weight, mass held by projection (`conserve="mass"`);
- **envelope + network, rank 8, ridge 0.1**: more network online weights (24 CoLoRA
  coefficients instead of 6) and less damping, the first thing to try when the network does
  not help.

Moments of the ansatz: `ng.ansatz_moments` (importance sampling from the envelope with its exact
moments as control variate, `1e5` draws), so the network's part is counted.

Reference: Euler-Maruyama (`FokkerPlanckQuartic.monte_carlo`) on `--ref-particles` particles at
`dt = 1e-3`, and again at `dt = 2e-3` (another key): the difference estimates the `O(dt)` bias
of the `dt = 1e-3` run (weak order one: the bias at `dt` is about the difference of the two).
Errors: `||m - m_ref|| / ||m_ref||`, `||S - S_ref||_F / ||S_ref||_F`, the largest over the saved
times after `t = 0`; beside them the reference's own error bar (its standard errors, in the
same norms) and the dt difference. Monte Carlo for EQ's accuracy: the particles whose standard
errors equal EQ's error (`n (SE / error)^2`) at the reference's cost per particle step and
`dt = 1e-3` (a statistical count: the dt bias must also be below it). Times exclude
compilation (`compile_and_run`; Monte Carlo compiled by a first call).
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


def rel(a, b, axis=None):
    return np.linalg.norm(np.asarray(a - b), axis=axis) / np.linalg.norm(np.asarray(b), axis=axis)


def mc_ref(eq, mu, ts, n, dt, key):
    jax.block_until_ready(eq.monte_carlo(mu, ts, 16, key=key, dt=dt).cov)  # compiles
    start = time.perf_counter()
    mc = eq.monte_carlo(mu, ts, n, key=key, dt=dt)
    jax.block_until_ready(mc.cov)
    return mc, time.perf_counter() - start


def eq_run(eq, mu, ts, samples, ridge, network, key, rank=2):
    d = eq.ndim
    emb = ng.PeriodicEmbedding(eq.lower, eq.lengths, unbounded=(True,) * d)
    net = ng.CoLoRAMLP(emb, 16, 3, rank, envelope=True, key=key)
    phi0 = ng.envelope_phi(net, eq.mean0, eq.variance0 * jnp.eye(d))
    p, n_env = ng.num_phi(net), d + d * (d + 1) // 2
    envelope = np.arange(p) >= p - n_env  # the envelope's mean and Cholesky factor last
    sampler = ng.EnvelopeSampler(samples, jr.fold_in(key, 1), redraw=False)

    def run(phi0, mu):
        return ng.solve(eq, net, ts[0], ts[-1], None, phi0, mu, saveat=dfx.SaveAt(ts=ts),
                        samples=sampler, lstsq=ng.LeastSquares(ridge=ridge), throw=False,
                        conserve="mass" if network else None,
                        adaptive=None if network else ng.AdaptiveOnline(envelope, tol=None))

    sol, timing = ng.compile_and_run(run, phi0, jnp.asarray(mu))
    sol = ng.check_solution(sol)
    moments = [ng.ansatz_moments(net, sol.phis[k], 100_000, jr.fold_in(key, 100 + k))
               for k in range(len(ts))]
    masses = np.array([float(m.mass) for m in moments])
    return {"moments": moments, "time_s": timing["time_run_s"],
            "steps": int(sol.stats["num_accepted_steps"]),
            "rejected": int(sol.stats["num_rejected_steps"]),
            "max_network_weight": float(np.max(np.abs(np.asarray(sol.phis)[:, ~envelope]))),
            "mass_drift": float(np.max(np.abs(masses - masses[0]))),
            "is_mean_se": max(float(np.linalg.norm(m.mean_se)) for m in moments),
            "max_residual": float(np.nanmax(np.asarray(sol.residuals)))}


def em_particles(eq, mu, ts, n, dt, key):
    """The particles at each of `ts[1:]` (equal intervals): Euler-Maruyama from the initial
    Gaussian."""
    d = eq.ndim
    x = eq.mean0[None] + jr.normal(key, (n, d)) * jnp.sqrt(eq.variance0)
    steps = int(round(float(ts[1] - ts[0]) / dt))

    @jax.jit
    def advance(x, t0, k):
        def step(x, j):
            dw = jr.normal(jr.fold_in(k, j), x.shape) * jnp.sqrt(dt)
            b = jax.vmap(lambda y: eq.drift(y, t0 + j * dt, mu))(x)
            return x + b * dt + jnp.sqrt(2 / eq.beta) * dw, None

        return jax.lax.scan(step, x, jnp.arange(steps))[0]

    out = []
    for i, t in enumerate(np.asarray(ts[:-1])):
        x = advance(x, t, jr.fold_in(key, i + 1))
        out.append(x)
    return out


def plot_main(args):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    eq = pdes.FokkerPlanckQuartic.in_dimension(args.d)
    mu = args.mus[0]
    ts = jnp.linspace(0.0, args.t1, 9)
    key = jr.PRNGKey(0)
    parts = em_particles(eq, mu, ts, 100_000, 1e-3, jr.fold_in(key, 5))
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    for label, network, style in (("EQ, envelope only", False, "-"),
                                  ("EQ, envelope + network", True, "--")):
        d = eq.ndim
        emb = ng.PeriodicEmbedding(eq.lower, eq.lengths, unbounded=(True,) * d)
        net = ng.CoLoRAMLP(emb, 16, 3, 2, envelope=True, key=key)
        phi0 = ng.envelope_phi(net, eq.mean0, eq.variance0 * jnp.eye(d))
        p, n_env = ng.num_phi(net), d + d * (d + 1) // 2
        sol = ng.solve(eq, net, ts[0], ts[-1], None, phi0, mu, saveat=dfx.SaveAt(ts=ts),
                       samples=ng.EnvelopeSampler(args.samples, jr.fold_in(key, 1),
                                                  redraw=False),
                       lstsq=ng.LeastSquares(ridge=args.ridge), residual_tol=None,
                       conserve="mass" if network else None,
                       adaptive=None if network else ng.AdaptiveOnline(
                           np.arange(p) >= p - n_env, tol=None))
        for ax, k in zip(axes, (1, len(ts) - 1)):
            u = ng.set_phi(net, sol.phis[k])
            x = ng.envelope_points(net, sol.phis[k], 400_000, jr.fold_in(key, 7))
            w = jax.vmap(lambda y: u(y) / jnp.exp(u.envelope.log_density(y)))(x)
            edges = np.linspace(*np.quantile(np.asarray(parts[k - 1][:, 0]), [1e-4, 1 - 1e-4]),
                                100)
            ax.hist(np.asarray(x[:, 0]), bins=edges, weights=np.asarray(w), density=True,
                    histtype="step", ls=style, lw=1.5, label=label)
    for ax, k in zip(axes, (1, len(ts) - 1)):
        edges = np.linspace(*np.quantile(np.asarray(parts[k - 1][:, 0]), [1e-4, 1 - 1e-4]), 100)
        ax.hist(np.asarray(parts[k - 1][:, 0]), bins=edges, density=True, alpha=0.3,
                color="k", label="Monte Carlo, 1e5 particles")
        ax.set(title=f"t = {float(ts[k]):g}", xlabel="x_1", ylabel="marginal density")
    axes[0].legend(fontsize=8)
    fig.suptitle(f"Quartic trap (gamma = {eq.gamma:g}), d = {args.d}, alpha = {mu:g}: the "
                 "first particle's marginal")
    path = f"{args.out}/fokker_planck_nonlinear_marginal.png"
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")


def shape_run(eq, mu, ts, n, dt, key):
    """Skewness and excess kurtosis of each marginal at `ts[1:]` (the particles of
    `em_particles`: the moments of `monte_carlo` stop at the covariance)."""
    out = []
    for t, x in zip(np.asarray(ts[1:]), em_particles(eq, mu, ts, n, dt, key)):
        dev = x - jnp.mean(x, 0)
        z = dev / jnp.std(dev, 0)
        skew, kurt = jnp.mean(z**3, 0), jnp.mean(z**4, 0) - 3
        out.append({"t": float(t),
                    "skewness": float(skew[jnp.argmax(jnp.abs(skew))]),
                    "excess_kurtosis": float(kurt[jnp.argmax(jnp.abs(kurt))])})
    return out


def shape_main(args):
    eq = pdes.FokkerPlanckQuartic.in_dimension(args.d)
    ts = jnp.linspace(0.0, args.t1, 9)
    rows = {mu: shape_run(eq, mu, ts, 100_000, 2e-3, jr.PRNGKey(0)) for mu in args.mus}
    lines = [f"Fokker-Planck in a quartic trap (gamma = {eq.gamma:g}), d = {args.d}: the "
             "marginals' skewness and excess kurtosis (largest in absolute value over the "
             "particles; Euler-Maruyama, 1e5 particles, dt = 2e-3; standard errors about 0.008 "
             "and 0.015; a Gaussian's are 0)", "",
             "| alpha | t | skewness | excess kurtosis |", "|---|---|---|---|"]
    for mu, rs in rows.items():
        lines += [f"| {mu:g} | {r['t']:g} | {r['skewness']:+.3f} | {r['excess_kurtosis']:+.3f} |"
                  for r in rs]
    save_table(args.out, "fokker_planck_nonlinear_shape", lines,
               {str(mu): rs for mu, rs in rows.items()})


VARIANTS = (("envelope only", False, 2, None), ("envelope + network", True, 2, None),
            ("envelope + network, rank 8, ridge 0.1", True, 8, 0.1))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--d", type=int, default=4)
    p.add_argument("--mus", type=float, nargs="+", default=[0.125, 0.375])
    p.add_argument("--t1", type=float, default=2.0)
    p.add_argument("--samples", type=int, default=1000)
    p.add_argument("--ridge", type=float, default=1.0)
    p.add_argument("--ref-particles", type=int, default=200_000)
    p.add_argument("--out", default="benchmarks/results")
    p.add_argument("--shape", action="store_true")
    p.add_argument("--plot", action="store_true")
    args = p.parse_args()
    if args.shape:
        return shape_main(args)
    if args.plot:
        return plot_main(args)
    eq = pdes.FokkerPlanckQuartic.in_dimension(args.d)
    ts = jnp.linspace(0.0, args.t1, 9)
    key = jr.PRNGKey(0)
    n_ref = args.ref_particles
    rows = []
    for mu in args.mus:
        ref, ref_time = mc_ref(eq, mu, ts[1:], n_ref, 1e-3, jr.fold_in(key, 1))
        half, _ = mc_ref(eq, mu, ts[1:], n_ref, 2e-3, jr.fold_in(key, 2))
        # Richardson: the O(dt) bias of the two runs cancels; independent runs, so the
        # standard errors add as sqrt(4 SE_1^2 + SE_2^2)
        ref_mean, ref_cov = 2 * ref.mean - half.mean, 2 * ref.cov - half.cov
        mean_se = jnp.sqrt(4 * ref.mean_se**2 + half.mean_se**2)
        cov_se = jnp.sqrt(4 * ref.cov_se**2 + half.cov_se**2)
        row = {"mu": mu, "ref_time_s": ref_time, "ref_steps": ref.num_steps,
               "ref_mean_se": float(np.max(np.linalg.norm(mean_se, axis=1)
                                           / np.linalg.norm(ref_mean, axis=1))),
               "ref_cov_se": float(np.max(np.linalg.norm(cov_se, axis=(1, 2))
                                          / np.linalg.norm(ref_cov, axis=(1, 2)))),
               "dt_mean": float(np.max(rel(half.mean, ref.mean, axis=1))),
               "dt_cov": float(np.max(rel(half.cov, ref.cov, axis=(1, 2)))),
               # the dt = 1e-3 run's own standard errors, for the particle count
               "se1_mean": float(np.max(np.linalg.norm(ref.mean_se, axis=1)
                                        / np.linalg.norm(ref.mean, axis=1))),
               "se1_cov": float(np.max(np.linalg.norm(ref.cov_se, axis=(1, 2))
                                       / np.linalg.norm(ref.cov, axis=(1, 2)))),
               "variants": []}
        per = ref_time / (n_ref * ref.num_steps)
        for label, network, rank, ridge in VARIANTS:
            e = eq_run(eq, mu, ts, args.samples, args.ridge if ridge is None else ridge,
                       network, key, rank=rank)
            ms = e.pop("moments")[1:]
            mean_e = [float(rel(m.mean, ref_mean[k])) for k, m in enumerate(ms)]
            cov_e = [float(rel(m.cov, ref_cov[k])) for k, m in enumerate(ms)]
            e.update(label=label, mean_error=max(mean_e), cov_error=max(cov_e),
                     mean_error_t1=mean_e[-1], cov_error_t1=cov_e[-1],
                     mean_errors=mean_e, cov_errors=cov_e)
            # the particles whose standard errors (relative, same norms) equal EQ's errors
            need = n_ref * max((row["se1_mean"] / e["mean_error"]) ** 2,
                               (row["se1_cov"] / e["cov_error"]) ** 2)
            e["mc_particles"] = need
            e["mc_time_s"] = need * ref.num_steps * per
            row["variants"].append(e)
            print(mu, label, e, flush=True)
        rows.append(row)
    lines = [f"Fokker-Planck in a quartic trap (gamma = {eq.gamma:g}), d = {args.d}, t in "
             f"[0, {args.t1:g}]: EQ (Gaussian envelope, not pretrained, {args.samples} points "
             f"from the envelope, ridge {args.ridge:g} unless stated) against Euler-Maruyama on "
             f"{n_ref:.0e} particles (Richardson extrapolation of dt = 1e-3 and 2e-3); errors "
             "the largest over 8 times (and at the final time); the reference's error bar: "
             "its standard errors, and the difference of the dt = 1e-3 and 2e-3 runs (the "
             "O(dt) bias that the extrapolation removes)", "",
             "| alpha | online | mean error (final) | covariance error (final) | ref. SE "
             "(mean, cov) | dt difference (mean, cov) | mass drift | EQ time [s] | "
             "steps (rejected) | largest network weight | MC particles for EQ's errors | "
             "their time [s] |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        for e in r["variants"]:
            lines.append(
                f"| {r['mu']:g} | {e['label']} | {e['mean_error']:.2e} "
                f"({e['mean_error_t1']:.1e}) | {e['cov_error']:.2e} ({e['cov_error_t1']:.1e}) | "
                f"{r['ref_mean_se']:.1e}, {r['ref_cov_se']:.1e} | {r['dt_mean']:.1e}, "
                f"{r['dt_cov']:.1e} | {e['mass_drift']:.1e} | {e['time_s']:.1f} | "
                f"{e['steps']} ({e['rejected']}) | {e['max_network_weight']:.1e} | "
                f"{e['mc_particles']:.1e} | {e['mc_time_s']:.1e} |")
    lines += ["", "Reference Monte Carlo wall time (dt = 1e-3 run, without compilation): "
              + ", ".join(f"alpha {r['mu']:g}: {r['ref_time_s']:.1f} s" for r in rows)]
    save_table(args.out, "fokker_planck_nonlinear", lines,
               {"rows": rows, "d": args.d, "t1": args.t1, "gamma": eq.gamma,
                "samples": args.samples, "ridge": args.ridge})


if __name__ == "__main__":
    main()
