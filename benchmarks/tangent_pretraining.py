"""Tangent-space pretraining (`pretrain(tangent_weight=...)`) against today's recipe, on KdV
or 1D Burgers.

    python benchmarks/tangent_pretraining.py [--pde kdv|burgers] [--steps 2000]
                                             [--learning-rate 1e-3] [--sigmas 0 0.1 0.3]
                                             [--tangent-weight 1] [--seed 1]
                                             [--mus 1.55 1.75]
                                             [--work /work/data/tangent]
                                             [--out benchmarks/results] [--name NAME]
                                             [--no-distance] [--cost]

Each variant continues the shipped model of `--pde` (`init=`) for `--steps` steps with the
recipe's data and settings: the recipe alone, and the recipe plus the tangent term at each
`--sigmas` (weight `--tangent-weight`, 8 snapshots of 128 points, ridge 1e-3). KdV (the
default): the exact two-soliton solution at 4096 random points, 101 times, the six training
wave numbers; PDE residual weight 1 at 64 points; errors against the exact solution at 1024
random points. Burgers: the recipe's FD trajectories (1024 points, 101 times, the seven
training viscosities, `trajectories_from_fd` as `neural-galerkin pretrain burgers` makes
them); residual weight 0.1 at 64 points; errors against the equation's FD reference on 4096
points (as `benchmarks/accuracy_table.py`). `--seed`: the key of the steps' batches (another
one shows how much a continuation moves from run to run). The trained models are kept under
`--work` (reused when there) and are not shipped. For each model and held-out `mu`: D's error (the
largest over 17 times in [0, t1]), EQ's from the fitted `phi(0)` (512 samples, Tsit5, rtol
1e-6, at most 4000 steps; largest over the 17 times it reached, and at the 11th and last of
them), EQ's online time (compilation excluded; Burgers' table shows it), the largest Galerkin
residual on EQ's path, and the pretraining time per step (compilation excluded: the first
chunk of `log_every` steps is left out).
"""

import argparse
import json
import pathlib

import jax

jax.config.update("jax_enable_x64", True)

import diffrax as dfx  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import jax.random as jr  # noqa: E402
import numpy as np  # noqa: E402
from _results import machine, save_table  # noqa: E402

import neural_galerkin as ng  # noqa: E402
import pdes  # noqa: E402
from neural_galerkin._compare import relative_error_over_time  # noqa: E402
from neural_galerkin._data import recipe_data  # noqa: E402
from neural_galerkin._recipes import RECIPES  # noqa: E402
from neural_galerkin._tangent import tangent_residual  # noqa: E402
from neural_galerkin._timing import compile_and_run  # noqa: E402
from neural_galerkin._training import pretrain  # noqa: E402

# per equation: the defaults of --mus, --sigmas, --work and --name, its name in the tables and
# what its errors are measured against
SETUPS = {
    "kdv": dict(label="KdV", mus=[1.55, 1.75], sigmas=[0.0, 0.1, 0.3],
                work="/work/data/tangent", name="tangent_pretraining",
                against="the exact solution at 1024 points"),
    "burgers": dict(label="1D Burgers", mus=[1.8e-3, 8.2e-3], sigmas=[0.0, 0.3],
                    work="/work/data/tangent_burgers", name="tangent_pretraining_burgers",
                    against="the FD reference on 4096 points"),
}


def reference(pde, eq, mu):
    """The 17 times in [0, t1], the points and the reference values there: the exact solution
    at 1024 random points for KdV, else the equation's reference solve (FD) on 4096 points."""
    ts = jnp.linspace(0.0, eq.t1, 17)
    if pde == "kdv":
        x = ng.sample_points(eq, 1024)
        exact = jax.vmap(lambda t: jax.vmap(lambda y: eq.exact(y, t, mu))(x))(ts)
        return ts, x, np.asarray(exact)
    ref = pdes.reference_solve(eq, mu, 4096, ts)
    return ts, ref.x, np.asarray(ref.us)


def train(name, data, eq, args, **tangent):
    folder = pathlib.Path(args.work) / name
    if (folder / "history.json").exists():
        return ng.load_model(folder), json.loads((folder / "history.json").read_text()), folder
    rec = RECIPES[args.pde]
    log_every = max(1, args.steps // 10)
    model, h = pretrain(data, equation=args.pde, steps=args.steps, key=jr.PRNGKey(args.seed),
                        init=ng.load_pretrained(args.pde), progress=False,
                        log_every=log_every, learning_rate=args.learning_rate, pde=eq,
                        residual_weight=rec.residual_weight,
                        residual_points=rec.residual_points, **tangent)
    per_step = (h["wall_s"][-1] - h["wall_s"][0]) / (h["step"][-1] - h["step"][0])
    info = {"loss": h["loss"], "step": h["step"], "time_s": h["time_s"],
            "s_per_step": per_step}
    ng.save_model(folder, model)
    (folder / "history.json").write_text(json.dumps(info, indent=2))
    return model, info, folder


def evaluate(model, eq, mu, ref):
    ts, x, exact = ref
    d = ng.predict(model, ts, mu)
    d_err = relative_error_over_time(d.evaluate(x), exact)
    phi0, _ = ng.fit_initial_condition(eq, model, mu=mu, samples=512)
    s, times = compile_and_run(
        lambda phi0: ng.solve(eq, model, 0.0, eq.t1, None, phi0, mu, samples=512,
                              saveat=dfx.SaveAt(ts=ts), max_steps=4000, residual_tol=None,
                              throw=False), phi0)
    eq_err = np.asarray(relative_error_over_time(s.evaluate(x), exact))
    # a solve that stops at max_steps (its Galerkin system stiff where it left the manifold)
    # has no state after that: its error counts up to the last saved time it reached
    ok = np.isfinite(eq_err)
    return {"D_max": float(np.max(d_err)), "EQ_max": float(np.max(eq_err[ok])),
            f"EQ_t{float(ts[10]):g}": float(eq_err[10]),
            f"EQ_t{float(ts[-1]):g}": float(eq_err[-1]), "reached": s.t_reached,
            "max_residual": float(np.nanmax(np.asarray(s.residuals)[ok])),
            "eq_steps": int(s.stats["num_steps"]), "eq_time_s": times["time_run_s"]}


def weight_spread(model, eq, rec):
    """The standard deviation of each online weight of the hypernetwork over the recipe's
    training (t, mu)."""
    mus, ts = np.meshgrid(rec.train_mus, np.linspace(0, eq.t1, rec.n_times), indexing="ij")
    return jnp.std(jax.vmap(model.hyper)(jnp.asarray(ts.ravel()), jnp.asarray(mus.ravel())), 0)


def tangent_diagnostic(model, eq, sigma, rec):
    """The mean tangent residual (ridge 1e-3, 256 points) over 32 fixed random (t, mu) in the
    training ranges, at the hypernetwork's weights perturbed by `sigma` times their spread over
    the training (t, mu) (as `pretrain` draws them)."""
    k1, k2, k3 = jr.split(jr.PRNGKey(7), 3)
    t = jr.uniform(k1, (32,), minval=0.0, maxval=eq.t1)
    mu = jr.uniform(k2, (32,), minval=min(rec.train_mus), maxval=max(rec.train_mus))
    phi = jax.vmap(model.hyper)(t, mu)
    phi = phi + sigma * weight_spread(model, eq, rec) * jr.normal(k3, phi.shape)
    x = ng.sample_points(eq, 256)
    r = jax.vmap(lambda p, t, mu: tangent_residual(eq, model.net, p, t, mu, x))(phi, t, mu)
    return float(jnp.mean(r))


def eq_distance(model, eq, mu, rec):
    """How far EQ's online weights wander from D's: per saved time, the root mean square over
    the weights of `(phi_EQ - phi_D) / spread` (`spread` over the training (t, mu)), and EQ's
    Galerkin residual there."""
    spread = weight_spread(model, eq, rec)
    ts = jnp.linspace(0.0, eq.t1, 17)
    d = ng.predict(model, ts, mu)
    phi0, _ = ng.fit_initial_condition(eq, model, mu=mu, samples=512)
    s = ng.solve(eq, model, 0.0, eq.t1, None, phi0, mu, samples=512, saveat=dfx.SaveAt(ts=ts),
                 max_steps=4000, residual_tol=None, throw=False)
    dist = jnp.sqrt(jnp.mean(((s.phis - d.phis) / spread[None]) ** 2, axis=1))
    return [{"t": float(t), "distance": float(r), "residual": float(g)}
            for t, r, g in zip(ts, dist, s.residuals)]


def command(args):
    """The command line of a table's header: the script, with `--pde` where it is not KdV."""
    return "python benchmarks/tangent_pretraining.py" + (
        "" if args.pde == "kdv" else f" --pde {args.pde}")


def time_steps(data, eq, args):
    """Seconds per step, back to back (recipe, recipe + tangent term, twice each): 100 steps
    continuing the shipped model, the first chunk of 20 (compilation) left out."""
    rec, label = RECIPES[args.pde], SETUPS[args.pde]["label"]
    rows = []
    for kw in ({}, {"tangent_weight": 1.0, "tangent_sigma": 0.1}) * 2:
        _, h = pretrain(data, equation=args.pde, steps=100, key=jr.PRNGKey(1),
                        init=ng.load_pretrained(args.pde), progress=False, log_every=20,
                        learning_rate=args.learning_rate, pde=eq,
                        residual_weight=rec.residual_weight,
                        residual_points=rec.residual_points, **kw)
        rows.append({"tangent": bool(kw), "s_per_step": (h["wall_s"][-1] - h["wall_s"][0]) / 80})
    lines = [f"{label} pretraining, seconds per step back to back ({machine()}): the recipe "
             "(data + residual term) and the recipe + tangent term (weight 1, sigma 0.1, 8 x 128 "
             "points); steps 21-100 of a continuation of the shipped model. "
             f"`{command(args)} --cost`", "",
             "| run | s / step |", "|---|---|"]
    lines += [f"| {'recipe + tangent term' if r['tangent'] else 'recipe'} | "
              f"{r['s_per_step']:.4f} |" for r in rows]
    save_table(args.out, f"{args.name}_cost", lines, rows)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--pde", choices=tuple(SETUPS), default="kdv",
                   help="the equation whose shipped model and recipe to continue (default kdv)")
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--sigmas", type=float, nargs="+", default=None,
                   help="default: 0 0.1 0.3 (KdV), 0 0.3 (Burgers)")
    p.add_argument("--tangent-weight", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=1,
                   help="the key of the continuations' batches (default 1; another one, to see "
                   "how much the figures move from run to run)")
    p.add_argument("--mus", type=float, nargs="+", default=None,
                   help="default: 1.55 1.75 (KdV), 1.8e-3 8.2e-3 (Burgers)")
    p.add_argument("--work", default=None,
                   help="default: /work/data/tangent (KdV), /work/data/tangent_burgers")
    p.add_argument("--out", default="benchmarks/results")
    p.add_argument("--name", default=None,
                   help="default: tangent_pretraining (KdV), tangent_pretraining_burgers")
    p.add_argument("--cost", action="store_true",
                   help="only time the steps, back to back, without and with the term")
    p.add_argument("--no-distance", action="store_true",
                   help="leave out the table of EQ's distance from D (the shipped model's)")
    args = p.parse_args()
    setup = SETUPS[args.pde]
    for option in ("sigmas", "mus", "work", "name"):
        if getattr(args, option) is None:
            setattr(args, option, setup[option])
    eq, rec = pdes.get(args.pde), RECIPES[args.pde]
    data = recipe_data(eq, rec)
    if args.cost:
        return time_steps(data, eq, args)
    variants = {"shipped": (ng.load_pretrained(args.pde), None,
                            pathlib.Path(args.work) / "shipped")}
    tag = f"s{args.steps}_lr{args.learning_rate:g}" + (f"_seed{args.seed}" if args.seed != 1
                                                       else "")
    variants[f"recipe +{args.steps}"] = train(f"recipe_{tag}", data, eq, args)
    for sigma in args.sigmas:
        variants[f"recipe + tangent sigma {sigma:g} +{args.steps}"] = train(
            f"tangent_w{args.tangent_weight:g}_sigma{sigma:g}_{tag}", data, eq, args,
            tangent_weight=args.tangent_weight, tangent_sigma=sigma)
    refs = {mu: reference(args.pde, eq, mu) for mu in args.mus}
    t_mid, t_end = (float(refs[args.mus[0]][0][i]) for i in (10, -1))
    timed = args.pde != "kdv"  # the KdV table (measured before EQ's time was) keeps its columns
    rows = []
    for name, (model, info, folder) in variants.items():
        folder.mkdir(parents=True, exist_ok=True)
        cached = folder / "tangent_diagnostic.json"
        if not cached.exists():
            cached.write_text(json.dumps({str(sg): tangent_diagnostic(model, eq, sg, rec)
                                          for sg in (0.0, 0.1, 0.3)}))
        diag = json.loads(cached.read_text())
        for mu in args.mus:
            cached = folder / f"eval_mu{mu:g}.json"  # evaluated once per model and mu
            if not cached.exists():
                cached.write_text(json.dumps(evaluate(model, eq, mu, refs[mu])))
            r = {"model": name, "mu": mu, **json.loads(cached.read_text()),
                 "tangent_residual": diag,
                 "s_per_step": None if info is None else info["s_per_step"],
                 "final_loss": None if info is None else info["loss"][-1]}
            print(r, flush=True)
            rows.append(r)
    lines = [f"{setup['label']}, the shipped model continued for {args.steps} steps (learning "
             f"rate {args.learning_rate:g}, the recipe's data and residual term"
             + (f", batches from key {args.seed}" if args.seed != 1 else "") + ") without and "
             f"with the tangent term (weight {args.tangent_weight:g}, 8 snapshots x 128 points, "
             f"ridge 1e-3); errors against {setup['against']}, the largest over "
             f"17 times in [0, {eq.t1:g}]; EQ from the fitted phi(0), 512 samples, Tsit5 rtol "
             "1e-6, at most 4000 steps (a solve stopped there: its error up to the time it "
             "reached); "
             + ("EQ time: the online solve without compilation; " if timed else "")
             + f"time per step without compilation ({machine()}, shared with other jobs). "
             f"`{command(args)}`", "",
             f"| model | mu | D error | EQ error | EQ at t = {t_mid:g} | EQ at t = {t_end:g} | "
             "EQ reached t | EQ steps | " + ("EQ time [s] | " if timed else "")
             + "max Galerkin residual (EQ) | EQ / D | tangent residual at sigma 0 / 0.1 "
             "/ 0.3 | final training loss (its own terms) | s / step |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|" + ("---|" if timed else "")]

    def at(e):  # a time the solve did not reach: "-"
        return f"{e:.1e}" if np.isfinite(e) else "-"

    for r in rows:
        loss = "-" if r["final_loss"] is None else f"{r['final_loss']:.2e}"
        cost = "-" if r["s_per_step"] is None else f"{r['s_per_step']:.3f}"
        eq_time = f"{r['eq_time_s']:.2f} | " if timed else ""
        res = r["max_residual"]  # KdV's (0.68-1.00) as before, Burgers' (~1e-2) to 2 digits
        res = f"{res:.2f}" if res >= 0.1 else f"{res:.1e}"
        lines.append(f"| {r['model']} | {r['mu']:g} | {r['D_max']:.1e} | {r['EQ_max']:.1e} | "
                     f"{at(r[f'EQ_t{t_mid:g}'])} | {at(r[f'EQ_t{t_end:g}'])} | "
                     f"{r['reached']:g} | {r['eq_steps']} | {eq_time}"
                     f"{res} | {r['EQ_max'] / r['D_max']:.1f} | "
                     f"{' / '.join(f'{v:.1e}' for v in r['tangent_residual'].values())} | "
                     f"{loss} | {cost} |")
    save_table(args.out, args.name, lines, rows)
    if args.no_distance:
        return
    mu = args.mus[0]
    drift = eq_distance(variants["shipped"][0], eq, mu, rec)
    lines = [f"{setup['label']}, shipped model, mu = {mu:g}: EQ's online weights (from the "
             "fitted phi(0), as above) against D's, root mean square over the weights of their "
             "difference in units of the weights' spread over the training (t, mu), and EQ's "
             f"Galerkin residual. `{command(args)}`", "",
             "| t | distance / spread | Galerkin residual (EQ) |", "|---|---|---|"]
    lines += [f"| {r['t']:.1f} | {r['distance']:.2f} | {r['residual']:.3f} |" for r in drift]
    save_table(args.out, f"{args.name}_distance", lines, drift)


if __name__ == "__main__":
    main()
