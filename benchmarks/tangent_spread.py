"""How far the equation-driven solve strays from the data-driven weights, against how good the
tangent space is at random perturbations of that size: the scale to give the tangent term of
pretraining (`tangent_sigma`).

    python benchmarks/tangent_spread.py PDE [--weights W] [--mu MU] [--sigmas 0 0.1 0.3 1]
        [--name NAME] [--out benchmarks/results]

Two tables from the same model (the shipped one by default):
- per `sigma`: the mean relative tangent residual (ridge 1e-3, 256 points, squared, as the
  tangent term of pretraining has it, and its square root) over 32 fixed random `(t, mu)` in
  the recipe's training ranges, at the hypernetwork's weights perturbed by `sigma` times their
  spread over the training `(t, mu)` (`tangent_pretraining.tangent_diagnostic`);
- at 17 times at `--mu`: EQ's distance from D's weights, the root mean square over the weights
  of `(phi_EQ - phi_D) / spread`, and EQ's Galerkin residual there
  (`tangent_pretraining.eq_distance`: EQ from the fitted phi(0), 512 samples).
Float64. Writes `NAME.md/.json` (default `PDE_tangent_spread`).
"""

import argparse

import jax

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402
from _results import machine, save_table  # noqa: E402
from tangent_pretraining import eq_distance, tangent_diagnostic  # noqa: E402

import neural_galerkin as ng  # noqa: E402
from neural_galerkin._cli import shipped_equation  # noqa: E402
from neural_galerkin._recipes import RECIPES, shipped_weights  # noqa: E402

DEFAULT_SIGMAS = [0.0, 0.1, 0.3, 1.0]


def command(args) -> str:
    """The command line of the table's header, with the options given."""
    line = f"python benchmarks/tangent_spread.py {args.pde}"
    if args.weights:
        line += f" --weights {args.weights}"
    if args.mu is not None:
        line += f" --mu {args.mu:g}"
    if args.sigmas != DEFAULT_SIGMAS:
        line += " --sigmas " + " ".join(f"{s:g}" for s in args.sigmas)
    return line


def main():
    p = argparse.ArgumentParser()
    p.add_argument("pde")
    p.add_argument("--weights", default=None)
    p.add_argument("--mu", type=float, default=None, help="default: the recipe's default")
    p.add_argument("--sigmas", type=float, nargs="+", default=DEFAULT_SIGMAS)
    p.add_argument("--name", default=None)
    p.add_argument("--out", default="benchmarks/results")
    args = p.parse_args()
    if args.pde not in RECIPES:
        p.error(f"{args.pde} has no recipe (its training ranges set the spread): one of "
                f"{sorted(RECIPES)}")
    eq = shipped_equation(args.pde)
    rec = RECIPES[args.pde]
    model = ng.load_model(args.weights or shipped_weights(args.pde))
    mu = rec.default_mu if args.mu is None else args.mu
    sig = [{"sigma": s, "tangent": tangent_diagnostic(model, eq, s, rec)} for s in args.sigmas]
    dist = eq_distance(model, eq, mu, rec)
    for r in sig:
        print(r, flush=True)
    lines = [f"{args.pde}, model {args.weights or 'shipped'}: the tangent residual at the "
             "hypernetwork's weights perturbed by sigma spreads (mean over 32 random training "
             "(t, mu), relative, squared as in pretraining's tangent term, ridge 1e-3, 256 "
             f"points), and at mu = {mu:g} how far EQ (fitted phi(0), 512 samples) strays from "
             f"D in spreads (float64, {machine()}). `{command(args)}`", "",
             "| sigma | tangent residual (squared) | its square root |", "|---|---|---|"]
    lines += [f"| {r['sigma']:g} | {r['tangent']:.2e} | {np.sqrt(r['tangent']):.3f} |"
              for r in sig]
    lines += ["", "| t | EQ - D, rms over the weights [spreads] | Galerkin residual along EQ |",
              "|---|---|---|"]
    lines += [f"| {r['t']:g} | {r['distance']:.3f} | {r['residual']:.3f} |" for r in dist]
    save_table(args.out, args.name or f"{args.pde.replace('-', '_')}_tangent_spread", lines,
               {"sigmas": sig, "distance": dist})


if __name__ == "__main__":
    main()
