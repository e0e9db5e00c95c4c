"""Cost of one right-hand side of the Galerkin dynamics against the Jacobian alone.

    python benchmarks/online_step.py [PDE ...] [--out benchmarks/results]

For each shipped model (default: all with shipped weights) at its default parameter, with
what `solve` uses by default (its Galerkin samples, the equation's field weights and gradient
rows, the lift of nonzero boundary data): the median wall time (compiled, many repeats) of
- the network at the samples (one forward pass),
- the Jacobian `J = du/dphi` alone, as the solver forms it (`GalerkinField.jacobian`:
  reverse mode, one forward and one backward pass per sample), and for comparison the same
  Jacobian in forward mode (one tangent per online weight),
- the right-hand side `F(u)` alone (value, gradient and Hessian diagonal in one batched
  forward-over-forward pass),
- one full right-hand side of the ODE for `phi`: `J`, `F` and the least-squares solve,
and the ratio of the last to the Jacobian.
"""

import argparse
import os
import platform

import jax

jax.config.update("jax_enable_x64", True)

import equinox as eqx  # noqa: E402
from _results import median_time, save_table  # noqa: E402

import neural_galerkin as ng  # noqa: E402
import pdes  # noqa: E402
from neural_galerkin._network import set_phi  # noqa: E402
from neural_galerkin._predict import galerkin_field  # noqa: E402
from neural_galerkin._recipes import RECIPES, shipped_weights  # noqa: E402


@eqx.filter_jit
def forward(field, phi):
    return jax.vmap(set_phi(field.net, phi))(field.samples)


@eqx.filter_jit
def jacobian(field, phi):
    return field.jacobian(phi)


@eqx.filter_jit
def jacobian_forward(field, phi):  # forward mode over the p online weights, for comparison
    return jax.vmap(jax.jacfwd(lambda p, x: set_phi(field.net, p)(x)), (None, 0))(
        phi, field.samples)


@eqx.filter_jit
def rhs_only(field, phi, mu):
    net = set_phi(field.net, phi)
    return jax.vmap(lambda x: field.equation.rhs(net, x, mu))(field.samples)


@eqx.filter_jit
def full(field, phi, mu):
    return field(0.0, phi, mu)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("pdes", nargs="*")
    p.add_argument("--out", default="benchmarks/results")
    args = p.parse_args()
    keys = args.pdes or sorted(k for k in RECIPES if shipped_weights(k).is_dir())
    rows = []
    for key in keys:
        eq = pdes.get(key)
        model = ng.load_model(shipped_weights(key))
        mu = RECIPES[key].default_mu
        # the solve's defaults: its sample points, the equation's field weights and gradient
        # rows (the wave's energy norm), the lift of nonzero boundary data
        field = galerkin_field(eq, model, ng.sample_points(eq), mu)
        phi = model.phi(0.5 * sum(model.t_range), mu)
        r = {"pde": key, "samples": int(field.samples.shape[0]), "p": int(phi.shape[0]),
             "forward_ms": 1e3 * median_time(forward, field, phi),
             "jacobian_ms": 1e3 * median_time(jacobian, field, phi),
             "jacobian_forward_ms": 1e3 * median_time(jacobian_forward, field, phi),
             "F_ms": 1e3 * median_time(rhs_only, field, phi, mu),
             "rhs_ms": 1e3 * median_time(full, field, phi, mu)}
        r["ratio"] = r["rhs_ms"] / r["jacobian_ms"]
        rows.append(r)
        print(r, flush=True)
    lines = [f"One right-hand side of the Galerkin ODE against the Jacobian alone (median of 200 "
             f"compiled calls; {platform.machine()}, {jax.devices()[0].platform}, "
             f"{jax.device_count()} device, {len(os.sched_getaffinity(0))} core(s) available; "
             f"`python benchmarks/online_step.py`)", "",
             "| pde | samples | online weights | forward [ms] | J [ms] | J forward mode [ms] | "
             "F [ms] | full RHS (J, F, lstsq) [ms] | RHS / J |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['pde']} | {r['samples']} | {r['p']} | {r['forward_ms']:.3f} | "
                     f"{r['jacobian_ms']:.3f} | {r['jacobian_forward_ms']:.3f} | "
                     f"{r['F_ms']:.3f} | {r['rhs_ms']:.3f} | "
                     f"{r['ratio']:.2f} |")
    lines += ["", "`J` is formed in reverse mode (one forward and one backward pass per sample, "
              "whatever the number of online weights); the forward-mode column (one tangent per "
              "online weight) is for comparison. `F` of a second-order equation in `d` "
              "dimensions needs the `d` second derivatives `u_{x_i x_i}` (forward over forward "
              "along each direction, about one forward pass of work per direction), so in high "
              "`d` it costs more than the reverse-mode `J` and sets the ratio."]
    save_table(args.out, "online_step", lines, rows)


if __name__ == "__main__":
    main()
