"""The Fokker-Planck equation of interacting particles on R^d (`pdes.FokkerPlanck`): its exact
moments against a Monte Carlo run, the Gaussian-envelope ansatz, the sampler that follows the
density, and the equation-driven solve against the exact Gaussian in 2D."""

import diffrax as dfx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import neural_galerkin as ng
import pdes
from pdes._boundary import check_boundaries


class NoDraw(pdes.FokkerPlanck):
    """A density on R^d whose equation cannot draw from its exact density."""

    sample = None


def envelope_net(eq, key, width=8, depth=3, rank=2):
    emb = ng.PeriodicEmbedding(eq.lower, eq.lengths, unbounded=(True,) * eq.ndim)
    return ng.CoLoRAMLP(emb, width, depth, rank, envelope=True, key=key)


def gauss_hermite_2d(m):
    """The tensor Gauss-Hermite rule of `m x m` points for the standard normal density in 2D:
    nodes `(m^2, 2)`, weights `(m^2,)` summing to 1."""
    g, w = np.polynomial.hermite_e.hermegauss(m)
    return (np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2),
            np.outer(w, w).ravel() / (2 * np.pi))


def test_exact_moments_agree_with_a_monte_carlo_run():
    """The moment ODEs against Euler-Maruyama particles: every entry of the mean and the
    covariance within 5 standard errors (16 entries per time: a false alarm has probability
    below 1e-4), and the same run tells the moments of another interaction apart."""
    eq = pdes.FokkerPlanck.in_dimension(3)
    ts = jnp.array([0.25, 0.5])
    mc = eq.monte_carlo(0.5, ts, 20_000, key=jr.PRNGKey(0), dt=1e-3)
    assert mc.mean.shape == (2, 3) and mc.cov.shape == (2, 3, 3) and mc.num_steps == 500
    means, covs = eq.moments(ts, 0.5)
    z_mean = np.abs(np.asarray((mc.mean - means) / mc.mean_se))
    z_cov = np.abs(np.asarray((mc.cov - covs) / mc.cov_se))
    # measured: largest 2.3 (mean), 1.0 (covariance)
    assert z_mean.max() < 5 and z_cov.max() < 5, (z_mean.max(), z_cov.max())
    # the power of the check: without the interaction the covariance is diagonal, which the
    # particles refute by many standard errors (measured: 32)
    _, covs0 = eq.moments(ts, 0.0)
    assert np.max(np.abs(np.asarray((mc.cov - covs0) / mc.cov_se))) > 20


def test_exact_solution_is_a_normalised_gaussian_with_the_initial_moments():
    eq = pdes.FokkerPlanck.in_dimension(2)
    x = jnp.array([1.0, 2.5])
    assert jnp.allclose(eq.exact(x, 0.0, 0.3), eq.initial_condition(x, 0.3), rtol=1e-12)
    means, covs = eq.moments(jnp.array([0.0, 8.0]), 0.3)
    assert np.allclose(means[0], [0.9, 3.0]) and np.allclose(covs[0], 0.1 * np.eye(2))
    # total probability 1 at t = 8, by Gauss-Hermite quadrature in the Gaussian's own frame
    zz, ww = gauss_hermite_2d(30)
    L = np.linalg.cholesky(np.asarray(covs[1]))
    pts = np.asarray(means[1]) + zz @ L.T
    q = np.exp(-0.5 * np.sum(zz**2, 1)) / (2 * np.pi * np.linalg.det(L))
    u = jax.vmap(lambda p: eq.exact(p, 8.0, 0.3))(jnp.asarray(pts))
    mass = np.sum(ww * np.asarray(u) / q)
    assert abs(mass - 1) < 1e-12, mass


def test_the_envelope_network_starts_as_its_gaussian(getkey):
    eq = pdes.FokkerPlanck.in_dimension(3)
    net = envelope_net(eq, getkey())
    cov = jnp.array([[0.2, 0.05, 0.0], [0.05, 0.1, 0.02], [0.0, 0.02, 0.3]])
    mean = jnp.array([1.0, 2.0, 0.5])
    u = ng.set_phi(net, ng.envelope_phi(net, mean, cov))
    x = mean[None] + jr.normal(getkey(), (16, 3))
    got = jax.vmap(u)(x)
    want = jax.vmap(lambda p: pdes.gaussian_density(p, mean, cov))(x)
    assert np.allclose(got, want, rtol=1e-12, atol=0)
    assert np.allclose(u.envelope.covariance(), cov, rtol=1e-12)
    # the sampler's points follow the envelope: their moments are the envelope's
    pts = ng.envelope_points(net, ng.envelope_phi(net, mean, cov), 40_000, getkey())
    assert np.allclose(jnp.mean(pts, 0), mean, atol=0.02)
    assert np.allclose(jnp.cov(pts.T), cov, atol=0.01)


def test_a_model_on_R_d_saves_and_loads(tmp_path, getkey):
    config = ng.ModelConfig("fokker-planck-2d", (-0.5, -0.5), (5.0, 5.0), (0.0, 1.0),
                            (0.0, 0.5), width=8, depth=3, boundaries=("unbounded",) * 2)
    model = ng.make_model(config, key=getkey())
    assert model.net.envelope is not None
    ng.save_model(tmp_path / "m", model)
    back = ng.load_model(tmp_path / "m")
    x = jnp.array([1.0, 2.0])
    phi = model.phi(0.5, 0.2)
    assert back.u(x, phi) == model.u(x, phi)


def test_eq_solve_in_2d_follows_the_exact_gaussian(getkey):
    """The equation-driven solve of the 2D case (alpha = 0.35, t in [0, 1]) from the exact
    initial Gaussian, on 200 points drawn from the current envelope at every step, mass held
    by projection: bounds (about 15x the measured errors, which are the time stepping's at
    rtol 1e-6) on the relative L2 error of the density at points drawn from the exact density
    (the Gaussian of the exact moments), on the mean and covariance errors, and on the mass
    drift; and the network's own online weights stay at round-off, since the solution never
    leaves the Gaussian family the envelope holds."""
    eq = pdes.FokkerPlanck.in_dimension(2)
    mu, ts = 0.35, jnp.array([0.0, 0.5, 1.0])
    net = envelope_net(eq, jr.PRNGKey(0))
    phi0 = ng.envelope_phi(net, eq.mean0, eq.variance0 * jnp.eye(2))
    sol = ng.solve(eq, net, 0.0, 1.0, None, phi0, mu, saveat=dfx.SaveAt(ts=ts),
                   samples=ng.EnvelopeSampler(200, jr.PRNGKey(1)), conserve="mass")
    means, covs = eq.moments(ts[1:], mu)
    for k in (1, 2):
        u = ng.set_phi(net, sol.phis[k])
        L = jnp.linalg.cholesky(covs[k - 1])
        x = means[k - 1][None] + jr.normal(getkey(), (2000, 2)) @ L.T
        exact = jax.vmap(lambda p: pdes.gaussian_density(p, means[k - 1], covs[k - 1]))(x)
        err = float(jnp.linalg.norm(jax.vmap(u)(x) - exact) / jnp.linalg.norm(exact))
        mean_err = float(jnp.linalg.norm(u.envelope.mean - means[k - 1])
                         / jnp.linalg.norm(means[k - 1]))
        cov_err = float(jnp.linalg.norm(u.envelope.covariance() - covs[k - 1])
                        / jnp.linalg.norm(covs[k - 1]))
        # measured: density 6.7e-6, mean 7.4e-7, covariance 2.4e-7 (time stepping, rtol 1e-6)
        assert err < 1e-4 and mean_err < 1e-5 and cov_err < 1e-5, (err, mean_err, cov_err)
    n_alpha = ng.num_phi(net) - 2 - 3  # the envelope's mean and Cholesky factor last
    assert float(jnp.max(jnp.abs(sol.phis[:, :n_alpha]))) < 1e-9  # measured 3.9e-13
    mass = np.asarray(sol.invariants["mass"])
    assert np.max(np.abs(mass - mass[0])) <= 1e-12 * abs(mass[0]), mass


def test_bad_inputs_say_what_to_do(getkey):
    with pytest.raises(ValueError, match="make every direction pdes.Unbounded"):
        check_boundaries((pdes.Unbounded(), pdes.Periodic()), 2, "eq")
    eq = pdes.FokkerPlanck.in_dimension(2)
    with pytest.raises(NotImplementedError, match="no grid reference"):
        pdes.reference_solve(eq, 0.2, 16, jnp.array([0.0, 0.1]))
    with pytest.raises(ValueError, match="at least 2 particles"):
        eq.monte_carlo(0.2, [0.1], 1, key=getkey())
    with pytest.raises(ValueError, match="dt must be a positive step"):
        eq.monte_carlo(0.2, [0.1], 10, key=getkey(), dt=0.0)
    with pytest.raises(ValueError, match="increasing and from ts"):
        eq.monte_carlo(0.2, [0.2, 0.1], 10, key=getkey())
    # a density on R^d in d > 3 that cannot draw from itself: neither data nor comparison
    no_draw = NoDraw.in_dimension(4)
    with pytest.raises(ValueError, match=r"nodraw is a density on R\^4: points drawn "
                       r"uniformly in its box miss its mass \(.*\); give the equation a "
                       "method sample"):
        ng.trajectories_from_exact(no_draw, [0.2], [0.0, 0.1], 16, key=getkey())
    with pytest.raises(ValueError, match="miss its mass; give the equation a method sample"):
        config = ng.ModelConfig("data", (-0.5,) * 4, (5.0,) * 4, (0.0, 8.0),
                                (0.0, 0.5), width=8, depth=3, boundaries=("unbounded",) * 4)
        ng.compare(no_draw, ng.make_model(config, key=getkey()), 0.2, reference="exact")
    with pytest.raises(ValueError, match="mu=0.7 is outside the range"):
        eq.check_mu(0.7)
    # a network on a box cannot draw from a density
    box = ng.CoLoRAMLP(ng.PeriodicEmbedding((0.0, 0.0), (1.0, 1.0)), 8, 3, 2, key=getkey())
    with pytest.raises(ValueError, match="need a network with a Gaussian envelope"):
        ng.EnvelopeSampler(8, getkey())(eq, box, ng.get_phi(box), jnp.array(0))
    with pytest.raises(ValueError, match="the network's ansatz"):
        ng.solve(eq, box, 0.0, 0.1, None, ng.get_phi(box), 0.2,
                 samples=ng.EnvelopeSampler(64, getkey()))
    with pytest.raises(ValueError, match="envelope=True goes with an embedding"):
        ng.CoLoRAMLP(ng.PeriodicEmbedding((0.0,), (1.0,)), 8, 3, 2, envelope=True,
                     key=getkey())
    with pytest.raises(ValueError, match="all True or all False"):
        ng.PeriodicEmbedding((0.0, 0.0), (1.0, 1.0), unbounded=(True, False))
    with pytest.raises(ValueError, match="every direction unbounded"):
        ng.ModelConfig("x", (0.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 1.0),
                       boundaries=("unbounded", "periodic"))
    net = envelope_net(eq, getkey())
    with pytest.raises(ValueError, match="shapes \\(2,\\) and \\(2, 2\\)"):
        ng.envelope_phi(net, jnp.zeros(3), jnp.eye(2))


def test_ansatz_moments_are_the_densitys_own_with_honest_errors(getkey):
    """`ng.ansatz_moments` (importance sampling from the envelope, with the envelope's exact
    moments as control variate): with the network's factor 1 it returns the envelope's
    moments to round-off; with a network correction it agrees with Gauss-Hermite quadrature
    of the ansatz within 5 of its own standard errors, and those errors are far below plain
    sampling's (the control variate's gain)."""
    eq = pdes.FokkerPlanck.in_dimension(2)
    net = envelope_net(eq, jr.PRNGKey(3))
    mean = jnp.array([1.0, 2.0])
    cov = jnp.array([[0.04, 0.01], [0.01, 0.02]])
    phi = ng.envelope_phi(net, mean, cov)
    m = ng.ansatz_moments(net, phi, 4000, getkey())
    assert np.allclose(m.mean, mean, rtol=0, atol=1e-13)
    assert np.allclose(m.cov, cov, rtol=0, atol=1e-13) and abs(float(m.mass) - 1) < 1e-13
    assert float(m.ess) == pytest.approx(4000, rel=1e-12)
    # a network correction: every CoLoRA coefficient at 4 (a skewed, non-Gaussian density)
    n_alpha = ng.num_phi(net) - 2 - 3
    phi = phi.at[:n_alpha].set(4.0)
    u = ng.set_phi(net, phi)
    zz, ww = gauss_hermite_2d(60)
    x = u.envelope.points(jnp.asarray(zz))
    ratio = np.asarray(jax.vmap(lambda p: u(p) / jnp.exp(u.envelope.log_density(p)))(x))
    ww = ww * ratio
    mass = ww.sum()
    want_mean = (ww[:, None] * np.asarray(x)).sum(0) / mass
    dev = np.asarray(x) - want_mean
    want_cov = (ww[:, None, None] * dev[:, :, None] * dev[:, None, :]).sum(0) / mass
    # the correction is not small: the ansatz's moments are not the envelope's
    shift = np.max(np.abs(want_mean - np.asarray(mean)) / np.sqrt(np.diag(cov)))
    assert shift > 0.05, shift  # measured 0.11 standard deviations
    m = ng.ansatz_moments(net, phi, 4000, getkey())
    z_mean = np.abs(np.asarray(m.mean) - want_mean) / np.asarray(m.mean_se)
    z_cov = np.abs(np.asarray(m.cov) - want_cov) / np.asarray(m.cov_se)
    assert abs(float(m.mass) - mass) < 5 * float(m.mass_se)
    # measured: largest 0.67 (mean), 1.6 (covariance), 0.84 (mass) standard errors
    assert z_mean.max() < 5 and z_cov.max() < 5, (z_mean, z_cov)
    # plain sampling of the ansatz would have standard errors sqrt(var / n): the control
    # variate's are 0.36 and 0.25 of them (measured; effective sample size 3806 of 4000)
    plain_se = np.sqrt(np.diag(want_cov) / 4000)
    assert np.all(np.asarray(m.mean_se) < plain_se / 2), (m.mean_se, plain_se)


def test_eq_solve_of_the_quartic_trap_follows_a_monte_carlo_run():
    """The anharmonic trap (`FokkerPlanckQuartic`, gamma = 5, no exact solution) in 2D,
    alpha = 0.375, t in [0, 1]: the equation-driven solve with every online weight (envelope
    and network; 400 points from the envelope, the same draws at every step, ridge 1, mass by
    projection), its moments by `ansatz_moments`, against Euler-Maruyama on 20000 particles.
    At t = 1 the bounds are 3-4x the measured errors; they are far below the distance of the
    linear trap's exact moments from the same particles (the check's power: the solve
    follows the cubic force). Earlier the errors are much larger (in
    `benchmarks/fokker_planck_nonlinear.py`, d = 4: mean 1.4e-2 and covariance 0.42 at
    t = 0.25, in the transient where the density is most skewed)."""
    eq = pdes.FokkerPlanckQuartic.in_dimension(2)
    mu, ts = 0.375, jnp.array([0.0, 0.5, 1.0])
    net = envelope_net(eq, jr.PRNGKey(0))
    phi0 = ng.envelope_phi(net, eq.mean0, eq.variance0 * jnp.eye(2))
    sol = ng.solve(eq, net, 0.0, 1.0, None, phi0, mu, saveat=dfx.SaveAt(ts=ts),
                   samples=ng.EnvelopeSampler(400, jr.PRNGKey(1), redraw=False),
                   lstsq=ng.LeastSquares(ridge=1.0), conserve="mass",
                   residual_tol=0.2)  # the relative Galerkin residual: measured 0.11 at t = 0
    m = ng.ansatz_moments(net, sol.phis[-1], 20_000, jr.PRNGKey(2))
    mc = eq.monte_carlo(mu, ts[1:], 20_000, key=jr.PRNGKey(3), dt=1e-3)
    mean_err = float(jnp.linalg.norm(m.mean - mc.mean[-1]) / jnp.linalg.norm(mc.mean[-1]))
    cov_err = float(jnp.linalg.norm(m.cov - mc.cov[-1]) / jnp.linalg.norm(mc.cov[-1]))
    lin_means, lin_covs = pdes.FokkerPlanck.in_dimension(2).moments(ts, mu)
    lin_mean = float(jnp.linalg.norm(lin_means[-1] - mc.mean[-1]) / jnp.linalg.norm(mc.mean[-1]))
    lin_cov = float(jnp.linalg.norm(lin_covs[-1] - mc.cov[-1]) / jnp.linalg.norm(mc.cov[-1]))
    # measured: mean 1.3e-3, covariance 3.7e-2; the linear trap's moments: 0.12 and 7.0
    assert mean_err < 5e-3 and cov_err < 0.12, (mean_err, cov_err)
    assert lin_mean > 10 * 5e-3 and lin_cov > 10 * 0.12, (lin_mean, lin_cov)
    # the network is used (its CoLoRA coefficients move: measured up to 4.3), though it does
    # not make the moments better than the envelope alone (the benchmark's table)
    assert float(jnp.max(jnp.abs(sol.phis[:, :6]))) > 0.1
    # the mass is held on the default sparse grid (level 10, 1361 points) to round-off, and
    # the ansatz's true integral (Gauss-Hermite, 80 x 80 points in the envelope's frame)
    # follows it: measured drift 1.8e-6 (held on Monte Carlo draws instead, 400 of them:
    # 3.8e-3; on the sparse grid of level 3, 45 points: 2.3e-4)
    assert sol.drift()["mass"] < 1e-13
    zz, ww = (jnp.asarray(a) for a in gauss_hermite_2d(80))

    def true_mass(phi):
        u = ng.set_phi(net, phi)
        return ww @ jax.vmap(lambda p: jnp.exp(u.log_value(p) - u.envelope.log_density(p)))(
            u.envelope.points(zz))

    masses = np.asarray(jax.vmap(true_mass)(sol.phis))
    assert np.max(np.abs(masses - masses[0])) < 2e-5, masses


def test_point_trajectories_take_points_per_snapshot():
    """Points of shape (n_mu, n_t, n_points, d) beside the shared (n_points, d); others are
    refused, naming both layouts."""
    mu, t = np.array([0.1, 0.2]), np.array([0.0, 0.5, 1.0])
    kw = dict(mu=mu, t=t, lower=(0.0, 0.0), lengths=(1.0, 1.0))
    data = ng.PointTrajectories(u=np.ones((2, 3, 5)), points=np.zeros((2, 3, 5, 2)), **kw)
    assert data.per_snapshot and data.n_points == 5
    shared = ng.PointTrajectories(u=np.ones((2, 3, 5)), points=np.zeros((5, 2)), **kw)
    assert not shared.per_snapshot and shared.n_points == 5
    with pytest.raises(ValueError, match=r"or \(n_mu, n_t, n_points, 2\) = \(2, 3, n_points, 2\)"
                       r" \(one set per snapshot\), got \(3, 2, 5, 2\)"):
        ng.PointTrajectories(u=np.ones((2, 3, 5)), points=np.zeros((3, 2, 5, 2)), **kw)
    with pytest.raises(ValueError, match=r"u has shape \(2, 3, 4\), expected"):
        ng.PointTrajectories(u=np.ones((2, 3, 4)), points=np.zeros((2, 3, 5, 2)), **kw)
    # the fingerprint of a checkpoint tells the two layouts apart
    from neural_galerkin._checkpoint import data_fingerprint

    moved = ng.PointTrajectories(u=np.ones((2, 3, 5)), points=np.ones((2, 3, 5, 2)), **kw)
    assert data_fingerprint(data) != data_fingerprint(moved)


def test_training_points_are_drawn_from_the_density():
    """On R^2 the data are drawn from the exact density at each snapshot: the sample mean of
    each snapshot's 2000 points is within 5 standard errors of the exact mean (every entry),
    the values are the exact density at those points, and the points follow the trap."""
    eq = pdes.FokkerPlanck.in_dimension(2)
    ts = np.array([0.0, 0.5, 2.0])
    data = ng.trajectories_from_exact(eq, [0.1, 0.4], ts, 2000, key=jr.PRNGKey(3))
    assert data.per_snapshot and data.points.shape == (2, 3, 2000, 2)
    for i, mu in enumerate((0.1, 0.4)):
        means, covs = eq.moments(ts, mu)
        se = np.sqrt(np.diagonal(np.asarray(covs), axis1=1, axis2=2) / 2000)
        z = np.abs(data.points[i].mean(axis=1) - np.asarray(means)) / se
        assert z.max() < 5, z  # measured: largest 1.9
        x = data.points[i, 1, :3]
        want = [float(eq.exact(jnp.asarray(p), ts[1], mu)) for p in x]
        np.testing.assert_allclose(data.u[i, 1, :3], want, rtol=1e-12)
    # the points moved with the density: at t = 0.5 the mean is ~0.5 off the initial one
    assert np.all(np.abs(data.points[0, 1].mean(0) - np.asarray(eq.mean0)) > 0.1)


def test_pretrain_on_density_points_lowers_the_log_loss(getkey):
    """A few steps of `pretrain(loss="log")` on data drawn from a 2D density: the hypernetwork
    starts at the snapshots' sample moments (envelope within a few per cent of the exact
    moments at a training parameter), and training lowers the loss. The residual term and a
    network without an envelope are refused for it."""
    eq = pdes.FokkerPlanck.in_dimension(2)
    ts = np.linspace(0.0, 1.0, 5)
    data = ng.trajectories_from_exact(eq, [0.0, 0.5], ts, 512, key=jr.PRNGKey(0))
    kw = dict(equation="fokker-planck-2d", key=jr.PRNGKey(1), width=8, depth=3, rank=2,
              hyper_width=16, batch_snapshots=4, batch_points=64, progress=False, loss="log")
    model, history = ng.pretrain(data, steps=40, log_every=10, learning_rate=1e-3,
                                 boundaries=("unbounded",) * 2, **kw)
    # measured: 1.4e-2 over the first 10 steps (the moment start), 7.6e-3 over the last 10
    assert history["loss"][-1] < 0.7 * history["loss"][0], history["loss"]
    means, covs = eq.moments(ts, 0.5)
    net = ng.set_phi(model.net, model.phi(ts[2], 0.5))
    rel = lambda a, b: float(jnp.linalg.norm(a - b) / jnp.linalg.norm(b))  # noqa: E731
    assert rel(net.envelope.mean, means[2]) < 0.05 and rel(net.envelope.covariance(),
                                                            covs[2]) < 0.3
    for term in (dict(residual_weight=0.1), dict(tangent_weight=0.1)):
        with pytest.raises(ValueError, match="the residual and tangent terms draw uniform"):
            ng.pretrain(data, steps=2, pde=eq, **term, **kw)
    with pytest.raises(ValueError, match="loss='log' needs a network with a Gaussian envelope"):
        ng.pretrain(data, steps=2, **kw)


def _normal_moment(a) -> float:
    """`E[prod z_i^a_i]` for standard normal `z`: prod of (a_i - 1)!! (0 for odd a_i)."""
    return float(np.prod([0.0 if k % 2 else np.prod(np.arange(k - 1, 0, -2.0)) for k in a]))


@pytest.mark.parametrize("d, level, count", [(3, 3, 105), (8, 2, 161), (8, 3, 1105)])
def test_sparse_grid_is_exact_for_polynomials_of_its_degree(d, level, count):
    """`ng.gauss_hermite_sparse_grid(d, level)`: weights summing to 1, every monomial of total
    degree up to 2 level + 1 (in the first three coordinates) integrated against the standard
    normal density to round-off, and far fewer points than the tensor rule of the same
    one-dimensional sizes (7^8 = 5.8e6 in d = 8, level 3)."""
    z, w = ng.gauss_hermite_sparse_grid(d, level)
    assert z.shape == (count, d) and w.shape == (count,)
    assert abs(w.sum() - 1) < 1e-13
    worst = 0.0
    for a in np.ndindex(*(2 * level + 2,) * 3):
        if sum(a) <= 2 * level + 1:
            a = (*a, *(0,) * (d - 3))
            got = np.sum(w * np.prod(z ** np.array(a), axis=1))
            worst = max(worst, abs(got - _normal_moment(a)) / max(1.0, _normal_moment(a)))
    assert worst < 1e-12, worst  # measured: 9e-14 at most
    if d > level + 1:  # the power of the check: degree 2 level + 2 is beyond it
        mixed = np.sum(w * np.prod(z[:, :level + 2] ** 2, axis=1))  # E = 1
        assert abs(mixed - 1) > 1e-3, mixed


def test_sparse_grid_bad_input(burgers_net):
    with pytest.raises(ValueError, match="a dimension d >= 1 and a level >= 0"):
        ng.gauss_hermite_sparse_grid(0, 2)
    with pytest.raises(ValueError, match="a dimension d >= 1 and a level >= 0"):
        ng.gauss_hermite_sparse_grid(2, -1)
    with pytest.raises(ValueError, match="not both"):
        ng.Conservation(("mass",), points=100, level=2)
    with pytest.raises(ValueError, match="level"):
        ng.Conservation(("mass",), level=1.5)
    with pytest.raises(ValueError, match="burgers lives on a box: give points"):
        ng.solve(pdes.Burgers(), burgers_net, 0.0, 0.1, None, ng.get_phi(burgers_net), 0.01,
                 conserve=ng.Conservation(("mass",), level=2))
