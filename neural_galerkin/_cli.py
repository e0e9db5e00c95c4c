"""The `neural-galerkin` command line: list, solve, pretrain."""

import argparse
import dataclasses
import json
import pathlib
import sys
import time
import warnings

import numpy as np


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
    s.add_argument("--reference", choices=("fd", "exact"), default=None,
                   help="compare with finite differences or the exact solution (default: "
                   "fd up to 3 dimensions, exact above)")
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

    from ._solution import SolveError, runtime_error_message

    jax.config.update("jax_enable_x64", True)  # accuracy targets are in float64
    try:
        return {"list": _list, "solve": _solve, "pretrain": _pretrain}[args.command](args)
    except (ValueError, OSError, FloatingPointError, NotImplementedError, ImportError) as e:
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


def _solve(args) -> int:
    import diffrax as dfx
    import jax.random as jr

    import pdes

    from ._checks import num_samples
    from ._compare import check_model_fits, compare, summary
    from ._io import check_output_file, write_text_atomic
    from ._model import load_model
    from ._recipes import RECIPES, shipped_weights
    from ._sampling import RandomSampler, SteepSampler
    from ._solution import GalerkinResidualWarning

    for path, what in ((args.json, "--json"), (args.plot, "--plot")):
        if path is not None:
            check_output_file(path, what)
    if args.plot is not None:
        from ._plotting import _pyplot

        _pyplot()  # matplotlib is there, before the work whose figure it draws
    eq = pdes.get(args.pde)
    key = args.pde.lower()
    rec = RECIPES.get(key)
    if args.weights is None:
        if rec is None or not shipped_weights(key).is_dir():
            raise ValueError(f"no shipped weights for {args.pde!r}; give --weights DIR (make "
                             f"them with `neural-galerkin pretrain {key} --out DIR`"
                             f"{'' if rec else ' --data FILE.npz'})")
        weights = shipped_weights(key)
    else:
        weights = pathlib.Path(args.weights)
    model = load_model(weights)
    check_model_fits(eq, model)
    if args.mu is None and rec is None:
        raise ValueError(f"give --mu (a parameter inside the model's range "
                         f"[{model.mu_range[0]:g}, {model.mu_range[1]:g}])")
    mu = args.mu if args.mu is not None else rec.default_mu
    eq.check_mu(mu, model.mu_range)
    meter = dfx.TqdmProgressMeter() if args.progress else dfx.NoProgressMeter()
    conserve = tuple(c.strip() for c in args.conserve.split(",") if c.strip())
    n = args.samples if args.samples is not None else num_samples(eq, None)
    samples = {"uniform": lambda: args.samples,
               "random": lambda: RandomSampler(n, jr.PRNGKey(0)),
               "steep": lambda: SteepSampler(n, jr.PRNGKey(0))}[args.sampler]()
    reference = args.reference or ("fd" if eq.ndim <= 3 else "exact")
    _say(f"{key}: mu={mu:g}, mode={args.mode}; solving (reference: {reference}, then the "
         "reduced model) ...")
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", GalerkinResidualWarning)
        report = compare(eq, model, mu, mode=args.mode, t1=args.t1, n_ref=args.n_ref,
                         reference=reference,
                         samples=samples, rtol=args.rtol, atol=args.rtol * 1e-2,
                         progress_meter=meter, conserve=conserve,
                         conserve_method=args.conserve_method)
    total = time.perf_counter() - start
    s = summary(report)
    rows = [("pde", s["pde"]), ("mu", f"{s['mu']:g}"), ("mode", s["mode"]),
            ("final time", f"{s['t1']:g}"),
            ("relative L2 error (space-time)", f"{s['rel_error']:.3e}"),
            ("relative L2 error at final time", f"{s['rel_error_final']:.3e}"),
            ("relative L2 error over time", "  ".join(
                f"t={s['ts'][j]:.3g}: {s['errors_over_time'][j]:.2e}"
                for j in np.linspace(0, len(s["ts"]) - 1, 5).round().astype(int))),
            ("mass drift (reduced)", f"{s['mass_drift']:.3e}"),
            (f"mass drift ({reference} reference)", f"{s['mass_drift_reference']:.3e}")]
    if eq.ndim > 3 and reference == "exact":
        rows[-2:] = [(f"{k} (Monte Carlo on {s['n_ref']} random points)", v)
                     for k, v in rows[-2:]]
    rows += [(f"{name} drift (conserved, {args.conserve_method})", f"{s[f'{name}_drift']:.3e}")
             for name in conserve]
    if "max_residual" in s:
        rows += [("initial fit error", f"{s['fit_error']:.3e}"),
                 ("max Galerkin residual", f"{s['max_residual']:.3e}"),
                 ("time steps", f"{s['num_steps']}")]
    rows += [("online time [s] (no compile)", f"{s['time_online_s']:.3f}"),
             ("compile time [s]", f"{s['time_compile_s']:.3f}"),
             (f"{reference} reference time [s] (n={s['n_ref']}, no compile)",
              f"{s['time_reference_s']:.3f}"),
             ("total wall time [s]", f"{total:.1f}")]
    width = max(len(r[0]) for r in rows) + 2
    for k, v in rows:
        print(f"{k:<{width}}{v}")
    for w in caught:
        if issubclass(w.category, GalerkinResidualWarning):
            _say(f"warning: {w.message}; the error against the {reference} reference above "
                 "is what to trust")
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if args.json:
        write_text_atomic(args.json, json.dumps(s, indent=2) + "\n")
        _say(f"wrote {args.json}")
    if args.plot:
        from ._plotting import plot_comparison

        plot_comparison(report, args.plot)
        _say(f"wrote {args.plot}")
    return 0


def _pretrain(args) -> int:
    import jax.random as jr

    import pdes

    from ._cli_pretrain import (
        CHECKPOINT_FOLDER,
        TRAINING_OPTIONS,
        check_out,
        cli_option,
        finish,
        read_resume,
    )
    from ._model import load_model
    from ._recipes import RECIPES
    from ._training import (
        check_settings,
        load_trajectories,
        pretrain,
        trajectories_from_exact,
        trajectories_from_fd,
    )

    # everything that can be refused is, before data generation and training
    check_settings({k: getattr(args, k) for k in (*TRAINING_OPTIONS, "checkpoint_every",
                                                  "time_limit")}, cli_option)
    overrides = {k: getattr(args, k) for k in ("width", "depth", "rank")
                 if getattr(args, k) is not None}
    ckpt = read_resume(args, overrides) if args.resume is not None else None
    out = check_out(args, ckpt)

    # the residual term's weight: the option's, else the run's or the recipe's (none with --data)
    rec = RECIPES.get((args.pde or "").lower()) if args.data is None else None
    weight = args.residual_weight
    if weight is None:
        weight = (ckpt.settings["residual_weight"] if ckpt is not None
                  else rec.residual_weight if rec is not None else 0.0)
    if args.residual_points is not None:  # checked before any (possibly long) data generation
        if not weight > 0:
            raise ValueError("--residual-points needs a residual term: give --residual-weight "
                             "(and the PDE name), or a PDE whose recipe has one")

    if args.data is not None:
        data = load_trajectories(args.data)
        if args.exclude_mu:
            keep = [i for i, m in enumerate(data.mu)
                    if not any(np.isclose(m, x, rtol=1e-6) for x in args.exclude_mu)]
            if len(keep) != len(data.mu) - len(args.exclude_mu):
                raise ValueError(f"--exclude-mu {args.exclude_mu}: not all of these are among "
                                 f"the data's mu ({', '.join(f'{m:g}' for m in data.mu)})")
            data = dataclasses.replace(data, u=data.u[keep], mu=data.mu[keep])
        name = args.pde or "data"
        model_kw = overrides
        steps = 20_000 if args.steps is None else args.steps
        seed = 0 if args.seed is None else args.seed
        if weight > 0:
            if args.pde is None:
                raise ValueError("--residual-weight needs the PDE name whose residual to use")
            model_kw["pde"] = pdes.get(args.pde)
            model_kw["residual_weight"] = weight
        _say(f"data {args.data}: {len(data.mu)} parameters, {len(data.t)} times, grid "
             f"{tuple(len(c) for c in data.x)}")
    else:
        if args.pde is None:
            raise ValueError("give a PDE name (FD training data) or --data FILE.npz")
        eq = pdes.get(args.pde)
        name = args.pde.lower()
        if rec is None:
            raise ValueError(f"no pretraining recipe for {name!r} (recipes: "
                             f"{', '.join(sorted(RECIPES))}); use --data")
        if rec.data == "file":
            raise ValueError(f"{name} is trained on data, not on FD trajectories: give --data "
                             f"FILE.npz. The shipped weights come from {rec.source}")
        model_kw = {**rec.model, **overrides}
        if weight > 0:
            model_kw.update(pde=eq, residual_weight=weight, residual_points=rec.residual_points)
        steps = rec.steps if args.steps is None else args.steps
        seed = rec.seed if args.seed is None else args.seed
        ts = np.linspace(0, eq.t1, rec.n_times)
        if rec.data == "exact":
            _say(f"{name}: exact solutions at mu = {', '.join(f'{m:g}' for m in rec.train_mus)}"
                 f" at {rec.n} random points ...")
            data = trajectories_from_exact(eq, rec.train_mus, ts, rec.n, key=jr.PRNGKey(seed))
        else:
            _say(f"{name}: FD trajectories at mu = {', '.join(f'{m:g}' for m in rec.train_mus)}"
                 f" on {rec.n} points per direction ...")
            data = trajectories_from_fd(eq, rec.train_mus, rec.n, ts)
    if args.init is not None:
        if overrides:
            raise ValueError(f"--init keeps the model's configuration; drop --"
                             f"{' --'.join(sorted(overrides))}")
        model_kw = {k: v for k, v in model_kw.items()
                    if k in ("pde", "residual_weight", "residual_points")}
        model_kw["init"] = load_model(args.init)
        name = model_kw["init"].config.equation
    for option in ("learning_rate", "batch_points", "residual_points"):
        if getattr(args, option) is not None:
            model_kw[option] = getattr(args, option)
    key = jr.PRNGKey(seed)
    model_kw["log_every"] = min(500, max(1, steps // 20))  # a history of 20 or more entries
    if ckpt is not None:  # the run's settings, except those given (which must be the same)
        pde = model_kw.get("pde")
        model_kw = {k: v for k, v in ckpt.settings.items() if k not in ("pde", "data")}
        model_kw.update({k: getattr(args, k) for k in TRAINING_OPTIONS
                         if getattr(args, k) is not None}, pde=pde)
        steps, key, name = model_kw.pop("steps"), None, ckpt.model.config.equation
    run_info = {"pde": args.pde, "exclude_mu": list(args.exclude_mu), "seed": seed,
                "data": None if args.data is None else str(pathlib.Path(args.data).resolve())}
    model, history = pretrain(data, equation=name, steps=steps, key=key, resume=ckpt,
                              checkpoint_dir=out / CHECKPOINT_FOLDER,
                              checkpoint_every=args.checkpoint_every,
                              time_limit=args.time_limit, handle_signals=True,
                              run_info=run_info, **model_kw)
    return finish(out, model, history, steps, weight, args.time_limit)


if __name__ == "__main__":
    sys.exit(main())
