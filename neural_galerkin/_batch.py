"""`solve_batch`: one compiled solve for a batch of parameters, vmapped, in chunks or sharded
over devices."""

import dataclasses
from collections.abc import Sequence
from typing import Any

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import ArrayLike

import pdes

from ._checks import as_net, check_mu, sample_points
from ._galerkin import LeastSquares, SparseUpdates
from ._invariants import AbstractInvariant
from ._model import CoLoRAModel
from ._network import CoLoRAMLP, num_phi
from ._sampling import AbstractSampler
from ._solution import Solution
from ._solve import (
    assemble,
    check_kept,
    check_options,
    raise_on_failure,
    run_solve,
    warn_residual,
)


def solve_batch(
    equation: pdes.AbstractEquation,
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
    samples: int | ArrayLike | AbstractSampler | None = None,
    lstsq: LeastSquares = LeastSquares(),
    max_steps: int | None = 100_000,
    throw: bool = True,
    conserve: Sequence[str | AbstractInvariant] = (),
    conserve_method: str = "both",
    conserve_points: int | None = None,
    sparse_updates: SparseUpdates | None = None,
    residual_tol: float | None = 0.1,
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
    `(B, len(ts), p)` (`residuals` `(B, len(ts))`, `stats` and `result` per parameter);
    `evaluate` gives `(B, len(ts), ...)`. With `throw=True` a `SolveError` names the members
    that failed and why; with `throw=False` each member's `result` says it, the others' are
    unaffected.
    """
    net = as_net(model)
    p = num_phi(net)
    mu = jnp.asarray(mu, dtype=jnp.zeros(()).dtype)
    if mu.ndim != 1:
        raise ValueError(f"mu must be a 1D array of parameters, got shape {mu.shape}")
    for m in np.asarray(mu):
        m = check_mu(equation, model, m)
        check_kept(equation, m, conserve)
    phi0 = jnp.asarray(phi0, dtype=mu.dtype)
    if phi0.shape != (mu.shape[0], p):
        raise ValueError(f"phi0 has shape {phi0.shape}, expected (len(mu), p) = "
                         f"{(mu.shape[0], p)}")
    samples = check_options(equation, net, phi0, t0, t1, dt0, stepsize_controller,
                             max_steps, samples, residual_tol)
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
            max_steps, None if batch_size is None else int(batch_size))
    (ts, (phis, residuals, invariants), dstats, result), stats = run_solve(
        _solve_batch, args, timed)
    if throw:
        raise_on_failure(result, ts, phis, residuals, max_steps)
    stats.update({k: np.asarray(v) for k, v in dstats.items() if k.startswith("num_")})
    names = () if not conserve else tuple(
        c if isinstance(c, str) else c.name for c in conserve)
    inv = {name: invariants[..., k] for k, name in enumerate(names)}
    out = Solution(ts=ts[0], phis=phis, net=net, residuals=residuals, stats=stats,
                   result=result, mode="eq", invariants=inv, residual_tol=residual_tol)
    warn_residual(out)
    return out


class _BatchSetup(eqx.Module):
    equation: pdes.AbstractEquation
    solver: dfx.AbstractSolver
    saveat: dfx.SaveAt
    samples: Any
    lstsq: LeastSquares
    conserve: tuple
    conserve_method: str = eqx.field(static=True)
    conserve_points: int | None = eqx.field(static=True)
    sparse: SparseUpdates | None = None


@eqx.filter_jit
def _solve_batch(setup, net, t0, t1, dt0, phi0, mu, controller, max_steps, batch_size):
    def one(phi0, mu):
        field, solver, saveat, _ = assemble(
            setup.equation, net, phi0, mu, setup.solver, setup.saveat, setup.samples,
            setup.lstsq, setup.conserve, setup.conserve_method, setup.conserve_points,
            setup.sparse)
        sol = dfx.diffeqsolve(dfx.ODETerm(field), solver, t0, t1, dt0, phi0, mu,
                              saveat=saveat, stepsize_controller=controller,
                              max_steps=max_steps, throw=False)
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


