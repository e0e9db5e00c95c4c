"""`Solution`: the online weights at the saved times, the network that turns them into `u`, and
what a person needs to decide whether to trust them."""

import warnings
from typing import Any

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float

from ._checks import is_traced
from ._invariants import relative_drift
from ._lift import BoundaryLift, lifted
from ._network import CoLoRAMLP, set_phi


class GalerkinResidualWarning(UserWarning):
    """An equation-driven solve whose relative Galerkin residual rose above `residual_tol`: the
    network's tangent space does not contain the PDE's right-hand side there, and the reduced
    solution may be wrong however small the time step."""


class IncompleteSolutionWarning(RuntimeWarning):
    """`Solution.evaluate` on a solve that failed part-way (`throw=False`): the saved times
    after the failure have no solution and evaluate to NaN."""


class SolveError(RuntimeError):
    """An equation-driven solve that failed (`throw=True`), with what to change."""


class RESULTS(dfx.RESULTS):  # pyright: ignore[reportGeneralTypeIssues]
    """What became of an equation-driven solve: diffrax's result codes and the Galerkin
    solve's own, each with what to change. `Solution.result` holds one (per batch member);
    `throw=True` raises `SolveError` with its message."""

    step_limit = (
        "the equation-driven solve reached max_steps: the step size collapsed, usually because "
        "the reduced solution left what the network can represent (its Galerkin residual "
        "grows: see Solution.residuals); compare with the data-driven prediction or retrain "
        "the network, else raise max_steps, loosen the tolerances or regularise the least "
        "squares (LeastSquares(rcond=..., ridge=...))")
    blow_up = (
        "the online weights became NaN or inf: the dynamics blew up (an unstable fixed time "
        "step, or weights so large that the network overflows); use an adaptive "
        "stepsize_controller (diffrax.PIDController) or a smaller dt0, check phi0, or "
        "regularise the least squares (LeastSquares(rcond=..., ridge=...))")
    degenerate_constraints = (
        "the conservation constraints are degenerate: the gradients dI/dphi of the invariants "
        "are (nearly) zero or linearly dependent for this network, so they cannot be imposed "
        "together; keep fewer invariants, or use the projection only")
    degenerate_active_constraints = (
        "the conserved invariants do not depend on the online weights that move: with adaptive "
        "online weights (adaptive=), their gradients dI/dphi on the active weights are (nearly) "
        "zero or linearly dependent, so neither the constraint nor the projection can hold "
        "them while the other weights stay frozen; put online weights that move them into "
        "AdaptiveOnline's base (for a density on R^d, the mass of q(x) exp(N(z)) depends on "
        "the network's weights, not on the envelope's), or drop conserve")
    residual_above_bound = (
        "the relative Galerkin residual rose above max_residual: the network cannot follow the "
        "equation there and the reduced solution may be far from the PDE's; check it against "
        "a reference, retrain, or raise max_residual")
    fit_failed = (
        "the initial-condition fit failed (non-finite online weights or fit error): check u0 "
        "(finite values of the right scale) and the sample points")


def runtime_error_message(e: Exception) -> str:
    """The message of an `eqx.error_if` check that failed in compiled code, without the stack
    and debugging advice equinox wraps around it."""
    text = str(e)
    marker = "EquinoxRuntimeError: "
    if marker in text:
        text = text[text.rindex(marker) + len(marker):]
    return text.split("\n\n----")[0].strip()


class Solution(eqx.Module):
    """The online weights at the saved times, and the network that turns them into `u`.

    - `ts`: saved times; `phis`: online weights there, shape `(len(ts), p)`.
    - `residuals`: relative Galerkin residual `||J phi_dot - F|| / ||F||` at the saved times,
      measured on points the least squares did not fit (equation-driven solves only; `None`
      for data-driven predictions).
    - `residual_tol`: the tolerance the residual was checked against (`solve(...,
      residual_tol=)`); `residual_exceeded` says whether it was crossed.
    - `stats`: diffrax's statistics (`num_steps`, ...).
    - `result`: a `RESULTS` code (`RESULTS.successful` when all went well, one per batch
      member); `message` says it in words, and `t_reached` gives the last saved time with a
      solution (earlier than `ts[-1]` for a solve that stopped with `throw=False`).
    - `invariants`: the conserved invariants' values at the saved times (`solve(...,
      conserve=...)`), by name; `drift()` gives their relative drift.
    - `lift`, `mu`: for nonzero or time-dependent boundary data, the lift `L` that carries
      them and the parameter it is taken at: `u = L(x, t, mu) + N(x; phi)` (`None` where
      the network holds the data alone).
    - `active`: with adaptive online weights (`solve(..., adaptive=...)`), which online
      weights were in the active set at each saved time, shape `(len(ts), p)` (a change at
      the start of a step counts from that time on); `stats` then also counts the changes
      of the set (`num_online_changes`) and the pool members that came online
      (`num_online_added`) and went offline (`num_online_dropped`). `None` otherwise.

    `sol.evaluate(x)` gives `u` at points `x` of shape `(..., d)` (or `(n,)` in 1D), for every
    saved time: an array of shape `(len(ts), ...)` (`(B, len(ts), ...)` from `solve_batch`).
    """

    ts: Float[Array, " t"]
    phis: Float[Array, "t p"]
    net: CoLoRAMLP
    residuals: Float[Array, " t"] | None
    stats: dict[str, Any]
    result: Any  # a `RESULTS` item (an equinox enumeration item)
    mode: str = eqx.field(static=True)
    invariants: dict[str, Float[Array, " t"]] = eqx.field(default_factory=dict)
    residual_tol: float | None = eqx.field(default=None, static=True)
    lift: BoundaryLift | None = eqx.field(default=None, static=True)
    mu: Float[Array, ""] | None = None
    active: Bool[Array, "t p"] | None = None

    @property
    def residual_exceeded(self):
        """Whether the Galerkin residual rose above `residual_tol` at a saved time (per batch
        member for `solve_batch`); `False` without a tolerance or for data-driven solutions."""
        if self.residuals is None or self.residual_tol is None:
            return False
        return max_residual(self.residuals) > self.residual_tol

    @property
    def t_reached(self) -> float | np.ndarray:
        """The last saved time with a solution (all online weights finite): `ts[-1]` for a
        solve that finished, an earlier time for one that stopped (`throw=False`: the saved
        times after the failure hold NaN), NaN where no saved time has one. One value per
        batch member for `solve_batch`. Not traceable (it reads the values)."""
        ok = np.all(np.isfinite(np.asarray(self.phis)), axis=-1)
        ts = finite_or(np.broadcast_to(np.asarray(self.ts), ok.shape), -np.inf)
        last = np.max(np.where(ok, ts, -np.inf), axis=-1)
        last = np.where(np.isfinite(last), last, np.nan)
        return float(last) if last.ndim == 0 else last

    @property
    def message(self) -> str:
        """The result code in words (`"successful"` when the solve finished)."""
        out = [result_message(c) for c in np.ravel(np.asarray(result_code(self.result)))]
        return out[0] if len(set(out)) == 1 else "; ".join(
            f"member {i}: {m}" for i, m in enumerate(out))

    def drift(self) -> dict[str, float]:
        """Largest relative change `max_t |I(t) - I(t0)| / |I(t0)|` of each conserved
        invariant, with the quadrature it was conserved with."""
        return {name: relative_drift(vals) for name, vals in self.invariants.items()}

    def evaluate(self, x: ArrayLike) -> Float[Array, "..."]:
        """`u` at the points `x` (shape `(..., d)`; in 1D also `(n,)`) at every saved time:
        shape `(len(ts), ...)`, for a system of fields `(len(ts), n_fields, ...)`.

        **Raises:** `ValueError` for points of the wrong shape. Warns
        (`IncompleteSolutionWarning`) where saved times have no solution (a failed solve
        with `throw=False`): those evaluate to NaN."""
        x = jnp.asarray(x, dtype=self.phis.dtype)
        d = len(self.net.embedding.lower)
        if d == 1 and x.ndim == 1:
            x = x[..., None]
        if x.ndim < 1 or x.shape[-1] != d:
            hint = " (n,) or" if d == 1 else ""
            raise ValueError(f"points must have shape{hint} (..., {d}) for this {d}-dimensional "
                             f"model, got {x.shape}")
        if is_traced(self.phis):  # inside a trace: evaluated as it is
            return _evaluate(self.net, self.phis, x, self.ts, self.mu, self.lift)
        bad = ~np.all(np.isfinite(np.asarray(self.phis)), axis=-1)
        if bad.any():
            last = np.nanmax(np.atleast_1d(self.t_reached), initial=-np.inf)
            where = f"last solution at t={last:g}" if np.isfinite(last) else "no solution"
            warnings.warn(IncompleteSolutionWarning(
                f"{int(bad.sum())} of {bad.size} saved times have no solution and evaluate to "
                f"NaN: the solve stopped ({where}; {self.message}). "
                "Use the times that have one, or fix the solve (its message says how)"),
                stacklevel=2)
        return _evaluate(self.net, self.phis, x, self.ts, self.mu, self.lift)


def result_code(result) -> Array:
    """The integer code of a result (of `RESULTS`, diffrax's, or a plain integer array)."""
    return getattr(result, "_value", result)


def result_message(code) -> str:
    """The message of an integer `RESULTS` code (`"successful"` for 0)."""
    return RESULTS._index_to_message[int(code)] or "successful"


def max_residual(residuals) -> Array:
    """The largest finite residual over the saved times (last axis): the saved times a failed
    solve did not reach hold inf or NaN. Traceable."""
    r = jnp.asarray(residuals)
    return jnp.max(jnp.where(jnp.isfinite(r), r, -jnp.inf), axis=-1)


def finite_or(a, fill) -> np.ndarray:
    """`a` as a NumPy array with its NaN and inf entries (times and values a failed solve did
    not reach) replaced by `fill`."""
    a = np.asarray(a)
    return np.where(np.isfinite(a), a, fill)


@eqx.filter_jit
def _evaluate(net, phis, x, ts, mu, lift):
    flat = x.reshape(-1, x.shape[-1])
    times = phis.shape[:-1]  # (t,), or (batch, t) from `solve_batch`
    ts = jnp.broadcast_to(ts, times).reshape(-1)
    mus = jnp.zeros(times) if mu is None else jnp.broadcast_to(
        jnp.reshape(mu, jnp.shape(mu) + (1,)), times)
    out = jax.vmap(lambda phi, t, m: jax.vmap(lifted(set_phi(net, phi), lift, t, m))(flat))(
        phis.reshape(-1, phis.shape[-1]), ts, mus.reshape(-1))
    if net.n_fields > 1:  # (times, points, fields) -> the field axis after the times'
        return jnp.moveaxis(out, -1, 1).reshape(phis.shape[:-1] + (net.n_fields,)
                                                + x.shape[:-1])
    return out.reshape(phis.shape[:-1] + x.shape[:-1])
