"""Nonzero and time-dependent Dirichlet data in the equation-driven solve: held by a lift
(`u = L + N`, the network `N` holding zero data by its `sin(pi z)` factor) against held by
equality constraints in the least squares on a network without the factor.

    python benchmarks/boundary_data.py [--steps 3000] [--time-limit 150] [--models DIR]
                                       [--out benchmarks/results] [--name boundary_data]

The heat equation `u_t = mu u_xx` on [0, 1] (`pdes.HeatDirichlet`, initial condition
`L(x, 0) + sin(pi x) + 0.5 sin(3 pi x)`) with

- constant data `u(0) = 1`, `u(1) = 0.5`: against the exact solution (the linear steady
  state plus the decaying sine series);
- time-dependent data `u(0) = 1 + 0.5 sin(2 pi t)`, `u(1) = 0.5 - 0.25 sin(pi t)`: against
  the derived reference on 512 points (its error ~1e-6, `HeatDirichlet`'s docstring).

Per case two small models are pretrained (`ng.pretrain`, width 24, depth 4, rank 2,
`--steps` steps or `--time-limit` seconds, the same data: exact values at 512 random points,
or the reference on 129 points, at the recipe's six training mu and 41 times):

- **lift**: `pretrain(pde=equation)`: the network has the Dirichlet factor and learns `u - L`;
  EQ is `ng.solve` (the Galerkin system `J phi_dot ~ F(L + N) - L_t`);
- **constraint**: the network has no factor and no boundary ansatz: its periodic embedding
  spans the box `[-0.5, 1.5)`, twice the interval, so it is a general smooth function on
  [0, 1]. EQ solves `min ||J phi_dot - F||` subject to `J_b phi_dot = dg/dt` at the two ends
  (`constrained_lstsq`, the invariants' null-space method with a right-hand side), the
  initial fit projected onto `u(ends) = g(0)` by Gauss-Newton.

Measured at two held-out mu (0.03, 0.075): EQ relative L2 error over space-time on a uniform
grid (129 points, 21 times), the largest boundary error `max_t |u(end, t) - g(end, t)|`,
and the EQ wall time (the median of 5 compiled runs; 256 samples, Tsit5, rtol 1e-6, atol
1e-8). Models are kept in `--models` (trained again only where missing). Writes
`NAME.md/.json` under `--out`.
"""

import argparse
import dataclasses
import json
import pathlib
import time

import jax

jax.config.update("jax_enable_x64", True)

import diffrax as dfx  # noqa: E402
import equinox as eqx  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import jax.random as jr  # noqa: E402
import numpy as np  # noqa: E402
from _results import median_time, save_table  # noqa: E402

import neural_galerkin as ng  # noqa: E402
import pdes  # noqa: E402
from neural_galerkin._compare import relative_error  # noqa: E402
from neural_galerkin._fit import _fit  # noqa: E402
from neural_galerkin._invariants import constrained_lstsq  # noqa: E402
from neural_galerkin._network import set_phi  # noqa: E402

TRAIN_MUS = ng.RECIPES["heat-dirichlet"].train_mus
TEST_MUS = (0.03, 0.075)
SAMPLES = 256
REPEATS = 5  # the EQ time: the median of this many compiled runs
ENDS = jnp.array([[0.0], [1.0]])
MODEL = dict(width=24, depth=4, rank=2, n_freq=2)


def cases():
    const = pdes.HeatDirichlet(boundaries=(pdes.Dirichlet(1.0, 0.5),))
    timedep = pdes.HeatDirichlet(boundaries=(pdes.Dirichlet(
        lambda t, mu: 1.0 + 0.5 * jnp.sin(2 * jnp.pi * t),
        lambda t, mu: 0.5 - 0.25 * jnp.sin(jnp.pi * t)),))
    return {"constant": const, "time-dependent": timedep}


def training_data(name, eq, ts):
    if name == "constant":
        return ng.trajectories_from_exact(eq, TRAIN_MUS, ts, 512, key=jr.PRNGKey(0))
    return ng.trajectories_from_fd(eq, TRAIN_MUS, 129, ts)


def train(name, eq, variant, args):
    folder = pathlib.Path(args.models) / f"{name}-{variant}"
    if (folder / "training.json").exists():
        return ng.load_model(folder), json.loads((folder / "training.json").read_text())
    ts = np.linspace(0.0, eq.t1, 41)
    data = training_data(name, eq, ts)
    kw = dict(equation=eq.name, steps=args.steps, key=jr.PRNGKey(0), progress=False,
              time_limit=args.time_limit, log_every=250, **MODEL)
    if variant == "lift":
        model, history = ng.pretrain(data, pde=eq, **kw)
    else:  # no boundary ansatz: a periodic network on twice the interval
        data = dataclasses.replace(data, lower=(-0.5,), lengths=(2.0,))
        model, history = ng.pretrain(data, **kw)
    ng.save_model(folder, model)
    info = {"steps": history["done"], "time_s": history["time_s"], "loss": history["loss"][-1]}
    (folder / "training.json").write_text(json.dumps(info))
    return model, info


class BoundaryConstrainedField(eqx.Module):
    """`phi_dot = argmin ||J phi_dot - F||` subject to `J_b phi_dot = dg/dt` at the ends."""

    field: ng.GalerkinField
    ends: jax.Array
    boundary: pdes.Dirichlet

    def __call__(self, t, phi, mu):
        J, F = self.field.system(phi, mu, t)
        G = self.end_field().jacobian(phi)
        rates = jnp.stack(self.boundary.rates(t, mu))
        return constrained_lstsq(self.field.lstsq, J, F, G, rates)

    def end_field(self):
        return eqx.tree_at(lambda f: f.samples, self.field, self.ends)


def project_onto_data(net, phi, boundary, t, mu, steps=4):
    """Gauss-Newton (minimum-norm steps) onto `u(ends) = g(t)`."""
    target = jnp.stack(boundary.values(t, mu))
    for _ in range(steps):
        u_b = jax.vmap(set_phi(net, phi))(ENDS)
        G = jax.vmap(jax.grad(lambda p, x: set_phi(net, p)(x)), (None, 0))(phi, ENDS)
        phi = phi + jnp.linalg.pinv(G) @ (target - u_b)
    return phi


def eq_constraint(eq, model, mu, ts, samples):
    net, boundary = model.net, eq.boundaries[0]
    u0 = jax.vmap(lambda x: eq.initial_condition(x, mu))(samples)
    phi0, _ = _fit(net, samples, u0, model.phi(0.0, mu), 1e-10, 1e-12, 1000)
    phi0 = project_onto_data(net, phi0, boundary, 0.0, mu)
    field = BoundaryConstrainedField(
        ng.GalerkinField(eq, net, samples, ng.LeastSquares()), ENDS, boundary)

    def run(phi0):
        sol = dfx.diffeqsolve(dfx.ODETerm(field), dfx.Tsit5(), ts[0], ts[-1], None, phi0, mu,
                              saveat=dfx.SaveAt(ts=ts),
                              stepsize_controller=dfx.PIDController(rtol=1e-6, atol=1e-8),
                              max_steps=100_000, throw=False)
        return sol.ys, sol.stats["num_steps"], sol.result

    run = eqx.filter_jit(run)
    phis, steps, result = run(phi0)
    if result != dfx.RESULTS.successful:
        raise RuntimeError(f"the constrained solve failed at mu={mu}: {result}")

    def evaluate(x):
        return jax.vmap(lambda phi: jax.vmap(set_phi(net, phi))(x))(phis)

    return evaluate, median_time(run, phi0, repeats=REPEATS), int(steps)


def eq_lift(eq, model, mu, ts, samples):
    phi0, _ = ng.fit_initial_condition(eq, model, mu=mu, samples=samples)
    run = eqx.filter_jit(
        lambda phi0: ng.solve(eq, model, ts[0], ts[-1], None, phi0, mu, samples=samples,
                              saveat=dfx.SaveAt(ts=ts), throw=False))
    sol = ng.check_solution(run(phi0))
    return sol.evaluate, median_time(run, phi0, repeats=REPEATS), int(sol.stats["num_steps"])


def reference(name, eq, mu, ts, x):
    if name == "constant":
        return np.asarray(jax.vmap(lambda t: jax.vmap(lambda y: eq.exact(y, t, mu))(x))(ts))
    ref = pdes.reference_solve(eq, mu, 512, ts)
    fine = np.asarray(eq.grid(512)[:, 0])
    return np.stack([np.interp(np.asarray(x[:, 0]), fine, np.asarray(u)) for u in ref.us])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--time-limit", type=float, default=150.0)
    p.add_argument("--models", default="benchmarks/weights/boundary_data")
    p.add_argument("--out", default="benchmarks/results")
    p.add_argument("--name", default="boundary_data")
    args = p.parse_args()
    rows, training = [], {}
    for name, eq in cases().items():
        ts = jnp.linspace(0.0, eq.t1, 21)
        x = eq.grid(129).reshape(-1, 1)
        samples = eq.grid(SAMPLES).reshape(-1, 1)
        for variant, run in (("lift", eq_lift), ("constraint", eq_constraint)):
            model, info = train(name, eq, variant, args)
            training[f"{name}/{variant}"] = info
            for mu in TEST_MUS:
                start = time.perf_counter()
                evaluate, time_s, steps = run(eq, model, mu, ts, samples)
                wall = time.perf_counter() - start
                want = jnp.stack([jnp.stack(eq.boundaries[0].values(t, mu)) for t in ts])
                ref = reference(name, eq, mu, ts, x)
                # the network's quality apart from the solve: the hypernetwork's prediction
                d = ng.predict(model, ts, mu, equation=eq if variant == "lift" else None)
                rows.append(dict(
                    case=name, variant=variant, mu=mu, d_error=relative_error(d.evaluate(x), ref),
                    eq_error=relative_error(evaluate(x), ref),
                    boundary_error=float(jnp.max(jnp.abs(evaluate(ENDS) - want))),
                    eq_time_s=time_s, steps=steps, wall_s=wall))
                print(rows[-1], flush=True)
    lines = ["Heat equation on [0, 1] with nonzero Dirichlet data, held by a lift (`u = L + N`, "
             "N with the sin(pi z) factor) or by equality constraints `J_b phi_dot = dg/dt` "
             "on a network without the factor (`python benchmarks/boundary_data.py`). Models "
             f"width {MODEL['width']}, depth {MODEL['depth']}, rank {MODEL['rank']}, "
             "pretrained on the same data; EQ at held-out mu, 256 samples, Tsit5, rtol 1e-6; "
             "error: relative L2 over space-time (129 points, 21 times) against the exact "
             "solution (constant data) or the reference on 512 points (time-dependent), of EQ and "
             "of D (the hypernetwork's prediction: the network's quality apart from the solve); "
             "boundary error: max over time and both ends of |u - g|; EQ time: median of "
             f"{REPEATS} runs of the compiled solve (2 CPU cores shared with other work).", "",
             "| data | held by | mu | D error | EQ error | boundary error | EQ time (s) | steps |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['case']} | {r['variant']} | {r['mu']:g} | {r['d_error']:.1e} | "
                     f"{r['eq_error']:.1e} | "
                     f"{r['boundary_error']:.1e} | {r['eq_time_s']:.2f} | {r['steps']} |")
    lines += ["", "Training (steps done, wall time, last loss): " + "; ".join(
        f"{k}: {v['steps']} steps, {v['time_s']:.0f} s, loss {v['loss']:.1e}"
        for k, v in training.items())]
    save_table(args.out, args.name, lines, {"rows": rows, "training": training})


if __name__ == "__main__":
    main()
