import os

# before JAX starts a backend: on a GPU, take memory as needed rather than most of the device
# at start, so that the examples' child processes (and other programs) fit beside this one
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")

import jax  # noqa: E402
import jax.random as jr  # noqa: E402
import pytest  # noqa: E402

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")


@pytest.fixture
def getkey():
    keys = iter(jr.split(jr.PRNGKey(5678), 1000))
    return lambda: next(keys)
