import math
import pathlib

import diffrax as dfx
import jax.numpy as jnp
import numpy as np
import pytest

import pdes

# the Cole-Hopf solutions below take viscosities above the shipped range [1e-3, 1e-2] (smooth
# enough for a convergence study on modest grids): the equation is posed with a wider range
WIDE = (1e-3, 0.2)


def _burgers_errors(ns, mu=0.05, t1=0.5, solver=None):
    eq = pdes.Burgers(mu_range=WIDE)
    errs = []
    for n in ns:
        x = eq.grid(n)[..., 0]
        s = pdes.fd_solve(eq, mu, n, jnp.array([0.0, t1]), u0=pdes.cole_hopf(x, 0.0, mu),
                          rtol=1e-11, atol=1e-13, solver=solver)
        errs.append(float(jnp.sqrt(jnp.mean((s.us[-1] - pdes.cole_hopf(x, t1, mu)) ** 2))))
    return errs


def test_burgers_fd_order_with_stiff_solver():
    # the implicit path (Kvaerno5), used where diffusion dominates the explicit stability limit
    ns = [16, 32, 64]
    slope = pdes.convergence_slope([1 / n for n in ns],
                                   _burgers_errors(ns, mu=0.1, t1=0.2, solver=dfx.Kvaerno5()))
    assert abs(slope - 2) < 0.3, slope


def test_fd_bad_input():
    eq = pdes.Burgers()
    u0 = eq.initial_values(64, 5e-3).at[3].set(jnp.nan)
    with pytest.raises(ValueError, match="NaN"):
        pdes.fd_solve(eq, 5e-3, 64, [0.0, 0.1], u0=u0)
    with pytest.raises(ValueError, match="shape"):
        pdes.fd_solve(eq, 5e-3, 64, [0.0, 0.1], u0=jnp.zeros(32))
    with pytest.raises(ValueError, match="increasing"):
        pdes.fd_solve(eq, 5e-3, 64, [0.1, 0.0])


def test_unknown_pde_and_mu_range():
    with pytest.raises(ValueError, match=f"shipped PDEs are: {', '.join(sorted(pdes.EQUATIONS))}"):
        pdes.get("navier-stokes")
    with pytest.raises(ValueError, match=r"outside the range \[0.001, 0.01\]"):
        pdes.Burgers().check_mu(0.5)
    with pytest.raises(ValueError, match="finite"):
        pdes.Burgers().check_mu(float("nan"))


def test_burgers_2d_initial_condition():
    """`burgers-2d` starts from the CoLoRA data's bump (checked against the data's snapshot
    where the data are beside the checkout), peaked at (pi/10, pi/10) and periodic."""
    eq = pdes.get("burgers-2d")
    assert eq.initial == "bump" and pdes.Burgers.in_dimension(1).initial == "sine"
    c = math.pi / 10
    ic = [float(eq.initial_condition(jnp.array(x), 5e-3)) for x in
          [(c, c), (c + 0.1, c), (c, c - 0.1), (c + 1.0, c - 1.0), (0.0, c), (1.0, c)]]
    assert ic[0] == 1.0 and ic[3] == pytest.approx(1.0, abs=1e-14)
    assert 0.5 < ic[1] < 0.99 and ic[2] == pytest.approx(ic[1], rel=1e-12)
    assert 0 < ic[4] < 1e-8 and ic[5] == pytest.approx(ic[4], rel=1e-9)
    data = pathlib.Path(__file__).parents[2] / "shared" / "data" / "colora_burgers2d.npz"
    if not data.is_file():
        pytest.skip(f"no {data} (the CoLoRA 2D Burgers data) beside the checkout")
    with np.load(data) as f:
        u0 = f["u"][:, 0, :-1, :-1]  # t = 0 for every mu, the periodic grid
    values = np.asarray(eq.initial_values(u0.shape[-1], 5e-3))
    assert np.max(np.abs(values - u0)) < 1e-7  # float32 data
