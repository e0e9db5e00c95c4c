import diffrax as dfx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import neural_galerkin as ng
import pdes


@pytest.fixture(scope="module")
def shift_net():
    eq = pdes.Advection()
    emb = ng.PeriodicEmbedding(eq.lower, eq.lengths, n_freq=1, online_shift=True)
    return ng.CoLoRAMLP(emb, 16, 3, 2, key=jr.PRNGKey(0))


def test_advection_translation_is_exact(shift_net):
    # The ansatz can translate its profile (online shift in the embedding), so the Galerkin
    # residual is zero and the EQ solve must reproduce the translated initial fit.
    eq, mu, t1 = pdes.Advection(), 1.3, 0.7
    phi0, fit_err = ng.fit_initial_condition(eq, shift_net, mu=mu, samples=256)
    sol = ng.solve(eq, shift_net, 0.0, t1, None, phi0, mu, samples=256,
                   saveat=dfx.SaveAt(ts=jnp.linspace(0, t1, 8)),
                   stepsize_controller=dfx.PIDController(rtol=1e-10, atol=1e-12))
    assert sol.result == dfx.RESULTS.successful
    x = jnp.linspace(0, 1, 1001)
    u = sol.evaluate(x)
    fit = jax.vmap(ng.set_phi(shift_net, phi0))(((x - mu * t1) % 1.0)[:, None])
    assert float(jnp.max(jnp.abs(u[-1] - fit))) <= 1e-8
    assert float(jnp.max(sol.residuals)) < 1e-10
    assert sol.phis.shape == (8, ng.num_phi(shift_net))


def test_least_squares_matches_numpy(getkey):
    J = jr.normal(getkey(), (50, 6))
    F = jr.normal(getkey(), (50,))
    v = ng.LeastSquares()(J, F)
    assert np.allclose(v, np.linalg.lstsq(J, F, rcond=None)[0], rtol=1e-10, atol=1e-12)
    # ridge: same as the regularised normal equations (J^T J + r^2 I) v = J^T F
    r = 0.3
    v = ng.LeastSquares(ridge=r)(J, F)
    assert np.allclose(v, np.linalg.solve(J.T @ J + r**2 * np.eye(6), J.T @ F), rtol=1e-10)


def test_least_squares_rank_deficient_gives_min_norm(getkey):
    J = jr.normal(getkey(), (40, 3))
    J = jnp.concatenate([J, J[:, :1]], axis=1)  # duplicated column: rank 3 of 4
    F = jr.normal(getkey(), (40,))
    v = ng.LeastSquares(rcond=1e-10)(J, F)
    assert np.all(np.isfinite(v))
    assert np.allclose(v[0], v[3], rtol=1e-8)  # the minimum-norm split of the pair
    assert np.allclose(v, np.linalg.pinv(J) @ F, rtol=1e-8)


def test_solve_bad_input(shift_net):
    eq = pdes.Advection()
    p = ng.num_phi(shift_net)
    with pytest.raises(ValueError, match="NaN"):
        ng.solve(eq, shift_net, 0.0, 1.0, None, jnp.full(p, jnp.nan), 1.0)
    with pytest.raises(ValueError, match="online weights"):
        ng.solve(eq, shift_net, 0.0, 1.0, None, jnp.zeros(p + 1), 1.0)
    with pytest.raises(ValueError, match=r"outside the range \[0.5, 1.5\]"):
        ng.solve(eq, shift_net, 0.0, 1.0, None, jnp.zeros(p), 3.0)
    with pytest.raises(ValueError, match="t1 must be greater"):
        ng.solve(eq, shift_net, 1.0, 0.5, None, jnp.zeros(p), 1.0)
    with pytest.raises(ValueError, match="NaN"):
        ng.fit_initial_condition(eq, shift_net, lambda x: jnp.nan * x[0], samples=64)
    with pytest.raises(ValueError, match="one value per sample point"):
        ng.fit_initial_condition(eq, shift_net, jnp.zeros(10), samples=64)
    with pytest.raises(ValueError, match=r"shape \(n, 1\)"):
        ng.sample_points(eq, jnp.zeros((5, 2)))


def test_blow_up_is_reported(shift_net):
    # online weights so large that the network overflows: the fixed-step solve turns to NaN
    eq = pdes.Advection()
    phi0 = jnp.full(ng.num_phi(shift_net), 1e200)
    with pytest.raises(FloatingPointError, match="blew up"):
        ng.solve(eq, shift_net, 0.0, 0.1, 0.05, phi0, 1.0, solver=dfx.Euler(),
                 stepsize_controller=dfx.ConstantStepSize(), samples=32)


def test_solution_evaluate_shapes(shift_net):
    eq = pdes.Advection()
    phi0 = ng.get_phi(shift_net)
    sol = ng.solve(eq, shift_net, 0.0, 0.1, None, phi0, 1.0, samples=64)
    assert sol.evaluate(jnp.linspace(0, 1, 9)).shape == (2, 9)
    assert sol.evaluate(jnp.zeros((4, 3, 1))).shape == (2, 4, 3)
    # in 1D an array without a trailing axis of size 1 holds x values
    assert sol.evaluate(jnp.zeros((4, 2))).shape == (2, 4, 2)
