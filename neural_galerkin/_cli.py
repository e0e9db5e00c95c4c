"""The `neural-galerkin` command line: list, solve, pretrain."""

import argparse
import sys


def _build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="neural-galerkin",
        description="Equation-driven (Neural Galerkin) and data-driven (CoLoRA-D) reduced "
        "solves of parameterised PDEs, checked against finite differences.",
    )
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the shipped PDEs, their parameter ranges and weights")

    s = sub.add_parser("solve", help="solve a PDE at a parameter and compare with FD")
    s.add_argument("pde", help="PDE name (see `neural-galerkin list`)")
    s.add_argument("--mu", type=float, default=None,
                   help="parameter (default: a held-out value of the shipped model)")
    s.add_argument("--mode", choices=("eq", "d"), default="eq",
                   help="eq: equation-driven Neural Galerkin; d: hypernetwork (CoLoRA-D)")
    s.add_argument("--t1", type=float, default=None, help="final time (default: trained)")
    s.add_argument("--weights", default=None, help="weights folder (default: shipped)")
    s.add_argument("--samples", type=_positive(int), default=None,
                   help="Galerkin sample points in all (a uniform grid has about N ** (1/d) "
                   "per direction; default 512 / 4096 / 4096 in 1 / 2 / 3 dimensions, 2048 "
                   "random points above)")
    s.add_argument("--sampler", choices=("uniform", "random", "steep"), default="uniform",
                   help="fixed uniform grid, or points redrawn every step: uniformly at "
                   "random, or denser where the solution is steep")
    s.add_argument("--rtol", type=_positive(float, below=1.0), default=1e-6,
                   help="time-stepping tolerance (atol is rtol / 100)")
    s.add_argument("--n-ref", type=_positive(int), default=None,
                   help="reference grid points per direction (default 2048 / 256 / 48 in "
                   "1 / 2 / 3 dimensions; random points for an exact reference above)")
    s.add_argument("--reference", choices=("fd", "spectral", "exact"), default=None,
                   help="compare with finite differences, the pseudo-spectral solution of "
                   "the equation's F, or the exact solution (default: fd up to 3 "
                   "dimensions, spectral for an equation without fd_rhs, exact above 3)")
    s.add_argument("--json", default=None, help="write the summary to this JSON file")
    s.add_argument("--plot", default=None, help="save a figure (PNG) of solution and error")
    s.add_argument("--progress", action="store_true", help="show a time-stepping bar")
    s.add_argument("--conserve", default="",
                   help="invariants to keep, comma-separated (mass, energy); eq mode only")
    s.add_argument("--conserve-method", choices=("constraint", "projection", "both"),
                   default="both", help="constrained least squares, projection after each "
                   "step (round-off), or both")

    t = sub.add_parser("pretrain", help="pretrain a model from FD trajectories or data")
    t.add_argument("pde", nargs="?", default=None,
                   help="shipped PDE whose recipe to follow (FD training data)")
    t.add_argument("--data", default=None,
                   help=".npz with u (n_mu, n_t, *grid), mu, t, x0, x1, ...")
    t.add_argument("--out", default=None, metavar="DIR",
                   help="folder to write the weights, history.json, loss.png and checkpoint/ "
                   "to (a new or empty folder, or an earlier model folder to replace; with "
                   "--resume: default the run's folder)")
    t.add_argument("--exclude-mu", type=float, nargs="+", default=(),
                   help="with --data: parameters to hold out of training (for testing)")
    t.add_argument("--steps", type=int, default=None,
                   help="optimiser steps (default: the recipe's, 20000 with --data)")
    t.add_argument("--learning-rate", type=float, default=None,
                   help="peak learning rate of the schedule (default 3e-3)")
    t.add_argument("--batch-points", type=int, default=None,
                   help="grid points per snapshot in each step's batch (default 256)")
    t.add_argument("--init", default=None,
                   help="continue training from this weights folder (keeps its width, depth, "
                   "rank; fresh optimiser and schedule)")
    t.add_argument("--resume", default=None, metavar="DIR",
                   help="continue the stopped run whose --out folder (or checkpoint folder) "
                   "this is, where it stopped: its optimiser, schedule, data and settings")
    t.add_argument("--checkpoint-every", type=int, default=1000, metavar="N",
                   help="steps between checkpoints in OUT/checkpoint (default 1000)")
    t.add_argument("--time-limit", type=float, default=None, metavar="SECONDS",
                   help="seconds of wall time after which to save the model and a "
                   "checkpoint and stop (at the end of the current chunk of steps)")
    t.add_argument("--seed", type=int, default=None, help="random seed")
    t.add_argument("--width", type=int, default=None)
    t.add_argument("--depth", type=int, default=None)
    t.add_argument("--rank", type=int, default=None)
    t.add_argument("--residual-weight", type=float, default=None,
                   help="weight of the PDE residual in the loss (equation-aware pretraining; "
                   "needs a PDE name; default: the recipe's, 0 with --data)")
    t.add_argument("--residual-points", type=int, default=None,
                   help="random points per snapshot of the residual term (default: the "
                   "recipe's, 128 with --data)")
    return p


def _positive(kind, below: float | None = None):
    """An argparse type: a number of `kind` that is positive (and below `below`)."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {kind.__name__}, got {text!r}") \
                from None
        if not value > 0 or (below is not None and not value < below):
            bounds = f"between 0 and {below:g}" if below is not None else "positive"
            raise argparse.ArgumentTypeError(f"must be {bounds}, got {text}")
        return value

    parse.__name__ = kind.__name__
    return parse


def main(argv: list[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    import equinox as eqx
    import jax

    from ._plotting import MissingMatplotlib
    from ._solution import SolveError, runtime_error_message

    jax.config.update("jax_enable_x64", True)  # accuracy targets are in float64
    try:
        if args.command == "list":
            return _list(args)
        if args.command == "solve":
            from ._cli_solve import solve_command

            return solve_command(args)
        from ._cli_pretrain import pretrain_command

        return pretrain_command(args)
    except (ValueError, OSError, FloatingPointError, NotImplementedError,
            MissingMatplotlib) as e:  # (not ImportError: that would hide a broken install)
        # OSError: a file that cannot be read or written (a disk full, a permission)
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except SolveError as e:  # the equation-driven solve failed; its message says what to do
        print(f"error: {e}", file=sys.stderr)
        return 3
    except eqx.EquinoxRuntimeError as e:  # a check inside compiled code elsewhere
        print(f"error: {runtime_error_message(e)}", file=sys.stderr)
        return 3


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _list(args) -> int:
    import pdes

    from ._recipes import RECIPES, shipped_weights

    print(f"{'pde':<26}{'mu range':<18}{'t1':<6}{'default mu':<12}shipped weights")
    for name in sorted({*pdes.EQUATIONS, *RECIPES}):
        eq = pdes.get(name)
        rec = RECIPES.get(name)
        have = rec is not None and shipped_weights(name).is_dir()
        lo, hi = eq.mu_range
        dm = f"{rec.default_mu:g}" if rec else "-"
        print(f"{name:<26}{f'[{lo:g}, {hi:g}]':<18}{eq.t1:<6g}{dm:<12}"
              f"{'yes' if have else 'no (pretrain: see docs)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
