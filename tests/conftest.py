import atexit
import gc
import os
import shutil
import tempfile

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

# JAX's persistent compilation cache, in a folder of this session's own (removed at exit): a
# function compiled again after `_release_compiled_code` dropped it, or the same computation
# reached through another Python function, is read back from disk instead of compiled
# (measured on five solver-heavy modules, 2 cores shared with other work: 284 of 1176
# compilations read back, 176 s -> 155 s, and 1.5 GB peak memory against 2.8 GB for keeping
# the executables in memory across modules instead; the whole suite: 3189 of 7964 read back,
# 443 passed in 1109 s at a load of 3.5-4.3, where it had not finished in 1500 s before at a
# load of up to 7). JAX does not cache executables with host callbacks (e.g. `eqx.error_if`
# in a solve that throws); those compile as before. The folder is not shared with the tests'
# child processes: without eviction JAX writes entries unlocked and not atomically.
_XLA_CACHE = tempfile.mkdtemp(prefix="ng-tests-xla-cache-")
atexit.register(shutil.rmtree, _XLA_CACHE, ignore_errors=True)
jax.config.update("jax_compilation_cache_dir", _XLA_CACHE)
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_code():
    """Drop JAX's compiled executables after each test module. Each one holds a few memory
    mappings, and one process running the whole suite (about 450 tests) compiled enough of
    them to pass the kernel's limit on mappings (`vm.max_map_count`, 65530 here): XLA then
    aborted or segfaulted while compiling, in whichever test came next (measured: 32000
    mappings at a third of the suite; `jax.clear_caches()` takes 300 small executables'
    1391 mappings back to 498). Functions shared within a module stay compiled; across
    modules they are compiled again or read back from the persistent cache above."""
    yield
    jax.clear_caches()
    gc.collect()


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
