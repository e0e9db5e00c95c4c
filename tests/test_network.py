import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import neural_galerkin as ng

from .helpers import tree_allclose


def _net(key, online_shift=False, per_rank=True):
    emb = ng.PeriodicEmbedding((0.0,), (1.0,), n_freq=2, online_shift=online_shift)
    return ng.CoLoRAMLP(emb, 12, 4, 3, per_rank=per_rank, key=key)


def test_zero_alpha_is_plain_layer(getkey):
    layer = ng.CoLoRALinear(5, 7, 3, key=getkey())
    x = jr.normal(getkey(), (5,))
    plain = layer.weight @ x + layer.bias
    assert jnp.allclose(layer(x), plain, rtol=0, atol=1e-15)
    # and a non-zero alpha adds exactly the scaled low-rank term
    layer = eqx.tree_at(lambda lay: lay.alpha, layer, jnp.array([0.5, -1.0, 2.0]))
    lowrank = layer.A @ (jnp.array([0.5, -1.0, 2.0]) * (layer.B @ x))
    assert jnp.allclose(layer(x), plain + lowrank, rtol=1e-14, atol=1e-14)
    assert not jnp.allclose(layer(x), plain, rtol=1e-3)


@pytest.mark.parametrize("online_shift", [False, True])
@pytest.mark.parametrize("per_rank", [False, True])
def test_phi_round_trip(getkey, online_shift, per_rank):
    net = _net(getkey(), online_shift, per_rank)
    n_alpha = 4 * (3 if per_rank else 1)
    p = n_alpha + (1 if online_shift else 0)
    assert ng.num_phi(net) == p
    phi = jr.normal(getkey(), (p,))
    net2 = ng.set_phi(net, phi)
    assert jnp.array_equal(ng.get_phi(net2), phi)
    # the offline weights are untouched, and setting back restores the network exactly
    theta = eqx.filter(net, ng.online_filter(net), inverse=True)
    theta2 = eqx.filter(net2, ng.online_filter(net2), inverse=True)
    assert tree_allclose(theta, theta2, rtol=0, atol=0)
    assert tree_allclose(ng.set_phi(net2, ng.get_phi(net)), net, rtol=0, atol=0)


def test_online_filter_selects_only_alphas_and_shift(getkey):
    net = _net(getkey(), online_shift=True)
    spec = ng.online_filter(net)
    assert all(spec.layers[i].alpha for i in range(4))
    assert spec.embedding.shift
    assert not any([spec.layers[0].weight, spec.layers[0].A, spec.layers[0].B,
                    spec.layers[0].bias])


def test_set_phi_wrong_size(getkey):
    net = _net(getkey())
    with pytest.raises(ValueError, match="online weights"):
        ng.set_phi(net, jnp.zeros(5))


def test_embedding_is_periodic_and_shift_translates(getkey):
    net = _net(getkey(), online_shift=True)
    x = jnp.linspace(0, 1, 17)[:, None]
    u = jax.vmap(net)(x)
    assert jnp.allclose(u[0], u[-1], atol=1e-14)
    shifted = eqx.tree_at(lambda n: n.embedding.shift, net, jnp.array([0.3]))
    assert jnp.allclose(jax.vmap(shifted)(x + 0.3), u, atol=1e-13)


def test_hypernetwork_normalises_inputs(getkey):
    h = ng.HyperNetwork(6, (0.0, 2.0), (1e-3, 1e-2), log_mu=True, key=getkey())
    assert np.allclose(h.normalise(0.0, 1e-3), [-1, -1])
    assert np.allclose(h.normalise(2.0, 1e-2), [1, 1])
    assert np.allclose(h.normalise(1.0, np.sqrt(1e-5)), [0, 0])
    assert h(0.5, 3e-3).shape == (6,)
