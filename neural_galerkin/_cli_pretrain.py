"""The pieces of `neural-galerkin pretrain` around the training: resuming a stopped run, the
output folder (checked before any work, written whole at the end) and the closing message."""

import json
import pathlib
import signal

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
        raise ValueError(f"--resume keeps the run's configuration; drop --"
                         f"{' --'.join(sorted(overrides))}")
    ckpt = load_checkpoint(args.resume)
    info = ckpt.run_info
    if args.pde is None and args.data is None:
        args.pde, args.data = info.get("pde"), info.get("data")
        args.exclude_mu = args.exclude_mu or info.get("exclude_mu", ())
    if args.seed is not None and args.seed != info.get("seed", args.seed):
        raise ValueError(f"--seed {args.seed}: the run in {ckpt.path} has seed "
                         f"{info['seed']}; leave --seed out to resume it")
    args.seed = info.get("seed", args.seed)
    return ckpt


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
        try:
            from ._plotting import plot_history

            plot_history(history, folder / "loss.png")
            plotted.append("loss.png")
        except ImportError:
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
