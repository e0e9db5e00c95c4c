"""Randomised sparse updates: a random subset of online weights moves at each step. On a small
untrained network (the mechanics, not a model's accuracy)."""

import diffrax as dfx
import jax.numpy as jnp
import jax.random as jr
import pytest

import neural_galerkin as ng
import pdes

MU = 3.9e-3


@pytest.fixture(scope="module")
def setup(burgers_net):
    eq = pdes.Burgers()
    phi0, _ = ng.fit_initial_condition(eq, burgers_net, mu=MU, samples=64)
    return eq, burgers_net, phi0


def test_all_active_is_the_full_solve(setup):
    eq, net, phi0 = setup
    kw = dict(samples=64, saveat=dfx.SaveAt(ts=jnp.linspace(0, 0.1, 3)), residual_tol=None)
    full = ng.solve(eq, net, 0.0, 0.1, None, phi0, MU, **kw)
    p = ng.num_phi(net)
    every = ng.solve(eq, net, 0.0, 0.1, None, phi0, MU,
                     sparse_updates=ng.SparseUpdates(p, jr.PRNGKey(0)), **kw)
    # the same least squares in permuted columns: equal to round-off
    assert float(jnp.max(jnp.abs(full.phis - every.phis))) < 1e-10


def test_only_the_drawn_weights_move_in_a_step(setup):
    eq, net, phi0 = setup
    sparse = ng.SparseUpdates(3, jr.PRNGKey(5))
    sol = ng.solve(eq, net, 0.0, 1e-3, 1e-3, phi0, MU, samples=64,
                   solver=dfx.Euler(), stepsize_controller=dfx.ConstantStepSize(),
                   saveat=dfx.SaveAt(t1=True), sparse_updates=sparse, residual_tol=None)
    moved = jnp.flatnonzero(sol.phis[-1] != phi0)
    drawn = sparse(phi0.shape[0], jnp.array(0))
    assert set(moved.tolist()) <= set(drawn.tolist()) and len(moved) > 0


def test_sparse_updates_bad_input(setup):
    eq, net, phi0 = setup
    with pytest.raises(ValueError, match="at least 1"):
        ng.SparseUpdates(0, jr.PRNGKey(0))
    with pytest.raises(ValueError, match="more than the"):
        ng.solve(eq, net, 0.0, 0.1, None, phi0, MU, samples=64, residual_tol=None,
                 sparse_updates=ng.SparseUpdates(100, jr.PRNGKey(0)))
