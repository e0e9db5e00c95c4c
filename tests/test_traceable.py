"""`solve` and `fit_initial_condition` trace: `jax.vmap` and `jax.jit` give the numbers of the
plain call, failures come back as `RESULTS` codes, per member of a batch. A small untrained
fixture network (the numbers, not the accuracy, are under test)."""

import diffrax as dfx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import neural_galerkin as ng
import pdes

EQ = pdes.Burgers()
MUS = jnp.array([2e-3, 4e-3, 6e-3, 8e-3])
KW = dict(samples=64, saveat=dfx.SaveAt(ts=jnp.linspace(0.0, 0.05, 3)), residual_tol=None)


@pytest.fixture(scope="module")
def net():
    return ng.CoLoRAMLP(ng.PeriodicEmbedding(EQ.lower, EQ.lengths), 8, 3, 1,
                        key=jr.PRNGKey(0))


def _solve(net, phi0, mu, **kw):
    return ng.solve(EQ, net, 0.0, 0.05, kw.pop("dt0", None), phi0, mu, **{**KW, **kw})


def test_vmap_of_solve_equals_single_solves(net):
    phi0 = ng.get_phi(net)
    singles = jnp.stack([_solve(net, phi0, m).phis for m in MUS])
    batched = jax.vmap(lambda m: _solve(net, phi0, m).phis)(MUS)
    assert float(jnp.max(jnp.abs(batched - singles))) <= 1e-12
    # and over phi0 as well as mu
    phi0s = phi0[None] * jnp.array([1.0, 0.9, 1.1, 1.05])[:, None]
    both = jax.vmap(lambda p, m: _solve(net, p, m).phis)(phi0s, MUS)
    single = _solve(net, phi0s[2], MUS[2]).phis
    assert float(jnp.max(jnp.abs(both[2] - single))) <= 1e-12


def test_jit_of_fit_and_solve_compiles_once(net):
    traces = []

    @jax.jit
    def run(mu):
        traces.append(mu)
        phi0, err = ng.fit_initial_condition(EQ, net, mu=mu, samples=64)
        return _solve(net, phi0, mu).phis, err

    a, err_a = run(4e-3)
    b, err_b = run(6e-3)
    assert len(traces) == 1  # a new mu runs the compiled function again, no retrace
    phi0, err = ng.fit_initial_condition(EQ, net, mu=6e-3, samples=64)
    # the fit converges to the same error (its minimiser may move along flat directions
    # within the fit's tolerance); the solve from the jitted fit follows it
    assert abs(float(err_b) - err) <= 1e-12 * max(err, 1.0)
    assert float(jnp.max(jnp.abs(b - _solve(net, b[0], 6e-3).phis))) <= 1e-12
    assert not jnp.allclose(a, b)


def test_traced_inputs_are_checked_in_the_trace(net):
    phi0 = ng.get_phi(net)
    with pytest.raises(Exception, match=r"mu is not a finite number inside the range "
                       r"\[0.001, 0.01\]"):
        jax.vmap(lambda m: _solve(net, phi0, m).phis)(jnp.array([4e-3, 0.5]))
    with pytest.raises(Exception, match="phi0 contains NaN or inf"):
        jax.jit(lambda p: _solve(net, p, 4e-3).phis)(phi0 * jnp.nan)


def test_failures_as_result_codes(net):
    phi0 = ng.get_phi(net)
    huge = jnp.full_like(phi0, 1e200)  # the network overflows
    fixed = dict(dt0=0.01, solver=dfx.Euler(), stepsize_controller=dfx.ConstantStepSize())
    blown = _solve(net, huge, 4e-3, throw=False, **fixed)
    assert blown.result == ng.RESULTS.blow_up
    stuck = _solve(net, huge, 4e-3, throw=False, max_steps=20)
    assert stuck.result == ng.RESULTS.step_limit
    zero = ng.Functional(name="zero", fn=lambda x, u, grad: 0.0 * u)
    degenerate = _solve(net, phi0, 4e-3, throw=False,
                        conserve=ng.Conservation((zero,), method="constraint"))
    assert degenerate.result == ng.RESULTS.degenerate_constraints
    bounded = _solve(net, phi0, 4e-3, throw=False, max_residual=1e-6)  # untrained: ~1
    assert bounded.result == ng.RESULTS.residual_above_bound
    fine = _solve(net, phi0, 4e-3, throw=False)
    assert fine.result == ng.RESULTS.successful and fine.message == "successful"
    for sol, code in ((blown, ng.RESULTS.blow_up), (stuck, ng.RESULTS.step_limit),
                      (degenerate, ng.RESULTS.degenerate_constraints)):
        assert sol.message == ng.RESULTS[code]
        with pytest.raises(ng.SolveError):
            ng.check_solution(sol)


@pytest.mark.parametrize("how", ["vmap", "chunks"])
def test_one_failing_member_leaves_the_others(net, how):
    phi0 = ng.get_phi(net)
    phi0s = jnp.stack([phi0, jnp.full_like(phi0, 1e200), phi0 * 0.9])
    mus = MUS[:3]
    size = 3 if how == "vmap" else 1  # (the CPU default is chunks of 1)
    for kw, code in ((dict(max_steps=20), ng.RESULTS.step_limit),
                     (dict(dt0=0.01, solver=dfx.Euler(),
                           stepsize_controller=dfx.ConstantStepSize()), ng.RESULTS.blow_up)):
        batch = ng.solve_batch(EQ, net, 0.0, 0.05, kw.pop("dt0", None), phi0s, mus,
                               throw=False, batch_size=size, **{**KW, **kw})
        assert (batch.result == code).tolist() == [False, True, False]
        assert (batch.result == ng.RESULTS.successful).tolist() == [True, False, True]
        # the members that finished reached t1; member 1 saved no solution at all
        assert batch.t_reached.tolist() == pytest.approx([0.05, np.nan, 0.05], abs=1e-15,
                                                         nan_ok=True)
        for i in (0, 2):
            single = ng.solve(EQ, net, 0.0, 0.05, 0.01 if code == ng.RESULTS.blow_up else None,
                              phi0s[i], mus[i], **{**KW, **kw})
            assert float(jnp.max(jnp.abs(batch.phis[i] - single.phis))) <= 1e-12
        with pytest.raises(ng.SolveError, match=r"^batch member 1: "):
            ng.check_solution(batch)


def test_a_solution_evaluates_inside_a_trace(net):
    x = jnp.linspace(0.0, 1.0, 5)
    plain = _solve(net, ng.get_phi(net), 4e-3).evaluate(x)
    traced = jax.jit(lambda m: _solve(net, ng.get_phi(net), m).evaluate(x))(4e-3)
    assert float(jnp.max(jnp.abs(traced - plain))) <= 1e-12
