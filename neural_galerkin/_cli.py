"""The `neural-galerkin` command line: list, solve, pretrain."""

import argparse
import contextlib
import hashlib
import importlib
import importlib.util
import os
import pathlib
import sys
import traceback
from collections.abc import Callable

EQUATION_HELP = ("your own equation (a pdes.AbstractEquation subclass, made with no "
                 "arguments) instead of a shipped PDE: package.module:Class, "
                 "path/to/file.py:Class, or a file or module that defines one equation")


def _build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="neural-galerkin",
        description="Equation-driven (Neural Galerkin) and data-driven (CoLoRA-D) reduced "
        "solves of parameterised PDEs, checked against finite differences.",
    )
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the shipped PDEs, their parameter ranges and weights")

    s = sub.add_parser("solve", help="solve a PDE at a parameter and compare with FD")
    s.add_argument("pde", nargs="?", default=None,
                   help="PDE name (see `neural-galerkin list`); or --equation")
    s.add_argument("--equation", default=None, metavar="SPEC", help=EQUATION_HELP +
                   " (needs --weights DIR)")
    s.add_argument("--mu", type=float, default=None,
                   help="parameter (default: a held-out value of the shipped model)")
    s.add_argument("--mode", choices=("eq", "d"), default="eq",
                   help="eq: equation-driven Neural Galerkin; d: hypernetwork (CoLoRA-D)")
    s.add_argument("--t1", type=float, default=None, help="final time (default: trained)")
    s.add_argument("--weights", default=None, help="weights folder (default: shipped)")
    s.add_argument("--samples", type=_positive(int), default=None,
                   help="Galerkin sample points in all (a uniform grid has about N ** (1/d) "
                   "per direction; default the equation's own number where it states one, "
                   "else 512 / 4096 / 4096 in 1 / 2 / 3 dimensions, 2048 random points above)")
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
    s.add_argument("--data", default=None, metavar="FILE_OR_DIR",
                   help="compare with a data trajectory instead of a reference solve: the "
                   "one at --mu in this .npz or HDF5 folder (as pretrain --data reads); the "
                   "equation-driven solve starts from its first snapshot")
    s.add_argument("--json", default=None, help="write the summary to this JSON file")
    s.add_argument("--plot", default=None, help="save a figure (PNG) of solution and error")
    s.add_argument("--progress", action="store_true", help="show a time-stepping bar")
    s.add_argument("--conserve", default="",
                   help="invariants to keep, comma-separated (mass, energy); eq mode only")
    s.add_argument("--field-weights", default=None, metavar="plain|balanced|W1,W2,...",
                   help="a system's fields in the least squares: all 1, balanced by the size "
                   "of their u_t, or one weight per field (default: the equation's; "
                   "plain)")
    s.add_argument("--gradient-weights", default=None, metavar="none|FIELD=W,...",
                   help="the gradient of these fields' residuals in the least squares too, "
                   "with these weights (a Sobolev norm), or none (default: the equation's; "
                   "wave-2d: u weighted by the wave speed, its energy norm)")
    s.add_argument("--conserve-method", choices=("constraint", "projection", "both"),
                   default="both", help="constrained least squares, projection after each "
                   "step (round-off), or both")

    t = sub.add_parser("pretrain", help="pretrain a model from FD trajectories or data")
    t.add_argument("pde", nargs="?", default=None,
                   help="shipped PDE whose recipe to follow (FD training data)")
    t.add_argument("--equation", default=None, metavar="SPEC", help=EQUATION_HELP +
                   "; trained on --data, or else on its reference solutions at 5 parameters "
                   "across its mu_range (from 0 to its t1)")
    t.add_argument("--data", default=None, metavar="FILE_OR_DIR",
                   help=".npz with u (n_mu, n_t, *grid) or (n_mu, n_t, n_fields, *grid), mu, "
                   "t, x0, x1, ...; or a folder of HDF5 files, one per parameter (needs h5py)")
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
    t.add_argument("--n-freq", type=int, default=None,
                   help="Fourier frequencies per periodic direction in the input embedding "
                   "(default: the recipe's, else 1)")
    t.add_argument("--residual-weight", type=float, default=None,
                   help="weight of the PDE residual in the loss (equation-aware pretraining; "
                   "needs a PDE name; default: the recipe's, 0 with --data)")
    t.add_argument("--residual-points", type=int, default=None,
                   help="random points per snapshot of the residual term (default: the "
                   "recipe's, 128 with --data)")
    t.add_argument("--early-weight", type=float, default=None, metavar="A",
                   help="draw the batches' snapshots at time t with weight 1 + A exp(-(t - t0) "
                   "/ fade): the first ones 1 + A times as often as the late ones, for a "
                   "manifold that holds the initial condition, where the equation-driven solve "
                   "starts (default 0: uniform)")
    t.add_argument("--early-fade", type=float, default=None, metavar="T",
                   help="the time over which --early-weight's emphasis fades (default: a 40th "
                   "of the data's time span)")
    t.add_argument("--tangent-weight", type=float, default=None,
                   help="weight of the tangent-space term (the Galerkin least-squares residual "
                   "of the whole online set; needs a PDE name or --equation; default 0)")
    t.add_argument("--tangent-sigma", type=float, default=None,
                   help="perturbation of the online weights in the tangent term, in units of "
                   "their spread over the training (default 0: along the trajectories)")
    t.add_argument("--pool-rank", type=int, default=None, metavar="Q",
                   help="add pool components of rank Q to every layer (online weights that "
                   "stay zero until an adaptive solve brings them online); with --init: "
                   "added to that model")
    t.add_argument("--train", choices=("all", "pool"), default="all",
                   help="train every weight, or the pool components alone (with "
                   "--tangent-weight; the rest of the model stays as it is)")
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

    from ._data import MissingH5py
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
            MissingMatplotlib, MissingH5py) as e:
        # (not any ImportError: that would hide a broken install; the two above name an extra)
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


def shipped_equation(name: str):
    """`pdes.get(name)`; an unknown name's message points to `--equation` too."""
    import pdes

    try:
        return pdes.get(name)
    except ValueError as e:
        raise ValueError(f"{e}; for your own equation give --equation package.module:Class or "
                         "--equation path/to/file.py:Class") from None


def load_equation(spec: str):
    """The user's equation named by `spec` (the `--equation` option), made with no arguments:

    - `package.module:Class`: imported as Python imports it (from `sys.path`, and the current
      folder);
    - `path/to/file.py:Class`: the file run as a module (its folder on `sys.path` while it
      runs, so it may import its neighbours);
    - `path/to/file.py` or `package.module` alone: the one concrete subclass of
      `pdes.AbstractEquation` it defines.

    `Class` must be a `pdes.AbstractEquation` subclass; `Class()` makes the equation, so its
    fields need defaults. `NAME` may instead be an equation made in the module
    (`heat = Heat(t1=1.0)`), which is taken as it is.

    **Raises:** `FileNotFoundError` for a missing file; `ValueError` for every other failure
    (no such module or name, not an equation, a constructor that needs arguments, an error
    while importing), saying what to write.
    """
    import pdes

    target, colon, name = spec.rpartition(":")
    if not colon or not name.isidentifier():  # no name (a ':' in a Windows path is not one)
        target, name = spec, None
    usage = ("write package.module:Class or path/to/file.py:Class (a subclass of "
             "pdes.AbstractEquation)")
    if not target.strip():
        raise ValueError(f"--equation {spec!r}: no module or file given; {usage}")
    if target.endswith(".py") or "/" in target or os.sep in target:
        module, where = _import_file(pathlib.Path(target), spec), target
    else:
        module, where = _import_module(target, spec, usage), f"the module {target}"
    defined = [v for v in vars(module).values()
               if isinstance(v, type) and issubclass(v, pdes.AbstractEquation)
               and v.__module__ == module.__name__ and not _lacks(v)]
    names = ", ".join(c.__name__ for c in defined) or "none"
    if name is None:
        if len(defined) != 1:
            raise ValueError(
                f"--equation {spec}: {where} defines {len(defined) or 'no'} equation "
                f"classes (subclasses of pdes.AbstractEquation: {names}); "
                + (f"name one: {target}:{defined[0].__name__}" if defined else usage))
        obj, name = defined[0], defined[0].__name__
    elif not hasattr(module, name):
        raise ValueError(f"--equation {spec}: {where} has no {name!r} (the equation classes it "
                         f"defines: {names})")
    else:
        obj = getattr(module, name)
    if isinstance(obj, pdes.AbstractEquation):
        return obj
    if not (isinstance(obj, type) and issubclass(obj, pdes.AbstractEquation)):
        kind = f"the class {obj.__name__}" if isinstance(obj, type) else type(obj).__name__
        raise ValueError(f"--equation {spec}: {name} in {where} is {kind}, not a subclass of "
                         f"pdes.AbstractEquation (the equation classes it defines: {names})")
    make: Callable[[], pdes.AbstractEquation] = obj  # pyright: ignore[reportAssignmentType]
    try:
        return make()
    except TypeError as e:
        if _lacks(obj):
            raise ValueError(f"--equation {spec}: {name} is abstract: it lacks "
                             f"{', '.join(_lacks(obj))}; define them in the class, or name a "
                             "subclass that does") from None
        raise ValueError(f"--equation {spec}: {name}() failed ({e}); the command line makes the "
                         "equation with no arguments: give its fields defaults (e.g. "
                         f"`t1: float = 1.0`), or make one in the module (NAME = {name}(...)) "
                         f"and write {target}:NAME") from None
    except Exception as e:
        raise ValueError(f"--equation {spec}: {name}() raised {type(e).__name__}: "
                         f"{e}{_line_in(e, where)}") from e


def _lacks(cls: type) -> list[str]:
    """What an abstract equation class lacks: methods, fields and class attributes."""
    names = set()
    for attr in ("__abstractmethods__", "__abstractvars__", "__abstractclassvars__"):
        names |= set(getattr(cls, attr, ()))
    return sorted(names)


def _import_file(path: pathlib.Path, spec: str):
    if not path.is_file():
        hint = (" (a module is written package.module:Class, with dots)"
                if path.suffix != ".py" else "")
        raise FileNotFoundError(f"--equation {spec}: there is no file {path}{hint}")
    if path.suffix != ".py":
        raise ValueError(f"--equation {spec}: {path} is not a Python file (.py)")
    resolved = path.resolve()
    key = hashlib.sha1(str(resolved).encode()).hexdigest()[:10]
    module_name = f"_neural_galerkin_equation_{key}_{path.stem}"
    found = importlib.util.spec_from_file_location(module_name, resolved)
    if found is None or found.loader is None:
        raise ValueError(f"--equation {spec}: {path} cannot be imported as a Python module")
    module = importlib.util.module_from_spec(found)
    sys.modules[module_name] = module  # (dataclasses, equinox look their module up there)
    try:
        with _on_sys_path(str(resolved.parent)):
            found.loader.exec_module(module)
    except (Exception, SystemExit) as e:
        del sys.modules[module_name]
        raise ValueError(f"--equation {spec}: running {path} failed: {type(e).__name__}: "
                         f"{e}{_line_in(e, str(resolved))}") from e
    return module


def _import_module(target: str, spec: str, usage: str):
    try:
        with _on_sys_path(os.getcwd()):
            return importlib.import_module(target)
    except ModuleNotFoundError as e:
        if e.name is not None and (target == e.name or target.startswith(e.name + ".")):
            raise ValueError(f"--equation {spec}: there is no module {target!r} (searched: the "
                             "current folder and sys.path, e.g. PYTHONPATH); give the path of "
                             f"a file instead (path/to/file.py:Class), or {usage}") from None
        raise ValueError(f"--equation {spec}: importing {target} failed: {e}") from e
    except Exception as e:
        raise ValueError(f"--equation {spec}: importing {target} failed: {type(e).__name__}: "
                         f"{e}{_line_in(e, None)}") from e


@contextlib.contextmanager
def _on_sys_path(folder: str):
    added = folder not in sys.path
    if added:
        sys.path.insert(0, folder)
    try:
        yield
    finally:
        if added and folder in sys.path:
            sys.path.remove(folder)


def _line_in(e: BaseException, filename: str | None) -> str:
    """` (file, line N)`: where in the user's code `e` was raised (the innermost frame in
    `filename`, or the innermost frame outside this package); '' where unknown."""
    if isinstance(e, SyntaxError) and e.lineno is not None:
        return f" ({e.filename}, line {e.lineno})"
    frames = [f for f in traceback.extract_tb(e.__traceback__)
              if (f.filename == filename if filename is not None
                  else "importlib" not in f.filename)]
    return f" ({frames[-1].filename}, line {frames[-1].lineno})" if frames else ""


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
