"""Pool components (`add_pool`, `pretrain(train="pool")`): extra low-rank components whose
online scales are zero in the data-driven solution, trained for the tangent space, and brought
online by an adaptive equation-driven solve.

The model is a tiny network pretrained briefly on linear advection without an online shift
(width 8, depth 3, rank 1: three online weights), so that its own tangent space cannot follow
a translation; one pool component per layer is added and trained for the tangent term alone."""

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import neural_galerkin as ng
import pdes
from neural_galerkin._tangent import tangent_residual
from neural_galerkin._training import pretrain, trajectories_from_exact

MU = 0.8  # held out: the training speeds are 0.5, 1.0, 1.5
TS = jnp.linspace(0.0, 1.0, 6)
KW = dict(samples=64, saveat=dfx.SaveAt(ts=TS), residual_tol=None)


@pytest.fixture(scope="module")
def models():
    eq = pdes.Advection()
    data = trajectories_from_exact(eq, (0.5, 1.0, 1.5), np.linspace(0.0, 1.0, 11), 128,
                                   key=jr.PRNGKey(0))
    model, _ = pretrain(data, equation="advection", steps=400, key=jr.PRNGKey(1),
                        progress=False, log_every=100, width=8, depth=3, rank=1,
                        learning_rate=1e-2)
    drawn = ng.add_pool(model, 1, key=jr.PRNGKey(2))
    trained, history = pretrain(data, equation="advection", steps=300, key=jr.PRNGKey(3),
                                progress=False, log_every=100, init=drawn, train="pool",
                                pde=eq, tangent_weight=1.0, tangent_points=64,
                                learning_rate=1e-2)
    return eq, data, model, drawn, trained, history


def test_add_pool_keeps_the_data_driven_solution(models, tmp_path):
    eq, _, model, drawn, trained, _ = models
    mask = ng.pool_mask(drawn.net)
    assert mask.shape == (6,) and mask.sum() == 3 and not ng.pool_mask(model.net).any()
    assert drawn.config.pool_rank == 1 and model.config.pool_rank == 0
    x = eq.grid(50).reshape(-1, 1)
    for m in (drawn, trained):
        phi = m.phi(0.3, MU)
        assert np.all(np.asarray(phi)[mask] == 0.0)
        np.testing.assert_array_equal(np.asarray(phi)[~mask], np.asarray(model.phi(0.3, MU)))
        np.testing.assert_array_equal(np.asarray(ng.predict(m, TS, MU).evaluate(x)),
                                      np.asarray(ng.predict(model, TS, MU).evaluate(x)))
    # the model's own tangent directions are those of the model without the pool
    J_own = jax.vmap(jax.jacfwd(lambda p, y: model.u(y, p)), (None, 0))(model.phi(0.3, MU), x)
    J_all = jax.vmap(jax.jacfwd(lambda p, y: trained.u(y, p)), (None, 0))(trained.phi(0.3, MU),
                                                                           x)
    np.testing.assert_allclose(np.asarray(J_all)[:, ~mask], np.asarray(J_own), rtol=0,
                               atol=1e-14)
    assert float(jnp.min(jnp.linalg.norm(J_all[:, mask], axis=0))) > 1e-3  # directions added
    ng.save_model(tmp_path / "m", trained)
    back = ng.load_model(tmp_path / "m")
    assert back.config.pool_rank == 1
    np.testing.assert_array_equal(np.asarray(back.phi(0.3, MU)), np.asarray(trained.phi(0.3, MU)))
    with pytest.raises(ValueError, match="pool components already"):
        ng.add_pool(trained, 1, key=jr.PRNGKey(0))


def test_pool_training_moves_the_pool_alone_and_fills_the_tangent_space(models):
    eq, _, model, drawn, trained, history = models
    same = jax.tree.map(lambda a, b: bool(jnp.array_equal(a, b)),
                        eqx.filter(drawn, eqx.is_array), eqx.filter(trained, eqx.is_array))
    moved = {jax.tree_util.keystr(p) for p, v in jax.tree_util.tree_flatten_with_path(same)[0]
             if not v}
    assert moved and all(name.endswith((".pool_A", ".pool_B")) for name in moved), moved
    assert history["loss"][-1] < history["loss"][0]
    x = eq.grid(64).reshape(-1, 1)

    def residual(m):  # held-out speed, mid-horizon, at the data-driven weights
        return float(tangent_residual(eq, m.net, m.phi(0.5, MU), 0.5, MU, x))

    # measured: the model's own set 1.2e-2, with the drawn pool 1.1e-3, trained 8.2e-5
    assert residual(trained) < residual(drawn) / 5 < residual(model) / 5


def test_adaptive_solve_with_the_trained_pool(models):
    eq, _, _, _, trained, _ = models
    x = jnp.linspace(0.0, 1.0, 200, endpoint=False)[:, None]
    exact = jax.vmap(lambda t: jax.vmap(lambda y: eq.exact(y, t, MU))(x))(TS)

    def error(sol):
        return float(jnp.linalg.norm(sol.evaluate(x) - exact) / jnp.linalg.norm(exact))

    phi0, _ = ng.fit_initial_condition(eq, trained, mu=MU, samples=64)
    base = ~ng.pool_mask(trained.net)
    fixed = ng.solve(eq, trained, 0.0, 1.0, None, phi0, MU,
                     adaptive=ng.AdaptiveOnline(base, tol=None), **KW)
    adaptive = ng.solve(eq, trained, 0.0, 1.0, None, phi0, MU,
                        adaptive=ng.AdaptiveOnline(base, tol=0.05), **KW)
    never = ng.solve(eq, trained, 0.0, 1.0, None, phi0, MU,
                     adaptive=ng.AdaptiveOnline(base, tol=1.0), **KW)
    # the trained pool fills the tangent space where the solve starts: the Galerkin residual
    # at t = 0, measured 0.697 with the model's own set, 0.072 with the pool brought online
    # (0.266 with the drawn, untrained pool)
    assert int(adaptive.stats["num_online_added"]) >= 1
    assert float(adaptive.residuals[0]) < float(fixed.residuals[0]) / 5
    # but the solve then leaves the region where the pool was trained (its scales at zero,
    # along the data-driven trajectories): measured over the horizon, the error is 0.74
    # against the own set's 0.39 and the residual rises to 0.93; what this says is in
    # docs/benchmarks.md ("Pool components"). Asserted: it stays a finite, bounded answer
    assert error(adaptive) < 1.5 and adaptive.message == "successful"
    np.testing.assert_array_equal(np.asarray(never.phis), np.asarray(fixed.phis))
    assert np.all(np.asarray(fixed.phis)[:, ~base] == 0.0)  # the pool stayed offline


def test_pool_bad_input(models):
    eq, data, model, drawn, _, _ = models
    with pytest.raises(ValueError, match="tangent_weight > 0"):
        pretrain(data, equation="advection", steps=1, key=jr.PRNGKey(0), progress=False,
                 init=drawn, train="pool")
    with pytest.raises(ValueError, match="needs a model with pool components"):
        pretrain(data, equation="advection", steps=1, key=jr.PRNGKey(0), progress=False,
                 init=model, train="pool", pde=eq, tangent_weight=1.0, tangent_points=64)
    with pytest.raises(ValueError, match="train must be 'all' or 'pool'"):
        pretrain(data, equation="advection", steps=1, key=jr.PRNGKey(0), progress=False,
                 train="everything")
    with pytest.raises(ValueError, match="pool_rank must be a positive integer"):
        ng.add_pool(model, 0, key=jr.PRNGKey(0))
    with pytest.raises(ValueError, match="pool_rank must be a non-negative integer"):
        ng.ModelConfig(equation="x", lower=(0.0,), lengths=(1.0,), t_range=(0.0, 1.0),
                       mu_range=(1.0, 2.0), pool_rank=-1)


def test_tangent_term_at_anchors(models):
    """`tangent_anchors`: the tangent term at given online weights (here with the pool's
    scales away from zero, where the hypernetwork never goes) instead of along the
    hypernetwork's trajectories."""
    eq, data, _, drawn, _, _ = models
    ts = jnp.linspace(0.0, 1.0, 4)
    mus = jnp.array([0.6, 0.9, 1.2, 1.4])
    pool = ng.pool_mask(drawn.net)
    phis = jax.vmap(drawn.phi)(ts, mus)
    phis = phis.at[:, pool].set(0.5 * jr.normal(jr.PRNGKey(5), (4, int(pool.sum()))))
    x = eq.grid(64).reshape(-1, 1)

    def mean_residual(m):
        return float(jnp.mean(jax.vmap(lambda p, t, mu: tangent_residual(
            eq, m.net, p, t, mu, x))(phis, ts, mus)))

    at_anchors, _ = pretrain(data, equation="advection", steps=300, key=jr.PRNGKey(3),
                             progress=False, log_every=100, init=drawn, train="pool", pde=eq,
                             tangent_weight=1.0, tangent_points=64, learning_rate=1e-2,
                             tangent_anchors=(phis, ts, mus))
    # measured: 4.8e-2 with the drawn pool, 1.4e-3 after training at the anchors
    assert mean_residual(at_anchors) < mean_residual(drawn) / 5
    with pytest.raises(ValueError, match="tangent_anchors must be finite"):
        pretrain(data, equation="advection", steps=1, key=jr.PRNGKey(0), progress=False,
                 init=drawn, train="pool", pde=eq, tangent_weight=1.0, tangent_points=64,
                 tangent_anchors=(phis, ts[:2], mus))
    with pytest.raises(ValueError, match="have 3 online weights per row, the model 6"):
        pretrain(data, equation="advection", steps=1, key=jr.PRNGKey(0), progress=False,
                 init=drawn, train="pool", pde=eq, tangent_weight=1.0, tangent_points=64,
                 tangent_anchors=(phis[:, :3], ts, mus))
    with pytest.raises(ValueError, match="give tangent_weight > 0"):
        pretrain(data, equation="advection", steps=1, key=jr.PRNGKey(0), progress=False,
                 tangent_anchors=(phis, ts, mus))
