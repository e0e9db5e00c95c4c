"""Checkpoints of a pretraining run: the model, the optimiser state, the step, the key and the
loss history, each checkpoint written whole beside the last (`replace_folder`), so that a run
stopped at any moment resumes exactly where its last checkpoint was."""

import dataclasses
import hashlib
import json
import pathlib
import signal
import threading
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from ._files import check_writable_folder, replace_folder
from ._model import (
    CONFIG_FILE,
    WEIGHTS_FILE,
    CoLoRAModel,
    _read_in_current_precision,
    load_model,
    write_model_files,
)

STATE_FILE = "state.json"
OPTIMISER_FILE = "optimiser.eqx"
CHECKPOINT_VERSION = 1


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """A pretraining run as it stood after `step` of its `settings["steps"]` steps, read by
    `load_checkpoint`; `pretrain(data, resume=checkpoint)` continues it.

    - `model`: the model at that step (the checkpoint folder also loads with `load_model`);
    - `settings`: what the run was started with (steps, batch sizes, learning rate, ...);
    - `history`: the loss history so far, as `pretrain` returns it;
    - `run_info`: what the caller stored with the run (the command line: its data and seed).
    """

    path: pathlib.Path
    model: CoLoRAModel
    step: int
    settings: dict[str, Any]
    history: dict[str, Any]
    run_info: dict[str, Any]
    state: dict[str, Any] = dataclasses.field(repr=False)

    @property
    def key(self):
        """The run's key, from which each step's key is drawn."""
        k = self.state["key"]
        data = jnp.asarray(k["data"], dtype=jnp.uint32)
        return data if k["impl"] is None else jr.wrap_key_data(data, impl=k["impl"])

    def opt_state(self, like):
        """The optimiser state, read into the structure `like` (`optim.init(params)`)."""
        try:
            return eqx.tree_deserialise_leaves(self.path / OPTIMISER_FILE, like,
                                               filter_spec=_read_in_current_precision)
        except Exception as e:  # numpy raises several types for truncated or foreign files
            raise ValueError(f"{self.path / OPTIMISER_FILE} does not match this optimiser or "
                             f"is corrupt ({type(e).__name__}: {e}); resume from another "
                             "checkpoint, or start afresh with init= (--init)") from None


def save_checkpoint(path, *, model, opt_state, step: int, settings, key, history, window,
                    elapsed_s: float, run_info) -> pathlib.Path:
    """Write a checkpoint folder at `path`, replacing the previous one whole."""
    state = {"format_version": CHECKPOINT_VERSION, "step": int(step), "settings": settings,
             "key": key_to_json(key), "history": history, "window": list(window),
             "elapsed_s": float(elapsed_s), "run_info": run_info or {}}

    def write(folder):
        write_model_files(folder, model)
        eqx.tree_serialise_leaves(folder / OPTIMISER_FILE, opt_state)
        (folder / STATE_FILE).write_text(json.dumps(state, indent=1) + "\n")

    return replace_folder(path, write)


def key_to_json(key) -> dict[str, Any]:
    """A jax.random key (typed, or raw `uint32` data) as JSON: its implementation and data."""
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        return {"impl": str(jr.key_impl(key)), "data": np.asarray(jr.key_data(key)).tolist()}
    return {"impl": None, "data": np.asarray(key).tolist()}


def load_checkpoint(path: str | pathlib.Path) -> Checkpoint:
    """Read the checkpoint folder `path` (or the `checkpoint` folder in the output folder
    `path` of `neural-galerkin pretrain`).

    **Raises:** `FileNotFoundError` where there is none; `ValueError` for a corrupt one.
    """
    path = pathlib.Path(path)
    if not (path / STATE_FILE).is_file() and (path / "checkpoint" / STATE_FILE).is_file():
        path = path / "checkpoint"
    for name in (STATE_FILE, CONFIG_FILE, WEIGHTS_FILE, OPTIMISER_FILE):
        if not (path / name).is_file():
            raise FileNotFoundError(
                f"no checkpoint at {path} (it has no {name}); give the checkpoint folder "
                "written by pretrain(checkpoint_dir=...), or the --out folder of "
                "`neural-galerkin pretrain`")
    try:
        state = json.loads((path / STATE_FILE).read_text())
        if state.get("format_version") != CHECKPOINT_VERSION:
            raise ValueError(f"format_version {state.get('format_version')!r}, this package "
                             f"reads {CHECKPOINT_VERSION}")
        step, settings, history = int(state["step"]), state["settings"], state["history"]
        if not 0 <= step <= settings["steps"]:
            raise ValueError(f"step {step} outside 0..{settings['steps']}")
    except (ValueError, TypeError, KeyError) as e:
        raise ValueError(f"{path / STATE_FILE} is corrupt ({type(e).__name__}: {e}); resume "
                         "from another checkpoint, or start afresh with init= (--init)") from None
    return Checkpoint(path=path, model=load_model(path), step=step, settings=settings,
                      history=history, run_info=state.get("run_info", {}), state=state)


def check_checkpoint_dir(path) -> None:
    """Refuse, before any work, a checkpoint folder that cannot be written or that holds other
    files than a checkpoint (which it would replace)."""
    path = pathlib.Path(path)
    check_writable_folder(path, "checkpoint_dir")
    if path.is_dir() and any(path.iterdir()) and not (path / STATE_FILE).is_file():
        raise ValueError(f"checkpoint_dir {path} holds other files than a checkpoint; give a "
                         "new or empty folder, or an earlier checkpoint folder to replace")


def data_fingerprint(data) -> str:
    """A hash of the training data, so that a run resumes on the data it started on."""
    h = hashlib.sha256()
    for name in ("u", "mu", "t", "points", "lower", "lengths"):
        a = np.ascontiguousarray(np.asarray(getattr(data, name), dtype=np.float64))
        h.update(f"{name}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()[:32]


def check_resumable(checkpoint: Checkpoint, settings: dict[str, Any], name=str) -> None:
    """Refuse to resume `checkpoint` with other `settings` than it was started with (they
    decide the steps' batches and the learning-rate schedule), naming each difference."""
    have = checkpoint.settings
    diffs = [f"{name(k)} {settings[k]!r} (the run's: {have.get(k)!r})"
             for k in settings if k != "data" and settings[k] != have.get(k)]
    if settings.get("data") != have.get("data"):
        diffs.append("other training data than the run's (give the data it was started on)")
    if diffs:
        raise ValueError(f"cannot resume {checkpoint.path} with {'; '.join(diffs)}: a resumed "
                         "run keeps the settings it was started with (leave them out, or give "
                         "the same); to train on with new ones, start from its model with "
                         "init= (--init), with a fresh optimiser")


class StopRequests:
    """While active, SIGINT and SIGTERM do not stop the process at once: they are recorded
    (`.signal`) for the training loop to stop at the end of its current chunk. Installed only in
    the main thread; the previous handlers come back on exit."""

    def __init__(self, enabled: bool):
        self.enabled = enabled and threading.current_thread() is threading.main_thread()
        self.signal: int | None = None
        self._previous = {}

    def _handle(self, signum, frame):
        self.signal = signum

    def __enter__(self):
        if self.enabled:
            for s in (signal.SIGINT, signal.SIGTERM):
                self._previous[s] = signal.signal(s, self._handle)
        return self

    def __exit__(self, *exc):
        for s, handler in self._previous.items():
            signal.signal(s, handler)
        return False
