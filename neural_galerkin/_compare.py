"""Checks against a reference (finite-difference, spectral or exact): errors over time,
invariant drift, timings."""

import re
import time
from collections.abc import Sequence
from typing import Any

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

import pdes

from ._checks import as_sampler, check_fits, check_sample_count, check_stepping
from ._data import Trajectories
from ._fit import fit_initial_condition
from ._invariants import AbstractInvariant, Conservation, as_conservation, relative_drift as drift
from ._model import CoLoRAModel
from ._network import set_phi
from ._outcome import check_solution
from ._predict import predict
from ._report import ComparisonReport
from ._sampling import ansatz_moments
from ._solution import Solution
from ._solve import as_field_weights, as_gradient_weights, check_kept, solve
from ._timing import compile_and_run


def relative_error(u, u_ref) -> float:
    """`||u - u_ref|| / ||u_ref||` over all axes (space-time when the first axis is time)."""
    u, u_ref = np.asarray(u), np.asarray(u_ref)
    if u.shape != u_ref.shape:
        raise ValueError(f"shapes differ: {u.shape} against the reference {u_ref.shape}")
    return float(np.linalg.norm(u - u_ref) / np.linalg.norm(u_ref))


def relative_error_over_time(u, u_ref) -> np.ndarray:
    """Relative L2 error in space at each time (first axis)."""
    u, u_ref = np.asarray(u), np.asarray(u_ref)
    axes = tuple(range(1, u.ndim))
    return np.sqrt(np.sum((u - u_ref) ** 2, axes) / np.sum(u_ref**2, axes))


def mass(us, cell_volume, n_fields: int = 1) -> np.ndarray:
    """`int u dx` at each time by the rectangle rule on a uniform periodic grid (spectrally
    accurate for smooth periodic `u`); `cell_volume` a number, or quadrature weights of the
    grid's shape (the trapezoid rule along bounded directions). For a system of fields
    (`us` of shape `(times, n_fields, *grid)`), one column per field."""
    us = np.asarray(us)
    grid_shape = us.shape[2:] if n_fields > 1 else us.shape[1:]
    w = np.broadcast_to(np.asarray(cell_volume, dtype=float), grid_shape).ravel()
    if n_fields > 1:
        return us.reshape(us.shape[0], n_fields, -1) @ w
    return us.reshape(us.shape[0], -1) @ w


def quadrature(equation: pdes.AbstractEquation, n) -> Any:
    """The equation's quadrature weights on `grid(n)` (trapezoid along bounded directions),
    or its cell volume on an all-periodic box."""
    if all(equation.periodic):
        return equation.cell_volume(n)
    return np.asarray(equation.quadrature_weights(n))


def mass_drift(masses, scale=None) -> float:
    """The largest relative drift of the mass, over the fields of a system: relative to the
    mass at the start, `max_t |M(t) - M(0)| / |M(0)|`; for the fields with a `scale` (per
    field; NaN: none), relative to it instead, `max_t |M(t) - M(0)| / scale`."""
    return float(np.max(mass_drift_over_time(masses, scale)))


def mass_drift_over_time(masses, scale=None) -> np.ndarray:
    """`|M(t) - M(0)|` per time and field `(times, fields)`, relative as in `mass_drift`
    (whose value is this array's largest): to `|M(0)|` (to `max_t |M(t)|` where `M(0)` is
    zero, as `relative_drift`), or to the field's `scale` where one is given (not NaN)."""
    masses = np.asarray(masses, dtype=float)
    m = masses.reshape(len(masses), -1)
    scales = np.full(m.shape[1], np.nan) if scale is None else np.broadcast_to(
        np.asarray(scale, dtype=float), (m.shape[1],))
    start = np.abs(m[0])
    own = np.where(start != 0, start, np.max(np.abs(m), axis=0))
    scales = np.maximum(np.where(np.isnan(scales), own, scales), 1e-300)
    return np.abs(m - m[0]) / scales


def zero_mass_scales(us_ref, cell, n_fields: int = 1) -> np.ndarray:
    """The scales of `mass_drift` from a reference solution: per field, its largest
    `int |u| dx` over time where its mass at the start is zero (below a millionth of that, as
    the wave's `int v dx`), NaN elsewhere. Relative to a mass of round-off, the drift of an
    exactly kept zero mass would read 1."""
    size = np.max(mass(np.abs(us_ref), cell, n_fields), axis=0)
    start = np.abs(mass(us_ref[:1], cell, n_fields)[0])
    return np.where(start <= 1e-6 * size, np.where(size > 0, size, np.nan), np.nan)


def _timed(fn, *args, **kwargs):
    """Run `fn` twice: the first call compiles (and runs), the second is timed alone."""
    start = time.perf_counter()
    jax.block_until_ready(fn(*args, **kwargs))
    first = time.perf_counter() - start
    start = time.perf_counter()
    out = jax.block_until_ready(fn(*args, **kwargs))
    run = time.perf_counter() - start
    return out, max(first - run, 0.0), run


def check_model_fits(equation: pdes.AbstractEquation, model: CoLoRAModel) -> None:
    """Raise a `ValueError` if `model` was trained for another equation, dimension or domain
    (a model trained on data, `"data"`, is checked for its dimension and domain only)."""
    trained = model.config.equation
    if trained != "data" and not re.fullmatch(rf"{re.escape(equation.name)}(-\d+d)?", trained):
        raise ValueError(f"the model was trained for {trained!r}, not {equation.name!r}; give "
                         f"weights trained for {equation.name!r} (--weights DIR)")
    if len(model.config.lower) != equation.ndim:
        raise ValueError(f"the model is {len(model.config.lower)}-dimensional, the equation "
                         f"{equation.ndim}-dimensional")
    have = np.asarray([model.config.lower, model.config.lengths], float)
    want = np.asarray([equation.lower, equation.lengths], float)
    if not np.allclose(have, want, rtol=1e-9, atol=1e-12):
        box = lambda b: " x ".join(f"[{a:g}, {a + n:g})" for a, n in zip(*b))  # noqa: E731
        raise ValueError(f"the model was trained on the box {box(have)}, the equation is posed "
                         f"on {box(want)}; give weights trained on the equation's domain, or "
                         "pose the equation on the model's")
    check_fits(equation, model.net)


def compare(
    equation: pdes.AbstractEquation,
    model: CoLoRAModel,
    mu: float,
    *,
    mode: str = "eq",
    t1: float | None = None,
    n_ref: int | None = None,
    n_times: int = 41,
    samples=None,
    reference: str | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    progress_meter: dfx.AbstractProgressMeter = dfx.NoProgressMeter(),
    conserve: Conservation | Sequence[str | AbstractInvariant] | None = None,
    max_steps: int = 10_000,
    residual_tol: float | None = 0.1,
    data: Trajectories | None = None,
    field_weights: Sequence[float] | str | None = None,
    gradient_weights: dict[str, float] | str | None = None,
) -> ComparisonReport:
    """Solve at `mu` (equation-driven `mode="eq"` or data-driven `mode="d"`), solve the
    reference on `n_ref` points per direction, and compare them at `n_times` equally spaced
    times.

    `reference`: `"fd"`, the equation's hand-written finite differences (`fd_rhs`);
    `"spectral"`, pseudo-spectral on the right-hand side it states once (`F`); both by
    `pdes.reference_solve`. Default: `"fd"` where the equation has an `fd_rhs`, else
    `"spectral"`. `reference="exact"` compares with the equation's exact solution instead
    (for equations that have one), on the grid with `n_ref` points per direction in
    `d <= 3`, and at `n_ref` uniformly random points in higher dimension, where no grid fits
    in memory; for a density on R^d in `d > 3` (an equation with `sample`, as
    `pdes.FokkerPlanck`), at `n_ref` points drawn from the exact density at each time, by
    importance sampling, with the errors of the mean and covariance in `moment_errors` (see
    `_compare_density`). Defaults:
    `n_ref` 2048 / 256 / 48 points per direction in 1 / 2 / 3 dimensions (4096 random points
    above); `samples` (the Galerkin points) as in `solve` (default 512 / 4096 / 4096 points in
    1 / 2 / 3 dimensions, 2048 random points in `d >= 4`).

    **Returns:** a `ComparisonReport`: `rel_error` (space-time relative L2),
    `rel_error_final`, `mass_drift` (of the reduced solution, on the reference grid),
    `time_online_s` (excluding compilation), `time_compile_s`, `time_reference_s` (the
    reference, excluding compilation), `num_steps`, `max_residual` (eq), the per-time errors and the
    arrays for plotting; `report.to_dict()` gives its JSON-able summary.
    With `conserve` (eq only; a `Conservation`, or names), the invariants are kept by its
    `method` with a quadrature on its `points` per direction (default: in 1D the reference
    grid, and with `data` on a periodic box the data's grid, so that `mass_drift` on that
    grid is what was conserved; otherwise as many as the samples, since a quadrature on the
    reference grid at every step would cost more than the solve), and
    `drifts` reports each one's drift on that quadrature. With an exact reference at
    random points (d >= 4), `mass_drift` is a Monte Carlo estimate on those points: the
    reference's own value shows its error level. `max_steps` caps the EQ solve: a reduced
    solution that leaves what the network can represent becomes stiff and crawls, and is
    better stopped with an error than left running for an hour. `residual_tol` as in
    `solve`, and `field_weights`, `gradient_weights` (the norm of the least squares, as in
    `solve`; the start is fitted with the same gradient rows where it is the equation's
    initial condition, in values where it is a data snapshot). Every option is checked
    before the reference is computed.
    """
    if mode not in ("eq", "d"):
        raise ValueError(f"mode must be 'eq' or 'd', got {mode!r}")
    check_model_fits(equation, model)
    mu = equation.check_mu(mu, model.mu_range)
    # the reduced solve's options, the same whatever the reference (the fields' weights
    # normalised here, so checked before any work; all 1 stays "plain", not the default)
    weights = as_field_weights(field_weights, equation, model)
    as_gradient_weights(gradient_weights, equation)
    options = dict(samples=samples, rtol=rtol, atol=atol, progress_meter=progress_meter,
                   conserve=conserve, max_steps=max_steps, residual_tol=residual_tol,
                   field_weights="plain" if weights is None else weights,
                   gradient_weights=gradient_weights)
    if data is not None:
        return _compare_with_data(equation, model, mu, data, mode=mode, t1=t1, options=options)
    if t1 is None:
        t1 = model.t_range[1]
    t0 = model.t_range[0]
    if not t1 > t0:
        raise ValueError(f"t1 must be greater than {t0}, got {t1}")
    if reference != "exact":
        if reference not in (None, "fd", "spectral"):
            raise ValueError(
                f"reference must be 'fd', 'spectral' or 'exact', got {reference!r}")
        try:
            reference = pdes.reference_method(equation, reference)
        except NotImplementedError as e:
            raise ValueError(str(e)) from None
    d = equation.ndim
    if n_ref is None:
        n_ref = equation.reference_points or {1: 2048, 2: 256, 3: 48}.get(d, 4096)
    if reference != "exact" or d <= 3:
        pdes.check_grid_points(n_ref, d)
    if mode == "d":
        if conserve:
            raise ValueError("conservation applies to the equation-driven mode (mode='eq')")
        if t1 > model.t_range[1] * (1 + 1e-12):
            raise ValueError(f"the data-driven mode predicts inside the trained window "
                             f"[{t0:g}, {model.t_range[1]:g}] only; give t1 <= "
                             f"{model.t_range[1]:g}, or use mode='eq'")
    else:
        check_stepping(dfx.PIDController(rtol=rtol, atol=atol), max_steps)
        check_sample_count(equation, as_sampler(equation, samples), model.num_phi)
        conserve = as_conservation(conserve)
        check_kept(equation, mu, conserve)
        if conserve is not None and conserve.points is None and d == 1:
            # the quadrature of the reference grid, so that `mass_drift` is what was held
            conserve = Conservation(conserve.invariants, conserve.method, n_ref)
    ts = jnp.linspace(t0, t1, n_times)
    if reference == "exact":
        if not isinstance(equation, pdes.AbstractExactEquation):
            raise ValueError(f"{equation.name} has no exact solution; use reference='fd' or "
                             "'spectral'")
        if equation.unbounded and d > 3:
            if getattr(equation, "sample", None) is None:
                raise ValueError(
                    f"{equation.name} is a density on R^{d}: uniformly random points in its box "
                    "miss its mass; give the equation a method sample(n, t, mu, key) drawing "
                    "from its exact density (as pdes.FokkerPlanck has), and compare measures "
                    "the error at such points, or compare in d <= 3, on the grid over the box")
            return _compare_density(equation, model, mu, mode, t0, ts, n_ref, options)
        if d <= 3:
            x, cell = equation.grid(n_ref), quadrature(equation, n_ref)
        else:
            x = equation.random_points(n_ref, jax.random.PRNGKey(1))
            cell = float(np.prod(equation.lengths)) / n_ref
        exact = jax.jit(jax.vmap(jax.vmap(equation.exact, (0, None, None)), (None, 0, None)))
        flat = x.reshape(-1, d)
        us_ref, compile_ref, time_ref = _timed(lambda: exact(flat, ts, mu))
        us_ref = us_ref.reshape(len(ts), *x.shape[:-1], *equation.value_shape)
        if equation.n_fields > 1:  # (times, *points, fields) -> (times, fields, *points)
            us_ref = np.moveaxis(np.asarray(us_ref), -1, 1)
        num_steps_ref = 0
    else:
        u0_ref = equation.initial_values(n_ref, mu)
        try:
            ref, compile_ref, time_ref = _timed(lambda: _reference(equation, mu, n_ref, ts, u0_ref,
                                                                      reference))
        except eqx.EquinoxRuntimeError as e:
            raise ValueError(
                f"the {reference} reference on {n_ref} points per direction did not finish "
                f"({e}); use a coarser reference (n_ref, --n-ref)") from None
        x, us_ref, num_steps_ref = ref.x, ref.us, int(ref.num_steps)
        cell = quadrature(equation, n_ref)
    run = _run(equation, model, mu, mode, t0, ts, x, options)
    return _report(equation, mu, mode, reference, n_ref, ts, x, us_ref, cell, run,
                   time_ref, compile_ref, num_steps_ref)


def _run(equation, model, mu, mode, t0, ts, x, options, u0=None, fit_points=None) -> dict:
    """The reduced solution at the times `ts` and points `x`: equation-driven from `t0` (the
    online weights fitted to `u0` at `fit_points`, default the equation's initial condition
    at the Galerkin samples), or data-driven; with its timings and diagnostics."""
    if mode == "d":
        (sol, u), time_compile, time_online = _timed(
            lambda: _predict_on(model, ts, mu, x, equation))
        return dict(solution=sol, u=u, time_online_s=time_online,
                    time_compile_s=time_compile, num_steps=0)
    samples = options["samples"]
    start = time.perf_counter()
    phi0, fit_err = fit_initial_condition(
        equation, model, u0, mu=mu, t0=t0, samples=samples if fit_points is None else fit_points,
        gradient_weights=options["gradient_weights"] if u0 is None else None)
    time_fit = time.perf_counter() - start
    sol, times = compile_and_run(
        lambda phi0: solve(equation, model, t0, ts[-1], None, phi0, mu, samples=samples,
                           saveat=dfx.SaveAt(ts=ts),
                           stepsize_controller=dfx.PIDController(rtol=options["rtol"],
                                                                 atol=options["atol"]),
                           progress_meter=options["progress_meter"],
                           conserve=options["conserve"], max_steps=options["max_steps"],
                           residual_tol=options["residual_tol"],
                           field_weights=options["field_weights"],
                           gradient_weights=options["gradient_weights"], throw=False),
        phi0)
    sol = check_solution(sol)
    residuals = np.asarray(sol.residuals)
    # fit time includes its compilation; it is small and reported apart
    return dict(solution=sol, u=sol.evaluate(x), time_online_s=times["time_run_s"],
                time_compile_s=times["time_compile_s"], num_steps=int(sol.stats["num_steps"]),
                time_fit_s=time_fit, fit_error=float(fit_err),
                max_residual=float(np.max(residuals)), residuals=residuals,
                invariants={k: np.asarray(v) for k, v in sol.invariants.items()},
                drifts=sol.drift())


def _compare_density(equation, model, mu, mode, t0, ts, n_ref, options) -> ComparisonReport:
    """`compare` for a density on R^d (`d > 3`) against its exact solution, at `n_ref` points
    drawn from the exact density at each time (`equation.sample`, fixed key), by importance
    sampling with the exact density `p` as the proposal:

    - the relative L2 error `||u - p|| / ||p||` from `int f^2 = E_p[f^2 / p]` (at each time,
      and over space-time);
    - the mass at each time and its drift (the reference's own is 0 by construction): for an
      ansatz with a Gaussian envelope in its own frame, `E_q[exp(N(z))]` on 2^16 draws (the
      same at every time) with Hermite control variates (`ansatz_moments`; its standard
      error in `mass_drift_se`); else `E_p[u / p]` on the reference points;
    - the mean and covariance of `u` with the exact ones as control variates,
      `m_u = m + E_p[(w - 1)(x - m)] / M` and
      `S_u = (S + E_p[(w - 1)(x - m)(x - m)^T]) / M - (m_u - m)(m_u - m)^T`, `w = u / p`,
      `M = E_p[w]`: the sampling error scales with `u / p - 1`, not with the spread of `x`.

    EQ starts from the online weights fitted (`fit_initial_condition`, from the
    hypernetwork's at `t0`) to the initial density at the points drawn from it at `t0`."""
    keys = jax.random.split(jax.random.PRNGKey(1), len(ts))
    x = jax.vmap(lambda t, k: equation.sample(n_ref, t, mu, k))(ts, keys)  # (times, n, d)
    exact = jax.jit(jax.vmap(jax.vmap(equation.exact, (0, None, None)), (0, 0, None)))
    p, compile_ref, time_ref = _timed(lambda: exact(x, ts, mu))
    run = _run(equation, model, mu, mode, t0, ts, x[0], options, u0=p[0], fit_points=x[0])
    run.pop("u")
    sol = run["solution"]
    net = sol.net
    u = jax.jit(jax.vmap(lambda phi, xs: jax.vmap(set_phi(net, phi))(xs)))(sol.phis, x)
    u, p, x = np.asarray(u), np.asarray(p), np.asarray(x)
    # u / sqrt(p) against sqrt(p): the plain relative error of these is the importance-sampled one
    errs = relative_error_over_time(u / np.sqrt(p), np.sqrt(p))
    w = u / p
    masses, drift_se = w.mean(axis=1), None
    if net.envelope is not None:
        key = jax.random.PRNGKey(3)
        own = [ansatz_moments(net, phi, 2**16, key) for phi in sol.phis]
        own_masses = np.array([float(m.mass) for m in own])
        ses = np.array([float(m.mass_se) for m in own])
        drift_se = float(np.max(np.hypot(ses, ses[0])) / abs(own_masses[0]))
    means, covs = (np.asarray(a) for a in equation.moments(ts, mu))
    dev = x - means[:, None]
    m_u = means + np.einsum("tn,tni->ti", w - 1, dev) / (len(dev[0]) * masses[:, None])
    shift = m_u - means
    S_u = ((covs + np.einsum("tn,tni,tnj->tij", w - 1, dev, dev) / len(dev[0]))
           / masses[:, None, None] - shift[:, :, None] * shift[:, None, :])
    moment_errors = {
        "mean": float(np.max(np.linalg.norm(shift, axis=1) / np.linalg.norm(means, axis=1))),
        "covariance": float(np.max(np.linalg.norm(S_u - covs, axis=(1, 2))
                                   / np.linalg.norm(covs, axis=(1, 2))))}
    return ComparisonReport(
        pde=equation.name, mu=mu, mode=mode, t1=float(ts[-1]), reference="exact",
        n_ref=n_ref, rel_error=relative_error(u / np.sqrt(p), np.sqrt(p)),
        rel_error_final=float(errs[-1]), ts=np.asarray(ts), errors_over_time=errs,
        mass_drift=drift(masses if drift_se is None else own_masses),
        mass_drift_reference=0.0,
        mass_over_time=masses if drift_se is None else own_masses, mass_drift_se=drift_se,
        time_reference_s=time_ref, time_reference_compile_s=compile_ref,
        num_steps_reference=0, x=x, u=u, u_ref=p, moment_errors=moment_errors, **run)


def _report(equation, mu, mode, reference, n_ref, ts, x, us_ref, cell, run, time_ref,
            compile_ref, num_steps_ref) -> ComparisonReport:
    """The `ComparisonReport` of a reduced solution (`run`, from `_run`) against `us_ref`."""
    u, us_ref = np.asarray(run.pop("u")), np.asarray(us_ref)
    errs = relative_error_over_time(u, us_ref)
    fields = equation.fields
    nf = len(fields)
    field_errors = {} if nf == 1 else {
        name: relative_error(u[:, k], us_ref[:, k]) for k, name in enumerate(fields)}
    masses = mass(u, cell, nf)
    scales = zero_mass_scales(us_ref, cell, nf)
    return ComparisonReport(
        pde=equation.name, mu=mu, mode=mode, t1=float(ts[-1]), reference=reference,
        n_ref=n_ref, rel_error=relative_error(u, us_ref), rel_error_final=float(errs[-1]),
        ts=np.asarray(ts), errors_over_time=errs, mass_drift=mass_drift(masses, scales),
        mass_drift_reference=mass_drift(mass(us_ref, cell, nf), scales),
        mass_over_time=masses, mass_scales=scales,
        field_errors=field_errors, time_reference_s=time_ref,
        time_reference_compile_s=compile_ref, num_steps_reference=num_steps_ref,
        x=np.asarray(x), u=u, u_ref=us_ref, **run)


def _compare_with_data(equation, model, mu, data: Trajectories, *, mode, t1, options):
    """`compare(..., data=...)`: against the trajectory of `data` at `mu`."""
    conserve = options["conserve"]
    if not isinstance(data, Trajectories):
        raise TypeError(f"data must be Trajectories (load_trajectories), got "
                        f"{type(data).__name__}")
    hit = np.flatnonzero(np.isclose(data.mu, mu, rtol=1e-9, atol=0))
    if hit.size == 0:
        raise ValueError(f"the data have no trajectory at mu={mu:g}; they have mu = "
                         f"{', '.join(f'{m:g}' for m in data.mu)}")
    if data.ndim != equation.ndim or data.n_fields != len(equation.fields):
        raise ValueError(f"the data ({data.ndim}D, fields {data.fields}) do not fit "
                         f"{equation.name} ({equation.ndim}D, fields {equation.fields})")
    ts_all = np.asarray(data.t, float)
    t0 = float(ts_all[0])
    if t1 is None:
        t1 = min(float(ts_all[-1]), model.t_range[1])
    keep = ts_all <= t1 * (1 + 1e-12)
    if keep.sum() < 2:
        raise ValueError(f"the data have fewer than two times in [{t0:g}, {t1:g}]")
    if mode == "d" and (t0 < model.t_range[0] - 1e-12 or t1 > model.t_range[1] * (1 + 1e-12)):
        raise ValueError(f"the data-driven mode predicts inside the trained window "
                         f"[{model.t_range[0]:g}, {model.t_range[1]:g}] only; give t1 <= "
                         f"{model.t_range[1]:g}, or use mode='eq'")
    ts = jnp.asarray(ts_all[keep])
    us_ref = np.asarray(data.u[int(hit[0])])[keep]
    x = jnp.asarray(data.points)
    grid_shape = tuple(len(c) for c in data.x)
    cell = float(np.prod([length / n for length, n in zip(data.lengths, grid_shape)]))
    if mode == "eq":
        check_stepping(dfx.PIDController(rtol=options["rtol"], atol=options["atol"]),
                       options["max_steps"])
        conserve = as_conservation(conserve)
        check_kept(equation, mu, conserve)
        if (conserve is not None and conserve.points is None and all(equation.periodic)
                and len(set(grid_shape)) == 1
                and np.allclose(data.lower, equation.lower, atol=1e-6)
                and np.allclose(data.lengths, equation.lengths, rtol=1e-6)):
            # the quadrature of the data's grid, so that `mass_drift` (measured there) is
            # what was held
            conserve = Conservation(conserve.invariants, conserve.method, grid_shape[0])
    elif conserve:
        raise ValueError("conservation applies to the equation-driven mode (mode='eq')")
    first = us_ref[0]  # the first snapshot, at the grid points, one column per field
    u0 = first.reshape(-1) if data.n_fields == 1 else first.reshape(data.n_fields, -1).T
    options = dict(options, conserve=conserve)
    run = _run(equation, model, mu, mode, t0, ts, x, options, u0=u0,
               fit_points=x.reshape(-1, data.ndim))
    return _report(equation, mu, mode, "data", grid_shape[0], ts, x, us_ref, cell, run, 0.0,
                   0.0, 0)


def _reference(equation: pdes.AbstractEquation, mu, n, ts, u0, method):
    return pdes.reference_solve(equation, mu, n, ts, method=method, u0=u0)


def _predict_on(model, ts, mu, x, equation: pdes.AbstractEquation
                ) -> tuple[Solution, jax.Array]:
    sol = predict(model, ts, mu, equation=equation)
    return sol, sol.evaluate(x)
