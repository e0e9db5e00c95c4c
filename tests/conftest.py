import os

# before JAX starts a backend: on a GPU, take memory as needed rather than most of the device
# at start, so that the examples' child processes (and other programs) fit beside this one
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")

import jax  # noqa: E402
import jax.random as jr  # noqa: E402
import pytest  # noqa: E402

import neural_galerkin as ng  # noqa: E402
import pdes  # noqa: E402

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")


@pytest.fixture
def getkey():
    keys = iter(jr.split(jr.PRNGKey(5678), 1000))
    return lambda: next(keys)


@pytest.fixture(scope="session")
def burgers_net():
    """A small untrained CoLoRA network on Burgers' domain (8 wide, 3 layers, rank 2: 6 online
    weights), for tests of the library's mechanics rather than of a trained model's accuracy
    (the shipped weights are tested in the tests of the shipped models). Its Galerkin residual
    is large: solves with it pass `residual_tol=None`."""
    eq = pdes.Burgers()
    return ng.CoLoRAMLP(ng.PeriodicEmbedding(eq.lower, eq.lengths), 8, 3, 2, key=jr.PRNGKey(0))
