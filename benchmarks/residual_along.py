"""Where the equation-driven solve leaves the manifold: at saved times, the relative Galerkin
residual `||J v - F|| / ||F||` along the data-driven trajectory (D's `phi(t)`,
`ng.manifold_residual`) and along the equation-driven one (EQ from the fitted initial
condition; both measured, as the solve does, on points the least squares did not fit), both
errors against the equation's reference, and the distance `||phi_EQ - phi_D||` between the
two sets of online weights. A residual small along D but large along EQ means the manifold
holds the PDE's `u_t` where it was trained and not where EQ goes.

    python benchmarks/residual_along.py PDE [--weights W] [--mu MU] [--times 21]
        [--n-ref N] [--name NAME] [--out benchmarks/results]

Float64; the default Galerkin samples; Tsit5 rtol 1e-6 (the solve's defaults). Writes
`NAME.md/.json` (default `PDE_residual_along`).
"""

import argparse

import jax

jax.config.update("jax_enable_x64", True)

import diffrax as dfx  # noqa: E402
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
from neural_galerkin._compare import relative_error_over_time  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    add_trajectory_arguments(p, times=21)
    args = p.parse_args()
    eq, model, mu, n_ref = load_trajectory_problem(args)
    ts = jnp.linspace(0.0, eq.t1, args.times)
    ref = pdes.reference_solve(eq, mu, n_ref, ts)
    d = ng.predict(model, ts, mu)
    along_d = np.asarray(ng.manifold_residual(eq, model, mu, ts))
    phi0, _ = ng.fit_initial_condition(eq, model, mu=mu)
    s = ng.solve(eq, model, 0.0, eq.t1, None, phi0, mu, saveat=dfx.SaveAt(ts=ts),
                 max_steps=20_000, residual_tol=None, throw=False)
    err_d = relative_error_over_time(d.evaluate(ref.x), ref.us)
    err_eq = relative_error_over_time(s.evaluate(ref.x), ref.us)
    distance = np.linalg.norm(np.asarray(s.phis) - np.asarray(d.phis), axis=1)
    rows = [{"t": float(t), "residual_D": r, "residual_EQ": float(re), "error_D": float(ed),
             "error_EQ": float(ee), "distance": float(dist)}
            for t, r, re, ed, ee, dist in zip(np.asarray(ts), along_d.tolist(),
                                              np.asarray(s.residuals), err_d, err_eq, distance)]
    lines = [f"{args.pde} at mu = {mu:g}, model {args.weights or 'shipped'} ({len(d.phis[0])} "
             f"online weights): the Galerkin residual along D and along EQ, errors against "
             f"the reference on {ref.x.shape[0]} points per direction, and the distance "
             f"between the online weights of the two (EQ: {s.message}, "
             f"{int(s.stats['num_steps'])} steps; float64, {machine()}). `python "
             f"benchmarks/residual_along.py {args.pde}"
             + (" --weights W" if args.weights else "")
             + (f" --mu {mu:g}" if args.mu is not None else "")
             + (f" --times {args.times}" if args.times != 21 else "")
             + (f" --name {args.name}" if args.name else "") + "`", "",
             "| t | residual along D | residual along EQ | D error | EQ error | "
             "abs(phi_EQ - phi_D) |", "|---|---|---|---|---|---|"]
    lines += [f"| {r['t']:g} | {r['residual_D']:.3f} | {r['residual_EQ']:.3f} | "
              f"{r['error_D']:.2e} | {r['error_EQ']:.2e} | {r['distance']:.2f} |" for r in rows]
    save_table(args.out, args.name or f"{args.pde.replace('-', '_')}_residual_along", lines,
               rows)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
