"""Adaptive online weights: a base set of online weights that always moves, and a pool of
others, pretrained with them, that the equation-driven solve brings online where the Galerkin
residual of the active set rises above a tolerance and takes off where they stop contributing
(augment, solve, truncate, in the spirit of dynamical low-rank training)."""

from collections.abc import Sequence
from functools import partial

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, Int

from ._linalg import one_by_one


class AdaptiveOnline(eqx.Module):
    """Which online weights move during an equation-driven solve, chosen as it goes: the
    `adaptive=` option of `solve` (and `solve_batch`, `compare`).

    The online weights `phi` are split into a **base** set, which always moves, and a
    **pool**: the others. Pool members are pretrained like every online weight (the
    hypernetwork predicts them, so their tangent directions `J_j = du/dphi_j` are meaningful),
    but online they are held at their value in `phi0` until the solve needs them. At the
    start of every time step (`GalerkinSolver`; all stages of the step, and its retries after
    a rejection, share the set):

    1. the least squares is solved with the active columns of `J` (the others zeroed: the
       truncated SVD gives them a zero minimum-norm coefficient, so this is the least squares
       of the active set alone), giving `v` and the relative Galerkin residual
       `rho = ||J v - F|| / ||F||` on the Galerkin samples;
    2. **truncate**: active pool members whose contribution `|v_j| ||J_j||` is below
       `drop_tol * ||F||` go offline (they keep their current value);
    3. **augment**: where `rho > tol`, every inactive pool member is scored by the reduction
       of the squared residual it would give alone, `(q_j^T r)^2 / ||q_j||^2`, with `r` the
       residual and `q_j` the part of its column orthogonal to the active columns; the
       best (at most `max_add`) whose contribution `|q_j^T r| / ||q_j||` exceeds
       `drop_tol * ||F||` (so that they would not be dropped again at once) come online.

    The step is then taken with the new set. The least squares stays as well posed as the
    active set's: inactive columns are zero and dropped by the truncated SVD
    (`LeastSquares.rcond`), and a `ridge` applies to the active ones alone.

    - `base`: the always-active online weights, as indices into `phi` or a boolean mask of
      length `p` (`online_labels(net)` names them).
    - `tol`: the relative Galerkin residual above which pool members come online; `None`:
      never (the base set alone, a fixed-set solve through the same code).
    - `drop_tol`: the relative contribution below which an active pool member goes offline
      (`0`: never drop).
    - `max_add`: at most this many pool members come online at one step; `None` (default):
      every one that passes. The members are scored one by one, not jointly; those that turn
      out redundant with the others go offline again at the next step. On the shipped Burgers
      model, with half its weights in the base, 6 (the whole pool there) gave 2.3-4.2x lower
      EQ errors than `1`, which builds the set one step at a time while the error grows
      (`benchmarks/results/adaptive_online*.md`).
    - `max_changes`: how many changes of the active set `Solution.active` can record; the
      changes after that many overwrite the last record (`Solution.stats` counts them all).

    The residual that triggers is that of the unconstrained least squares on the Galerkin
    samples. With conservation (`conserve=`), the constraints and the projection use the
    active columns alone: the projection's corrections move active weights only, and the
    inactive ones stay exactly at their values. Where the invariants' gradients on the active
    columns are degenerate at the start of a step (below `1e-10` times the largest gradient
    over all columns: the invariants do not depend on the weights that move), the active
    weights do not move in that step, the projection makes no correction, and the solve
    reports `RESULTS.degenerate_active_constraints` (`SolveError` with `throw=True`). For
    example, the mass of an envelope network `q exp(N(z))` on R^d does not depend on the
    envelope's weights: conserving it with the envelope's weights alone in the base (and
    `tol=None`) is reported so; before, the constraint along the gradient's round-off
    (3e-15 to 3e-14 of the whole gradient, in a direction that changes from point to point)
    made the step size collapse (`max_steps` reached).
    """

    base: tuple[int, ...] | None = eqx.field(static=True)
    base_mask: tuple[bool, ...] | None = eqx.field(static=True)
    tol: Float[Array, ""]  # arrays, so that solves with other tolerances share a compilation
    drop_tol: Float[Array, ""]
    max_add: int | None = eqx.field(static=True)
    max_changes: int = eqx.field(static=True)

    def __init__(self, base: Sequence[int] | Sequence[bool] | ArrayLike, *,
                 tol: float | None = 0.05, drop_tol: float = 1e-3, max_add: int | None = None,
                 max_changes: int = 64):
        b = np.asarray(base)
        if b.ndim != 1:
            raise ValueError(f"base must be indices of online weights or a boolean mask over "
                             f"them (one dimension), got shape {b.shape}")
        if b.dtype == bool:
            self.base, self.base_mask = None, tuple(bool(v) for v in b)
        elif b.size == 0 or np.issubdtype(b.dtype, np.integer):
            idx = tuple(int(i) for i in b)
            if len(set(idx)) != len(idx) or any(i < 0 for i in idx):
                raise ValueError(f"base indices must be distinct and non-negative, got {idx}")
            self.base, self.base_mask = idx, None
        else:
            raise TypeError(f"base must be integer indices or a boolean mask, got dtype "
                            f"{b.dtype}")
        for name, value in (("tol", tol), ("drop_tol", drop_tol)):
            if value is not None and not (isinstance(value, int | float) and np.isfinite(value)
                                          and value >= 0):
                raise ValueError(f"{name} must be a non-negative finite number, got {value!r}")
        if max_add is not None and not (isinstance(max_add, int) and max_add >= 1):
            raise ValueError(f"max_add must be an integer of at least 1, got {max_add!r}")
        if not (isinstance(max_changes, int) and max_changes >= 1):
            raise ValueError(f"max_changes must be an integer of at least 1, got "
                             f"{max_changes!r}")
        self.tol = jnp.asarray(np.inf if tol is None else float(tol))
        self.drop_tol = jnp.asarray(float(drop_tol))
        self.max_add = max_add
        self.max_changes = max_changes

    def mask(self, p: int) -> np.ndarray:
        """The base set as a boolean mask over `p` online weights.

        **Raises:** `ValueError` where the base does not fit `p` weights, or leaves no pool."""
        if self.base_mask is not None:
            if len(self.base_mask) != p:
                raise ValueError(f"the base mask has {len(self.base_mask)} entries, the model "
                                 f"has {p} online weights")
            out = np.asarray(self.base_mask, dtype=bool)
        else:
            assert self.base is not None
            if any(i >= p for i in self.base):
                raise ValueError(f"base indices {self.base} out of range for {p} online "
                                 "weights")
            out = np.zeros(p, dtype=bool)
            out[list(self.base)] = True
        if not out.any():
            raise ValueError("the base set is empty: give at least one always-active online "
                             "weight")
        return out

    def init(self, p: int, dtype) -> "AdaptiveState":
        base = jnp.asarray(self.mask(p))
        return AdaptiveState(
            mask=base, times=jnp.full((self.max_changes,), jnp.inf, dtype),
            masks=jnp.zeros((self.max_changes, p), bool), n_changes=jnp.array(0),
            n_added=jnp.array(0), n_dropped=jnp.array(0), degenerate=jnp.array(False))

    def decide(self, J: Float[Array, "n p"], F: Float[Array, " n"], mask: Bool[Array, " p"],
               lstsq, base: Bool[Array, " p"]):
        """The active set for the next step from the Galerkin system `J`, `F` (all columns) at
        its start and the current set `mask`: `(new_mask, added, dropped)`."""
        n, p = J.shape
        # one batch member at a time where the least squares does so (`_linalg.one_by_one`)
        qr, svd = jnp.linalg.qr, partial(jnp.linalg.svd, full_matrices=False)
        if lstsq.one_by_one:
            qr, svd = one_by_one(qr), one_by_one(svd)
        if n > p:  # every quantity below lives in the range of J: work with its p x p triangle
            Q, R = qr(J)
            f = Q.T @ F
        else:
            R, f = J, F
        F2 = jnp.sum(F**2)
        perp2 = jnp.maximum(F2 - jnp.sum(f**2), 0.0)
        Fn = jnp.sqrt(F2)
        Rm = jnp.where(mask, R, 0.0)
        v = jnp.where(mask, lstsq(Rm, f), 0.0)
        r = f - Rm @ v
        rho = jnp.sqrt(jnp.sum(r**2) + perp2) / jnp.maximum(Fn, 1e-300)
        pool = ~base
        col = jnp.linalg.norm(R, axis=0)
        dropped = pool & mask & (jnp.abs(v) * col < self.drop_tol * Fn)
        # q_j: the part of column j orthogonal to the active columns' span
        U, s, _ = svd(Rm)
        Uk = jnp.where(s > 1e-10 * jnp.maximum(s[0], 1e-300), U, 0.0)
        q = R - Uk @ (Uk.T @ R)
        qn = jnp.linalg.norm(q, axis=0)
        ok = pool & ~mask & (qn > 1e-8 * jnp.maximum(col, 1e-300))
        gain = jnp.where(ok, jnp.abs(q.T @ r) / jnp.where(ok, qn, 1.0), 0.0)
        best, idx = jax.lax.top_k(gain, p if self.max_add is None else min(self.max_add, p))
        take = (best > self.drop_tol * Fn) & (rho > self.tol)
        added = jnp.zeros_like(mask).at[idx].set(take)
        return (mask & ~dropped) | added, added, dropped

    def record(self, state: "AdaptiveState", t0, new_mask, added, dropped,
               degenerate: Bool[Array, ""] | bool = False) -> "AdaptiveState":
        """`state` after a step that starts at `t0` with the set `new_mask` (`degenerate`:
        whether the conserved invariants' gradients on its columns are)."""
        changed = jnp.any(new_mask != state.mask)
        slot = jnp.minimum(state.n_changes, self.max_changes - 1)
        times = state.times.at[slot].set(jnp.where(changed, t0, state.times[slot]))
        masks = state.masks.at[slot].set(jnp.where(changed, new_mask, state.masks[slot]))
        return AdaptiveState(mask=new_mask, times=times, masks=masks,
                             n_changes=state.n_changes + changed,
                             n_added=state.n_added + jnp.sum(added),
                             n_dropped=state.n_dropped + jnp.sum(dropped),
                             degenerate=state.degenerate | degenerate)


class AdaptiveState(eqx.Module):
    """The active set during a solve (in the `GalerkinSolver`'s state, so that a rejected step
    leaves it unchanged) and the record of its changes: at `times[k]` the set became
    `masks[k]`, for the first `n_changes` (at most `max_changes`) entries. `degenerate`:
    whether an accepted step started with a set on whose columns the conserved invariants'
    gradients are degenerate (`RESULTS.degenerate_active_constraints`)."""

    mask: Bool[Array, " p"]
    times: Float[Array, " c"]
    masks: Bool[Array, "c p"]
    n_changes: Int[Array, ""]
    n_added: Int[Array, ""]
    n_dropped: Int[Array, ""]
    degenerate: Bool[Array, ""]

    def active_at(self, ts: Float[Array, " t"], base: Bool[Array, " p"]) -> Bool[Array, "t p"]:
        """The set in force at each time of `ts` (a change at `t` counts from `t` on)."""
        k = jnp.sum(self.times[None, :] <= jnp.asarray(ts)[:, None], axis=1)
        return jnp.concatenate([base[None], self.masks])[k]


def online_labels(net) -> tuple[str, ...]:
    """A name for each online weight of `net`, in the order of `get_phi`
    (`"layers[2].alpha[1]"`, `"embedding.shift[0]"`): to choose `AdaptiveOnline`'s base and
    to read `Solution.active`."""
    from ._network import online_filter

    online = eqx.filter(net, online_filter(net))
    out = []
    for path, leaf in jax.tree_util.tree_flatten_with_path(online)[0]:
        name = jax.tree_util.keystr(path).lstrip(".")
        out.extend(f"{name}[{i}]" for i in range(leaf.size))
    return tuple(out)
