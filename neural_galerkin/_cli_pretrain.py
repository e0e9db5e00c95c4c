"""The pieces of `neural-galerkin pretrain` around the training: resuming a stopped run, the
output folder (checked before any work, written whole at the end) and the closing message."""

import dataclasses
import json
import pathlib
import signal

import numpy as np

from ._cli import _say

CHECKPOINT_FOLDER = "checkpoint"
TRAINING_OPTIONS = ("steps", "learning_rate", "batch_points", "residual_weight",
                    "residual_points")


def cli_option(name: str) -> str:
    """The command-line option of a `pretrain` argument: `batch_points` -> `--batch-points`."""
    return "--" + name.replace("_", "-")


def read_resume(args, overrides):
    """The checkpoint of `--resume`; the run's data source and seed where not given."""
    from ._checkpoint import load_checkpoint

    if args.init is not None:
        raise ValueError("give --init DIR (its weights, with a fresh optimiser and schedule) "
                         "or --resume DIR (the run itself, where it stopped), not both")
    if overrides:
        raise ValueError(f"--resume keeps the run's configuration; drop "
                         f"{' '.join(cli_option(k) for k in sorted(overrides))}")
    ckpt = load_checkpoint(args.resume)
    info = ckpt.run_info
    if args.pde is None and args.data is None and args.equation is None:
        args.pde, args.data, args.equation = (info.get("pde"), info.get("data"),
                                              info.get("equation"))
        args.exclude_mu = args.exclude_mu or info.get("exclude_mu", ())
    if args.seed is not None and args.seed != info.get("seed", args.seed):
        raise ValueError(f"--seed {args.seed}: the run in {ckpt.path} has seed "
                         f"{info['seed']}; leave --seed out to resume it")
    args.seed = info.get("seed", args.seed)
    return ckpt


def tangent_settings(args, model_kw, known, seed) -> None:
    """The tangent term and pool components of `--tangent-weight`, `--tangent-sigma`,
    `--pool-rank` and `--train` into `pretrain`'s keyword arguments `model_kw`."""
    import jax.random as jr

    from ._model import add_pool

    if args.tangent_weight is not None:  # a PDE was given: checked before any work
        model_kw.setdefault("pde", known)
        model_kw["tangent_weight"] = args.tangent_weight
        if args.tangent_sigma is not None:
            model_kw["tangent_sigma"] = args.tangent_sigma
    if args.train != "all":
        model_kw["train"] = args.train
    if args.pool_rank is not None:
        if "init" in model_kw:  # a model to continue: its pool drawn from the run's seed
            model_kw["init"] = add_pool(model_kw["init"], args.pool_rank,
                                        key=jr.fold_in(jr.PRNGKey(seed), 7))
        else:
            model_kw["pool_rank"] = args.pool_rank


def check_out(args, ckpt) -> pathlib.Path:
    """The output folder, refused before any work if it cannot be written or holds other
    files than a model folder of ours."""
    from ._files import check_writable_folder
    from ._model import CONFIG_FILE

    if args.out is not None:
        out = pathlib.Path(args.out)
    elif ckpt is not None and ckpt.path.name == CHECKPOINT_FOLDER:
        out = ckpt.path.parent
    else:
        raise ValueError("give --out DIR: the folder to write the model to")
    check_writable_folder(out, "--out")
    if out.is_dir():
        names = sorted(p.name for p in out.iterdir())
        ours = (out / CONFIG_FILE).is_file() or (out / CHECKPOINT_FOLDER).is_dir()
        if names and not ours:
            raise ValueError(f"--out {out} is a folder with other files in it "
                             f"({', '.join(names[:4])}{', ...' if len(names) > 4 else ''}); "
                             "give a new or empty folder, or a model folder to replace")
    return out


def finish(out, model, history, steps, weight, time_limit) -> int:
    """Save the model with its loss history (and plot) unless a signal stopped the run; say
    what happened and how to go on."""
    from ._files import replace_folder
    from ._model import write_model_files

    stopped = history["stopped"]
    resume = f"neural-galerkin pretrain --resume {out}"
    if stopped not in (None, "time_limit"):
        _say(f"interrupted by {stopped} at step {history['done']} of {steps}: the training "
             f"state is in {out / CHECKPOINT_FOLDER} (the model in {out} is not updated); "
             f"resume with: {resume}")
        return 128 + int(getattr(signal.Signals, stopped))
    plotted = []

    def write(folder):
        write_model_files(folder, model)
        record = {k: history[k] for k in ("step", "loss", "wall_s", "time_s", "done", "stopped")}
        (folder / "history.json").write_text(json.dumps({**record, "steps": steps}) + "\n")
        from ._plotting import MissingMatplotlib, plot_history

        try:
            plot_history(history, folder / "loss.png")
            plotted.append("loss.png")
        except MissingMatplotlib:  # the plot is optional (the `plot` extra)
            pass

    try:
        replace_folder(out, write, discard=("loss.png",))
    except OSError as e:
        raise ValueError(f"could not write the model to {out} ({e}); the training state is in "
                         f"{out / CHECKPOINT_FOLDER}: resume with {resume} --out OTHER_DIR") \
            from None
    files = ", ".join(["history.json", *plotted, f"{CHECKPOINT_FOLDER}/"])
    if stopped == "time_limit":
        print(f"stopped at the time limit ({time_limit:g} s) at step {history['done']} of "
              f"{steps}; saved the model so far to {out} ({files}); continue with: {resume}")
        return 0
    kind = f"equation-aware (PDE residual weight {weight:g})" if weight > 0 else "data-only"
    print(f"trained {steps} steps, {kind}, in {history['time_s']:.1f} s; final loss "
          f"{history['loss'][-1]:.3e}; saved to {out} ({files})")
    return 0


def resolved_spec(spec: str) -> str:
    """`--equation SPEC` with a file's path made absolute (a resumed run may start elsewhere)."""
    target, colon, name = spec.rpartition(":")
    if not colon or not name.isidentifier():
        target, colon, name = spec, "", ""
    if target.endswith(".py") and pathlib.Path(target).is_file():
        target = str(pathlib.Path(target).resolve())
    return f"{target}{colon}{name}"


def fit_to_equation(data, equation):
    """`--data` for the user's `--equation`: its dimension, box and fields must be the
    equation's; the box is taken from the equation (the data's agrees to 1e-6, the precision
    of float32 coordinates), so that the model fits the equation exactly."""
    n_fields = equation.n_fields
    if data.ndim != equation.ndim or data.n_fields != n_fields:
        raise ValueError(f"the data is {data.ndim}-dimensional with {data.n_fields} field(s), "
                         f"{equation.name} {equation.ndim}-dimensional with {n_fields}")
    have = np.asarray([data.lower, data.lengths], float)
    want = np.asarray([equation.lower, equation.lengths], float)
    if not np.allclose(have, want, rtol=1e-6, atol=1e-6 * np.abs(want).max()):
        box = lambda b: " x ".join(f"[{a:g}, {a + n:g})" for a, n in zip(*b))  # noqa: E731
        raise ValueError(f"the data's grid spans {box(have)}, {equation.name} is posed on "
                         f"{box(want)}; give data on the equation's domain")
    return dataclasses.replace(data, lower=tuple(equation.lower),
                               lengths=tuple(equation.lengths))


def pretrain_command(args) -> int:
    """`neural-galerkin pretrain`: from a recipe's FD or exact data, or a data file."""
    import jax.random as jr

    import pdes

    from ._checks import boundary_kinds
    from ._cli import load_equation, shipped_equation
    from ._data import recipe_data
    from ._lift import boundary_lift
    from ._model import SIZE_MINIMUM, load_model
    from ._recipes import RECIPES, default_recipe
    from ._training import check_settings, early_time_weights, load_trajectories, pretrain

    # everything that can be refused is, before data generation and training
    check_settings({k: getattr(args, k) for k in (*TRAINING_OPTIONS, "checkpoint_every",
                                                  "time_limit")}, cli_option)
    overrides = {k: getattr(args, k) for k in ("width", "depth", "rank", "n_freq")
                 if getattr(args, k) is not None}
    for k, v in overrides.items():
        if v < SIZE_MINIMUM[k]:
            raise ValueError(f"{cli_option(k)} must be at least {SIZE_MINIMUM[k]}, got {v}")
    if args.init is not None and overrides:
        raise ValueError(f"--init keeps the model's configuration; drop "
                         f"{' '.join(cli_option(k) for k in sorted(overrides))}")
    tangent_options = [cli_option(k) for k in ("tangent_weight", "tangent_sigma", "pool_rank")
                       if getattr(args, k) is not None] + (
                           ["--train"] if args.train != "all" else [])
    if args.resume is not None and tangent_options:
        raise ValueError(f"--resume keeps the run's settings; drop {' '.join(tangent_options)}")
    early = [cli_option(k) for k in ("early_weight", "early_fade") if getattr(args, k) is not None]
    if args.resume is not None and early:
        raise ValueError(f"--resume keeps the run's settings; drop {' '.join(early)}")
    if args.early_fade is not None and args.early_weight is None:
        raise ValueError("--early-fade needs --early-weight (the emphasis that fades)")
    if args.early_weight is not None:  # checked before any work
        early_time_weights(np.array([0.0, 1.0]), args.early_weight, args.early_fade)
    if args.tangent_sigma is not None and args.tangent_weight is None:
        raise ValueError("--tangent-sigma needs --tangent-weight (the tangent term it perturbs)")
    if args.train == "pool" and args.tangent_weight is None:
        raise ValueError("--train pool learns from the tangent term alone (the data do not "
                         "depend on the pool): give --tangent-weight and the PDE")
    if args.tangent_weight is not None and args.pde is None and args.equation is None:
        raise ValueError("--tangent-weight needs the PDE name (or --equation) whose Galerkin "
                         "residual to use")
    ckpt = read_resume(args, overrides) if args.resume is not None else None
    user_eq = None  # the user's equation (--equation): it takes the place of a shipped PDE
    if args.equation is not None:
        if args.pde is not None:
            raise ValueError(f"give a shipped PDE ({args.pde}) or --equation "
                             f"{args.equation}, not both")
        user_eq = load_equation(args.equation)
    out = check_out(args, ckpt)

    # the residual term's weight: the option's, else the run's or the recipe's (none with --data)
    if args.data is not None:
        rec = None
    elif user_eq is not None:
        rec = default_recipe(user_eq)
    else:
        rec = RECIPES.get((args.pde or "").lower())
    weight = args.residual_weight
    if weight is None:
        weight = (ckpt.settings["residual_weight"] if ckpt is not None
                  else rec.residual_weight if rec is not None else 0.0)
    if args.residual_points is not None:  # checked before any (possibly long) data generation
        if not weight > 0:
            raise ValueError("--residual-points needs a residual term: give --residual-weight "
                             "(and the PDE name or --equation), or a PDE whose recipe has one")

    if args.data is not None:
        data = load_trajectories(args.data)
        if args.exclude_mu:
            keep = [i for i, m in enumerate(data.mu)
                    if not any(np.isclose(m, x, rtol=1e-6) for x in args.exclude_mu)]
            if len(keep) != len(data.mu) - len(args.exclude_mu):
                raise ValueError(f"--exclude-mu {args.exclude_mu}: not all of these are among "
                                 f"the data's mu ({', '.join(f'{m:g}' for m in data.mu)})")
            data = dataclasses.replace(data, u=data.u[keep], mu=data.mu[keep])
        if user_eq is not None:
            data = fit_to_equation(data, user_eq)
        name = args.pde or (user_eq.name if user_eq is not None else "data")
        model_kw = overrides
        steps = 20_000 if args.steps is None else args.steps
        seed = 0 if args.seed is None else args.seed
        data_seed = None
        if weight > 0:
            if args.pde is None and user_eq is None:
                raise ValueError("--residual-weight needs the PDE name (or --equation) whose "
                                 "residual to use")
            model_kw["pde"] = user_eq if user_eq is not None else shipped_equation(str(args.pde))
            model_kw["residual_weight"] = weight
        fields = f", fields {', '.join(data.fields)}" if data.n_fields > 1 else ""
        _say(f"data {args.data}: {len(data.mu)} parameters, {len(data.t)} times, grid "
             f"{tuple(len(c) for c in data.x)}{fields}")
    else:
        if args.pde is None and user_eq is None:
            raise ValueError("give a PDE name (FD training data), --equation SPEC (your own "
                             "equation) or --data FILE.npz")
        eq = user_eq if user_eq is not None else shipped_equation(str(args.pde))
        name = eq.name if user_eq is not None else str(args.pde).lower()
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
        if rec.loss != "relative":
            model_kw["loss"] = rec.loss
        if rec.learning_rate != 3e-3:  # the recipe's, unless --learning-rate (below)
            model_kw["learning_rate"] = rec.learning_rate
        if rec.data == "exact":
            where = ("points drawn from the density, per snapshot" if eq.unbounded
                     else "random points")
            _say(f"{name}: exact solutions at mu = {', '.join(f'{m:g}' for m in rec.train_mus)}"
                 f" at {rec.n} {where} ...")
        else:
            method = "FD" if pdes.reference_method(eq) == "fd" else "pseudo-spectral"
            _say(f"{name}: {method} trajectories at mu = "
                 f"{', '.join(f'{m:g}' for m in rec.train_mus)} on {rec.n} points per "
                 "direction ...")
        # a resumed run draws its data as it did (runs from before `data_seed`: with `seed`)
        data_seed = rec.points_seed(args.seed if ckpt is None
                                    else ckpt.run_info.get("data_seed", args.seed))
        data = recipe_data(eq, rec, data_seed)
    known = user_eq if user_eq is not None else (
        shipped_equation(str(args.pde)) if args.pde is not None else None)
    if known is not None and args.init is None and ckpt is None:
        # the network's outputs and boundary ansatz follow the equation's fields and box
        model_kw.setdefault("fields", known.fields)
        model_kw.setdefault("boundaries", boundary_kinds(known))
    if known is not None and boundary_lift(known) is not None:
        model_kw.setdefault("pde", known)  # the network learns u minus the data's lift
    if args.init is not None:  # (its configuration was checked against the overrides above)
        model_kw = {k: v for k, v in model_kw.items()
                    if k in ("pde", "residual_weight", "residual_points", "loss")}
        model_kw["init"] = load_model(args.init)
        name = model_kw["init"].config.equation
    for option in ("learning_rate", "batch_points", "residual_points"):
        if getattr(args, option) is not None:
            model_kw[option] = getattr(args, option)
    tangent_settings(args, model_kw, known, seed)
    if args.early_weight is not None:
        model_kw["time_weights"] = early_time_weights(data.t, args.early_weight,
                                                      args.early_fade)
    key = jr.PRNGKey(seed)
    model_kw["log_every"] = min(500, max(1, steps // 20))  # a history of 20 or more entries
    if ckpt is not None:  # the run's settings, except those given (which must be the same)
        pde = model_kw.get("pde")
        model_kw = {k: v for k, v in ckpt.settings.items() if k not in ("pde", "data")}
        model_kw.update({k: getattr(args, k) for k in TRAINING_OPTIONS
                         if getattr(args, k) is not None}, pde=pde)
        steps, key, name = model_kw.pop("steps"), None, ckpt.model.config.equation
    run_info = {"pde": args.pde, "exclude_mu": list(args.exclude_mu), "seed": seed,
                "data_seed": data_seed,
                "data": None if args.data is None else str(pathlib.Path(args.data).resolve()),
                "equation": None if args.equation is None else resolved_spec(args.equation)}
    model, history = pretrain(data, equation=name, steps=steps, key=key, resume=ckpt,
                              checkpoint_dir=out / CHECKPOINT_FOLDER,
                              checkpoint_every=args.checkpoint_every,
                              time_limit=args.time_limit, handle_signals=True,
                              run_info=run_info, **model_kw)
    return finish(out, model, history, steps, weight, args.time_limit)
