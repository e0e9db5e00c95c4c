import jax
import jax.numpy as jnp
import pytest

import pdes


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
