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
    assert sol.result == ng.RESULTS.successful
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


def test_least_squares_one_by_one_equals_batched(getkey):
    # the batch-member-at-a-time form used across CPU devices: same solutions, also with an
    # unbatched argument and under two nested vmaps
    J = jr.normal(getkey(), (3, 5, 40, 6))
    F = jr.normal(getkey(), (40,))
    batched = jax.vmap(jax.vmap(ng.LeastSquares(), (0, None)), (0, None))(J, F)
    serial = jax.jit(jax.vmap(jax.vmap(ng.LeastSquares(one_by_one=True), (0, None)),
                              (0, None)))(J, F)
    assert serial.shape == (3, 5, 6)
    assert np.allclose(serial, batched, rtol=1e-12, atol=1e-13)
    assert "while" in jax.jit(jax.vmap(ng.LeastSquares(one_by_one=True))).lower(
        J[0], jnp.broadcast_to(F, (5, 40))).as_text()


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
    with pytest.raises(ng.SolveError, match="produced NaN or inf .* the dynamics blew up"):
        ng.solve(eq, shift_net, 0.0, 0.1, 0.05, phi0, 1.0, solver=dfx.Euler(),
                 stepsize_controller=dfx.ConstantStepSize(), samples=32)


def test_solution_evaluate_shapes(shift_net):
    eq = pdes.Advection()
    phi0 = ng.get_phi(shift_net)
    sol = ng.solve(eq, shift_net, 0.0, 0.1, None, phi0, 1.0, samples=64)
    assert sol.evaluate(jnp.linspace(0, 1, 9)).shape == (2, 9)
    assert sol.evaluate(jnp.zeros((4, 3, 1))).shape == (2, 4, 3)
    assert sol.evaluate(jnp.zeros((4, 2, 1))).shape == (2, 4, 2)
    # (n, 2) in 1D is ambiguous (points of a 2D problem, or a grid of x values): refused
    with pytest.raises(ValueError, match=r"shape \(n,\) or \(\.\.\., 1\) for this "
                       r"1-dimensional model, got \(4, 2\)"):
        sol.evaluate(jnp.zeros((4, 2)))


def test_dynamic_samplers_keep_translation_exact(shift_net):
    # a residual that is zero for every set of points stays zero with points redrawn per step
    eq, mu, t1 = pdes.Advection(), 0.8, 0.5
    phi0, _ = ng.fit_initial_condition(eq, shift_net, mu=mu, samples=128)
    x = jnp.linspace(0, 1, 257)
    fit = jax.vmap(ng.set_phi(shift_net, phi0))(((x - mu * t1) % 1.0)[:, None])
    for sampler in (ng.RandomSampler(64, jr.PRNGKey(3)),
                    ng.SteepSampler(64, jr.PRNGKey(4), n_fine=512)):
        sol = ng.solve(eq, shift_net, 0.0, t1, None, phi0, mu, samples=sampler,
                       stepsize_controller=dfx.PIDController(rtol=1e-10, atol=1e-12))
        assert float(jnp.max(jnp.abs(sol.evaluate(x)[-1] - fit))) <= 1e-8
        assert sol.stats["num_steps"] > 0


def test_samplers(shift_net):
    eq = pdes.Advection()
    phi = ng.get_phi(shift_net)
    r = ng.RandomSampler(100, jr.PRNGKey(0))
    a, b = r(eq, shift_net, phi, jnp.array(0)), r(eq, shift_net, phi, jnp.array(1))
    assert a.shape == (100, 1) and not jnp.allclose(a, b)
    assert jnp.array_equal(a, r(eq, shift_net, phi, jnp.array(0)))
    assert float(a.min()) >= 0 and float(a.max()) < 1
    assert ng.UniformSampler(64)(eq, shift_net, phi, 0).shape == (64, 1)
    # on a Burgers front, the steepness sampler puts most points near the front
    burgers, model = pdes.Burgers(), ng.load_pretrained("burgers")
    phi = model.phi(0.4, 2e-3)
    u = ng.set_phi(model.net, phi)
    s = ng.SteepSampler(4000, jr.PRNGKey(1), n_fine=1024, uniform_fraction=0.2)
    pts = s(burgers, model.net, phi, jnp.array(0))
    grid = ng.UniformSampler(1024)(burgers, model.net, phi, 0)
    front = grid[jnp.argmax(jnp.abs(jax.vmap(jax.grad(u))(grid)[:, 0]))]
    near = jnp.abs((pts[:, 0] - front[0] + 0.5) % 1.0 - 0.5) < 0.05
    assert float(near.mean()) > 0.4  # a uniform draw puts 10% there
    with pytest.raises(ValueError, match="uniform_fraction"):
        ng.SteepSampler(10, jr.PRNGKey(0), uniform_fraction=0.0)
