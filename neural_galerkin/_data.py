"""Training data: solution snapshots on a grid (`Trajectories`) or at scattered points
(`PointTrajectories`), from finite differences, an exact solution or an `.npz` file."""

import dataclasses
import pathlib

import jax
import jax.numpy as jnp
import numpy as np

import pdes


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


def trajectories_from_exact(equation: pdes.AbstractEquation, mus, ts, n_points: int, *,
                            key) -> PointTrajectories:
    """Training data from `equation.exact(x, t, mu)` at `n_points` uniformly random points of
    the box (the same points at every `(mu, t)`), for an equation with an exact solution
    (`pdes.AbstractExactEquation`)."""
    if not isinstance(equation, pdes.AbstractExactEquation):
        raise ValueError(f"{equation.name} has no exact solution; use trajectories_from_fd")
    pts = np.asarray(equation.random_points(n_points, key))
    ts = np.asarray(ts, dtype=float)
    mus = np.asarray(mus, dtype=float)
    f = jax.jit(jax.vmap(jax.vmap(jax.vmap(equation.exact, (0, None, None)), (None, 0, None)),
                         (None, None, 0)))
    u = np.asarray(f(jnp.asarray(pts), jnp.asarray(ts), jnp.asarray(mus)))
    return PointTrajectories(u=u, mu=mus, t=ts, points=pts, lower=tuple(equation.lower),
                             lengths=tuple(equation.lengths))


def trajectories_from_fd(equation: pdes.AbstractEquation, mus, n: int, ts) -> Trajectories:
    """Reference trajectories of `equation` at the parameters `mus` (FD on `n` points)."""
    ts = np.asarray(ts, dtype=float)
    us = [np.asarray(pdes.fd_solve(equation, mu, n, ts).us) for mu in mus]
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
        stored = np.asarray(data[f"x{i}"])
        c = stored.astype(float)
        if c.ndim != 1 or len(c) < 2 or np.any(np.diff(c) <= 0):
            raise ValueError(f"x{i} must be a 1D increasing array")
        dx = (c[-1] - c[0]) / (len(c) - 1)
        off = np.max(np.abs(np.diff(c) - dx)) / dx
        if off > _spacing_tolerance(stored, dx):
            raise ValueError(f"x{i} must be uniformly spaced (its spacing varies by {off:.1e} "
                             f"relative, more than its {stored.dtype} precision allows); give "
                             "coordinates of a uniform grid")
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


def _spacing_tolerance(stored: np.ndarray, dx: float) -> float:
    """How far, relative to `dx`, the spacings of a uniform grid stored as `stored` may vary.
    Each coordinate is rounded to its dtype, so a spacing is off by up to about one unit in
    the last place of the largest coordinate, `eps * max|x|` (measured: at most 0.55 of it for
    float32 grids from `linspace`, `arange * dx` or a cumulative sum). 32 such units, and never
    less than the 1e-6 accepted before."""
    if not np.issubdtype(stored.dtype, np.floating):
        return 1e-6
    scale = float(np.max(np.abs(stored.astype(float))))
    return max(1e-6, 32 * float(np.finfo(stored.dtype).eps) * scale / dx)
