"""A batch of parameters in one solve (vmap), and sharded over several (forced host) devices."""

import subprocess
import sys
import textwrap

import diffrax as dfx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neural_galerkin as ng
import pdes

from .helpers import child_env

MUS = np.array([1.3e-3, 2.9e-3, 5.1e-3, 8.7e-3])
TS = jnp.linspace(0.0, 0.15, 4)
KW = dict(samples=64, saveat=dfx.SaveAt(ts=TS))


@pytest.fixture(scope="module")
def batch():
    eq, model = pdes.Burgers(), ng.load_pretrained("burgers")
    phi0 = jnp.stack([ng.fit_initial_condition(eq, model, mu=m, samples=64)[0] for m in MUS])
    return eq, model, phi0, ng.solve_batch(eq, model, 0.0, 0.15, None, phi0, MUS, **KW)


def test_batch_equals_single_solves(batch):
    eq, model, phi0, sol = batch
    assert sol.phis.shape == (4, 4, ng.num_phi(model.net))
    for i in (0, 3):
        one = ng.solve(eq, model, 0.0, 0.15, None, phi0[i], MUS[i], **KW)
        # the same computation batched: equal up to the order of floating-point reductions
        assert float(jnp.max(jnp.abs(one.phis - sol.phis[i]))) < 1e-10
        assert float(jnp.max(jnp.abs(one.residuals - sol.residuals[i]))) < 1e-10
    x = jnp.linspace(0, 1, 50, endpoint=False)
    assert sol.evaluate(x).shape == (4, 4, 50)


@pytest.mark.parametrize("batch_size", [4, 3])
def test_vmapped_and_chunked_batch_equal_the_default(batch, batch_size):
    # the default on a CPU solves one parameter after another; 4: the whole batch vmapped
    # (the default on a GPU); 3: a vmapped chunk of 3, then the remaining one
    eq, model, phi0, sol = batch
    other = ng.solve_batch(eq, model, 0.0, 0.15, None, phi0, MUS, batch_size=batch_size, **KW)
    assert float(jnp.max(jnp.abs(other.phis - sol.phis))) < 1e-10
    assert np.array_equal(other.stats["num_steps"], sol.stats["num_steps"])


def test_one_device_given_keeps_the_default(batch):
    # one device: nothing to shard; the batch is placed there and solved as by default
    eq, model, phi0, sol = batch
    there = ng.solve_batch(eq, model, 0.0, 0.15, None, phi0, MUS, devices=jax.devices()[:1],
                           **KW)
    assert float(jnp.max(jnp.abs(there.phis - sol.phis))) == 0.0
    assert there.phis.devices() == {jax.devices()[0]}


def test_batch_bad_input(batch):
    eq, model, phi0, _ = batch
    with pytest.raises(ValueError, match="outside the range"):
        ng.solve_batch(eq, model, 0.0, 0.1, None, phi0, MUS * 10, **KW)
    with pytest.raises(ValueError, match=r"expected \(len\(mu\), p\)"):
        ng.solve_batch(eq, model, 0.0, 0.1, None, phi0[:3], MUS, **KW)
    with pytest.raises(ValueError, match="split evenly"):
        ng.solve_batch(eq, model, 0.0, 0.1, None, phi0[:3], MUS[:3],
                       devices=jax.devices() * 2, **KW)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        ng.solve_batch(eq, model, 0.0, 0.1, None, phi0, MUS, batch_size=0, **KW)
    with pytest.raises(ValueError, match="batch_size and devices do not go together"):
        ng.solve_batch(eq, model, 0.0, 0.1, None, phi0, MUS, batch_size=2,
                       devices=jax.devices() * 2, **KW)


SHARDED = textwrap.dedent("""
    import jax
    jax.config.update("jax_enable_x64", True)
    import diffrax as dfx, jax.numpy as jnp, numpy as np
    import neural_galerkin as ng, pdes
    assert len(jax.devices()) == 4, jax.devices()
    eq, model = pdes.Burgers(), ng.load_pretrained("burgers")
    mus = np.array({mus})
    n = {samples}
    phi0 = jnp.stack([ng.fit_initial_condition(eq, model, mu=m, samples=n)[0] for m in mus])
    kw = dict(samples=n, saveat=dfx.SaveAt(ts=jnp.linspace(0.0, 0.15, 4)), conserve={conserve})
    plain = ng.solve_batch(eq, model, 0.0, 0.15, None, phi0, mus, batch_size=len(mus), **kw)
    sharded = ng.solve_batch(eq, model, 0.0, 0.15, None, phi0, mus, devices=jax.devices(), **kw)
    assert len(sharded.phis.sharding.device_set) == 4, sharded.phis.sharding
    print("DIFF", float(jnp.max(jnp.abs(plain.phis - sharded.phis))))
""")


@pytest.mark.slow  # a child process per case, solving 8 and 16 parameters
@pytest.mark.parametrize("n_mu, samples, conserve", [(8, 64, ()), (16, 256, ("mass",))])
def test_sharded_over_four_host_devices_equals_unsharded(n_mu, samples, conserve):
    # 16 parameters at 256 samples: large enough batched QRs per device for jaxlib to split
    # them over its thread pool, which deadlocked (or aborted in a collective) in 6 of 6 runs
    # before the sharded solve ran its linear algebra one batch member at a time
    mus = np.geomspace(1.1e-3, 9.5e-3, n_mu)
    env = {**child_env(), "XLA_FLAGS": "--xla_force_host_platform_device_count=4",
           "JAX_PLATFORMS": "cpu"}
    script = SHARDED.format(mus=list(mus), samples=samples, conserve=conserve)
    try:
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                             text=True, timeout=300)
    except subprocess.TimeoutExpired:
        pytest.fail("the sharded solve did not finish in 300 s (deadlock?)")
    assert out.returncode == 0, out.stderr[-3000:]
    diff = float(out.stdout.split("DIFF")[-1])
    assert diff < 1e-12, diff
