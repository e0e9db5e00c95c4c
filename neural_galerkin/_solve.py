"""The online phase: fit `phi(0)`, integrate the Galerkin dynamics with diffrax, `Solution`."""

import dataclasses
import time
from collections.abc import Sequence
from typing import Any

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx
from jaxtyping import Array, ArrayLike, Float

from pdes._base import check_parameter

from ._galerkin import GalerkinField, LeastSquares, SparseUpdates
from ._invariants import AbstractInvariant, Conservation, get_invariant, relative_drift
from ._model import CoLoRAModel
from ._network import CoLoRAMLP, get_phi, num_phi, set_phi
from ._sampling import AbstractSampler, UniformSampler
from ._solver import GalerkinSolver


class Solution(eqx.Module):
    """The online weights at the saved times, and the network that turns them into `u`.

    - `ts`: saved times; `phis`: online weights there, shape `(len(ts), p)`.
    - `residuals`: relative Galerkin residual `||J phi_dot - F|| / ||F||` at the saved times
      (equation-driven solves only; `None` for data-driven predictions).
    - `stats`: diffrax's statistics (`num_steps`, ...) and, with `timed=True`,
      `time_compile_s` and `time_run_s`.
    - `result`: diffrax's result code (`diffrax.RESULTS.successful` when all went well).
    - `invariants`: the conserved invariants' values at the saved times (`solve(...,
      conserve=...)`), by name; `drift()` gives their relative drift.

    `sol.evaluate(x)` gives `u` at points `x` of shape `(..., d)` (or `(n,)` in 1D), for every
    saved time: an array of shape `(len(ts), ...)` (`(B, len(ts), ...)` from `solve_batch`).
    """

    ts: Float[Array, " t"]
    phis: Float[Array, "t p"]
    net: CoLoRAMLP
    residuals: Float[Array, " t"] | None
    stats: dict[str, Any]
    result: Any
    mode: str = eqx.field(static=True)
    invariants: dict[str, Float[Array, " t"]] = eqx.field(default_factory=dict)

    def drift(self) -> dict[str, float]:
        """Largest relative change `max_t |I(t) - I(t0)| / |I(t0)|` of each conserved
        invariant, with the quadrature it was conserved with."""
        return {name: relative_drift(vals) for name, vals in self.invariants.items()}

    def evaluate(self, x: ArrayLike) -> Float[Array, "..."]:
        x = jnp.asarray(x, dtype=self.phis.dtype)
        d = self.net.embedding.lower.__len__()
        if d == 1 and (x.ndim == 1 or x.shape[-1] != 1):
            x = x[..., None]
        if x.shape[-1] != d:
            raise ValueError(f"points must have shape (..., {d}), got {x.shape}")
        return _evaluate(self.net, self.phis, x)


@eqx.filter_jit
def _evaluate(net, phis, x):
    flat = x.reshape(-1, x.shape[-1])
    out = jax.vmap(lambda phi: jax.vmap(set_phi(net, phi))(flat))(
        phis.reshape(-1, phis.shape[-1]))
    return out.reshape(phis.shape[:-1] + x.shape[:-1])


def _net(model: CoLoRAModel | CoLoRAMLP) -> CoLoRAMLP:
    if isinstance(model, CoLoRAModel):
        return model.net
    if isinstance(model, CoLoRAMLP):
        return model
    raise TypeError(f"expected a CoLoRAModel or CoLoRAMLP, got {type(model).__name__}")


def check_mu(equation, model, mu) -> float:
    """`mu` as a float, or a `ValueError` naming the range it must lie in: the model's
    training range for a pretrained model, else the equation's range."""
    mu_range = model.mu_range if isinstance(model, CoLoRAModel) else None
    return equation.check_mu(mu, mu_range)


def sample_points(equation, samples: int | ArrayLike) -> Float[Array, "n d"]:
    """`samples` points: an int gives a uniform periodic grid with that many points in each
    direction; an array of shape `(n, d)` is used as it is."""
    if isinstance(samples, AbstractSampler):
        raise TypeError("a sampler chooses its points during the solve; pass it to solve")
    if isinstance(samples, int | np.integer):
        if int(samples) ** equation.ndim > 2**20:
            raise ValueError(
                f"samples={samples} asks for a grid of {samples}^{equation.ndim} points; in "
                f"{equation.ndim} dimensions pass the points themselves (an array of shape "
                f"(n, {equation.ndim}), e.g. uniformly random) or a RandomSampler(n)")
        return equation.grid(int(samples)).reshape(-1, equation.ndim)
    pts = jnp.asarray(samples, dtype=jnp.zeros(()).dtype)
    if pts.ndim != 2 or pts.shape[1] != equation.ndim:
        raise ValueError(f"samples must have shape (n, {equation.ndim}), got {pts.shape}")
    if not isinstance(pts, jax.core.Tracer) and not bool(jnp.all(jnp.isfinite(pts))):
        raise ValueError("samples contain NaN or inf")
    return pts


def fit_initial_condition(
    equation,
    model: CoLoRAModel | CoLoRAMLP,
    u0=None,
    mu: ArrayLike | None = None,
    *,
    samples: int | ArrayLike = 512,
    phi_guess: ArrayLike | None = None,
    rtol: float = 1e-10,
    atol: float = 1e-12,
    max_steps: int = 1000,
) -> tuple[Float[Array, " p"], float]:
    """Fit the online weights to an initial condition: `phi0 = argmin sum_i (u(x_i; phi) -
    u0(x_i))^2` by Levenberg-Marquardt (optimistix). Plain Gauss-Newton can diverge on this
    problem; the damping of Levenberg-Marquardt keeps the steps inside the region where the
    linearisation holds.

    **Arguments:**
    - `u0`: a function of one point `x` (shape `(d,)`), or its values at the sample points;
      default: the equation's initial condition at `mu`.
    - `mu`: the parameter (for the default initial condition and the starting guess).
    - `phi_guess`: starting guess; default `model.phi(t0, mu)` for a pretrained model, else
      the network's current online weights.

    **Returns:** `(phi0, relative L2 fit error at the samples)`.

    **Raises:** `ValueError` for non-finite or wrongly shaped `u0`, or a failed fit.
    """
    net = _net(model)
    if isinstance(samples, AbstractSampler):  # fit on its fixed-grid equivalent
        samples = samples.n
    pts = sample_points(equation, samples)
    if u0 is None:
        if mu is None:
            raise ValueError("give u0, or mu for the equation's default initial condition")
        u0 = lambda x: equation.initial_condition(x, mu)  # noqa: E731
    if callable(u0):
        target = jax.vmap(u0)(pts)
    else:
        target = jnp.asarray(u0, dtype=pts.dtype)
        if target.shape != (pts.shape[0],):
            raise ValueError(
                f"u0 values have shape {target.shape}, expected ({pts.shape[0]},): one value "
                "per sample point"
            )
    if not bool(jnp.all(jnp.isfinite(target))):
        raise ValueError("the initial condition contains NaN or inf; give finite values")
    if phi_guess is None:
        if isinstance(model, CoLoRAModel) and mu is not None:
            phi_guess = model.phi(model.t_range[0], mu)
        else:
            phi_guess = get_phi(net)
    phi_guess = jnp.asarray(phi_guess, dtype=pts.dtype)
    phi0, err = _fit(net, pts, target, phi_guess, rtol, atol, max_steps)
    err = float(err)
    if not np.isfinite(err) or not bool(jnp.all(jnp.isfinite(phi0))):
        raise ValueError("the initial-condition fit failed (non-finite weights); check u0")
    return phi0, err


@eqx.filter_jit
def _fit(net, pts, target, phi_guess, rtol, atol, max_steps):
    def residual(phi, _):
        return jax.vmap(set_phi(net, phi))(pts) - target

    solver = optx.LevenbergMarquardt(rtol=rtol, atol=atol)
    sol = optx.least_squares(residual, solver, phi_guess, max_steps=max_steps, throw=False)
    # a fit stopped by max_steps is still the best point found; the error says how good it is
    err = jnp.linalg.norm(residual(sol.value, None)) / jnp.linalg.norm(target)
    return sol.value, err


def solve(
    equation,
    model: CoLoRAModel | CoLoRAMLP,
    t0: float,
    t1: float,
    dt0: float | None,
    phi0: ArrayLike,
    mu: ArrayLike,
    *,
    solver: dfx.AbstractSolver = dfx.Tsit5(),
    saveat: dfx.SaveAt = dfx.SaveAt(t0=True, t1=True),
    stepsize_controller: dfx.AbstractStepSizeController = dfx.PIDController(
        rtol=1e-6, atol=1e-8
    ),
    samples: int | ArrayLike | AbstractSampler = 512,
    lstsq: LeastSquares = LeastSquares(),
    max_steps: int | None = 100_000,
    throw: bool = True,
    progress_meter: dfx.AbstractProgressMeter = dfx.NoProgressMeter(),
    conserve: Sequence[str | AbstractInvariant] = (),
    conserve_method: str = "both",
    conserve_points: int | None = None,
    sparse_updates: SparseUpdates | None = None,
    timed: bool = False,
) -> Solution:
    """Equation-driven (Neural Galerkin) solve: integrate `phi_dot = argmin ||J phi_dot - F||`
    from `phi(t0) = phi0` to `t1` with diffrax. Shaped like `diffrax.diffeqsolve`.

    **Arguments:**
    - `equation`: the PDE (a `pdes.AbstractEquation`).
    - `model`: a pretrained `CoLoRAModel` (its offline weights are used, and `mu` must lie in
      its training range) or a bare `CoLoRAMLP`.
    - `t0`, `t1`, `dt0`, `phi0`: as in `diffeqsolve` (`phi0` from `fit_initial_condition`).
    - `mu`: the PDE parameter.
    - `solver`, `saveat`, `stepsize_controller`, `max_steps`, `throw`, `progress_meter`: passed
      to `diffrax.diffeqsolve` (`saveat` must be a single `SaveAt` without `fn`).
    - `samples`: sample points of the Galerkin residual: an int or an `(n, d)` array (see
      `sample_points`), or a sampler (`UniformSampler`, `RandomSampler`, `SteepSampler`); a
      dynamic sampler redraws the points at every step (the solver is wrapped in
      `GalerkinSolver`).
    - `lstsq`: the least-squares solve and its regularisation (`LeastSquares`).
    - `conserve`: invariants to keep (`"mass"`, `"energy"`, or `AbstractInvariant`s such as
      `Functional`), each integrated by the rectangle rule on a uniform grid with
      `conserve_points` points per direction (default: as many as the samples).
    - `conserve_method`: `"constraint"` (`phi_dot` subject to `dI_k/dt = 0`; drift then
      follows the time-stepping error), `"projection"` (Gauss-Newton back onto
      `I_k(phi) = I_k(phi0)` after every accepted step and at every saved time: round-off) or
      `"both"`.
    - `sparse_updates`: `SparseUpdates(n_active, key)`: move only a random subset of
      `n_active` online weights at each step (randomised sparse Neural Galerkin), for networks
      with many online weights.
    - `timed`: compile ahead of time and record `time_compile_s` and `time_run_s` in `stats`.

    **Returns:** a `Solution`.

    **Raises:** `ValueError` for `mu` out of range, a wrongly shaped or non-finite `phi0`, or
    `t1 <= t0`; with `throw=True`, an error if diffrax fails (e.g. the step size collapses
    because the dynamics blew up): lower the tolerances or raise `samples`/`rcond`;
    `FloatingPointError` if the saved weights are NaN or inf (an unstable fixed step);
    `ValueError` for an unknown invariant, one the equation does not keep at `mu`, or a name
    given twice; an error naming degenerate constraints (rank-deficient `dI/dphi`).
    """
    net = _net(model)
    mu = check_mu(equation, model, mu)
    p = num_phi(net)
    phi0 = jnp.asarray(phi0, dtype=jnp.zeros(()).dtype)
    if phi0.shape != (p,):
        raise ValueError(f"phi0 has shape {phi0.shape}, the model has {p} online weights")
    _check_start(phi0, t0, t1)
    _check_kept(equation, mu, conserve)
    field, solver, saveat, conservation = _assemble(
        equation, net, phi0, mu, solver, saveat, samples, lstsq, conserve, conserve_method,
        conserve_points, sparse_updates)
    args = (field, solver, jnp.asarray(t0, float), jnp.asarray(t1, float),
            None if dt0 is None else jnp.asarray(dt0, float), phi0, jnp.asarray(mu, float),
            saveat, stepsize_controller, max_steps, throw, progress_meter)
    sol, stats = _run(_solve, args, timed)
    phis, residuals, invariants = sol.ys
    finite = np.asarray(jnp.all(jnp.isfinite(phis), axis=1))
    if throw and not finite.all():
        t_bad = float(np.asarray(sol.ts)[np.argmin(finite)])
        raise FloatingPointError(
            f"the equation-driven solve produced NaN or inf by t={t_bad:g}: the dynamics blew "
            "up (an unstable time step, or online weights so large that the network "
            "overflows). Use an adaptive stepsize_controller (diffrax.PIDController) or a "
            "smaller dt0, check phi0, or regularise the least squares "
            "(LeastSquares(rcond=..., ridge=...))"
        )
    stats.update({k: int(v) for k, v in sol.stats.items() if k.startswith("num_")})
    inv = {} if conservation is None else {
        name: invariants[:, k] for k, name in enumerate(conservation.names)}
    return Solution(ts=sol.ts, phis=phis, net=net, residuals=residuals, stats=stats,
                    result=sol.result, mode="eq", invariants=inv)


def _conservation(equation, net, phi0, mu, samples, conserve, method, points,
                  one_by_one=False):
    if not conserve:
        return None
    if method not in ("constraint", "projection", "both"):
        raise ValueError(f"conserve_method must be 'constraint', 'projection' or 'both', got "
                         f"{method!r}")
    invariants = tuple(get_invariant(c, equation, mu) if isinstance(c, str) else c
                       for c in conserve)
    for inv in invariants:
        if not isinstance(inv, AbstractInvariant):
            raise TypeError(f"conserve takes invariant names or AbstractInvariants, got {inv!r}")
    names = [inv.name for inv in invariants]
    if len(set(names)) != len(names):
        raise ValueError(f"an invariant is named twice in {names}")
    if points is None:  # per direction, matching the samples
        if isinstance(samples, int | np.integer):
            points = int(samples)
        else:
            total = samples.n if isinstance(samples, AbstractSampler) else len(samples)
            points = max(round(total ** (1 / equation.ndim)), 1)
    grid = equation.grid(points).reshape(-1, equation.ndim)
    cons = Conservation(invariants, grid, equation.cell_volume(points),
                        constrain=method != "projection", project=method != "constraint",
                        one_by_one=one_by_one)
    return eqx.tree_at(lambda c: c.targets, cons, cons.values(net, phi0),
                       is_leaf=lambda x: x is None)


_DEFAULT_SAVE_FN = dfx.SaveAt(t1=True).subs.fn


def solve_batch(
    equation,
    model: CoLoRAModel | CoLoRAMLP,
    t0: float,
    t1: float,
    dt0: float | None,
    phi0: ArrayLike,
    mu: ArrayLike,
    *,
    devices: Sequence[jax.Device] | None = None,
    batch_size: int | None = None,
    solver: dfx.AbstractSolver = dfx.Tsit5(),
    saveat: dfx.SaveAt = dfx.SaveAt(t0=True, t1=True),
    stepsize_controller: dfx.AbstractStepSizeController = dfx.PIDController(
        rtol=1e-6, atol=1e-8
    ),
    samples: int | ArrayLike | AbstractSampler = 512,
    lstsq: LeastSquares = LeastSquares(),
    max_steps: int | None = 100_000,
    throw: bool = True,
    conserve: Sequence[str | AbstractInvariant] = (),
    conserve_method: str = "both",
    conserve_points: int | None = None,
    sparse_updates: SparseUpdates | None = None,
    timed: bool = False,
) -> Solution:
    """`solve` for a batch of parameters at once: `mu` of shape `(B,)`, `phi0` of shape
    `(B, p)` (e.g. `jax.vmap` of the initial fit, or `fit_initial_condition` per `mu`). One
    compiled call solves them all, each with its own adaptive step: vmapped, all parameters
    advance in one loop that runs until the last one is done; in chunks, one chunk after
    another.

    `batch_size`: solve the batch in chunks of this many parameters, one chunk after another
    (`jax.lax.map`; each chunk vmapped). Default: the whole batch at once on a GPU or TPU,
    one parameter at a time on a CPU. On a CPU core the vmapped right-hand side costs more
    per parameter than one parameter's (measured for 1D Burgers at 128 samples: 0.42-0.48 ms
    alone, 0.57 ms each in a vmapped batch of 4, 1.09 ms each in a batch of 64), so there the
    loop is the faster way (a batch of 64: 15.5 s against 57.3 s vmapped;
    `benchmarks/batch.py`); the results agree to round-off. With several `devices` the whole
    shard is vmapped (`batch_size` must then be left out); one device in `devices` only
    places the batch there.

    `devices`: shard the batch over these devices (`jax.sharding`, one mesh axis over the
    batch; `B` must be a multiple of their number). Over several CPU devices of one process,
    the least-squares and conservation linear algebra runs one batch member at a time
    (`LeastSquares.one_by_one`: jaxlib's batched LAPACK kernels deadlock there for large
    enough batches). Across hosts, start every process with
    `jax.distributed.initialize()` and pass `jax.devices()`: the same code then runs on a
    multi-host mesh.

    Other arguments as in `solve`. **Returns:** a `Solution` whose `phis` have shape
    `(B, len(ts), p)` (`residuals` `(B, len(ts))`, `stats` per parameter); `evaluate` gives
    `(B, len(ts), ...)`.
    """
    net = _net(model)
    p = num_phi(net)
    mu = jnp.asarray(mu, dtype=jnp.zeros(()).dtype)
    if mu.ndim != 1:
        raise ValueError(f"mu must be a 1D array of parameters, got shape {mu.shape}")
    for m in np.asarray(mu):
        m = check_mu(equation, model, m)
        _check_kept(equation, m, conserve)
    phi0 = jnp.asarray(phi0, dtype=mu.dtype)
    if phi0.shape != (mu.shape[0], p):
        raise ValueError(f"phi0 has shape {phi0.shape}, expected (len(mu), p) = "
                         f"{(mu.shape[0], p)}")
    _check_start(phi0, t0, t1)
    if batch_size is not None and not (isinstance(batch_size, int | np.integer)
                                       and batch_size >= 1):
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    devices = None if devices is None else list(devices)
    platform = jax.default_backend()
    if devices is not None and len(devices) == 1:  # nothing to shard: the batch goes there
        platform = devices[0].platform
        mu, phi0 = jax.device_put((mu, phi0), devices[0])
        devices = None
    if devices is not None:
        if batch_size is not None:
            raise ValueError("batch_size and devices do not go together: a sharded batch is "
                             "vmapped on each device; leave batch_size out")
        if mu.shape[0] % len(devices):
            raise ValueError(f"a batch of {mu.shape[0]} does not split evenly over "
                             f"{len(devices)} devices; pad the batch")
        if len(devices) > 1 and any(d.platform == "cpu" for d in devices):
            # batched LAPACK calls can deadlock across CPU devices of one process
            lstsq = dataclasses.replace(lstsq, one_by_one=True)
        mesh = jax.sharding.Mesh(np.array(devices), ("batch",))
        spec = jax.sharding.PartitionSpec("batch")
        mu = jax.device_put(mu, jax.sharding.NamedSharding(mesh, spec))
        phi0 = jax.device_put(phi0, jax.sharding.NamedSharding(mesh, spec))
    elif batch_size is None:
        batch_size = 1 if platform == "cpu" else None
    if not isinstance(samples, AbstractSampler) and not isinstance(samples, int | np.integer):
        samples = sample_points(equation, samples)
    setup = _BatchSetup(equation, solver, saveat, samples, lstsq, tuple(conserve),
                        conserve_method, conserve_points, sparse_updates)
    args = (setup, net, jnp.asarray(t0, float), jnp.asarray(t1, float),
            None if dt0 is None else jnp.asarray(dt0, float), phi0, mu, stepsize_controller,
            max_steps, throw, None if batch_size is None else int(batch_size))
    (ts, (phis, residuals, invariants), dstats, result), stats = _run(_solve_batch, args, timed)
    if throw and not bool(jnp.all(jnp.isfinite(phis))):
        raise FloatingPointError("the batched equation-driven solve produced NaN or inf; see "
                                 "solve's message for what to change")
    stats.update({k: np.asarray(v) for k, v in dstats.items() if k.startswith("num_")})
    names = () if not conserve else tuple(
        c if isinstance(c, str) else c.name for c in conserve)
    inv = {name: invariants[..., k] for k, name in enumerate(names)}
    return Solution(ts=ts[0], phis=phis, net=net, residuals=residuals, stats=stats,
                    result=result, mode="eq", invariants=inv)


def _check_start(phi0, t0, t1) -> None:
    if not bool(jnp.all(jnp.isfinite(phi0))):
        raise ValueError("phi0 contains NaN or inf; refit the initial condition")
    if not float(t1) > float(t0):
        raise ValueError(f"t1 must be greater than t0, got t0={t0}, t1={t1}")


def _run(fn, args, timed: bool):
    """`fn(*args)`; with `timed`, compiled ahead of time and both phases timed."""
    if not timed:
        return fn(*args), {}
    start = time.perf_counter()
    compiled = fn.lower(*args).compile()
    stats = {"time_compile_s": time.perf_counter() - start}
    start = time.perf_counter()
    out = jax.block_until_ready(compiled(*args))
    stats["time_run_s"] = time.perf_counter() - start
    return out, stats


class _BatchSetup(eqx.Module):
    equation: eqx.Module
    solver: dfx.AbstractSolver
    saveat: dfx.SaveAt
    samples: Any
    lstsq: LeastSquares
    conserve: tuple
    conserve_method: str = eqx.field(static=True)
    conserve_points: int | None = eqx.field(static=True)
    sparse: SparseUpdates | None = None


@eqx.filter_jit
def _solve_batch(setup, net, t0, t1, dt0, phi0, mu, controller, max_steps, throw, batch_size):
    def one(phi0, mu):
        field, solver, saveat, _ = _assemble(
            setup.equation, net, phi0, mu, setup.solver, setup.saveat, setup.samples,
            setup.lstsq, setup.conserve, setup.conserve_method, setup.conserve_points,
            setup.sparse)
        sol = dfx.diffeqsolve(dfx.ODETerm(field), solver, t0, t1, dt0, phi0, mu,
                              saveat=saveat, stepsize_controller=controller,
                              max_steps=max_steps, throw=throw)
        return sol.ts, sol.ys, sol.stats, sol.result

    if batch_size is None or batch_size >= mu.shape[0]:
        return jax.vmap(one)(phi0, mu)
    # chunks of batch_size one after another, then the remainder (not `lax.map(batch_size=)`:
    # its reshape of the outputs fails on the empty arrays a solve may return)
    n = mu.shape[0]
    k = n - n % batch_size
    chunks = jax.tree.map(lambda x: x[:k].reshape(k // batch_size, batch_size, *x.shape[1:]),
                          (phi0, mu))
    out = jax.lax.map(lambda a: jax.vmap(one)(*a), chunks)
    out = jax.tree.map(lambda y: y.reshape(k, *y.shape[2:]), out)
    if k == n:
        return out
    rest = jax.vmap(one)(phi0[k:], mu[k:])
    return jax.tree.map(lambda a, b: jnp.concatenate([a, b]), out, rest)


def _check_kept(equation, mu, conserve) -> None:
    kept = equation.conserved_at(mu)
    for c in conserve:
        if isinstance(c, str) and get_invariant(c, equation, mu).name not in kept:
            raise ValueError(
                f"{equation.name} does not keep {c!r} at mu={mu:g} (it keeps: "
                f"{', '.join(kept)}); holding it would force a wrong solution. For a quantity "
                "you know to be invariant in your setting, pass an AbstractInvariant object")


def _assemble(equation, net, phi0, mu, solver, saveat, samples, lstsq, conserve,
              conserve_method, conserve_points, sparse=None):
    """The Galerkin field, the (wrapped) solver, the saving function and the conservation
    set-up for one solve; traceable in `phi0` and `mu` (so that `solve_batch` can vmap it)."""
    conservation = _conservation(equation, net, phi0, mu, samples, conserve, conserve_method,
                                 conserve_points, lstsq.one_by_one)
    constraint = conservation if conservation is not None and conservation.constrain else None
    projection = conservation if conservation is not None and conservation.project else None
    sampler = None
    if isinstance(samples, AbstractSampler):
        # the residual diagnostic is always taken on a fixed uniform grid, comparable
        # across samplers
        diag = GalerkinField(equation, net, UniformSampler(samples.n)(equation, net, phi0, 0),
                             lstsq, constraint)
        sampler = samples if samples.dynamic else None
        field = GalerkinField(equation, net, samples(equation, net, phi0, jnp.array(0)), lstsq,
                              constraint)
    else:
        field = GalerkinField(equation, net, sample_points(equation, samples), lstsq,
                              constraint)
        diag = field
    if sparse is not None:
        if not isinstance(sparse, SparseUpdates):
            raise TypeError(f"sparse_updates must be a SparseUpdates, got {sparse!r}")
        field = eqx.tree_at(lambda f: f.active, field, sparse(phi0.shape[0], jnp.array(0)),
                            is_leaf=lambda x: x is None)
    if sampler is not None or projection is not None or sparse is not None:
        solver = GalerkinSolver(solver, sampler, projection, sparse)
    subs = saveat.subs
    if not isinstance(subs, dfx.SubSaveAt) or subs.fn is not _DEFAULT_SAVE_FN:
        raise ValueError("saveat must be a single diffrax.SaveAt without fn")
    saveat = eqx.tree_at(lambda s: s.subs.fn, saveat, _Save(diag, projection, conservation))
    return field, solver, saveat, conservation


class _Save(eqx.Module):
    """Saves `phi` (projected onto the invariants' level set where projection is on, so that
    interpolated saves hold them too), the residual diagnostic and the invariants' values."""

    field: GalerkinField
    projection: Conservation | None
    conservation: Conservation | None

    def __call__(self, t, phi, mu):
        if self.projection is not None:  # then it is also `self.conservation`
            phi, inv = self.projection.project_with_values(self.field.net, phi)
        elif self.conservation is not None:
            inv = self.conservation.values(self.field.net, phi)
        else:
            inv = jnp.zeros((0,), phi.dtype)
        return phi, self.field.residual(t, phi, mu), inv


@eqx.filter_jit
def _solve(field, solver, t0, t1, dt0, phi0, mu, saveat, controller, max_steps, throw,
           progress_meter):
    return dfx.diffeqsolve(
        dfx.ODETerm(field), solver, t0, t1, dt0, phi0, mu, saveat=saveat,
        stepsize_controller=controller, max_steps=max_steps, throw=throw,
        progress_meter=progress_meter,
    )


def predict(model: CoLoRAModel, ts: ArrayLike, mu: ArrayLike, *, equation=None) -> Solution:
    """Data-driven (CoLoRA-D) prediction: `phi(t, mu) = h(t, mu)` from the hypernetwork.

    **Raises:** `ValueError` if `mu` or a time in `ts` lies outside what the model was trained
    on (the hypernetwork is not to be trusted there; use the equation-driven `solve`).
    """
    if equation is not None:
        mu = check_mu(equation, model, mu)
    else:
        mu = check_parameter(mu, model.mu_range, model.config.equation)
    ts = jnp.atleast_1d(jnp.asarray(ts, dtype=jnp.zeros(()).dtype))
    t0, t1 = model.t_range
    if ts.ndim != 1 or bool(jnp.any(ts < t0 - 1e-12)) or bool(jnp.any(ts > t1 + 1e-12)):
        raise ValueError(f"times must lie in the trained window [{t0:g}, {t1:g}]")
    phis = _predict(model.hyper, ts, jnp.asarray(mu, float))
    return Solution(ts=ts, phis=phis, net=model.net, residuals=None, stats={},
                    result=dfx.RESULTS.successful, mode="d")


@eqx.filter_jit
def _predict(hyper, ts, mu):
    return jax.vmap(hyper, in_axes=(0, None))(ts, mu)


def manifold_residual(
    equation, model: CoLoRAModel, mu: ArrayLike, ts: ArrayLike, *,
    samples: int | ArrayLike = 512, lstsq: LeastSquares = LeastSquares(),
) -> Float[Array, " t"]:
    """The relative Galerkin residual `||J phi_dot - F|| / ||F||` along the hypernetwork's
    own trajectory `phi = h(t, mu)` (at a training `mu`, along the training data).

    Run it before trusting a pretrained network with equation-driven solves: where it is of
    order one, the network's tangent space does not contain the PDE's right-hand side and the
    equation-driven solve will drift from the truth, however small the time step.
    """
    mu = check_mu(equation, model, mu)
    field = GalerkinField(equation, model.net, sample_points(equation, samples), lstsq)
    ts = jnp.atleast_1d(jnp.asarray(ts, dtype=jnp.zeros(()).dtype))
    return _manifold_residual(field, model.hyper, ts, jnp.asarray(mu, float))


@eqx.filter_jit
def _manifold_residual(field, hyper, ts, mu):
    return jax.vmap(lambda t: field.residual(t, hyper(t, mu), mu))(ts)
