"""Invariant drift without and with conservation, its cost in accuracy and wall time.

    python benchmarks/conservation.py [--out benchmarks/results]

1D Burgers (shipped model) at the held-out viscosities: mass drift (measured on the 2048-point
reference grid, which is also the invariants' quadrature), error against FD and online wall time
(compilation excluded) for no constraint, constraint, projection and both. Then two invariants
at once (mass and energy, inviscid Burgers before the shock, the shipped network) and mass on a
2D advection problem (a small untrained CoLoRA network, 32 x 32 quadrature).
"""

import argparse

import jax

jax.config.update("jax_enable_x64", True)

import diffrax as dfx  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import jax.random as jr  # noqa: E402
from _results import save_table  # noqa: E402

import neural_galerkin as ng  # noqa: E402
import pdes  # noqa: E402
from neural_galerkin._compare import compare  # noqa: E402

METHODS = (None, "constraint", "projection", "both")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", default="benchmarks/results")
    args = p.parse_args()
    eq, model = pdes.Burgers(), ng.load_pretrained("burgers")
    lines = ["1D Burgers, shipped model, t in [0, 0.4], 512 samples; mass drift on the "
             "2048-point reference grid and on the invariant's own quadrature (the 512 samples, "
             "or the 2048-point reference grid); extra time against no conservation", "",
             "| mu | method | quadrature | drift, 2048 grid | drift, own quadrature "
             "| error vs FD | online time [s] | extra time | steps |",
             "|---|---|---|---|---|---|---|---|---|"]
    for mu in ng.RECIPES["burgers"].test_mus:
        base = None
        for method in METHODS:
            for points in ((None,) if method is None else (512, 2048)):
                kw = {} if method is None else dict(
                    conserve=ng.Conservation(("mass",), method=method, points=points))
                r = compare(eq, model, mu, mode="eq", **kw)
                base = r.time_online_s if method is None else base
                own = "-" if method is None else f"{r.drifts['mass']:.2e}"
                extra = r.time_online_s / base - 1
                lines.append(
                    f"| {mu:g} | {method or 'none'} | {points or '-'} | {r.mass_drift:.2e} | "
                    f"{own} | {r.rel_error:.3e} | {r.time_online_s:.2f} | "
                    f"{extra:+.0%} | {r.num_steps} |")
                print(lines[-1], flush=True)

    lines += ["", "Two invariants: inviscid Burgers (mu = 0), shipped network, t in [0, 0.12], "
              "256 samples and quadrature points", "",
              "| method | mass drift | energy drift |", "|---|---|---|"]
    inviscid = pdes.Burgers(mu_range=(0.0, 1e-2))
    phi0, _ = ng.fit_initial_condition(inviscid, model.net, mu=0.0, samples=256,
                                       phi_guess=model.phi(0.0, 1e-3))
    for method in METHODS[1:]:
        sol = ng.solve(inviscid, model.net, 0.0, 0.12, None, phi0, 0.0, samples=256,
                       saveat=dfx.SaveAt(ts=jnp.linspace(0, 0.12, 13)),
                       conserve=ng.Conservation(("mass", "energy"), method=method))
        d = sol.drift()
        lines.append(f"| {method} | {d['mass']:.2e} | {d['energy']:.2e} |")
        print(lines[-1], flush=True)

    lines += ["", "2D advection on [0,1) x [0,2), direction (1, 0.5), mu = 1, t in [0, 0.3], "
              "untrained CoLoRA net (width 16, depth 3), 32 x 32 samples and quadrature points", "",
              "| method | mass drift |", "|---|---|"]
    eq2 = pdes.Advection(lower=(0.0, 0.0), upper=(1.0, 2.0), direction=(1.0, 0.5))
    net = ng.CoLoRAMLP(ng.PeriodicEmbedding(eq2.lower, eq2.lengths), 16, 3, 2,
                       key=jr.PRNGKey(0))
    phi0, _ = ng.fit_initial_condition(eq2, net, mu=1.0, samples=32 * 32)
    for method in METHODS[1:]:  # an untrained net: its residual is large, not the point here
        sol = ng.solve(eq2, net, 0.0, 0.3, None, phi0, 1.0, samples=32 * 32, residual_tol=None,
                       saveat=dfx.SaveAt(ts=jnp.linspace(0, 0.3, 7)),
                       conserve=ng.Conservation(("mass",), method=method))
        lines.append(f"| {method} | {sol.drift()['mass']:.2e} |")
        print(lines[-1], flush=True)
    save_table(args.out, "conservation", lines)


if __name__ == "__main__":
    main()
