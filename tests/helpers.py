import os

import equinox as eqx
import jax
import jax.numpy as jnp


def tree_allclose(x, y, *, rtol=1e-12, atol=1e-12):
    same_structure = jax.tree.structure(x) == jax.tree.structure(y)
    if not same_structure:
        return False
    leaves = zip(jax.tree.leaves(eqx.filter(x, eqx.is_array)),
                 jax.tree.leaves(eqx.filter(y, eqx.is_array)))
    return all(a.shape == b.shape and bool(jnp.allclose(a, b, rtol=rtol, atol=atol))
               for a, b in leaves)


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a test's child process: this one's, with JAX told not to
    preallocate accelerator memory (by default each JAX process takes most of a GPU's memory
    at start, so two at once run out) and `extra` on top."""
    return {**os.environ, "XLA_PYTHON_CLIENT_PREALLOCATE": "false", **extra}
