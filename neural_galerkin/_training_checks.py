"""The checks of pretraining's settings, made before any work is done."""

import math
import numbers

import numpy as np


def check_init(init, config, config_kwargs):
    if config_kwargs:
        raise ValueError(
            f"pretrain(init=model) keeps the model's configuration; drop {sorted(config_kwargs)}")
    have, want = init.config, config
    for name in ("lower", "lengths", "t_range", "mu_range"):
        a, b = np.asarray(getattr(have, name), float), np.asarray(getattr(want, name), float)
        if a.shape != b.shape or not np.allclose(a, b, rtol=1e-6, atol=1e-12):
            raise ValueError(
                f"pretrain(init=model): the model's {name} {a.tolist()} differs from the data's "
                f"{b.tolist()}; continue only on data from the same problem")
    if have.n_fields != want.n_fields:
        raise ValueError(f"pretrain(init=model): the model has the fields {have.fields}, the "
                         f"data {want.n_fields}; continue only on data from the same problem")
    return init


def check_settings(settings: dict, name=lambda option: option) -> None:
    """Refuse bad pretraining settings with a `ValueError` that names the setting (through
    `name`, e.g. as a command-line option) and what it must be, before any work is done.
    Settings that are `None` are not checked."""
    counts = {"steps": "the number of optimiser steps",
              "batch_snapshots": "(mu, t) snapshots in each step's batch",
              "batch_points": "grid points per snapshot in each step's batch",
              "log_every": "steps between two entries of the loss history",
              "residual_snapshots": "(t, mu) samples of the residual term per step",
              "residual_points": "points per sample of the residual term",
              "tangent_snapshots": "(t, mu) samples of the tangent term per step",
              "tangent_points": "points per sample of the tangent term",
              "checkpoint_every": "steps between two checkpoints"}
    for k, what in counts.items():
        v = settings.get(k)
        if v is not None and not (isinstance(v, numbers.Integral) and not isinstance(v, bool)
                                  and int(v) >= 1):
            raise ValueError(f"{name(k)} must be at least 1, got {v!r}: give {what} (a whole "
                             "number)")
    positive = {"learning_rate": "the peak of the learning-rate schedule, e.g. 3e-3",
                "time_limit": "the seconds of wall time after which to save and stop"}
    for k, what in positive.items():
        v = settings.get(k)
        if v is not None and not (math.isfinite(v) and v > 0):
            raise ValueError(f"{name(k)} must be positive, got {v!r}: give {what}")
    v = settings.get("residual_weight")
    if v is not None and not (math.isfinite(v) and v >= 0):
        raise ValueError(f"{name('residual_weight')} must be 0 (data only) or positive, got "
                         f"{v!r}")
    non_negative = {"tangent_weight": "0 (no tangent term) or the term's weight, e.g. 0.1",
                    "tangent_sigma": "the perturbation of the online weights in units of their "
                    "spread over the training set: 0 (on the trajectories) or e.g. 0.1",
                    "tangent_ridge": "the Tikhonov ridge relative to ||J||_F, e.g. 1e-3"}
    for k, what in non_negative.items():
        v = settings.get(k)
        if v is not None and not (isinstance(v, numbers.Real) and math.isfinite(v)
                                  and float(v) >= 0):
            raise ValueError(f"{name(k)} must be 0 or positive, got {v!r}: give {what}")
