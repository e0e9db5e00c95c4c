"""The time order of the equation-driven solve: on an ansatz that represents the exact
solution, the only error left is the time stepping's, which falls at the solver's order as the
fixed step `dt` shrinks (as diffrax's `test_ode_order` for a plain ODE)."""

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import pytest

import neural_galerkin as ng
import pdes

# one decaying, travelling Fourier mode: u = exp(-mu (2 pi)^2 t) sin(2 pi (x - t))
EQ = pdes.AdvectionDiffusion(kappa=0.0, modes=((1.0, (1,), 0.0),))
MU, T = 0.05, 1.0


@pytest.fixture(scope="module")
def mode_net():
    """`u = (1 + a1) (1 + a2) sin(2 pi (x - s))`: a CoLoRA network with identity activation
    and hand-set weights, online weights `(s, a1, a2)`, `u = sin(2 pi x)` at zero. It carries the
    exact solution, with `s = t` and `(1 + a1) (1 + a2) = exp(-mu (2 pi)^2 t)`; the Galerkin
    least squares (minimum norm: the columns of `a1` and `a2` are parallel) splits the decay
    between `a1` and `a2`, so the online weights follow a nonlinear ODE."""
    emb = ng.PeriodicEmbedding(EQ.lower, EQ.lengths, online_shift=True)
    net = ng.CoLoRAMLP(emb, 2, 2, 2, per_rank=False, activation=lambda v: v, key=jr.PRNGKey(0))
    eye, e0 = jnp.eye(2), jnp.array([[1.0, 0.0]])
    # layer 1: (1 + a1) (sin, cos); layer 2: (1 + a2) times the sine
    first = eqx.tree_at(lambda layer: (layer.weight, layer.bias, layer.A, layer.B),
                        net.layers[0], (eye, jnp.zeros(2), eye, eye))
    second = eqx.tree_at(lambda layer: (layer.weight, layer.bias, layer.A, layer.B),
                         net.layers[1], (e0, jnp.zeros(1), e0, jnp.array([[1.0, 0.0], [0.0, 0.0]])))
    return eqx.tree_at(lambda n: n.layers, net, (first, second))


# the solvers' orders, and the steps per unit time; measured slopes in the comments
COARSE = (4, 8, 16, 32)
SOLVERS = [(dfx.Euler(), 1, COARSE),  # 1.03
           (dfx.Heun(), 2, COARSE),  # 2.08
           (dfx.Bosh3(), 3, COARSE),  # 3.08
           (dfx.Dopri5(), 5, COARSE),  # 5.17 (errors 1.3e-7 .. 2.8e-12; Tsit5 reaches round-off
           # sooner)
           # 0.87 (errors 0.18 .. 0.030; the phase error of the implicit step is large, and
           # at 4 steps it is not yet in its asymptotic regime: 0.64 over 4 .. 32)
           (ng.RegularisedImplicit(), 1, (16, 32, 64, 128)),
           (ng.RegularisedImplicit(theta=0.5), 2, (8, 16, 32, 64))]  # 1.9 (1.2e-2 .. 9.9e-4)


@pytest.mark.parametrize("solver, order, steps", SOLVERS,
                         ids=[type(s).__name__ for s, _, _ in SOLVERS])
def test_galerkin_solve_converges_at_the_solvers_order(mode_net, solver, order, steps):
    x = jnp.linspace(0.0, 1.0, 7)[:, None]
    ts = jnp.linspace(0.0, T, 5)
    exact = jax.vmap(lambda t: jax.vmap(lambda p: EQ.exact(p, t, MU))(x))(ts)
    phi0 = ng.get_phi(mode_net)
    assert float(jnp.max(jnp.abs(jax.vmap(mode_net)(x) - exact[0]))) < 1e-15
    dts, errs = [T / n for n in steps], []
    for dt in dts:  # one compilation: dt0 is not static
        sol = ng.solve(EQ, mode_net, 0.0, T, dt, phi0, MU, solver=solver, samples=8,
                       stepsize_controller=dfx.ConstantStepSize(), saveat=dfx.SaveAt(ts=ts),
                       residual_tol=None)
        errs.append(float(jnp.max(jnp.abs(sol.evaluate(x) - exact))))
        # the ansatz carries the equation: no Galerkin residual (measured <= 4.1e-16)
        assert float(jnp.max(sol.residuals)) < 1e-14
    slope = pdes.convergence_slope(dts, errs)
    assert abs(slope - order) < 0.3, (slope, errs)


def test_regularised_implicit_step_is_stable_where_explicit_euler_blows_up(mode_net):
    """Steps of `8 / lambda` on the decaying mode (`lambda = mu (2 pi)^2`; the amplitude is
    `(1 + a)^2` with `a1 = a2 = a`, `(1 + a)' = -lambda (1 + a) / 2`): explicit Euler multiplies
    `1 + a` by `1 - h lambda / 2 = -3` per step and blows up; implicit Euler divides it by
    `1 + h lambda / 2 = 5`, the amplitude by 25 per step."""
    h, n = 8.0 / (MU * (2 * jnp.pi) ** 2), 4
    x = jnp.linspace(0.0, 1.0, 7)[:, None]

    def amplitude(solver):
        sol = ng.solve(EQ, mode_net, 0.0, n * h, h, ng.get_phi(mode_net), MU, solver=solver,
                       samples=8, stepsize_controller=dfx.ConstantStepSize(),
                       saveat=dfx.SaveAt(ts=jnp.linspace(0.0, n * h, n + 1)),
                       residual_tol=None)
        return jnp.max(jnp.abs(sol.evaluate(x)), axis=1)

    explicit, implicit = amplitude(dfx.Euler()), amplitude(ng.RegularisedImplicit())
    assert float(explicit[-1]) > 1e3 * float(explicit[0]), explicit
    assert bool(jnp.all(implicit[1:] < 0.1 * implicit[:-1])), implicit
