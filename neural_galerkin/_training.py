"""Offline pretraining of a CoLoRA model and its hypernetwork on trajectories (optax)."""

import dataclasses
import math
import pathlib
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
from jaxtyping import PRNGKeyArray
from tqdm.auto import tqdm

from ._model import CoLoRAModel, ModelConfig, make_model
from ._network import set_phi


@dataclasses.dataclass(frozen=True)
class Trajectories:
    """Solution snapshots `u[i, j, ...]` at parameter `mu[i]`, time `t[j]`, on the periodic
    grid spanned by the coordinate arrays `x` (one per direction, right end left out)."""

    u: np.ndarray
    mu: np.ndarray
    t: np.ndarray
    x: tuple[np.ndarray, ...]
    lower: tuple[float, ...]
    lengths: tuple[float, ...]

    def __post_init__(self):
        d = len(self.x)
        expected = (self.mu.shape[0], self.t.shape[0], *(len(c) for c in self.x))
        if self.u.shape != expected:
            raise ValueError(
                f"u has shape {self.u.shape}; with {len(self.mu)} mu, {len(self.t)} times and "
                f"grid {tuple(len(c) for c in self.x)} it must be (n_mu, n_t, *grid) = "
                f"{expected}"
            )
        if self.mu.ndim != 1 or self.t.ndim != 1 or d < 1:
            raise ValueError("mu and t must be 1D arrays, and there must be at least one x")
        _check_finite_and_times(self.t, u=self.u, mu=self.mu, t=self.t,
                                **{f"x{i}": c for i, c in enumerate(self.x)})

    @property
    def ndim(self) -> int:
        return len(self.x)

    @property
    def points(self) -> np.ndarray:
        """Grid points, shape `(*grid, d)`."""
        return np.stack(np.meshgrid(*self.x, indexing="ij"), axis=-1)


@dataclasses.dataclass(frozen=True)
class PointTrajectories:
    """Solution values `u[i, j, k]` at parameter `mu[i]`, time `t[j]` and the scattered point
    `points[k]` of the periodic box `lower + [0, lengths)`: the form of training data where a
    grid is out of reach (high dimension), e.g. from an exact solution
    (`trajectories_from_exact`). `pretrain` takes it like `Trajectories`."""

    u: np.ndarray
    mu: np.ndarray
    t: np.ndarray
    points: np.ndarray
    lower: tuple[float, ...]
    lengths: tuple[float, ...]

    def __post_init__(self):
        if self.points.ndim != 2 or self.points.shape[1] != len(self.lower):
            raise ValueError(f"points must have shape (n, {len(self.lower)}), got "
                             f"{self.points.shape}")
        expected = (len(self.mu), len(self.t), len(self.points))
        if self.u.shape != expected:
            raise ValueError(f"u has shape {self.u.shape}, expected (n_mu, n_t, n_points) = "
                             f"{expected}")
        _check_finite_and_times(self.t, u=self.u, mu=self.mu, t=self.t, points=self.points)

    @property
    def ndim(self) -> int:
        return len(self.lower)


def _check_finite_and_times(times, **arrays) -> None:
    for name, arr in arrays.items():
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"the data array {name!r} contains NaN or inf")
    if np.any(np.diff(times) <= 0):
        raise ValueError("t must be strictly increasing")


def trajectories_from_exact(equation, mus, ts, n_points: int, *, key) -> PointTrajectories:
    """Training data from `equation.exact(x, t, mu)` at `n_points` uniformly random points of
    the box (the same points at every `(mu, t)`)."""
    if not hasattr(equation, "exact"):
        raise ValueError(f"{equation.name} has no exact solution; use trajectories_from_fd")
    pts = np.asarray(equation.random_points(n_points, key))
    ts = np.asarray(ts, dtype=float)
    mus = np.asarray(mus, dtype=float)
    f = jax.jit(jax.vmap(jax.vmap(jax.vmap(equation.exact, (0, None, None)), (None, 0, None)),
                         (None, None, 0)))
    u = np.asarray(f(jnp.asarray(pts), jnp.asarray(ts), jnp.asarray(mus)))
    return PointTrajectories(u=u, mu=mus, t=ts, points=pts, lower=tuple(equation.lower),
                             lengths=tuple(equation.lengths))


def trajectories_from_fd(equation, mus, n: int, ts) -> Trajectories:
    """Reference trajectories of `equation` at the parameters `mus` (FD on `n` points)."""
    from pdes import fd_solve

    ts = np.asarray(ts, dtype=float)
    us = [np.asarray(fd_solve(equation, mu, n, ts).us) for mu in mus]
    grid = equation.grid(n)
    xs = tuple(np.asarray(grid[(0,) * i + (slice(None),) + (0,) * (equation.ndim - i - 1)][:, i])
               for i in range(equation.ndim))
    return Trajectories(u=np.stack(us), mu=np.asarray(mus, float), t=ts, x=xs,
                        lower=tuple(equation.lower), lengths=tuple(equation.lengths))


def load_trajectories(path: str | pathlib.Path) -> Trajectories:
    """Read an `.npz` with `u` (n_mu, n_t, *grid), `mu`, `t` and one coordinate array per
    direction `x0`, `x1`, ... . The domain is periodic: where a coordinate array includes both
    ends (its last point repeats the first, as in the CoLoRA data), the last point is dropped.

    **Raises:** `FileNotFoundError`, or `ValueError` saying which array is missing, of the
    wrong shape or not finite.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no data file at {path}")
    try:
        data = np.load(path)
        keys = set(data.files)
    except Exception as e:
        raise ValueError(f"{path} is not a readable .npz file ({e})") from None
    missing = [k for k in ("u", "mu", "t", "x0") if k not in keys]
    if missing:
        raise ValueError(f"{path} lacks the arrays {missing}; it needs u (n_mu, n_t, *grid), "
                         "mu, t and x0, x1, ... (one coordinate array per direction)")
    d = 0
    while f"x{d}" in keys:
        d += 1
    u = np.asarray(data["u"], dtype=float)
    if not np.all(np.isfinite(u)):
        raise ValueError(f"the data array 'u' in {path} contains NaN or inf")
    if u.ndim != 2 + d:
        raise ValueError(f"u has {u.ndim} axes; with {d} coordinate arrays it needs {2 + d}")
    xs, lower, lengths = [], [], []
    for i in range(d):
        c = np.asarray(data[f"x{i}"], dtype=float)
        if c.ndim != 1 or len(c) < 2 or np.any(np.diff(c) <= 0):
            raise ValueError(f"x{i} must be a 1D increasing array")
        dx = c[1] - c[0]
        if not np.allclose(np.diff(c), dx, rtol=1e-6):
            raise ValueError(f"x{i} must be uniformly spaced")
        if u.shape[2 + i] != len(c):
            raise ValueError(f"u has {u.shape[2 + i]} points along axis {i}, x{i} has {len(c)}")
        last = np.take(u, [0, -1], axis=2 + i)
        repeats = np.allclose(np.take(last, 0, axis=2 + i), np.take(last, 1, axis=2 + i),
                              rtol=1e-5, atol=1e-6 * (np.abs(u).max() + 1e-30))
        if repeats:  # periodic grid stored with both ends
            u = np.take(u, np.arange(len(c) - 1), axis=2 + i)
            c = c[:-1]
        xs.append(c)
        lower.append(float(c[0]))
        lengths.append(float(len(c) * dx))
    return Trajectories(u=u, mu=np.asarray(data["mu"], float).ravel(),
                        t=np.asarray(data["t"], float), x=tuple(xs), lower=tuple(lower),
                        lengths=tuple(lengths))


def _check_init(init, config, config_kwargs):
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
    return init


def pretrain(
    data: Trajectories | PointTrajectories,
    *,
    equation: str = "data",
    steps: int = 20_000,
    batch_snapshots: int = 32,
    batch_points: int = 256,
    learning_rate: float = 3e-3,
    key: PRNGKeyArray,
    progress: bool = True,
    log_every: int = 500,
    pde=None,
    residual_weight: float = 0.0,
    residual_snapshots: int = 8,
    residual_points: int = 128,
    init: CoLoRAModel | None = None,
    **config_kwargs,
) -> tuple[CoLoRAModel, dict]:
    """Train the offline weights `theta` of a CoLoRA network jointly with a hypernetwork
    `h(t, mu)` on snapshots, minimising the relative mean-squared error
    `mean (u(x; theta, h(t, mu)) - u_data)^2 / mean u_data^2` over random batches of
    `batch_snapshots` (mu, t) pairs times `batch_points` grid points (Adam, warm-up and cosine
    decay of the learning rate; optax). Reproducible from `key`.

    **Equation-aware pretraining.** With a `pde` and `residual_weight > 0`, the loss gains
    the PDE residual along the hypernetwork's trajectories,
    `residual_weight * mean (d/dt u(x; h(t, mu)) - F(u(.; h(t, mu)); mu)(x))^2 / mean u_t^2`,
    at `residual_snapshots` random `(t, mu)` (uniform in time and over the whole parameter
    range, not only the training values) times `residual_points` random points. It asks the
    manifold's tangent `J dh/dt` to follow the equation, which is what the equation-driven
    solve needs. `u_t` in the scale is estimated from the data by finite differences in time.

    **Continuing a run.** With `init`, training starts from that model's weights (theta and
    the hypernetwork) instead of a fresh initialisation, with a fresh optimiser and learning
    rate schedule; the model's configuration is kept and `config_kwargs` must be empty. Its
    domain, time range and parameter range must match the data's.

    Extra keyword arguments go to `ModelConfig` (`width`, `depth`, `rank`, ...). The
    hypernetwork takes `mu` on a log scale when the training values are positive and span
    more than a factor of 5.

    **Returns:** `(model, history)` with the loss every `log_every` steps and the wall time.
    """
    mu_lo, mu_hi = float(data.mu.min()), float(data.mu.max())
    log_mu = config_kwargs.pop("log_mu", mu_lo > 0 and mu_hi / mu_lo > 5)
    config = ModelConfig(equation=equation, lower=data.lower, lengths=data.lengths,
                         t_range=(float(data.t[0]), float(data.t[-1])),
                         mu_range=(mu_lo, mu_hi), log_mu=log_mu, **config_kwargs)
    kmodel, kdata = jr.split(key)
    if init is None:
        model = make_model(config, key=kmodel)
    else:
        model = _check_init(init, config, config_kwargs)
        config = model.config
    dtype = jnp.zeros(()).dtype
    u = jnp.asarray(data.u.reshape(data.u.shape[0] * data.u.shape[1], -1), dtype)
    pts = jnp.asarray(data.points.reshape(-1, data.ndim), dtype)
    mu_t = jnp.asarray(np.stack(np.meshgrid(data.mu, data.t, indexing="ij"), -1).reshape(-1, 2),
                       dtype)
    scale = jnp.mean(u**2)

    schedule = optax.warmup_cosine_decay_schedule(
        init_value=learning_rate / 30, peak_value=learning_rate,
        warmup_steps=min(500, steps // 10), decay_steps=steps, end_value=learning_rate / 300)
    optim = optax.adam(schedule)
    params, static = eqx.partition(model, eqx.is_inexact_array)
    opt_state = optim.init(params)

    use_residual = residual_weight > 0
    if use_residual:
        if pde is None:
            raise ValueError("residual_weight > 0 needs the pde whose residual to use")
        ut = np.diff(data.u, axis=1) / np.diff(data.t)[None, :, *([None] * (data.u.ndim - 2))]
        residual_scale = float(np.mean(ut**2))
        box_lo = jnp.asarray(data.lower, dtype)
        box_len = jnp.asarray(data.lengths, dtype)

    def residual_loss(m, key):
        kt, kmu, kx = jr.split(key, 3)
        t = jr.uniform(kt, (residual_snapshots,), dtype, *config.t_range)
        z = jr.uniform(kmu, (residual_snapshots,), dtype)
        if config.log_mu:
            mu = mu_lo * (mu_hi / mu_lo) ** z
        else:
            mu = mu_lo + (mu_hi - mu_lo) * z
        x = box_lo[None] + box_len[None] * jr.uniform(kx, (residual_points, data.ndim), dtype)

        def one(t, mu):
            phi, phi_t = jax.jvp(lambda s: m.hyper(s, mu), (t,), (jnp.ones_like(t),))
            net = set_phi(m.net, phi)

            def r(xi):
                u_t = jax.jvp(lambda p: set_phi(m.net, p)(xi), (phi,), (phi_t,))[1]
                return u_t - pde.rhs(net, xi, mu)

            return jax.vmap(r)(x)

        return jnp.mean(jax.vmap(one)(t, mu) ** 2) / residual_scale

    def loss_fn(params, idx_s, idx_x, key):
        m = eqx.combine(params, static)
        phis = jax.vmap(m.hyper)(mu_t[idx_s, 1], mu_t[idx_s, 0])
        x = pts[idx_x]
        pred = jax.vmap(lambda phi: jax.vmap(set_phi(m.net, phi))(x))(phis)
        loss = jnp.mean((pred - u[idx_s][:, idx_x]) ** 2) / scale
        if use_residual:
            loss = loss + residual_weight * residual_loss(m, key)
        return loss

    @eqx.filter_jit
    def run_chunk(params, opt_state, keys):
        def step(carry, k):
            params, opt_state = carry
            k1, k2 = jr.split(k)
            idx_s = jr.randint(k1, (batch_snapshots,), 0, u.shape[0])
            idx_x = jr.randint(k2, (batch_points,), 0, pts.shape[0])
            loss, grads = jax.value_and_grad(loss_fn)(params, idx_s, idx_x, jr.fold_in(k, 1))
            updates, opt_state = optim.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), loss

        (params, opt_state), losses = jax.lax.scan(step, (params, opt_state), keys)
        return params, opt_state, jnp.mean(losses)

    history = {"step": [], "loss": []}
    start = time.perf_counter()
    n_chunks = math.ceil(steps / log_every)
    bar = tqdm(total=steps, desc="pretraining", disable=not progress, unit="step")
    done = 0
    step_keys = jr.split(kdata, steps)  # one key a step: the run does not depend on log_every
    for _ in range(n_chunks):
        n = min(log_every, steps - done)
        params, opt_state, loss = run_chunk(params, opt_state, step_keys[done : done + n])
        loss = float(loss)
        if not math.isfinite(loss):
            raise FloatingPointError(
                f"pretraining diverged at step {done + n} (loss {loss}); lower learning_rate")
        done += n
        history["step"].append(done)
        history["loss"].append(loss)
        bar.update(n)
        bar.set_postfix(loss=f"{loss:.2e}")
    bar.close()
    history["time_s"] = time.perf_counter() - start
    return eqx.combine(params, static), history
