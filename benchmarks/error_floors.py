"""Where the equation-driven solve's error comes from: three floors beside D and EQ, per
saved time, all against the equation's reference at one parameter.

- **best fit**: the online weights fitted (Levenberg-Marquardt) to the reference at that
  time on the reference grid, started from D's weights and from EQ's, the better kept: the
  manifold's approximation error near the two paths (a local best: the fit is not global),
  which an online solve passing there does not beat;
- **fitted start, exact flow**: the initial condition as the solve fits it (EQ's start),
  carried by the reference solver instead of the reduced flow: what the start alone costs;
- **EQ**: the solve from that start, as `neural-galerkin solve` runs it (its defaults).

If EQ is far above the first two, the reduced flow (the Galerkin residual along its path)
is what to improve; if the fitted start, exact flow is already above the bar, the
initial-condition fit (the manifold at `t0`) is.

    python benchmarks/error_floors.py PDE [--weights W] [--mu MU] [--times 11]
        [--n-ref N] [--field-weights plain|balanced] [--gradient-weights none|FIELD=W,...]
        [--max-steps 20000] [--name NAME] [--out benchmarks/results]

`--field-weights`, `--gradient-weights`: the norm of the Galerkin condition (default:
the equation's); the start is fitted as `fit_initial_condition` does by default, its fields
plainly weighted, with the same gradient rows as the solve.

Float64. Writes `NAME.md/.json` (default `PDE_error_floors`); the space-time errors (over
the saved times, all fields) are in the header.
"""

import argparse

import jax

jax.config.update("jax_enable_x64", True)

import diffrax as dfx  # noqa: E402
import equinox as eqx  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from _results import (  # noqa: E402
    add_trajectory_arguments,
    load_trajectory_problem,
    machine,
    save_table,
)

import neural_galerkin as ng  # noqa: E402
import pdes  # noqa: E402
from neural_galerkin._cli_solve import gradient_weights_option  # noqa: E402
from neural_galerkin._compare import relative_error, relative_error_over_time  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    add_trajectory_arguments(p, times=11)
    p.add_argument("--field-weights", choices=("plain", "balanced"), default=None)
    p.add_argument("--gradient-weights", default=None, help="none, or FIELD=W,...")
    p.add_argument("--max-steps", type=int, default=20_000,
                   help="EQ's step limit (a solve that leaves the manifold crawls)")
    args = p.parse_args()
    eq, model, mu, n_ref = load_trajectory_problem(args)
    ts = jnp.linspace(0.0, eq.t1, args.times)
    ref = pdes.reference_solve(eq, mu, n_ref, ts)
    us = np.asarray(ref.us)
    n_fields = len(eq.fields)
    points = jnp.asarray(np.asarray(ref.x).reshape(-1, eq.ndim))

    def at_points(u):  # grid values (fields first) -> values at `points` (fields last)
        u = np.asarray(u).reshape(n_fields, -1) if n_fields > 1 else np.asarray(u).ravel()
        return jnp.asarray(u.T)

    d = ng.predict(model, ts, mu)
    gradient = gradient_weights_option(args.gradient_weights, eq)
    norm = dict(field_weights=args.field_weights, gradient_weights=gradient)
    phi0, fit_error = ng.fit_initial_condition(eq, model, mu=mu, gradient_weights=gradient)
    start = eqx.tree_at(lambda s: s.phis, d, jnp.broadcast_to(phi0, d.phis.shape))
    carried = pdes.reference_solve(eq, mu, n_ref, ts,
                                   u0=np.asarray(start.evaluate(ref.x))[0])
    s = ng.solve(eq, model, float(ts[0]), eq.t1, None, phi0, mu, saveat=dfx.SaveAt(ts=ts),
                 max_steps=args.max_steps, residual_tol=None, throw=False, **norm)
    best = []
    for t, u, phi_d, phi_eq in zip(ts, us, d.phis, s.phis):
        fits = [ng.fit_initial_condition(eq, model, at_points(u), mu, samples=points,
                                         phi_guess=guess, t0=t)
                for guess in (phi_d, phi_eq) if bool(jnp.all(jnp.isfinite(guess)))]
        best.append(min(fits, key=lambda fit: fit[1])[0])
    best_fit = eqx.tree_at(lambda s: s.phis, d, jnp.stack(best))
    runs = {"D": d.evaluate(ref.x), "best fit": best_fit.evaluate(ref.x),
            "fitted start, exact flow": carried.us, "EQ": s.evaluate(ref.x)}
    per_time = {k: relative_error_over_time(np.asarray(v), us) for k, v in runs.items()}
    whole = {k: relative_error(np.asarray(v), us) for k, v in runs.items()}
    rows = [{"t": float(t), **{k: float(v[i]) for k, v in per_time.items()}}
            for i, t in enumerate(np.asarray(ts))]
    command = (f"python benchmarks/error_floors.py {args.pde}"
               + (f" --weights {args.weights}" if args.weights else "")
               + (f" --mu {mu:g}" if args.mu is not None else "")
               + (f" --times {args.times}" if args.times != 11 else "")
               + (f" --field-weights {args.field_weights}" if args.field_weights else "")
               + (f" --gradient-weights {args.gradient_weights}" if args.gradient_weights
                  else "")
               + (f" --max-steps {args.max_steps}" if args.max_steps != 20_000 else "")
               + (f" --name {args.name}" if args.name else ""))
    lines = [f"{args.pde} at mu = {mu:g}, model {args.weights or 'shipped'} "
             f"({len(phi0)} online weights): errors against the reference on {n_ref} points "
             f"per direction at {args.times} times. Space-time: "
             + ", ".join(f"{k} {v:.2e}" for k, v in whole.items())
             + f". The initial fit's own error (at its samples): {fit_error:.2e}; EQ: "
             f"{s.message}, {int(s.stats['num_steps'])} steps (float64, {machine()}). "
             f"`{command}`", "",
             "| t | " + " | ".join(runs) + " |", "|---" * (len(runs) + 1) + "|"]
    lines += [f"| {r['t']:g} | " + " | ".join(f"{r[k]:.2e}" for k in runs) + " |"
              for r in rows]
    save_table(args.out, args.name or f"{args.pde.replace('-', '_')}_error_floors", lines,
               [{"space_time": whole, "fit_error": fit_error}, *rows])


if __name__ == "__main__":
    main()
