"""Reference solutions, finite-difference (`fd_solve`) or derived from the equation's `F`
(`spectral_solve`: pseudo-spectral along periodic directions, second-order finite differences
along bounded ones): the method of lines integrated with diffrax."""

import math
import os

import diffrax as dfx
import equinox as eqx
import jax
import jax.core
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int

from ._base import AbstractEquation, _as_tuple, check_F_shape
from ._operators import GridField, impose_dirichlet


class ReferenceSolution(eqx.Module):
    """A reference solution on the uniform grid `equation.grid(n)`.

    - `x`: grid points, shape `(*grid, d)`.
    - `ts`: saved times.
    - `us`: the solution at the saved times, shape `(len(ts), *grid)`, or
      `(len(ts), n_fields, *grid)` for a system.
    - `num_steps`: accepted time steps.
    """

    x: Float[Array, "*grid d"]
    ts: Float[Array, " t"]
    us: Float[Array, " t ..."]
    num_steps: Int[Array, ""]


# the adaptive controller's tolerances by method: a spectrally accurate reference needs a
# tighter time error, which would otherwise dominate its (tiny) space error
_TOLERANCES = {"fd": (1e-8, 1e-10), "spectral": (1e-10, 1e-12)}


def reference_method(equation: AbstractEquation, method: str | None = None) -> str:
    """The reference `reference_solve` computes for `equation`: `method` checked, or by
    default `"fd"` where the equation has a hand-written `fd_rhs`, else `"spectral"` (from
    `F`). **Raises:** `ValueError` for an unknown method, `NotImplementedError` for a
    method the equation cannot give (saying which it can)."""
    if equation.unbounded:
        raise NotImplementedError(
            f"{equation.name} lives on all of R^{equation.ndim} (pdes.Unbounded() directions): "
            "its solution does not live on the box, and a grid over it would need "
            f"n^{equation.ndim} points; no grid reference is derived. Compare with its exact "
            "solution (reference='exact') or a Monte Carlo run of its particles")
    has_fd = type(equation).fd_rhs is not AbstractEquation.fd_rhs
    has_f = type(equation).F is not AbstractEquation.F
    if method is None:
        method = "fd" if has_fd or not has_f else "spectral"
    if method not in _TOLERANCES:
        raise ValueError(f"method must be 'fd' or 'spectral', got {method!r}")
    if method == "fd" and not has_fd:
        raise NotImplementedError(
            f"{equation.name} has no hand-written finite-difference right-hand side fd_rhs, "
            "so no method='fd' reference; use method='spectral' (derived from its F)")
    if method == "spectral" and not has_f:
        raise NotImplementedError(
            f"{equation.name} states no right-hand side F against the vocabulary of "
            "pdes._operators, so it has no derived (spectral) reference; use method='fd'")
    return method


def reference_solve(
    equation: AbstractEquation,
    mu: ArrayLike,
    n: int | tuple[int, ...],
    ts: ArrayLike,
    *,
    method: str | None = None,
    u0: ArrayLike | None = None,
    solver: dfx.AbstractSolver | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    max_steps: int = 1_000_000,
) -> ReferenceSolution:
    """Solve `equation` at parameter `mu` on the uniform grid `equation.grid(n)` of `n` points
    per direction: the method of lines, integrated with diffrax.

    **Arguments:**

    - `equation`: the PDE.
    - `mu`: its parameter.
    - `n`: grid points per direction (an int, or one per direction).
    - `ts`: increasing times to save at; the solve runs from `ts[0]` to `ts[-1]`.
    - `method`: `"fd"`, the equation's hand-written finite differences `fd_rhs` (of order
      `fd_order`); or `"spectral"`, derived from the right-hand side the equation states
      once, `equation.F(GridField(u, lengths, boundaries, t, mu), grid, mu)`: pseudo-spectral
      along periodic directions (FFT derivatives, a 2/3-rule dealiased flux: spectrally
      accurate for a smooth periodic solution) and second-order central finite differences
      along bounded ones (`pdes.BOUNDED_ORDER`; Neumann data in ghost nodes). No
      hand-written discretisation. Default (`reference_method`): `"fd"` where the equation
      has an `fd_rhs`, else `"spectral"`.
    - `u0`: initial values on `equation.grid(n)` (shape `(*grid)`, or `(n_fields, *grid)`
      for a system); default: the equation's initial condition.

    Dirichlet data (either method): the end nodes of a Dirichlet direction take the data
    `g(t, mu)` (in `u0` too, and in the saved snapshots exactly), and their time derivative
    in the method of lines is `dg/dt` (autodiff in `t`; zero for constant data), so the
    interior sees the data at every stage.
    - `solver`: a diffrax solver; default Tsit5, or Kvaerno5 where `equation.fd_stiff` says the
      problem is diffusion-dominated (for a concrete `mu`; under `jax.vmap` over `mu`, Tsit5).
    - `rtol`, `atol`: tolerances of the adaptive step-size controller; default 1e-8, 1e-10
      for `"fd"` and 1e-10, 1e-12 for `"spectral"` (the time error would otherwise dominate).

    **Returns:** a `ReferenceSolution`.

    **Raises:** `ValueError` for `mu` not a finite number in the equation's range, fewer than
    `MIN_GRID_POINTS` points per direction, a non-finite or wrongly shaped `u0`, unsorted
    `ts`, an unknown `method`, an `F` that returns another shape than the grid values'
    (`(n_fields, *grid)` for a system), or a grid whose solve would not fit in this
    machine's memory (`check_memory`); `NotImplementedError` for a method the equation
    cannot give (`"fd"` without `fd_rhs`, `"spectral"` without `F`).
    """
    method = reference_method(equation, method)
    rtol = _TOLERANCES[method][0] if rtol is None else rtol
    atol = _TOLERANCES[method][1] if atol is None else atol
    n, mu, ts, u0, solver = _prepare(equation, mu, n, ts, u0, solver)
    us, num_steps = _integrate(equation, mu, equation.spacing(n) if method == "fd" else None,
                               ts, u0, solver, rtol, atol, max_steps, method)
    return ReferenceSolution(x=equation.grid(n), ts=ts, us=us, num_steps=num_steps)


def fd_solve(equation: AbstractEquation, mu: ArrayLike, n: int | tuple[int, ...],
             ts: ArrayLike, **kwargs) -> ReferenceSolution:
    """`reference_solve(..., method="fd")`: the equation's hand-written finite differences
    (tolerances 1e-8, 1e-10 by default); the other arguments as `reference_solve`'s."""
    return reference_solve(equation, mu, n, ts, method="fd", **kwargs)


def spectral_solve(equation: AbstractEquation, mu: ArrayLike, n: int | tuple[int, ...],
                   ts: ArrayLike, **kwargs) -> ReferenceSolution:
    """`reference_solve(..., method="spectral")`: derived from the equation's `F`,
    pseudo-spectral along periodic directions and second-order finite differences along
    bounded ones (tolerances 1e-10, 1e-12 by default); the other arguments as
    `reference_solve`'s."""
    return reference_solve(equation, mu, n, ts, method="spectral", **kwargs)


def _prepare(equation, mu, n, ts, u0, solver):
    """The checks and defaults of `reference_solve`."""
    n = check_grid_points(n, equation.ndim)
    traced = isinstance(mu, jax.core.Tracer)  # vmapped over mu: checked by the caller
    if not traced:
        mu = equation.check_mu(mu)
    ts = jnp.asarray(ts, dtype=float)
    if ts.ndim != 1 or ts.size < 2 or (not isinstance(ts, jax.core.Tracer)
                                       and not np.all(np.diff(np.asarray(ts)) > 0)):
        raise ValueError("ts must be a 1D array of at least two increasing times")
    check_memory(n, len(ts), equation.n_fields)
    if u0 is None:
        u0 = equation.initial_values(n, mu)
    else:
        u0 = jnp.asarray(u0, dtype=float)
        shape = equation.value_shape + n
        if u0.shape != shape:
            what = (f"(n_fields, *grid) = {shape} for the fields {equation.fields}"
                    if equation.n_fields > 1 else f"the grid shape {n}")
            raise ValueError(f"u0 has shape {u0.shape}, expected {what}")
        if not isinstance(u0, jax.core.Tracer) and not np.all(np.isfinite(np.asarray(u0))):
            raise ValueError("u0 contains NaN or inf; give finite initial values")
    if not all(equation.periodic):  # the end nodes of Dirichlet directions take the data
        u0 = impose_dirichlet(u0, equation.boundaries, ts[0], mu)
    if solver is None:  # a traced mu (a batch) takes the explicit solver: give one if stiff
        stiff = not traced and equation.fd_stiff(float(mu), n)
        solver = dfx.Kvaerno5() if stiff else dfx.Tsit5()
    return n, jnp.asarray(mu, dtype=float), ts, u0, solver


# the reference's stencils reach two points to each side (KdV's third derivative), and below
# this many points per direction a grid resolves nothing a reduced model would be checked on
MIN_GRID_POINTS = 8


def check_grid_points(n: int | tuple[int, ...], ndim: int) -> tuple[int, ...]:
    """`n` as one whole number of grid points per direction, each at least
    `MIN_GRID_POINTS`, or a `ValueError` saying what to give."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer | tuple | list):
        raise ValueError(f"the grid size must be a whole number of points per direction, got "
                         f"{n!r}")
    n = _as_tuple(int(n) if isinstance(n, np.integer) else n, ndim)
    if min(n) < MIN_GRID_POINTS:
        raise ValueError(
            f"a reference grid of {'x'.join(map(str, n))} points is too coarse: its "
            f"difference stencils would wrap around the box and it resolves nothing; use at "
            f"least {MIN_GRID_POINTS} points per direction (the error falls as n^-order; "
            "the comparisons default to 2048 / 256 / 48 in 1 / 2 / 3 dimensions)")
    return n


def grid_memory_bytes(n: tuple[int, ...], n_saves: int, stages: int = 10,
                      n_fields: int = 1) -> int:
    """Estimated memory of a method-of-lines solve in float64: the grid's `prod(n)` values
    (per field) held about `stages` times by the time stepper (an explicit Runge-Kutta
    method's stages, its error estimate, ...) plus the `n_saves` saved snapshots."""
    return 8 * n_fields * math.prod(n) * (stages + n_saves)


def check_memory(n: tuple[int, ...], n_saves: int, n_fields: int = 1) -> None:
    """Refuse, with the figure, a grid whose FD solve needs more memory than the machine has
    (grids grow as `n^d`: in high dimension use the reduced model, or an exact solution)."""
    need = grid_memory_bytes(n, n_saves, n_fields=n_fields)
    have = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    if need > have:
        raise ValueError(
            f"a finite-difference solve on the grid {'x'.join(map(str, n))} "
            f"({math.prod(n):.3g} points) needs about {need / 2**30:.3g} GiB "
            f"({n_saves} saved times), more than this machine's {have / 2**30:.3g} GiB; "
            "use fewer points or saved times (in high dimension, the reduced model)")


def _derived_rhs(equation: AbstractEquation, t, u, mu):
    """The method-of-lines right-hand side derived from `F`: `F` on the grid (`GridField`:
    FFT along periodic directions, finite differences along bounded ones), the values and
    rates of Dirichlet end nodes from the data."""
    x = equation.grid(u.shape[u.ndim - equation.ndim:])
    if all(equation.periodic):
        out = equation.F(GridField(u, equation.lengths, names=equation.fields), x, mu)
        check_F_shape(equation, out, u.shape, "on the grid")  # when traced: no work done yet
        return out
    u = impose_dirichlet(u, equation.boundaries, t, mu)
    field = GridField(u, equation.lengths, equation.boundaries, t, mu, names=equation.fields)
    out = equation.F(field, x, mu)
    check_F_shape(equation, out, u.shape, "on the grid")
    return impose_dirichlet(out, equation.boundaries, t, mu, rates=True)


def _fd_rhs(equation: AbstractEquation, t, u, mu, dx):
    """The hand-written `fd_rhs`, with the values and rates of Dirichlet end nodes from the
    data (the scheme treats the other boundary conditions itself)."""
    if all(equation.periodic):
        return equation.fd_rhs(u, mu, dx)
    u = impose_dirichlet(u, equation.boundaries, t, mu)
    return impose_dirichlet(equation.fd_rhs(u, mu, dx), equation.boundaries, t, mu, rates=True)


@eqx.filter_jit
def _integrate(equation, mu, dx, ts, u0, solver, rtol, atol, max_steps, method):
    if method == "fd":
        term = dfx.ODETerm(lambda t, u, args: _fd_rhs(equation, t, u, args, dx))
    else:  # "spectral": the right-hand side stated once, on the grid
        term = dfx.ODETerm(lambda t, u, args: _derived_rhs(equation, t, u, args))
    sol = dfx.diffeqsolve(
        term,
        solver,
        ts[0],
        ts[-1],
        None,
        u0,
        mu,
        saveat=dfx.SaveAt(ts=ts),
        stepsize_controller=dfx.PIDController(rtol=rtol, atol=atol),
        max_steps=max_steps,
    )
    assert sol.ys is not None  # saved at ts
    ys = sol.ys
    if not all(equation.periodic):  # the Dirichlet data exactly, not to the time tolerance
        ys = jax.vmap(lambda t, u: impose_dirichlet(u, equation.boundaries, t, mu))(ts, ys)
    return ys, sol.stats["num_accepted_steps"]


def convergence_slope(hs: ArrayLike, errors: ArrayLike) -> float:
    """Least-squares slope of `log(error)` against `log(h)`: the observed order."""
    return float(np.polyfit(np.log(np.asarray(hs)), np.log(np.asarray(errors)), 1)[0])
