import jax
import jax.numpy as jnp
import pytest

import pdes


def _fd_errors(eq, ns, mu=0.02, t1=0.25):
    errs = []
    for n in ns:
        s = pdes.fd_solve(eq, mu, n, jnp.array([0.0, t1]), rtol=1e-11, atol=1e-13)
        flat = s.x.reshape(-1, eq.ndim)
        exact = jax.vmap(eq.exact, (0, None, None))(flat, t1, mu).reshape(s.x.shape[:-1])
        errs.append(float(jnp.sqrt(jnp.mean((s.us[-1] - exact) ** 2))))
    return errs


@pytest.mark.parametrize("d, ns", [(1, [32, 64, 128, 256]), (2, [16, 32, 64]),
                                   (3, [12, 24, 48])])
def test_fd_order_against_exact_fourier_solution(d, ns):
    eq = pdes.AdvectionDiffusion.in_dimension(d)
    errs = _fd_errors(eq, ns)
    slope = pdes.convergence_slope([1 / n for n in ns], errs)
    assert abs(slope - eq.fd_order) < 0.3, (slope, errs)


@pytest.mark.parametrize("d", [1, 3, 6])
def test_exact_solution_solves_the_equation(d):
    # u_t from autodiff in t against F(u) from the equation's own autodiff right-hand side
    eq = pdes.AdvectionDiffusion.in_dimension(d)
    mu = 0.03
    x = jax.random.uniform(jax.random.PRNGKey(d), (20, d))
    for t in (0.0, 0.4, 1.0):
        u_t = jax.vmap(lambda p: jax.grad(eq.exact, argnums=1)(p, t, mu))(x)
        f = jax.vmap(lambda p: eq.rhs(lambda y: eq.exact(y, t, mu), p, mu))(x)
        assert float(jnp.max(jnp.abs(u_t - f))) < 1e-12 * float(jnp.max(jnp.abs(f)) + 1)


def test_mass_kept_and_energy_decays_at_its_rate():
    eq = pdes.AdvectionDiffusion.in_dimension(2)
    mu, n = 0.02, 64
    s = pdes.fd_solve(eq, mu, n, jnp.linspace(0.0, 0.5, 6), rtol=1e-10, atol=1e-12)
    m = s.us.reshape(6, -1).sum(axis=1)
    assert float(jnp.max(jnp.abs(m - m[0]))) / float(m[0]) < 1e-12
    e = 0.5 * (s.us.reshape(6, -1) ** 2).sum(axis=1)
    assert bool(jnp.all(jnp.diff(e) < 0))


def test_fd_refuses_a_grid_beyond_memory():
    eq = pdes.AdvectionDiffusion.in_dimension(6)
    with pytest.raises(ValueError, match=r"GiB.*use fewer points"):
        pdes.fd_solve(eq, 0.02, 64, [0.0, 1.0])


def test_bump_and_modes_at_t0():
    eq = pdes.AdvectionDiffusion.in_dimension(
        3, modes=((0.3, (1, 0, 2), 0.5),), kappa=1.5, offset=0.2)
    x = jax.random.uniform(jax.random.PRNGKey(0), (50, 3))
    z = x - 0.5
    direct = 0.2 + jnp.exp(1.5 * jnp.sum(jnp.cos(2 * jnp.pi * z) - 1, axis=1)) + 0.3 * jnp.sin(
        2 * jnp.pi * (x[:, 0] + 2 * x[:, 2]) + 0.5)
    got = jax.vmap(eq.initial_condition, (0, None))(x, 0.01)
    assert float(jnp.max(jnp.abs(got - direct))) < 1e-14


def test_bad_modes_and_dimension():
    with pytest.raises(ValueError, match="integer entries"):
        pdes.AdvectionDiffusion(modes=((1.0, (1, 2), 0.0),))
    with pytest.raises(ValueError, match="positive integer"):
        pdes.AdvectionDiffusion.in_dimension(0)


def test_tensor_product_fd_error_equals_the_grid_solve():
    # the high-dimensional benchmark states FD errors in d = 4..6 without the grid, from the
    # tensor-product structure; check that identity against a real 2D FD solve
    import pathlib
    import sys

    sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "benchmarks"))
    from advection_diffusion_highd import TS, fd_tensor_error

    eq, mu, n = pdes.AdvectionDiffusion.in_dimension(2), 0.02, 16
    s = pdes.fd_solve(eq, mu, n, TS, rtol=1e-10, atol=1e-12)
    x = s.x.reshape(-1, 2)
    ex = jax.vmap(lambda t: jax.vmap(lambda p: eq.exact(p, t, mu))(x))(TS).reshape(s.us.shape)
    direct = float(jnp.linalg.norm(s.us - ex) / jnp.linalg.norm(ex))
    assert abs(fd_tensor_error(eq, mu, n) - direct) < 1e-8 * direct
