"""Offline pretraining of a CoLoRA model and its hypernetwork on trajectories (optax), with
checkpoints, resuming and clean stops."""

import hashlib
import math
import pathlib
import signal
import time
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
from jaxtyping import ArrayLike, PRNGKeyArray
from tqdm.auto import tqdm

import pdes

from ._checkpoint import (
    Checkpoint,
    StopRequests,
    check_checkpoint_dir,
    check_resumable,
    data_fingerprint,
    key_to_json,
    load_checkpoint,
    save_checkpoint,
)
from ._checks import boundary_kinds, net_lift
from ._data import (  # noqa: F401 (re-exported: these lived here)
    PointTrajectories,
    Trajectories,
    load_trajectories,
    trajectories_from_exact,
    trajectories_from_fd,
)
from ._lift import boundary_lift, lifted
from ._model import CoLoRAModel, ModelConfig, make_model
from ._network import envelope_phi, pool_mask, set_phi
from ._tangent import tangent_residual
from ._training_checks import check_init, check_settings


def pretrain(
    data: Trajectories | PointTrajectories,
    *,
    equation: str = "data",
    steps: int = 20_000,
    batch_snapshots: int = 32,
    batch_points: int = 256,
    learning_rate: float = 3e-3,
    loss: str = "relative",
    time_weights: ArrayLike | None = None,
    key: PRNGKeyArray | None = None,
    progress: bool = True,
    log_every: int = 500,
    pde: pdes.AbstractEquation | None = None,
    residual_weight: float = 0.0,
    residual_snapshots: int = 8,
    residual_points: int = 128,
    tangent_weight: float = 0.0,
    tangent_sigma: float = 0.0,
    tangent_ridge: float = 1e-3,
    tangent_snapshots: int = 8,
    tangent_points: int = 128,
    train: str = "all",
    tangent_anchors: tuple[ArrayLike, ArrayLike, ArrayLike] | None = None,
    init: CoLoRAModel | None = None,
    resume: str | pathlib.Path | Checkpoint | None = None,
    checkpoint_dir: str | pathlib.Path | None = None,
    checkpoint_every: int | None = None,
    time_limit: float | None = None,
    handle_signals: bool = False,
    run_info: dict | None = None,
    **config_kwargs,
) -> tuple[CoLoRAModel, dict]:
    """Train the offline weights `theta` of a CoLoRA network jointly with a hypernetwork
    `h(t, mu)` on snapshots, minimising the relative mean-squared error
    `mean (u(x; theta, h(t, mu)) - u_data)^2 / mean u_data^2` (for a system of fields, per
    field, so that each counts alike whatever its magnitude) over random batches of
    `batch_snapshots` (mu, t) pairs times `batch_points` grid points (Adam, warm-up and cosine
    decay of the learning rate; optax). Reproducible from `key`: each step draws its batch
    from its own key, `jr.split(key_data, steps)[step]`. Data with their own points per
    snapshot (`PointTrajectories.per_snapshot`) give each snapshot of the batch
    `batch_points` of its own points.

    **Densities on R^d** (`loss="log"`): the mean-squared error of the logarithms,
    `mean (log u(x; theta, h(t, mu)) - log u_data)^2`, for positive data and a network with a
    Gaussian envelope (`log u = log q + N`, formed without `u`). At points drawn from the
    density itself it is `E_p[(log u - log p)^2]`, about the squared relative error
    `(u - p)^2 / p^2` where the mass is. The plain relative loss is a poor fit there: one
    scale `mean u_data^2` for all snapshots lets the narrow late ones (values up to 2.4e5 at
    the data points in `d = 8`) drown the wide early ones (peak 6.4 at `t = 0`), and the
    error `u - p` of a Gaussian envelope whose mean or width is off vanishes exponentially
    with the distance (no gradient to move it); the error of `log u` is a quadratic in `x`
    for any envelope.
    Measured (d = 8, both from the moment start `envelope_start`, 800 steps at learning rate
    3e-4, held-out alpha = 0.125 / 0.375, worst / median density error over 17 times): the
    start alone 0.14 / 0.054 and 0.15 / 0.051; the relative loss made it worse, 0.22 / 0.086
    and 0.22 / 0.062 (its envelope mean drifted from 3.2e-3 to 1.5e-2 off); the log loss
    0.14 / 0.047 and 0.15 / 0.044.

    **Where the batches are drawn** (`time_weights`, shape `(n_t,)`, the data's times): each
    batch's snapshots are drawn at the data's times with probabilities proportional to
    these weights (the parameters uniformly); default uniform. The equation-driven solve
    starts from a fit of the initial condition within the manifold, and where the first
    snapshots are the hardest to represent (a narrow starting pulse that spreads, seen once
    among many later snapshots) weighting them up is how to ask the manifold to hold them:
    `early_time_weights(t, weight, fade)` gives `1 + weight exp(-(t - t0) / fade)`.

    **Equation-aware pretraining.** With a `pde` and `residual_weight > 0`, the loss gains
    the PDE residual along the hypernetwork's trajectories,
    `residual_weight * mean (d/dt u(x; h(t, mu)) - F(u(.; h(t, mu)); mu)(x))^2 / mean u_t^2`,
    at `residual_snapshots` random `(t, mu)` (uniform in time and over the whole parameter
    range, not only the training values) times `residual_points` random points. It asks the
    manifold's tangent `J dh/dt` to follow the equation, which is what the equation-driven
    solve needs. `u_t` in the scale is estimated from the data by finite differences in time.

    **Tangent-space pretraining.** With a `pde` and `tangent_weight > 0`, the loss gains
    `tangent_weight` times the mean over `tangent_snapshots` random `(t, mu)` (drawn as the
    residual term's) of the relative Galerkin least-squares residual
    `min_eta (||J eta - F||^2 + lam^2 ||eta||^2) / ||F||^2` (`tangent_residual`: `J = du/dphi`
    and `F` the PDE's right-hand side at `tangent_points` random points, `lam = tangent_ridge
    ||J||_F`; the ridge, the envelope-theorem gradient and the relative scale are explained
    there) at perturbed online weights `phi' = h(t, mu) + tangent_sigma * s * z`, `z` standard
    normal and `s` the per-weight standard deviation of `h(t, mu)` over the training `(t, mu)`
    (the current hypernetwork's, at most 512 of them, held constant under differentiation;
    a pool's scales, zero along the trajectories, take the root mean square of the others').
    Where the residual term asks only the hypernetwork's direction `J dh/dt` to follow the
    equation, this one asks the whole tangent space, which is what the online solve uses:
    with `tangent_sigma = 0` along the trajectories, with `tangent_sigma > 0` in a
    neighbourhood of them, where an equation-driven solve that has drifted a little still
    has to find `F`. Each snapshot costs the Jacobian `J` (a reverse pass of the network per
    point), differentiated once more for the weights' gradient.

    **Training the pool alone** (`train="pool"`, a model with pool components: `init=
    add_pool(model, q, key=k)` or `pool_rank=q`): only the pool's factors (`pool_A`,
    `pool_B` of every layer) are trained, every other weight stays as it is, and the loss is
    the tangent term alone (it needs `tangent_weight > 0`: the data and residual terms do not
    depend on the pool, whose scales are zero along the hypernetwork's trajectories). The
    tangent residual is then that of the whole online set, the network's own weights and the
    pool, so the pool learns the directions the network's own tangent space lacks, and the
    data-driven solution and the base set's tangent directions are exactly those of the model
    it started from. `history["loss"]` is then the tangent term.

    **Anchors of the tangent term** (`tangent_anchors=(phis, ts, mus)`, shapes `(n, p)`,
    `(n,)`, `(n,)`): the tangent term draws its `tangent_snapshots` per step from these `n`
    online weights and times and parameters (uniformly, then perturbed by `tangent_sigma` as
    above) instead of the hypernetwork's trajectories: e.g. the weights along equation-driven
    solves at the training parameters, where the online solve goes, which is not where the
    data-driven solution is once it has drifted.

    **Boundary data.** With a `pde` whose boundary data are nonzero or time-dependent, the
    network keeps its zero-data ansatz and learns `u - L`, `L` the lift that carries the data
    (`boundary_lift`; the residual term takes `u = L + N`); `config.lift` records it, and
    `predict` then needs the equation to add `L` back.

    **Continuing from a model.** With `init`, training starts from that model's weights (theta
    and the hypernetwork) instead of a fresh initialisation, with a fresh optimiser and learning
    rate schedule; the model's configuration is kept and `config_kwargs` must be empty. Its
    domain, time range and parameter range must match the data's.

    **Checkpoints and resuming.** With `checkpoint_dir`, a checkpoint (model, optimiser state,
    step, key, loss history) is written there every `checkpoint_every` steps (if given), at a
    stop and at the end, each replacing the last whole (`load_checkpoint`; the folder also
    loads with `load_model`). `resume=` a checkpoint (or its folder) continues that run where it
    stood: optimiser state, schedule and the steps' keys as if it had not stopped (the same
    weights to round-off). It needs the same data and settings (`steps`, batch sizes, learning
    rate, `log_every`, residual and tangent terms), refuses others by name, and takes its key
    and model configuration from the checkpoint (`key` may be left out). `run_info` (JSON) is
    stored in the checkpoints as it is.

    **Stopping.** With `time_limit` (seconds), training stops at the end of the first chunk of
    steps (a chunk ends every `log_every` and `checkpoint_every` steps) after that much wall
    time; with `handle_signals=True` (the command line asks for it), SIGINT and SIGTERM stop
    it at the end of the current chunk instead of killing the process. Either way a
    checkpoint is written (with `checkpoint_dir`) and the model so far is returned, with
    `history["stopped"]` saying why (`"time_limit"`, `"SIGINT"`, `"SIGTERM"`; `None` for a
    run that did all its steps).

    Extra keyword arguments go to `ModelConfig` (`width`, `depth`, `rank`, ...). The
    hypernetwork takes `mu` on a log scale when the training values are positive and span
    more than a factor of 5.

    **Returns:** `(model, history)`: the mean loss over each `log_every` steps (`"step"`,
    `"loss"`), the wall time at each (`"wall_s"`) and in all (`"time_s"`, over the resumed
    runs), the steps taken (`"done"`, all of them unless stopped) and `"stopped"`.

    **Raises:** `ValueError` for bad settings (before any work), `FloatingPointError` if the
    loss diverges (the last checkpoint stays).
    """
    settings = dict(steps=steps, batch_snapshots=batch_snapshots, batch_points=batch_points,
                    learning_rate=learning_rate, log_every=log_every,
                    residual_weight=residual_weight, residual_snapshots=residual_snapshots,
                    residual_points=residual_points,
                    pde=None if pde is None else getattr(pde, "name", type(pde).__name__))
    tangent = dict(tangent_weight=tangent_weight, tangent_sigma=tangent_sigma,
                   tangent_ridge=tangent_ridge, tangent_snapshots=tangent_snapshots,
                   tangent_points=tangent_points)
    check_settings({**settings, **tangent, "checkpoint_every": checkpoint_every,
                    "time_limit": time_limit})
    use_tangent = tangent_weight > 0
    if use_tangent:  # stored only when used: checkpoints of runs without the term still resume
        settings.update(tangent)
        if pde is None:
            raise ValueError("tangent_weight > 0 needs the pde whose Galerkin residual to use")
    if train not in ("all", "pool"):
        raise ValueError(f"train must be 'all' or 'pool' (the pool components alone), got "
                         f"{train!r}")
    pool_only = train == "pool"
    anchors = None
    if tangent_anchors is not None:
        if not use_tangent:
            raise ValueError("tangent_anchors are where the tangent term is taken: give "
                             "tangent_weight > 0")
        anchors = tuple(np.asarray(a, dtype=float) for a in tangent_anchors)
        n = anchors[0].shape[0] if anchors[0].ndim == 2 else -1
        if n < 1 or anchors[1].shape != (n,) or anchors[2].shape != (n,) or not all(
                np.all(np.isfinite(a)) for a in anchors):
            raise ValueError(f"tangent_anchors must be finite (phis, ts, mus) of shapes (n, p), "
                             f"(n,), (n,) with n >= 1; got {[a.shape for a in anchors]}")
        h = hashlib.sha256()
        for a in anchors:
            h.update(np.ascontiguousarray(a).tobytes())
        settings["tangent_anchors"] = h.hexdigest()[:32]  # a run resumes on its anchors
    if pool_only:  # in the settings only where set, as the tangent term's
        settings["train"] = train
        if not use_tangent:
            raise ValueError("train='pool' learns from the tangent term alone (the data and "
                             "residual terms do not depend on the pool): give tangent_weight "
                             "> 0 and pde=")
    if checkpoint_every is not None and checkpoint_dir is None:
        raise ValueError("checkpoint_every needs checkpoint_dir: the folder to write them to")
    if checkpoint_dir is not None:
        check_checkpoint_dir(checkpoint_dir)
    use_residual = residual_weight > 0
    if use_residual and pde is None:
        raise ValueError("residual_weight > 0 needs the pde whose residual to use")
    if resume is not None and (init is not None or config_kwargs):
        raise ValueError("pretrain(resume=...) continues the checkpoint's model and "
                         f"configuration; drop init= and {sorted(config_kwargs)}")
    if loss not in ("relative", "log"):
        raise ValueError(f"loss must be 'relative' or 'log' (densities on R^d), got {loss!r}")
    if loss == "log":  # in the settings only where set: earlier checkpoints resume as they were
        settings["loss"] = loss
        if not np.all(data.u > 0):
            raise ValueError("loss='log' needs positive data (a density at points drawn from "
                             f"it); the data's smallest value is {float(np.min(data.u)):.3g}")
    if (use_residual or tangent_weight > 0) and pde is not None and pde.unbounded:
        raise ValueError(
            f"{pde.name} is a density on R^{pde.ndim}: the residual and tangent terms draw "
            "uniform points in the box, which miss its mass; pretrain it on data only "
            "(residual_weight=0, tangent_weight=0)")
    settings["data"] = data_fingerprint(data)
    time_p = None
    if time_weights is not None:
        w = np.asarray(time_weights, dtype=float)
        if w.shape != (len(data.t),) or not np.all(np.isfinite(w)) or np.any(w < 0) or not (
                w.sum() > 0):
            raise ValueError(f"time_weights must be {len(data.t)} finite non-negative weights, "
                             f"one per time of the data, not all zero; got shape {w.shape}")
        time_p = w / w.sum()
        # in the settings only where set, as given: a run resumes on its weights
        settings["time_weights"] = w.tolist()
    mu_lo, mu_hi = float(data.mu.min()), float(data.mu.max())
    log_mu = config_kwargs.pop("log_mu", mu_lo > 0 and mu_hi / mu_lo > 5)
    if resume is not None:
        ckpt = resume if isinstance(resume, Checkpoint) else load_checkpoint(resume)
        check_resumable(ckpt, settings)
        if key is not None and key_to_json(key) != key_to_json(ckpt.key):
            raise ValueError(f"pretrain(resume=...): key differs from the key of the run in "
                             f"{ckpt.path}; leave key out to take the run's")
        key, model = ckpt.key, ckpt.model
        kdata = jr.split(key)[1]
    else:
        if key is None:
            raise ValueError("pretrain needs key= (a jax.random key), or resume= a checkpoint")
        fields = tuple(getattr(data, "fields", ("u",)))
        # the fields and boundaries: the equation's where given, else the data's fields
        implied: dict[str, Any] = {"fields": fields}
        if pde is not None:
            if len(pde.fields) != len(fields):
                raise ValueError(f"the data have {len(fields)} field(s) {fields}, {pde.name} "
                                 f"{pde.fields}")
            implied = {"fields": pde.fields, "boundaries": boundary_kinds(pde),
                       "lift": boundary_lift(pde) is not None}
        config = ModelConfig(equation=equation, lower=data.lower, lengths=data.lengths,
                             t_range=(float(data.t[0]), float(data.t[-1])),
                             mu_range=(mu_lo, mu_hi), log_mu=log_mu,
                             **{**implied, **config_kwargs})
        if config.n_fields != len(fields):
            raise ValueError(f"fields={config.fields}: the data have {len(fields)} field(s)")
        kmodel, kdata = jr.split(key)
        if init is None:
            model = make_model(config, key=kmodel)
            if loss == "log" and isinstance(data, PointTrajectories) and (
                    data.per_snapshot and model.net.envelope is not None):
                model = envelope_start(model, data)
        else:
            model = check_init(init, config, config_kwargs)
    config = model.config
    if pool_only and not config.pool_rank:
        raise ValueError("train='pool' needs a model with pool components: init=add_pool("
                         "model, pool_rank, key=...) (or pool_rank= for a fresh model)")
    if loss == "log" and model.net.envelope is None:
        raise ValueError("loss='log' needs a network with a Gaussian envelope (every "
                         "direction 'unbounded': boundaries=('unbounded',) * d), whose output "
                         "is positive")
    lift = None if pde is None else net_lift(pde, model.net)
    if (lift is not None) != config.lift:
        raise ValueError(
            f"the model was {'made for' if config.lift else 'not made for'} a lift of nonzero "
            f"boundary data, but pde={None if pde is None else pde.name} has "
            f"{'such data' if lift is not None else 'none'}; pretrain a fresh model with "
            "pde= the equation whose data the network is to hold")
    dtype = jnp.zeros(()).dtype
    n_fields = config.n_fields
    if n_fields == 1:
        u = jnp.asarray(data.u.reshape(data.u.shape[0] * data.u.shape[1], -1), dtype)
    else:  # (snapshots, points, fields), as the network's outputs at the points
        u = jnp.asarray(np.moveaxis(data.u.reshape(data.u.shape[0] * data.u.shape[1],
                                                   n_fields, -1), 1, -1), dtype)
    per_snapshot = getattr(data, "per_snapshot", False)
    # (points, d), or (snapshots, points, d) where each snapshot has its own points
    pts = jnp.asarray(data.points.reshape(-1, data.ndim) if not per_snapshot else
                      data.points.reshape(u.shape[0], -1, data.ndim), dtype)
    mu_t = jnp.asarray(np.stack(np.meshgrid(data.mu, data.t, indexing="ij"), -1).reshape(-1, 2),
                       dtype)
    # each field's mean square: the loss is relative per field, so that a system's fields
    # count alike whatever their magnitudes (one field: the plain relative error)
    # (several fields: shape (1, 1, n_fields), the rank of the errors it divides)
    scale = jnp.mean(u**2) if n_fields == 1 else jnp.mean(u**2, axis=(0, 1), keepdims=True)
    if lift is not None:  # the network learns u minus the lift of the data
        lifted_at = lambda mt, p: jax.vmap(lambda x: lift(x, mt[1], mt[0]))(p)  # noqa: E731
        u = u - (jax.vmap(lifted_at)(mu_t, pts) if per_snapshot
                 else jax.vmap(lifted_at, (0, None))(mu_t, pts))
    if loss == "log":
        u = jnp.log(u)

    schedule = optax.warmup_cosine_decay_schedule(
        init_value=learning_rate / 30, peak_value=learning_rate,
        warmup_steps=min(500, steps // 10), decay_steps=steps, end_value=learning_rate / 300)
    optim = optax.adam(schedule)
    params, static = eqx.partition(model, _pool_factors(model) if pool_only
                                   else eqx.is_inexact_array)
    opt_state = optim.init(params)
    if resume is not None:
        opt_state = ckpt.opt_state(opt_state)

    if use_residual or use_tangent:
        ut = np.diff(data.u, axis=1) / np.diff(data.t)[None, :, *([None] * (data.u.ndim - 2))]
        residual_scale = (float(np.mean(ut**2)) if n_fields == 1 else jnp.asarray(
            np.mean(np.moveaxis(ut, 2, -1).reshape(-1, n_fields) ** 2, axis=0), dtype))
        box_lo = jnp.asarray(data.lower, dtype)
        box_len = jnp.asarray(data.lengths, dtype)

    def draw_t_mu_x(key, n_snapshots, n_points):
        # uniform in time and over the whole parameter range (on a log scale with log_mu),
        # uniform points in the box
        kt, kmu, kx = jr.split(key, 3)
        t = jr.uniform(kt, (n_snapshots,), dtype, *config.t_range)
        z = jr.uniform(kmu, (n_snapshots,), dtype)
        if config.log_mu:
            mu = mu_lo * (mu_hi / mu_lo) ** z
        else:
            mu = mu_lo + (mu_hi - mu_lo) * z
        return t, mu, box_lo[None] + box_len[None] * jr.uniform(kx, (n_points, data.ndim), dtype)

    def residual_loss(m, key):
        assert pde is not None  # use_residual needs it, checked above
        equation = pde
        t, mu, x = draw_t_mu_x(key, residual_snapshots, residual_points)

        def one(t, mu):
            phi, phi_t = jax.jvp(lambda s: m.hyper(s, mu), (t,), (jnp.ones_like(t),))
            net = lifted(set_phi(m.net, phi), lift, t, mu)

            def r(xi):
                u_t = jax.jvp(lambda p: set_phi(m.net, p)(xi), (phi,), (phi_t,))[1]
                if lift is not None:
                    u_t = u_t + lift.rate(xi, t, mu)
                return u_t - pdes.rhs_at(equation, net, xi, mu, t)  # F(t) where not autonomous

            return jax.vmap(r)(x)

        r2 = jax.vmap(one)(t, mu) ** 2  # (snapshots, points), a system's (..., fields)
        per_field = residual_scale if n_fields == 1 else jnp.reshape(residual_scale, (1, 1, -1))
        return jnp.mean(r2 / per_field)

    spread_at, field_weights = None, None
    pool = pool_mask(model.net)
    if use_tangent:
        n_phi = int(jax.eval_shape(model.hyper, mu_t[0, 1], mu_t[0, 0]).shape[0])
        if tangent_points <= n_phi:
            raise ValueError(f"tangent_points={tangent_points} must exceed the model's {n_phi} "
                             "online weights: with no more points than unknowns the Galerkin "
                             "residual is zero whatever the tangent space (e.g. 128)")
        # the training (mu, t) at which the online weights' spread is measured
        spread_at = mu_t[np.linspace(0, mu_t.shape[0] - 1, min(512, mu_t.shape[0])).astype(int)]
        # a system's fields weighted as in the residual term (by their u_t's size)
        field_weights = None if n_fields == 1 else jnp.asarray(residual_scale) ** -0.5
        if anchors is not None and anchors[0].shape[1] != n_phi:
            raise ValueError(f"tangent_anchors have {anchors[0].shape[1]} online weights per "
                             f"row, the model {n_phi}")
    anchor_arrays = None if anchors is None else tuple(jnp.asarray(a, dtype)
                                                       for a in anchors)

    def tangent_loss(m, key):
        assert pde is not None and spread_at is not None  # use_tangent: checked above
        equation = pde
        kdraw, knoise = jr.split(key)
        t, mu, x = draw_t_mu_x(kdraw, tangent_snapshots, tangent_points)
        if anchor_arrays is None:
            phi = jax.vmap(m.hyper)(t, mu)
        else:
            pick = jr.randint(jr.fold_in(kdraw, 1), (tangent_snapshots,), 0,
                              anchor_arrays[0].shape[0])
            phi, t, mu = (a[pick] for a in anchor_arrays)
        if tangent_sigma > 0:
            spread = jnp.std(jax.vmap(m.hyper)(spread_at[:, 1], spread_at[:, 0]), axis=0)
            if pool.any():  # pool scales (zero along the trajectories): the others' RMS spread
                own = jnp.asarray(~pool)
                rms = jnp.sqrt(jnp.sum(jnp.where(own, spread**2, 0.0)) / jnp.sum(own))
                spread = jnp.where(own, spread, rms)
            phi = phi + tangent_sigma * jax.lax.stop_gradient(spread)[None] * jr.normal(
                knoise, phi.shape, dtype)
        r = jax.vmap(lambda p, t, mu: tangent_residual(
            equation, m.net, p, t, mu, x, ridge=tangent_ridge, lift=lift,
            field_weights=field_weights))(phi, t, mu)
        return jnp.mean(r)

    def loss_fn(params, idx_s, idx_x, key):
        m = eqx.combine(params, static)
        if pool_only:
            return tangent_weight * tangent_loss(m, jr.fold_in(key, 2))
        phis = jax.vmap(m.hyper)(mu_t[idx_s, 1], mu_t[idx_s, 0])
        value = (lambda n: n.log_value) if loss == "log" else (lambda n: n)  # noqa: E731
        if per_snapshot:
            x = pts[idx_s][:, idx_x]
            pred = jax.vmap(lambda phi, x: jax.vmap(value(set_phi(m.net, phi)))(x))(phis, x)
        else:
            x = pts[idx_x]
            pred = jax.vmap(lambda phi: jax.vmap(value(set_phi(m.net, phi)))(x))(phis)
        err = (pred - u[idx_s][:, idx_x]) ** 2
        out = jnp.mean(err) if loss == "log" else jnp.mean(err / scale)
        if use_residual:
            out = out + residual_weight * residual_loss(m, key)
        if use_tangent:
            out = out + tangent_weight * tangent_loss(m, jr.fold_in(key, 2))
        return out

    @eqx.filter_jit
    def run_chunk(params, opt_state, keys, first, n):
        # steps first, ..., first + n - 1; one compilation whatever the chunk's length
        def step(i, carry):
            params, opt_state, total = carry
            k = keys[first + i]
            k1, k2 = jr.split(k)
            if time_p is None:
                idx_s = jr.randint(k1, (batch_snapshots,), 0, u.shape[0])
            else:  # rows are (mu, t) with t fastest: the parameter uniform, the time weighted
                ka, kb = jr.split(k1)
                n_t = time_p.shape[0]
                idx_s = (jr.randint(ka, (batch_snapshots,), 0, u.shape[0] // n_t) * n_t
                         + jr.choice(kb, n_t, (batch_snapshots,), p=jnp.asarray(time_p, dtype)))
            idx_x = jr.randint(k2, (batch_points,), 0, pts.shape[-2])
            loss, grads = jax.value_and_grad(loss_fn)(params, idx_s, idx_x, jr.fold_in(k, 1))
            updates, opt_state = optim.update(grads, opt_state, params)
            return optax.apply_updates(params, updates), opt_state, total + loss

        return jax.lax.fori_loop(0, n, step, (params, opt_state, jnp.zeros((), dtype)))

    step_keys = jr.split(kdata, steps)  # one key a step: the run does not depend on chunking
    if resume is None:
        done, window, before = 0, [0.0, 0], 0.0
        history: dict[str, Any] = {"step": [], "loss": [], "wall_s": []}
    else:
        done, window, before = ckpt.step, list(ckpt.state["window"]), ckpt.state["elapsed_s"]
        history = {k: list(ckpt.history[k]) for k in ("step", "loss", "wall_s")}
    start = time.perf_counter()

    def write_checkpoint():
        try:
            save_checkpoint(checkpoint_dir, model=eqx.combine(params, static),
                            opt_state=opt_state, step=done, settings=settings, key=key,
                            history=history, window=window,
                            elapsed_s=before + time.perf_counter() - start, run_info=run_info)
        except OSError as e:
            raise OSError(f"could not write a checkpoint to {checkpoint_dir} ({e}); the one "
                          "before it, if any, is still there") from e

    stopped = None
    bar = tqdm(total=steps, initial=done, desc="pretraining", disable=not progress, unit="step")
    try:
        with StopRequests(handle_signals) as requests:
            while done < steps:
                end = min(_next_multiple(done, log_every), steps)
                if checkpoint_every is not None:
                    end = min(end, _next_multiple(done, checkpoint_every))
                params, opt_state, total = run_chunk(params, opt_state, step_keys,
                                                     jnp.asarray(done), jnp.asarray(end - done))
                total = float(total)
                if not math.isfinite(total):
                    kept = (f"; the last checkpoint is in {checkpoint_dir}"
                            if checkpoint_dir is not None and pathlib.Path(checkpoint_dir).is_dir()
                            else "")
                    raise FloatingPointError(f"pretraining diverged at step {end} (loss {total}); "
                                             f"lower learning_rate{kept}")
                bar.update(end - done)
                window = [window[0] + total, window[1] + end - done]
                done = end
                if done % log_every == 0 or done == steps:
                    history["step"].append(done)
                    history["loss"].append(window[0] / window[1])
                    history["wall_s"].append(before + time.perf_counter() - start)
                    bar.set_postfix(loss=f"{history['loss'][-1]:.2e}")
                    window = [0.0, 0]
                if done < steps and requests.signal is not None:
                    stopped = signal.Signals(requests.signal).name
                elif done < steps and time_limit is not None and (
                        time.perf_counter() - start >= time_limit):
                    stopped = "time_limit"
                if checkpoint_dir is not None and (
                        stopped or done == steps
                        or (checkpoint_every is not None and done % checkpoint_every == 0)):
                    write_checkpoint()
                if stopped:
                    break
    finally:
        bar.close()
    history.update(time_s=before + time.perf_counter() - start, done=done, stopped=stopped)
    return eqx.combine(params, static), history


def early_time_weights(t: ArrayLike, weight: float, fade: float | None = None) -> np.ndarray:
    """Weights `1 + weight exp(-(t - t[0]) / fade)` of the times `t` for `pretrain(...,
    time_weights=...)`: the first snapshot drawn `1 + weight` times as often as the late ones,
    the emphasis fading over `fade` (default: a 40th of the time span)."""
    t = np.asarray(t, dtype=float)
    if fade is None:
        fade = float(t[-1] - t[0]) / 40
    if not (math.isfinite(weight) and weight >= 0):
        raise ValueError(f"the early weight must be 0 (uniform) or positive, got {weight!r}")
    if not (math.isfinite(fade) and fade > 0):
        raise ValueError(f"the early time must be positive (the time over which the emphasis "
                         f"on the first snapshots fades), got {fade!r}")
    return 1.0 + weight * np.exp(-(t - t[0]) / fade)


def envelope_start(model: CoLoRAModel, data: PointTrajectories, steps: int = 20_000,
                   learning_rate: float = 3e-3) -> CoLoRAModel:
    """`model` with its hypernetwork fitted to put the Gaussian envelope of each snapshot at the
    sample mean and covariance of the snapshot's points (data drawn from the density itself,
    `PointTrajectories.per_snapshot`), the other online weights at the network's own: the
    start of `pretrain(loss="log")` for a network with a Gaussian envelope. A mean-squared fit
    of `h(t, mu)` to those online weights (`envelope_phi`), full batch, `steps` Adam steps
    (cosine decay), without the network: cheap beside the training.

    Why: from a random start the training left the envelope where it began and shaped the
    density with the network's factor instead (d = 8, 3000 steps: envelope mean 93% off,
    covariance 235 times too large, density error 1.5 to 8.9 over t; loss="log", learning
    rate 3e-3), which is no start for the equation-driven solve, whose envelope moves with
    the density. With this start (20000 steps; 10000 took 3.7 s) the envelope is within
    2.6e-3 (mean) and 2.1e-2 (covariance) of the exact moments at the held-out
    alpha = 0.125 (t = 0, 0.2, 4)."""
    pts = np.asarray(data.points, float).reshape(-1, data.n_points, data.ndim)
    means = pts.mean(axis=1)
    dev = pts - means[:, None]
    covs = np.einsum("spi,spj->sij", dev, dev) / (pts.shape[1] - 1)
    dtype = jnp.zeros(()).dtype
    targets = jax.vmap(lambda m, c: envelope_phi(model.net, m, c))(
        jnp.asarray(means, dtype), jnp.asarray(covs, dtype))
    mu_t = jnp.asarray(np.stack(np.meshgrid(data.mu, data.t, indexing="ij"), -1).reshape(-1, 2),
                       dtype)
    optim = optax.adam(optax.cosine_decay_schedule(learning_rate, steps, 1e-2))
    params, static = eqx.partition(model.hyper, eqx.is_inexact_array)

    def loss(params):
        hyper = eqx.combine(params, static)
        return jnp.mean((jax.vmap(hyper)(mu_t[:, 1], mu_t[:, 0]) - targets) ** 2)

    @eqx.filter_jit
    def fit(params):
        def step(_, carry):
            params, state = carry
            grads = jax.grad(loss)(params)
            updates, state = optim.update(grads, state, params)
            return optax.apply_updates(params, updates), state

        return jax.lax.fori_loop(0, steps, step, (params, optim.init(params)))[0]

    return eqx.tree_at(lambda m: m.hyper, model, eqx.combine(fit(params), static))


def _next_multiple(done: int, every: int) -> int:
    return (done // every + 1) * every


def _pool_factors(model: CoLoRAModel):
    """The filter of the pool components' factors (`pool_A`, `pool_B`) of `model`."""

    def is_pool(path, leaf):
        name = getattr(path[-1], "name", None) if path else None
        return eqx.is_inexact_array(leaf) and name in ("pool_A", "pool_B")

    return jax.tree_util.tree_map_with_path(is_pool, model)
