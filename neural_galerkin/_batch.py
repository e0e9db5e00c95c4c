"""`solve_batch`: `jax.vmap` of `solve` over a batch of parameters, in chunks on a CPU, or
sharded over devices."""

import dataclasses
from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import ArrayLike

import pdes

from ._checks import as_array, as_net, check_mu, is_traced
from ._galerkin import LeastSquares
from ._invariants import as_conservation
from ._model import CoLoRAModel
from ._network import CoLoRAMLP, num_phi
from ._outcome import check_solution
from ._solution import Solution
from ._solve import check_kept, solve


def solve_batch(
    equation: pdes.AbstractEquation, model: CoLoRAModel | CoLoRAMLP,
    t0: ArrayLike, t1: ArrayLike, dt0: ArrayLike | None,
    phi0: ArrayLike, mu: ArrayLike,  # as in `solve`: mu of shape (B,), phi0 (B, p)
    *,
    devices: Sequence[jax.Device] | None = None,  # pyright: ignore[reportInvalidTypeForm]
    batch_size: int | None = None,
    throw: bool = True,
    **solve_options,
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

    `solve_options`: as in `solve` (`progress_meter` aside). The batch is `jax.vmap` of
    `solve` itself, so a batch member's numbers are those of its single solve.

    **Returns:** a `Solution` whose `phis` have shape
    `(B, len(ts), p)` (`residuals` `(B, len(ts))`, `stats` and `result` per parameter);
    `evaluate` gives `(B, len(ts), ...)`. With `throw=True` a `SolveError` names the members
    that failed and why; with `throw=False` each member's `result` says it, the others' are
    unaffected.
    """
    net = as_net(model)
    mus = as_array(mu)
    if mus.ndim != 1:
        raise ValueError(f"mu must be a 1D array of parameters, got shape {mus.shape}")
    conservation = as_conservation(solve_options.get("conserve"))
    if not is_traced(mus):  # each member's mu said by value (traced: `solve` checks each)
        for m in np.asarray(mus):
            check_kept(equation, check_mu(equation, model, m), conservation)
    phi0s = as_array(phi0)
    if phi0s.shape != (mus.shape[0], num_phi(net)):
        raise ValueError(f"phi0 has shape {phi0s.shape}, expected (len(mu), p) = "
                         f"{(mus.shape[0], num_phi(net))}")
    if "progress_meter" in solve_options:
        raise ValueError("a batch has no progress meter; solve one parameter to watch one")
    if batch_size is not None and not (isinstance(batch_size, int | np.integer)
                                       and batch_size >= 1):
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    devices = None if devices is None else list(devices)
    platform = jax.default_backend()
    if devices is not None and len(devices) == 1:  # nothing to shard: the batch goes there
        platform = devices[0].platform
        mus, phi0s = jax.device_put(mus, devices[0]), jax.device_put(phi0s, devices[0])
        devices = None
    if devices is not None:
        if batch_size is not None:
            raise ValueError("batch_size and devices do not go together: a sharded batch is "
                             "vmapped on each device; leave batch_size out")
        if mus.shape[0] % len(devices):
            raise ValueError(f"a batch of {mus.shape[0]} does not split evenly over "
                             f"{len(devices)} devices; pad the batch")
        if len(devices) > 1 and any(d.platform == "cpu" for d in devices):
            # batched LAPACK calls can deadlock across CPU devices of one process
            lstsq = solve_options.get("lstsq", LeastSquares())
            solve_options["lstsq"] = dataclasses.replace(lstsq, one_by_one=True)
        mesh = jax.sharding.Mesh(np.array(devices), ("batch",))
        spec = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("batch"))
        mus, phi0s = jax.device_put(mus, spec), jax.device_put(phi0s, spec)
    elif batch_size is None:
        batch_size = 1 if platform == "cpu" else None

    sols = _map(_Member(equation, net, t0, t1, dt0, solve_options), phi0s, mus, batch_size)
    sol = eqx.tree_at(lambda s: s.net, sols, net, is_leaf=lambda x: x is None)
    return check_solution(sol, throw=throw)


class _Member(eqx.Module):
    """One batch member's solve, as a function of its `phi0` and `mu` (a Module, so that
    `_map` compiles once for equal set-ups)."""

    equation: pdes.AbstractEquation
    net: CoLoRAMLP
    t0: ArrayLike
    t1: ArrayLike
    dt0: ArrayLike | None
    options: dict

    def __call__(self, phi0, mu) -> Solution:
        sol = solve(self.equation, self.net, self.t0, self.t1, self.dt0, phi0, mu,
                    throw=False, **self.options)
        return eqx.tree_at(lambda s: s.net, sol, None)  # the network is shared, not batched


@eqx.filter_jit
def _map(one, phi0, mu, batch_size):
    """`one` over the batch: vmapped whole, or in chunks of `batch_size` one after another."""
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
