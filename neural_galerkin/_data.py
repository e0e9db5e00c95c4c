"""Training data: solution snapshots on a grid (`Trajectories`) or at scattered points
(`PointTrajectories`), from finite differences, an exact solution, an `.npz` file or a folder
of HDF5 files (one per parameter, as the CoLoRA authors publish theirs)."""

import dataclasses
import pathlib

import jax
import jax.numpy as jnp
import numpy as np

import pdes

from ._recipes import Recipe


@dataclasses.dataclass(frozen=True)
class Trajectories:
    """Solution snapshots `u[i, j, ...]` at parameter `mu[i]`, time `t[j]`, on the periodic
    grid spanned by the coordinate arrays `x` (one per direction, right end left out).

    One field (`fields` of length 1, a scalar equation): `u` has shape `(n_mu, n_t, *grid)`,
    always (no field axis). Several fields (a system): `u` has shape
    `(n_mu, n_t, n_fields, *grid)`, `fields` naming them in the order of that axis."""

    u: np.ndarray
    mu: np.ndarray
    t: np.ndarray
    x: tuple[np.ndarray, ...]
    lower: tuple[float, ...]
    lengths: tuple[float, ...]
    fields: tuple[str, ...] = ("u",)

    def __post_init__(self):
        d = len(self.x)
        fields = tuple(self.fields)
        object.__setattr__(self, "fields", fields)
        if (not fields or not all(isinstance(f, str) and f for f in fields)
                or len(set(fields)) != len(fields)):
            raise ValueError(f"fields must be distinct non-empty names, one per field; got "
                             f"{fields!r}")
        grid = tuple(len(c) for c in self.x)
        n_mu, n_t = self.mu.shape[0], self.t.shape[0]
        if len(fields) == 1:
            expected = (n_mu, n_t, *grid)
            if self.u.shape != expected:
                squeeze = (" (one field is stored without a field axis: give u[:, :, 0])"
                           if self.u.shape == (n_mu, n_t, 1, *grid) else "")
                raise ValueError(
                    f"u has shape {self.u.shape}; with {len(self.mu)} mu, {len(self.t)} times "
                    f"and grid {grid} it must be (n_mu, n_t, *grid) = {expected}{squeeze}")
        else:
            expected = (n_mu, n_t, len(fields), *grid)
            if self.u.shape != expected:
                raise ValueError(
                    f"u has shape {self.u.shape}; with {len(self.mu)} mu, {len(self.t)} times, "
                    f"{len(fields)} fields ({', '.join(fields)}) and grid {grid} it must be "
                    f"(n_mu, n_t, n_fields, *grid) = {expected}")
        if self.mu.ndim != 1 or self.t.ndim != 1 or d < 1:
            raise ValueError("mu and t must be 1D arrays, and there must be at least one x")
        _check_finite_and_times(self.t, u=self.u, mu=self.mu, t=self.t,
                                **{f"x{i}": c for i, c in enumerate(self.x)})

    @property
    def n_fields(self) -> int:
        """The number of fields: 1 for a scalar equation's data (`u` without a field axis)."""
        return len(self.fields)

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
    `points[k]` of the box `lower + [0, lengths)`: the form of training data where a grid is
    out of reach (high dimension), e.g. from an exact solution (`trajectories_from_exact`).
    `pretrain` takes it like `Trajectories`. A system of fields has `u[i, j, f, k]`.

    `points` is either one set `(n_points, d)` shared by every snapshot, or one set per
    snapshot, `(n_mu, n_t, n_points, d)` (`u[i, j, k]` at `points[i, j, k]`): points drawn
    from a density on R^d follow it as it moves (`per_snapshot`)."""

    u: np.ndarray
    mu: np.ndarray
    t: np.ndarray
    points: np.ndarray
    lower: tuple[float, ...]
    lengths: tuple[float, ...]
    fields: tuple[str, ...] = ("u",)

    def __post_init__(self):
        d = len(self.lower)
        shared = (self.points.ndim == 2 and self.points.shape[1] == d)
        own = (self.points.ndim == 4 and self.points.shape[:2] == (len(self.mu), len(self.t))
               and self.points.shape[3] == d)
        if not (shared or own):
            raise ValueError(f"points must have shape (n_points, {d}) (shared by every "
                             f"snapshot) or (n_mu, n_t, n_points, {d}) = ({len(self.mu)}, "
                             f"{len(self.t)}, n_points, {d}) (one set per snapshot), got "
                             f"{self.points.shape}")
        many = len(self.fields) > 1
        expected = (len(self.mu), len(self.t), *((len(self.fields),) if many else ()),
                    self.n_points)
        if self.u.shape != expected:
            layout = "(n_mu, n_t, n_fields, n_points)" if many else "(n_mu, n_t, n_points)"
            raise ValueError(f"u has shape {self.u.shape}, expected {layout} = {expected}")
        _check_finite_and_times(self.t, u=self.u, mu=self.mu, t=self.t, points=self.points)

    @property
    def ndim(self) -> int:
        return len(self.lower)

    @property
    def n_fields(self) -> int:
        return len(self.fields)

    @property
    def per_snapshot(self) -> bool:
        """Whether each snapshot has its own points (`points` of shape
        `(n_mu, n_t, n_points, d)`)."""
        return self.points.ndim == 4

    @property
    def n_points(self) -> int:
        return self.points.shape[-2]


def _check_finite_and_times(times, **arrays) -> None:
    for name, arr in arrays.items():
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"the data array {name!r} contains NaN or inf")
    if np.any(np.diff(times) <= 0):
        raise ValueError("t must be strictly increasing")


def trajectories_from_exact(equation: pdes.AbstractEquation, mus, ts, n_points: int, *,
                            key) -> PointTrajectories:
    """Training data from `equation.exact(x, t, mu)` at `n_points` scattered points, for an
    equation with an exact solution (`pdes.AbstractExactEquation`).

    On a box: uniformly random points of the box, the same at every `(mu, t)`. A density on
    R^d (every direction `pdes.Unbounded()`) whose equation can draw from its exact density
    (a method `sample(n, t, mu, key)`, as `pdes.FokkerPlanck` has): `n_points` drawn from the
    density at each `(mu, t)`, its own points per snapshot (`PointTrajectories.per_snapshot`),
    so the data sit where the mass is however it moves and narrows. Uniform points in the box
    would miss it: in `d = 8` the density of `fokker-planck` fills about `(0.3 / 5)^8 ~ 2e-10`
    of its box.

    **Raises:** `ValueError` for an equation without an exact solution, and for a density on
    R^d in `d > 3` that cannot draw from its density (no `sample`)."""
    if not isinstance(equation, pdes.AbstractExactEquation):
        raise ValueError(f"{equation.name} has no exact solution; use trajectories_from_fd")
    sample = getattr(equation, "sample", None) if equation.unbounded else None
    if equation.unbounded and sample is None and equation.ndim > 3:
        raise ValueError(
            f"{equation.name} is a density on R^{equation.ndim}: points drawn uniformly in its "
            "box miss its mass (almost every value would be zero); give the equation a method "
            "sample(n, t, mu, key) that draws points from its exact density (as "
            "pdes.FokkerPlanck has), and the data are drawn there")
    ts = np.asarray(ts, dtype=float)
    mus = np.asarray(mus, dtype=float)
    fields = tuple(equation.fields)
    if sample is not None:
        keys = jax.random.split(key, len(mus) * len(ts))
        keys = keys.reshape(len(mus), len(ts), *keys.shape[1:])
        draw = jax.vmap(jax.vmap(lambda t, mu, k: sample(n_points, t, mu, k),
                                 (0, None, 0)), (None, 0, 0))
        pts = jnp.asarray(draw(jnp.asarray(ts), jnp.asarray(mus), keys))
        f = jax.vmap(jax.vmap(jax.vmap(equation.exact, (0, None, None)), (0, 0, None)),
                     (0, None, 0))
        u = np.asarray(jax.jit(f)(pts, jnp.asarray(ts), jnp.asarray(mus)))
        pts = np.asarray(pts)
    else:
        pts = np.asarray(equation.random_points(n_points, key))
        u = _exact_at(equation, pts, ts, mus)
    if len(fields) > 1:  # (mu, t, points, fields) -> (mu, t, fields, points)
        u = np.moveaxis(u, -1, 2)
    return PointTrajectories(u=u, mu=mus, t=ts, points=pts, lower=tuple(equation.lower),
                             lengths=tuple(equation.lengths), fields=fields)


def trajectories_from_fd(equation: pdes.AbstractEquation, mus, n: int, ts) -> Trajectories:
    """Reference trajectories of `equation` at the parameters `mus` on `n` points per
    direction: `pdes.reference_solve` with its default method (the equation's finite
    differences where it has `fd_rhs`, else the pseudo-spectral solve of its `F`)."""
    ts = np.asarray(ts, dtype=float)
    us = [np.asarray(pdes.reference_solve(equation, mu, n, ts).us) for mu in mus]
    return _on_grid(equation, np.stack(us), mus, ts, n)


def recipe_data(equation: pdes.AbstractEquation, recipe: Recipe, seed: int | None = None):
    """A pretraining recipe's training data (`neural-galerkin pretrain PDE`): the exact
    solution at `recipe.n` scattered points (`recipe.data == "exact"`, drawn with `seed`,
    default the recipe's `data_seed`, else its `seed`), else the reference solve on
    `recipe.n` points per direction, at the recipe's training parameters and
    `recipe.n_times` times in `[0, equation.t1]`."""
    ts = np.linspace(0, equation.t1, recipe.n_times)
    if recipe.data == "exact":
        key = jax.random.PRNGKey(recipe.points_seed(seed))
        return trajectories_from_exact(equation, recipe.train_mus, ts, recipe.n, key=key)
    return trajectories_from_fd(equation, recipe.train_mus, recipe.n, ts)


def exact_on_grid(equation: pdes.AbstractEquation, mus, ts, n: int) -> Trajectories:
    """`equation.exact(x, t, mu)` on the uniform grid of `n` points per direction
    (`equation.grid(n)`) at the parameters `mus` and times `ts`: trajectories laid out as
    `trajectories_from_fd`'s, for an equation with an exact solution."""
    if not isinstance(equation, pdes.AbstractExactEquation):
        raise ValueError(f"{equation.name} has no exact solution; use trajectories_from_fd")
    ts = np.asarray(ts, dtype=float)
    grid = jnp.asarray(equation.grid(n))
    u = _exact_at(equation, grid.reshape(-1, equation.ndim), ts, mus)
    u = u.reshape(len(mus), len(ts), *grid.shape[:-1], *u.shape[3:])
    if len(equation.fields) > 1:  # (mu, t, *grid, fields) -> (mu, t, fields, *grid)
        u = np.moveaxis(u, -1, 2)
    return _on_grid(equation, u, mus, ts, n)


def _exact_at(equation: pdes.AbstractExactEquation, pts, ts, mus) -> np.ndarray:
    """`equation.exact` at every point of `pts` (shared by every snapshot), time and
    parameter: shape `(mu, t, points, *fields)`."""
    f = jax.jit(jax.vmap(jax.vmap(jax.vmap(equation.exact, (0, None, None)),
                                  (None, 0, None)), (None, None, 0)))
    return np.asarray(f(jnp.asarray(pts), jnp.asarray(ts), jnp.asarray(mus, dtype=float)))


def _on_grid(equation: pdes.AbstractEquation, u, mus, ts, n: int) -> Trajectories:
    grid = equation.grid(n)
    xs = tuple(np.asarray(grid[(0,) * i + (slice(None),) + (0,) * (equation.ndim - i - 1)][:, i])
               for i in range(equation.ndim))
    return Trajectories(u=u, mu=np.asarray(mus, float), t=ts, x=xs,
                        lower=tuple(equation.lower), lengths=tuple(equation.lengths),
                        fields=tuple(equation.fields))


class MissingH5py(ImportError):
    """A folder of HDF5 files to read where h5py (the `hdf5` extra) is not installed."""


HDF5_SUFFIXES = (".h5", ".hdf5")


def load_trajectories(path: str | pathlib.Path) -> Trajectories:
    """Read training data from an `.npz` file or a folder of HDF5 files.

    **An `.npz` file** holds `u`, `mu` (n_mu,), `t` (n_t,) and one coordinate array per
    direction `x0`, `x1`, ... (d of them). `u` is `(n_mu, n_t, *grid)` (one field) or
    `(n_mu, n_t, n_fields, *grid)` (a system): its number of axes, `2 + d` or `3 + d`, says
    which. An optional string array `fields` names the fields (default `u` for one field,
    `u0`, `u1`, ... for several).

    **A folder** holds one HDF5 file (`.h5` or `.hdf5`) per parameter, as the CoLoRA authors
    publish theirs (other files in it are left alone). Each file has
    - a dataset `u` of shape `(n_fields, n_t, *grid)` (or `(n_t, *grid)` for one field);
    - its parameter as the attribute `mu` of the file; where there is none, the file's only
      numeric attribute (a file with several numeric attributes and no `mu` is refused);
    - the times `t` and the coordinates `x0`, `x1`, ... (`x` is taken for `x0` in 1D), each a
      dataset or an attribute of the file. These are not guessed: a file without them is
      refused (add them, or convert the data to an `.npz`);
    - optionally `fields`, the names of the fields (strings, a dataset or an attribute).
    All files must share `t`, the grid and the fields; the parameters are sorted. Needs
    h5py: `pip install 'neural-galerkin[hdf5]'`.

    The domain is periodic: where a coordinate array includes both ends (its last point
    repeats the first in every field, as in the CoLoRA data), the last point is dropped. In
    memory a one-field dataset is always `(n_mu, n_t, *grid)` (a field axis of length 1 is
    squeezed), a system `(n_mu, n_t, n_fields, *grid)` (`Trajectories.fields`).

    **Raises:** `FileNotFoundError`; `ValueError` saying which array is missing, of the
    wrong shape or not finite, or which files disagree; `MissingH5py` (an `ImportError`) for
    a folder where h5py is not installed.
    """
    path = pathlib.Path(path)
    if path.is_dir():
        return _load_hdf5_folder(path)
    if not path.is_file():
        raise FileNotFoundError(f"no data file at {path} (give an .npz file or a folder of "
                                "HDF5 files)")
    if path.suffix.lower() in HDF5_SUFFIXES:
        raise ValueError(f"{path} is one HDF5 file; HDF5 data is read as a folder of files, "
                         f"one per parameter: give the folder ({path.parent})")
    try:
        data = np.load(path)
        keys = set(data.files)
    except Exception as e:
        raise ValueError(f"{path} is not a readable .npz file ({e})") from None
    missing = [k for k in ("u", "mu", "t", "x0") if k not in keys]
    if missing:
        raise ValueError(f"{path} lacks the arrays {missing}; it needs u (n_mu, n_t, *grid) or "
                         "(n_mu, n_t, n_fields, *grid), mu, t and x0, x1, ... (one coordinate "
                         "array per direction)")
    d = 0
    while f"x{d}" in keys:
        d += 1
    u = np.asarray(data["u"], dtype=float)
    if not np.all(np.isfinite(u)):
        raise ValueError(f"the data array 'u' in {path} contains NaN or inf")
    if u.ndim not in (2 + d, 3 + d):
        raise ValueError(f"u has {u.ndim} axes; with {d} coordinate arrays it needs {2 + d} "
                         f"(n_mu, n_t, *grid) or {3 + d} (n_mu, n_t, n_fields, *grid)")
    names = None
    if "fields" in keys:
        try:
            names = data["fields"]
        except ValueError:  # an object array: np.load does not unpickle
            raise ValueError(f"the array 'fields' in {path} is not a string array; store the "
                             "names as one, e.g. fields=np.array(['u', 'v'])") from None
    return _grid_trajectories(u if u.ndim == 3 + d else u[:, :, None],
                              np.asarray(data["mu"], float).ravel(), np.asarray(data["t"], float),
                              [np.asarray(data[f"x{i}"]) for i in range(d)], names, str(path))


def _grid_trajectories(u: np.ndarray, mu: np.ndarray, t: np.ndarray, coords: list,
                       names, source: str) -> Trajectories:
    """`Trajectories` from `u` of shape `(n_mu, n_t, n_fields, *grid)` and the stored
    coordinate arrays (checked to be uniform grids; a repeated periodic end dropped)."""
    n_fields = u.shape[2]
    fields = _field_names(names, n_fields, source)
    xs, lower, lengths = [], [], []
    for i, stored in enumerate(coords):
        c = stored.astype(float)
        if c.ndim != 1 or len(c) < 2 or np.any(np.diff(c) <= 0):
            raise ValueError(f"x{i} must be a 1D increasing array")
        dx = (c[-1] - c[0]) / (len(c) - 1)
        off = np.max(np.abs(np.diff(c) - dx)) / dx
        if off > _spacing_tolerance(stored, dx):
            raise ValueError(f"x{i} must be uniformly spaced (its spacing varies by {off:.1e} "
                             f"relative, more than its {stored.dtype} precision allows); give "
                             "coordinates of a uniform grid")
        if u.shape[3 + i] != len(c):
            raise ValueError(f"u has {u.shape[3 + i]} points along axis {i}, x{i} has {len(c)}")
        # the uniform grid the coordinates were checked to be, in float64: float32 ones are
        # off it by up to ~1e-8, and a model evaluated there (a mass on the grid, say) would
        # be too
        c = c[0] + dx * np.arange(len(c))
        if _ends_repeat(u, 3 + i):  # periodic grid stored with both ends
            u = np.take(u, np.arange(len(c) - 1), axis=3 + i)
            c = c[:-1]
        xs.append(c)
        lower.append(float(c[0]))
        lengths.append(float(len(c) * dx))
    return Trajectories(u=u[:, :, 0] if n_fields == 1 else u, mu=mu, t=t, x=tuple(xs),
                        lower=tuple(lower), lengths=tuple(lengths), fields=fields)


def _field_names(names, n_fields: int, source: str) -> tuple[str, ...]:
    if names is None:
        return ("u",) if n_fields == 1 else tuple(f"u{k}" for k in range(n_fields))
    array = np.atleast_1d(np.asarray(names))
    if array.ndim != 1 or not all(isinstance(n, str | bytes) for n in array):
        raise ValueError(f"fields in {source} must be a 1D array of names (strings), got "
                         f"{names!r}")
    names = tuple(n.decode() if isinstance(n, bytes) else str(n) for n in array)
    if len(names) != n_fields:
        raise ValueError(f"fields in {source} names {len(names)} fields "
                         f"({', '.join(names)}), u has {n_fields}")
    return names


def _ends_repeat(u: np.ndarray, axis: int) -> bool:
    """Whether the last grid point along `axis` repeats the first, in every field (each to
    its own scale) of `u` `(n_mu, n_t, n_fields, *grid)`."""
    first, last = np.take(u, 0, axis=axis), np.take(u, -1, axis=axis)
    others = tuple(i for i in range(u.ndim) if i != 2)
    scale = np.take(np.abs(u).max(axis=others, keepdims=True), 0, axis=axis)
    return bool(np.all(np.abs(first - last) <= 1e-6 * (scale + 1e-30) + 1e-5 * np.abs(last)))


def _import_h5py():
    try:
        import h5py
    except ImportError:
        raise MissingH5py("reading a folder of HDF5 files needs h5py: "
                          "pip install 'neural-galerkin[hdf5]'") from None
    return h5py


@dataclasses.dataclass
class _HDF5Record:
    path: pathlib.Path
    u: np.ndarray  # (n_fields, n_t, *grid)
    mu: float
    t: np.ndarray
    coords: list
    fields: tuple[str, ...] | None


def _load_hdf5_folder(folder: pathlib.Path) -> Trajectories:
    files = sorted(p for p in folder.iterdir()
                   if p.suffix.lower() in HDF5_SUFFIXES and p.is_file())
    if not files:
        raise ValueError(f"{folder} holds no .h5 or .hdf5 files; a data folder holds one HDF5 "
                         "file per parameter (or give an .npz file)")
    h5py = _import_h5py()
    records = [_read_hdf5_file(h5py, p) for p in files]
    first = records[0]
    for r in records[1:]:
        pair = f"{first.path.name} and {r.path.name}"
        if len(r.coords) != len(first.coords):
            raise ValueError(f"{pair} differ in dimension ({len(first.coords)} and "
                             f"{len(r.coords)} coordinate arrays); all files of {folder} must "
                             "share t, the grid and the fields")
        for name, a, b in (("t", first.t, r.t),
                           *((f"x{i}", p, q) for i, (p, q) in enumerate(zip(first.coords,
                                                                              r.coords)))):
            if not _same(a, b):
                what = (f"{len(a)} and {len(b)} values" if a.shape != b.shape else
                        f"values differ by up to "
                        f"{np.max(np.abs(a.astype(float) - b.astype(float))):.3g}")
                raise ValueError(f"{pair} have different {name} ({what}); all files of "
                                 f"{folder} must share t, the grid and the fields")
        if r.u.shape[0] != first.u.shape[0] or (
                r.fields != first.fields and None not in (r.fields, first.fields)):
            raise ValueError(f"{pair} have different fields ({first.u.shape[0]}: "
                             f"{first.fields or '-'}; {r.u.shape[0]}: {r.fields or '-'}); all "
                             f"files of {folder} must share t, the grid and the fields")
    by_mu = sorted(records, key=lambda r: r.mu)
    for a, b in zip(by_mu, by_mu[1:]):
        if a.mu == b.mu:
            raise ValueError(f"{a.path.name} and {b.path.name} have the same mu ({a.mu:g}); "
                             "each file of the folder holds one parameter")
    u = np.moveaxis(np.stack([r.u for r in by_mu]), 1, 2)  # (n_mu, n_t, n_fields, *grid)
    names = next((r.fields for r in records if r.fields is not None), None)
    return _grid_trajectories(u, np.array([r.mu for r in by_mu]), first.t.astype(float),
                              first.coords, names, str(folder))


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape:
        return False
    a, b = a.astype(float), b.astype(float)
    return bool(np.allclose(a, b, rtol=1e-6, atol=1e-6 * (np.abs(a).max() + 1e-30)))


def _read_hdf5_file(h5py, path: pathlib.Path) -> _HDF5Record:
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise ValueError(f"{path} is not a readable HDF5 file ({e})") from None
    with f:
        def lookup(name):
            if name in f and isinstance(f[name], h5py.Dataset):
                return np.asarray(f[name][()])
            if name in f.attrs:
                return np.asarray(f.attrs[name])
            return None

        if "u" not in f or not isinstance(f["u"], h5py.Dataset):
            raise ValueError(f"{path} has no dataset 'u'; each file needs u (n_fields, n_t, "
                             "*grid), the attribute mu, and t, x0, x1, ...")
        t = lookup("t")
        coords = []
        while (c := lookup(f"x{len(coords)}")) is not None:
            coords.append(c)
        if not coords and (c := lookup("x")) is not None:
            coords.append(c)
        if t is None or not coords:
            missing = ([] if t is not None else ["the times t (n_t,)"]) + (
                [] if coords else ["the coordinates x0, x1, ... (one array per direction)"])
            raise ValueError(f"{path} lacks {' and '.join(missing)}; add each as a dataset or "
                             "an attribute of the file (e.g. with h5py: f['t'] = t; "
                             "f['x0'] = x0), or convert the data to an .npz (u, mu, t, x0, ...)")
        mu = _hdf5_parameter(f.attrs, path)
        names = lookup("fields")
        u = np.asarray(f["u"][()], dtype=float)
    d = len(coords)
    if u.ndim == 1 + d:
        u = u[None]
    if u.ndim != 2 + d:
        raise ValueError(f"u in {path} has {u.ndim} axes; with {d} coordinate arrays it needs "
                         f"{2 + d} (n_fields, n_t, *grid) or {1 + d} (n_t, *grid)")
    if not np.all(np.isfinite(u)):
        raise ValueError(f"the data array 'u' in {path} contains NaN or inf")
    t = t.ravel()
    if u.shape[1] != len(t):
        raise ValueError(f"u in {path} has {u.shape[1]} times, t has {len(t)}")
    for i, c in enumerate(coords):
        if c.ndim != 1 or u.shape[2 + i] != len(c):
            raise ValueError(f"u in {path} has {u.shape[2 + i]} points along axis {i}, x{i} "
                             f"has shape {c.shape}")
    fields = None if names is None else _field_names(names, u.shape[0], str(path))
    return _HDF5Record(path=path, u=u, mu=mu, t=t, coords=coords, fields=fields)


def _hdf5_parameter(attrs, path: pathlib.Path) -> float:
    """The file's attribute `mu`, or else its only numeric attribute."""
    if "mu" in attrs:
        value, name = np.asarray(attrs["mu"]), "mu"
    else:
        numeric = {k: np.asarray(v) for k, v in attrs.items()
                   if np.asarray(v).dtype.kind in "iuf" and np.asarray(v).size == 1}
        if len(numeric) != 1:
            others = (f" and several numeric attributes ({', '.join(sorted(numeric))}) to "
                      "choose from" if numeric else "")
            raise ValueError(f"{path} has no attribute 'mu' (its parameter){others}; set it, "
                             "e.g. with h5py: f.attrs['mu'] = 0.01")
        (name, value), = numeric.items()
    if value.dtype.kind not in "iuf" or value.size != 1:
        raise ValueError(f"the attribute {name!r} of {path} must be one number (the "
                         f"parameter), got {value!r}")
    mu = float(value.ravel()[0])
    if not np.isfinite(mu):
        raise ValueError(f"the attribute {name!r} of {path} is not finite")
    return mu


def _spacing_tolerance(stored: np.ndarray, dx: float) -> float:
    """How far, relative to `dx`, the spacings of a uniform grid stored as `stored` may vary.
    Each coordinate is rounded to its dtype, so a spacing is off by up to about one unit in
    the last place of the largest coordinate, `eps * max|x|` (measured: at most 0.55 of it for
    float32 grids from `linspace`, `arange * dx` or a cumulative sum). 32 such units, and never
    less than the 1e-6 accepted before. `eps` is at least float32's: a grid computed in single
    precision and stored as float64 (the CoLoRA authors' RDE data: spacings off by 3.6e-5
    relative) is uniform to the precision it was made with; a truly non-uniform grid is off
    by far more."""
    if not np.issubdtype(stored.dtype, np.floating):
        return 1e-6
    scale = float(np.max(np.abs(stored.astype(float))))
    eps = max(float(np.finfo(stored.dtype).eps), float(np.finfo(np.float32).eps))
    return max(1e-6, 32 * eps * scale / dx)
