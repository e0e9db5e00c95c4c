"""Small dense linear algebra shared by the Galerkin solve and the conservation constraints."""

import jax
import jax.numpy as jnp
import lineax as lx


def one_by_one(fn):
    """`fn(*arrays)`, whose batched form (under `jax.vmap`) maps `fn` over the batch with
    `jax.lax.map` instead of batching the operations inside it.

    Used for the LAPACK-backed steps (QR, SVD) of a batch sharded over several CPU devices of
    one process: jaxlib's batched LAPACK kernels hand parts of a large enough batch to the
    thread pool that also runs the devices' programs, and once every thread of that pool sits
    in such a kernel, waiting for its parts, the program deadlocks."""
    fn = jax.custom_batching.custom_vmap(fn)

    @fn.def_vmap
    def _rule(axis_size, in_batched, *args):
        args = tuple(a if b else jnp.broadcast_to(a, (axis_size, *jnp.shape(a)))
                     for a, b in zip(args, in_batched, strict=True))
        out = jax.lax.map(lambda a: fn(*a), args)
        return out, jax.tree.map(lambda _: True, out)

    return fn


def svd_solve(A, b, rcond):
    """The minimum-norm least-squares solution of `A x ~ b`, singular values below
    `rcond * sigma_max` dropped (`lineax.SVD`; `rcond=None`: lineax's default). Non-finite
    input gives a non-finite `x` (`throw=False`): the callers' step-size control rejects it
    and reports."""
    return lx.linear_solve(lx.MatrixLinearOperator(A), b, lx.SVD(rcond=rcond), throw=False).value
