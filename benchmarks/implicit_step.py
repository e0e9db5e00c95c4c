"""The regularised implicit step against Tsit5 and Kvaerno5: EQ error and time.

    python benchmarks/implicit_step.py [--pdes burgers heat-dirichlet] [--samples 128]
        [--kvaerno-max-steps 300] [--mu PDE=MU ...] [--name implicit_step]
        [--out benchmarks/results]

For each equation, with its shipped weights at the recipe's held-out `default_mu`: the
equation-driven solve from the fitted initial condition to the end of the trained window, by
- Tsit5 and Kvaerno5 with `solve`'s default `PIDController(rtol=1e-6, atol=1e-8)` (Kvaerno5
  capped at `--kvaerno-max-steps` steps: a row that reached it says so),
- Tsit5 at looser tolerances (`rtol=1e-3, atol=1e-5`),
- `RegularisedImplicit` (implicit Euler, `theta=1`, and the trapezoidal rule, `theta=0.5`)
  at fixed steps and under a `PIDController`,
each with its space-time relative L2 error at 41 equally spaced times against the reference
(FD on 2048 points for Burgers, the exact solution for heat-dirichlet, on that grid), the
wall time of a compiled run (compilation apart; the fastest of up to three while they
take less than 10 s in all), and the accepted and rejected steps.
`--mu PDE=MU` sets a parameter other than the recipe's `default_mu` (the stiff case:
`--pdes allen-cahn --mu allen-cahn=2.9e-3 --name implicit_step_allen_cahn`, Allen-Cahn at its
held-out parameter nearest the smallest eps). Writes `NAME.md/.json` under --out. With
`--options`, instead: the implicit step's `eps` and Gauss-Newton updates, one at a time, on
heat-dirichlet at 20 fixed steps (`implicit_step_options.md/.json`).
"""

import argparse
import time

import jax

jax.config.update("jax_enable_x64", True)

import diffrax as dfx  # noqa: E402
import equinox as eqx  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from _results import machine, save_table  # noqa: E402

import neural_galerkin as ng  # noqa: E402
import pdes  # noqa: E402
from neural_galerkin._compare import relative_error  # noqa: E402
from neural_galerkin._recipes import RECIPES, shipped_weights  # noqa: E402

DEFAULT = dfx.PIDController(rtol=1e-6, atol=1e-8)


def settings(t1, kvaerno_max_steps):
    """`(method, setting, solver, controller, dt0, max_steps)` of the rows."""
    rows = [("Tsit5", "rtol=1e-6, atol=1e-8", dfx.Tsit5(), DEFAULT, None, 100_000),
            ("Tsit5", "rtol=1e-3, atol=1e-5", dfx.Tsit5(),
             dfx.PIDController(rtol=1e-3, atol=1e-5), None, 100_000),
            ("Kvaerno5", f"rtol=1e-6, atol=1e-8, at most {kvaerno_max_steps} steps",
             dfx.Kvaerno5(), DEFAULT, None, kvaerno_max_steps)]
    for name, solver in (("implicit Euler", ng.RegularisedImplicit()),
                         ("trapezoidal", ng.RegularisedImplicit(theta=0.5))):
        for n in (20, 100):
            rows.append((name, f"{n} fixed steps", solver, dfx.ConstantStepSize(), t1 / n,
                         100_000))
        for rtol in (1e-3, 1e-4):
            rows.append((name, f"rtol={rtol:g}, atol={rtol * 1e-2:g}", solver,
                         dfx.PIDController(rtol=rtol, atol=rtol * 1e-2), None, 100_000))
    return rows


def compile_and_time(fn, phi0, budget=10.0, repeats=3):
    """`fn(phi0)` compiled, then run up to `repeats` times while the runs take less than
    `budget` seconds in all: its output, the compile time and the fastest run (other programs
    on the machine slow some)."""
    start = time.perf_counter()
    compiled = eqx.filter_jit(fn).lower(phi0).compile()
    compile_s, times = time.perf_counter() - start, []
    while len(times) < repeats and sum(times) < budget:
        start = time.perf_counter()
        out = jax.block_until_ready(compiled(phi0))
        times.append(time.perf_counter() - start)
    return out, compile_s, min(times)


def options(t1):
    """The options of the implicit step, one at a time from the defaults: implicit Euler,
    20 fixed steps."""
    R = ng.RegularisedImplicit
    return [("implicit Euler", f"{name}, 20 fixed steps", solver, dfx.ConstantStepSize(),
             t1 / 20, 100)
            for name, solver in (("eps=1e-4", R(eps=1e-4)), ("eps=1e-3", R()),
                                 ("eps=1e-2", R(eps=1e-2)), ("1 update", R(iterations=1)),
                                 ("4 updates", R(iterations=4)))]


def reference(eq, mu, ts, n):
    if isinstance(eq, pdes.AbstractExactEquation):
        x = eq.grid(n).reshape(-1, eq.ndim)
        u = jax.vmap(lambda t: jax.vmap(lambda p: eq.exact(p, t, mu))(x))(ts)
        return x, np.asarray(u), "exact"
    ref = pdes.reference_solve(eq, mu, n, ts)
    return ref.x.reshape(-1, eq.ndim), np.asarray(ref.us).reshape(len(ts), -1), "fd"


def run_pde(key, samples, rows_of, mu=None):
    eq = pdes.get(key)
    model = ng.load_model(shipped_weights(key))
    mu = RECIPES[key].default_mu if mu is None else mu
    t0, t1 = model.t_range
    ts = jnp.linspace(t0, t1, 41)
    x, u_ref, kind = reference(eq, mu, ts, 2048)
    phi0, _ = ng.fit_initial_condition(eq, model, mu=mu, samples=samples)
    rows = []
    for method, setting, solver, controller, dt0, max_steps in rows_of(t1 - t0):
        def fn(phi0):
            return ng.solve(eq, model, t0, t1, dt0, phi0, mu, solver=solver,
                            stepsize_controller=controller, saveat=dfx.SaveAt(ts=ts),
                            samples=samples, max_steps=max_steps, throw=False,
                            residual_tol=None)

        sol, compile_s, run_s = compile_and_time(fn, phi0)
        finished = bool(sol.result == ng.RESULTS.successful)
        u = np.asarray(sol.evaluate(x)).reshape(len(ts), -1) if finished else None
        rows.append({"pde": key, "mu": mu, "method": method, "setting": setting,
                     "error": relative_error(u, u_ref) if finished else None,
                     "time_s": run_s, "compile_s": compile_s,
                     "steps": int(sol.stats["num_accepted_steps"]),
                     "rejected": int(sol.stats["num_rejected_steps"]),
                     "finished": finished, "t_reached": sol.t_reached,
                     "reference": kind})
        print(rows[-1], flush=True)
    return rows


def table_row(r) -> str:
    err = (f"{r['error']:.2e}" if r["finished"] else
           f"stopped at the step limit, t={r['t_reached']:g}")
    cells = (r["pde"], f"{r['mu']:g}", r["method"], r["setting"], err, f"{r['time_s']:.2f}",
             f"{r['compile_s']:.1f}", f"{r['steps']} ({r['rejected']})")
    return "| " + " | ".join(cells) + " |"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--pdes", nargs="+", default=["burgers", "heat-dirichlet"])
    p.add_argument("--samples", type=int, default=128)
    p.add_argument("--kvaerno-max-steps", type=int, default=300)
    p.add_argument("--options", action="store_true",
                   help="instead: eps and the updates per step, on heat-dirichlet")
    p.add_argument("--mu", nargs="+", default=[], metavar="PDE=MU",
                   help="the parameter of a PDE instead of its recipe's default_mu")
    p.add_argument("--name", default="implicit_step", help="the table's file name")
    p.add_argument("--out", default="benchmarks/results")
    args = p.parse_args()
    mus = {}
    for item in args.mu:
        key, sep, value = item.partition("=")
        if not sep or key not in args.pdes:
            p.error(f"--mu takes PDE=MU for a PDE of --pdes, got {item!r}")
        mus[key] = float(value)
    if args.options:
        rows = run_pde("heat-dirichlet", args.samples, options)
        name, what = "implicit_step_options", ("heat-dirichlet, the implicit step's options "
                                               "one at a time from the defaults; ")
    else:
        rows = [r for key in args.pdes for r in run_pde(
            key, args.samples, lambda t1: settings(t1, args.kvaerno_max_steps), mus.get(key))]
        name, what = args.name, ""
    lines = [f"{what}EQ solves with the shipped weights at the held-out mu, {args.samples} uniform "
             f"samples, float64; {machine()}. Error: space-time relative L2 at 41 times against "
             "the reference on 2048 points; time: a compiled run (compilation apart; the "
             "fastest of up to 3 while they take under 10 s in all; other programs shared the "
             "cores); "
             "steps: accepted (rejected). RegularisedImplicit with its defaults (eps=1e-3, "
             "2 Gauss-Newton updates); implicit Euler: theta=1, trapezoidal: theta=0.5.", "",
             "| PDE | mu | method | setting | error | time [s] | compile [s] | steps (rejected) |",
             "|---|---|---|---|---|---|---|---|"]
    lines += [table_row(r) for r in rows]
    save_table(args.out, name, lines, rows)


if __name__ == "__main__":
    main()
