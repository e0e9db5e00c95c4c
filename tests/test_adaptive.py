"""Adaptive online weights (`AdaptiveOnline`): a base set that always moves and a pool brought
online where the Galerkin residual rises above a tolerance.

The model is a construction where the base set is deliberately too small: a small untrained
network on linear advection whose base set is the CoLoRA scales of its first two layers; the
pool holds the last layer's scales and the shift of the periodic embedding, whose tangent
`du/ds = -u_x` is the advection's right-hand side up to the speed. The fixed base set cannot
follow the translation; the adaptive set should bring the shift online at once (and only it),
after which the reduced solution is the fitted initial condition translated exactly."""

import diffrax as dfx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import neural_galerkin as ng
import pdes

MU = 0.8
T1 = 1.0
TS = jnp.linspace(0.0, T1, 6)
KW = dict(samples=64, saveat=dfx.SaveAt(ts=TS), residual_tol=None)


@pytest.fixture(scope="module")
def problem():
    eq = pdes.Advection()
    net = ng.CoLoRAMLP(ng.PeriodicEmbedding(eq.lower, eq.lengths, online_shift=True), 8, 3, 2,
                       key=jr.PRNGKey(0))
    labels = ng.online_labels(net)
    base = [i for i, name in enumerate(labels) if name.startswith(("layers[0]", "layers[1]"))]
    phi0, _ = ng.fit_initial_condition(eq, net, mu=MU, samples=64)
    x = jnp.linspace(0.0, 1.0, 200, endpoint=False)[:, None]
    exact = jax.vmap(lambda t: jax.vmap(lambda y: eq.exact(y, t, MU))(x))(TS)

    def error(sol):
        return float(jnp.linalg.norm(sol.evaluate(x) - exact) / jnp.linalg.norm(exact))

    return eq, net, labels, base, phi0, error


@pytest.fixture(scope="module")
def fixed(problem):
    eq, net, _, base, phi0, _ = problem
    return ng.solve(eq, net, 0.0, T1, None, phi0, MU, adaptive=ng.AdaptiveOnline(base, tol=None),
                    **KW)


def test_online_labels(problem):
    _, net, labels, base, _, _ = problem
    assert len(labels) == ng.num_phi(net) == 7
    assert labels[0] == "embedding.shift[0]" and labels[-1] == "layers[2].alpha[1]"
    assert base == [1, 2, 3, 4]


def test_adaptive_set_lowers_the_error(problem, fixed):
    eq, net, labels, base, phi0, error = problem
    sol = ng.solve(eq, net, 0.0, T1, None, phi0, MU,
                   adaptive=ng.AdaptiveOnline(base, tol=0.05, max_add=1), **KW)
    # measured: the fixed base set 1.13, the adaptive set 0.159 (the initial fit's error, which
    # the translation keeps): a factor 7.1
    assert error(fixed) > 5 * error(sol)
    # the shift, the most useful member, came online at the first step, and nothing else
    shift = labels.index("embedding.shift[0]")
    want = np.zeros(len(labels), bool)
    want[base + [shift]] = True
    assert np.array_equal(np.asarray(sol.active), np.broadcast_to(want, sol.active.shape))
    assert int(sol.stats["num_online_added"]) == 1 and int(sol.stats["num_online_changes"]) == 1
    assert int(sol.stats["num_online_dropped"]) == 0
    # the other pool members never moved; the residual of the active set is round-off
    pool = ~want
    assert np.array_equal(np.asarray(sol.phis[:, pool]),
                          np.broadcast_to(np.asarray(phi0)[pool], (len(TS), int(pool.sum()))))
    assert float(jnp.max(sol.residuals)) < 1e-8
    assert float(jnp.max(fixed.residuals)) > 0.5


def test_never_triggered_is_the_fixed_set(problem, fixed):
    eq, net, _, base, phi0, _ = problem
    # the relative residual of a least-squares solution is at most 1: tol=1 never triggers
    never = ng.solve(eq, net, 0.0, T1, None, phi0, MU, adaptive=ng.AdaptiveOnline(base, tol=1.0),
                     **KW)
    assert float(jnp.max(jnp.abs(never.phis - fixed.phis))) == 0.0
    assert int(never.stats["num_online_changes"]) == 0
    assert not np.any(np.asarray(never.active)[:, [0, 5, 6]])
    # and the fixed set is the solve of those columns alone (forward-mode Jacobian of the
    # base columns, plain diffrax): equal to round-off over its 280 steps
    field = ng.GalerkinField(eq, net, eq.grid(64).reshape(-1, 1), ng.LeastSquares(),
                             active=jnp.asarray(base))
    plain = dfx.diffeqsolve(dfx.ODETerm(field), dfx.Tsit5(), 0.0, T1, None, phi0, MU,
                            saveat=dfx.SaveAt(ts=TS), max_steps=10_000,
                            stepsize_controller=dfx.PIDController(rtol=1e-6, atol=1e-8))
    assert int(plain.stats["num_steps"]) == int(fixed.stats["num_steps"])
    assert float(jnp.max(jnp.abs(plain.ys - fixed.phis))) < 1e-8


def test_adaptive_with_conservation(problem):
    eq, net, _, base, phi0, error = problem
    sol = ng.solve(eq, net, 0.0, T1, None, phi0, MU, adaptive=ng.AdaptiveOnline(base, tol=0.05),
                   conserve=["mass"], **KW)
    assert sol.drift()["mass"] < 1e-12
    # every member that passes comes online (max_add=None); the shift stays, the rest go
    assert np.all(np.asarray(sol.active)[:, 0])
    assert int(sol.stats["num_online_added"]) >= 1
    assert error(sol) < 0.2


def test_fixed_set_with_conservation_moves_only_the_active_weights(problem):
    """The projection corrects along the active columns alone: with the fixed base set
    (`tol=None`, the same compilation as the adaptive solve above) and mass held, the three
    weights outside the base stay exactly at their initial values, the mass to round-off.
    Measured: before the projection was restricted to the active columns, those weights moved
    by up to 5.2e-10; now 0; the mass drift 1.1e-15."""
    eq, net, _, base, phi0, _ = problem
    sol = ng.solve(eq, net, 0.0, T1, None, phi0, MU, adaptive=ng.AdaptiveOnline(base, tol=None),
                   conserve=["mass"], **KW)
    frozen = np.ones(len(phi0), bool)
    frozen[base] = False
    assert not np.any(np.asarray(sol.active)[:, frozen])
    assert np.array_equal(np.asarray(sol.phis[:, frozen]),
                          np.broadcast_to(np.asarray(phi0)[frozen], (len(TS), 3)))
    assert float(np.max(np.abs(np.asarray(sol.phis[-1] - phi0)[base]))) > 1e-3  # the base moved
    assert sol.drift()["mass"] < 1e-13


def test_invariant_independent_of_the_active_weights_is_reported(problem):
    """The mass of a periodic function does not depend on its shift: with the shift alone
    online its gradient there is round-off (6.7e-16, against 0.90 over every column). The
    solve says so (`RESULTS.degenerate_active_constraints`) instead of holding the shift still
    by a constraint along that round-off, which it did before, reporting success."""
    eq, net, labels, _, phi0, _ = problem
    shift = labels.index("embedding.shift[0]")
    adaptive = ng.AdaptiveOnline([shift], tol=None)
    sol = ng.solve(eq, net, 0.0, T1, None, phi0, MU, adaptive=adaptive, conserve=["mass"],
                   throw=False, **KW)
    assert sol.result == ng.RESULTS.degenerate_active_constraints
    # no collapse of the step size: every saved time reached, in a few steps (measured 3)
    assert np.all(np.isfinite(np.asarray(sol.phis))) and int(sol.stats["num_steps"]) < 20
    # the constraints are zero there, and the projection corrects nothing
    assert np.array_equal(np.asarray(sol.phis), np.broadcast_to(np.asarray(phi0), sol.phis.shape))
    with pytest.raises(ng.SolveError, match="do not depend on the online weights that move"):
        ng.solve(eq, net, 0.0, T1, None, phi0, MU, adaptive=adaptive, conserve=["mass"], **KW)


def test_adaptive_batch_equals_single_solves(problem):
    """`solve_batch` (vmapped) with adaptive online weights: each member's weights, active
    sets and residuals are those of its own solve."""
    eq, net, _, base, _, _ = problem
    mus = jnp.array([0.8, 1.2])
    phi0 = jnp.stack([ng.fit_initial_condition(eq, net, mu=float(m), samples=64)[0]
                      for m in mus])
    adaptive = ng.AdaptiveOnline(base, tol=0.05, max_add=1)
    batch = ng.solve_batch(eq, net, 0.0, T1, None, phi0, mus, batch_size=2, adaptive=adaptive,
                           **KW)
    assert batch.active.shape == (2, len(TS), 7)
    for i in range(2):
        one = ng.solve(eq, net, 0.0, T1, None, phi0[i], mus[i], adaptive=adaptive, **KW)
        assert float(jnp.max(jnp.abs(one.phis - batch.phis[i]))) < 1e-10
        assert np.array_equal(np.asarray(one.active), np.asarray(batch.active[i]))
        assert float(jnp.max(jnp.abs(one.residuals - batch.residuals[i]))) < 1e-10
        assert int(batch.stats["num_online_added"][i]) == int(one.stats["num_online_added"])


def test_decide_adds_the_best_member_and_drops_the_idle():
    """`decide` on a system with orthonormal columns `e_0..e_3` and `F = 3 e_0 + 2 e_2 + e_3`:
    the base `{0}` leaves `2 e_2 + e_3` (relative residual 0.60); member 2 reduces it most,
    member 1 not at all; an active member 1 contributes nothing and is dropped."""
    J = jnp.eye(6, 4)
    F = jnp.array([3.0, 0.0, 2.0, 1.0, 0.0, 0.0])
    base = jnp.array([True, False, False, False])
    lstsq = ng.LeastSquares()
    mask, added, dropped = ng.AdaptiveOnline([0], tol=0.1, max_add=1).decide(
        J, F, base, lstsq, base)
    assert mask.tolist() == [True, False, True, False] and not dropped.any()
    every = ng.AdaptiveOnline([0], tol=0.1).decide(J, F, base, lstsq, base)[0]
    assert every.tolist() == [True, False, True, True]
    # below the tolerance nothing comes online; an idle active member goes offline
    current = jnp.array([True, True, False, False])
    mask, added, dropped = ng.AdaptiveOnline([0], tol=0.7).decide(J, F, current, lstsq, base)
    assert mask.tolist() == [True, False, False, False] and dropped.tolist() == [
        False, True, False, False] and not added.any()
    # a member whose gain is below drop_tol does not come online
    mask = ng.AdaptiveOnline([0], tol=0.1, drop_tol=0.6).decide(J, F, base, lstsq, base)[0]
    assert mask.tolist() == [True, False, False, False]


def test_record_of_the_active_set():
    """Three changes into a record of two: the last one overwrites the second, the counts
    keep all three; a change at `t` counts from `t` on."""
    adaptive = ng.AdaptiveOnline([0], max_changes=2)
    base = jnp.array([True, False, False])
    state = adaptive.init(3, jnp.float64)
    sets = [[True, True, False], [True, True, True], [True, False, True]]
    for t, new in zip((0.1, 0.2, 0.3), sets):
        new = jnp.array(new)
        state = adaptive.record(state, jnp.asarray(t), new, new & ~state.mask,
                                state.mask & ~new)
        unchanged = adaptive.record(state, jnp.asarray(t + 0.05), new, new & False, new & False)
        assert int(unchanged.n_changes) == int(state.n_changes)
    assert int(state.n_changes) == 3 and int(state.n_added) == 2 and int(state.n_dropped) == 1
    active = state.active_at(jnp.array([0.0, 0.1, 0.15, 0.3, 0.4]), base)
    assert np.asarray(active).tolist() == [[True, False, False]] + [[True, True, False]] * 2 + [
        [True, False, True]] * 2


def test_adaptive_bad_input(problem):
    eq, net, _, base, phi0, _ = problem
    with pytest.raises(ValueError, match="non-negative"):
        ng.AdaptiveOnline(base, tol=-1.0)
    with pytest.raises(ValueError, match="max_add"):
        ng.AdaptiveOnline(base, max_add=0)
    with pytest.raises(ValueError, match="distinct"):
        ng.AdaptiveOnline([1, 1])
    with pytest.raises(TypeError, match="integer indices or a boolean mask"):
        ng.AdaptiveOnline([0.5])
    with pytest.raises(TypeError, match="AdaptiveOnline"):
        ng.solve(eq, net, 0.0, T1, None, phi0, MU, adaptive=base, **KW)
    with pytest.raises(ValueError, match="out of range"):
        ng.solve(eq, net, 0.0, T1, None, phi0, MU, adaptive=ng.AdaptiveOnline([9]), **KW)
    with pytest.raises(ValueError, match="entries"):
        ng.solve(eq, net, 0.0, T1, None, phi0, MU,
                 adaptive=ng.AdaptiveOnline([True, False]), **KW)
    with pytest.raises(ValueError, match="empty"):
        ng.solve(eq, net, 0.0, T1, None, phi0, MU,
                 adaptive=ng.AdaptiveOnline([False] * 7), **KW)
    with pytest.raises(ValueError, match="one of adaptive= and sparse_updates="):
        ng.solve(eq, net, 0.0, T1, None, phi0, MU, adaptive=ng.AdaptiveOnline(base),
                 sparse_updates=ng.SparseUpdates(2, jr.PRNGKey(0)), **KW)
