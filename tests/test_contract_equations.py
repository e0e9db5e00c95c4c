"""The contract every shipped equation keeps, checked for each one (a new equation gets these
tests by being registered in `pdes.EQUATIONS`, or shipped as a model in `ng.RECIPES`):

- its autodiff right-hand side `rhs` is `u_t` of its exact solution, where it has one (or of
  a solution known for it, `KNOWN`; or, for the RDE, the model written out by hand on a
  manufactured state, `MANUFACTURED`), for systems and bounded equations too;
- `rhs` and the finite-difference `fd_rhs` are two discretisations of one operator: on a
  smooth periodic `u` they agree to `fd_order` as the grid is refined; so do `rhs` and the
  right-hand side derived from `F` on a grid (`GridField`: spectrally along periodic
  directions, to second order along bounded ones), and `fd_rhs` and the derived one;
- the FD reference converges at `fd_order` (against the exact solution, or by
  self-convergence where there is none); the reference derived from `F` (for the equations
  that state `F` only) converges spectrally along periodic directions and at
  `pdes.BOUNDED_ORDER` along bounded ones;
- the invariants it declares (`conserved_at(mu)`) hold in its reference, and the
  quantities it declares dissipated (`dissipated`) decrease.

The FD checks run in up to four dimensions (the reference's grid has `n^d` points; above, the
exact solution is the reference). Settings per equation are in `SETTINGS` (FD) and
`DERIVED` (references derived from `F`); an FD equation not named there gets `DEFAULT`.
"""

import functools
import math

import diffrax as dfx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neural_galerkin as ng
import pdes
from neural_galerkin._invariants import relative_drift
from pdes._fd import _derived_rhs
from pdes._operators import GridField

# solutions of the equations that have no `exact` (from initial conditions of their own)
KNOWN = {
    # Cole-Hopf; in 2D a function of x + y, at twice the viscosity
    "burgers": lambda x, t, mu: pdes.cole_hopf(x[0], t, mu),
    "burgers-2d": lambda x, t, mu: pdes.cole_hopf(x[0] + x[1], t, 2 * mu) / 2,
    # the front from 0 up to the well 1, travelling left at 1.5 sqrt(2 mu)
    "allen-cahn": lambda x, t, mu: jax.nn.sigmoid(
        (x[0] - 3.0 + 1.5 * jnp.sqrt(2 * mu) * t) / jnp.sqrt(2 * mu)),
    # the same front inside [0, 1] (the boundary plays no part in the pointwise rhs)
    "allen-cahn-neumann": lambda x, t, mu: jax.nn.sigmoid(
        (x[0] - 0.5 + 1.5 * jnp.sqrt(2 * mu) * t) / jnp.sqrt(2 * mu)),
}


def _rde_state(x):
    """A smooth periodic state `(eta, lambda)` of the RDE, with its x-derivatives."""
    s = x[0]
    eta = 1.2 + 0.4 * jnp.sin(s) + 0.1 * jnp.cos(3 * s)
    eta_x = 0.4 * jnp.cos(s) - 0.3 * jnp.sin(3 * s)
    eta_xx = -0.4 * jnp.sin(s) - 0.9 * jnp.cos(3 * s)
    lam = 0.6 + 0.3 * jnp.cos(2 * s + 0.5)
    lam_xx = -1.2 * jnp.cos(2 * s + 0.5)
    return eta, eta_x, eta_xx, lam, lam_xx


def _rde_by_hand(eq, x, mu):
    """The RDE's right-hand side written out with its constants (the CoLoRA data's set-up),
    on `_rde_state`."""
    eta, eta_x, eta_xx, lam, lam_xx = _rde_state(x)
    c = 2 * np.pi / 6.28
    omega = jnp.exp((eta - 1.1) / 0.3)
    beta = mu / (1 + jnp.exp(5.0 * (eta - 0.5)))
    eta_t = -c * eta * eta_x + (1 - lam) * omega + 0.025 * c**2 * eta_xx - 0.11 * eta
    lam_t = (1 - lam) * omega - beta * lam + 0.025 * c**2 * lam_xx
    return jnp.stack([eta_t, lam_t])


def _quartic_state(x):
    """A smooth positive state on R^d: a Gaussian bump of width 1 about 2 in each direction."""
    return jnp.exp(-0.5 * jnp.sum((x - 2.0) ** 2))


def _quartic_by_hand(eq, x, mu):
    """The quartic-trap Fokker-Planck right-hand side `-(div b) u - b . grad u + Laplace(u) /
    beta` written out on `_quartic_state` at `t = 0` (the time `rhs` takes by default):
    `b_i = -(y_i + gamma y_i^3) + mu (xbar - x_i)`, `y = x - a(0)`, `a(0) = 1.875`."""
    d, u = x.shape[0], _quartic_state(x)
    y = x - 1.875
    b = -(y + eq.gamma * y**3) + mu * (jnp.mean(x) - x)
    div_b = jnp.sum(-(1 + 3 * eq.gamma * y**2) + mu * (1 / d - 1))
    grad = -(x - 2.0) * u
    lap = (jnp.sum((x - 2.0) ** 2) - d) * u
    return -div_b * u - jnp.sum(b * grad) + lap / eq.beta


# equations with neither an exact nor a known solution: a state and their right-hand side on
# it written out by hand
MANUFACTURED = {"rde": (lambda x: jnp.stack([_rde_state(x)[0], _rde_state(x)[3]]),
                        _rde_by_hand),
                "fokker-planck-quartic": (_quartic_state, _quartic_by_hand)}
# equations that are not shipped but exercise what the shipped ones do not (boxes that are not
# cubes, a direction that is not the diagonal): in the check of `rhs` against `fd_rhs`
VARIANTS = {
    "advection-2d-box": pdes.Advection(lower=(0.0, 0.0), upper=(1.0, 2.0), direction=(1.0, -0.5)),
    "allen-cahn-2d-box": pdes.AllenCahn(lower=(0.0, 0.0), upper=(2 * math.pi, math.pi)),
    "burgers-2d-box": pdes.Burgers(lower=(0.0, 0.0), upper=(1.0, 2.0)),
}
# the FD convergence study: parameter, final time, grid sizes (the finest grid also gives the
# invariants). Grids in the asymptotic range, times before fronts steepen past them.
DEFAULT = dict(mu=None, t=None, ns={1: (32, 64, 128), 2: (16, 32, 64), 4: (8, 12, 16)})
SETTINGS = {
    "advection": dict(mu=1.0, t=1.0, ns=(64, 128, 256)),
    "allen-cahn": dict(mu=5e-3, t=1.0, ns=(128, 256, 512, 1024)),  # bumps of width 0.16
    "burgers": dict(mu=5e-3, t=0.1, ns=(64, 128, 256, 512)),  # the front forms at t ~ 0.16
    "burgers-2d": dict(mu=5e-3, t=0.1, ns=(32, 64, 128)),  # the bump: width ~0.15
    "kdv": dict(mu=2.0, t=1.0, ns=(128, 256, 512)),
    "vlasov": dict(mu=1.0, t=2.0, ns=(64, 128, 256)),  # n = 32: the blob spans one cell in v
}
# the invariants' allowed relative drift over the FD solve (rtol 1e-11): the linear ones are
# kept by the scheme and by any Runge-Kutta method, to round-off; the others (the L2 energy)
# by the semi-discrete scheme only, and move with the time-stepping tolerance
DRIFT = {"mass": 1e-12, "total_energy": 1e-12}  # measured: 6.7e-16 and below (0 for vlasov)
DRIFT_OTHER = 1e-9  # measured, the L2 energy: 3.5e-12 (vlasov), 3.4e-12 (advection), 1e-15 (kdv)
NAMES = sorted(set(pdes.EQUATIONS) | set(ng.RECIPES))


def has_fd(eq):
    return type(eq).fd_rhs is not pdes.AbstractEquation.fd_rhs


def has_F(eq):
    return type(eq).F is not pdes.AbstractEquation.F


FD_NAMES = [name for name in NAMES if pdes.get(name).ndim <= 4 and has_fd(pdes.get(name))]
EXACT_NAMES = [name for name in NAMES
               if isinstance(pdes.get(name), pdes.AbstractExactEquation) or name in KNOWN]
# the equations that state F: rhs against the right-hand side derived on a grid
F_NAMES = [name for name in NAMES if pdes.get(name).ndim <= 4 and has_F(pdes.get(name))]
# the equations that state F only: their reference is the derived one. Settings: parameter,
# final time, grids (bounded directions: n points with both ends, so that (n - 1) doubles)
DERIVED = {
    # the exact solution; order 2 (measured below)
    "heat-dirichlet": dict(mu=0.055, t=0.25, ns=(16, 32, 64)),
    # self-convergence before the interfaces sharpen (t = 1: |u| < 0.9)
    "allen-cahn-neumann": dict(mu=5e-3, t=1.0, ns=(33, 65, 129, 257)),
    # the exact solution, spectrally: one modest grid
    "wave-2d": dict(mu=0.8, t=0.37, ns=(64,)),
    # self-convergence (spectral) while the first fronts form
    "rde": dict(mu=2.3, t=2.5, ns=(128, 256, 512)),
    # the exact solution (characteristics), spectrally: one grid that resolves the blob
    "vlasov-colora": dict(mu=0.3, t=0.5, ns=(160,)),
}
# (an equation on R^d has no grid reference: its references are exact or Monte Carlo)
DERIVED_NAMES = [name for name in NAMES if has_F(pdes.get(name)) and not has_fd(pdes.get(name))
                 and not pdes.get(name).unbounded]
# equations that keep no invariant at all (honestly declared: `conserved == ()`,
# `dissipated == {}`)
NO_INVARIANTS = {"rde": "heat release, losses and injection change every functional"}


def equation(name):
    return VARIANTS[name] if name in VARIANTS else pdes.get(name)


def solution(name):
    """The equation's exact solution, `(x, t, mu) -> u`."""
    eq = pdes.get(name)
    return eq.exact if isinstance(eq, pdes.AbstractExactEquation) else KNOWN[name]


def settings(name):
    eq = equation(name)
    s = {**DEFAULT, **SETTINGS.get(name, {})}
    lo, hi = eq.mu_range
    mu = s["mu"] if s["mu"] is not None else (lo + hi) / 2
    t = s["t"] if s["t"] is not None else eq.t1 / 4
    ns = s["ns"] if isinstance(s["ns"], tuple) else s["ns"][eq.ndim]
    return eq, mu, t, ns


def smooth_periodic(eq, amplitude):
    """A smooth, periodic, non-separable `u` on the equation's box."""
    lower, lengths = jnp.asarray(eq.lower), jnp.asarray(eq.lengths)

    def u(x):
        theta = 2 * jnp.pi * (x - lower) / lengths
        s = jnp.sum(theta)
        return 0.3 + amplitude * (jnp.sin(s + 0.5) + 0.2 * jnp.cos(2 * theta[0] - s + 1.0))

    return u


def test_every_equation_is_checked():
    """A shipped equation without `fd_rhs` is in `DERIVED`; one without a solution, in
    `MANUFACTURED`."""
    assert set(DERIVED_NAMES) <= set(DERIVED), set(DERIVED_NAMES) - set(DERIVED)
    assert set(NAMES) <= set(EXACT_NAMES) | set(MANUFACTURED), (
        set(NAMES) - set(EXACT_NAMES) - set(MANUFACTURED))


@pytest.mark.parametrize("name", sorted(MANUFACTURED))
def test_rhs_is_the_equation_written_out_on_a_manufactured_state(name):
    eq, (state, by_hand) = pdes.get(name), MANUFACTURED[name]
    mu = sum(eq.mu_range) / 2
    x = eq.random_points(64, jax.random.PRNGKey(0))
    got = jax.jit(jax.vmap(lambda p: eq.rhs(state, p, mu)))(x)
    want = jax.vmap(lambda p: by_hand(eq, p, mu))(x)
    assert got.shape == (64,) + eq.value_shape
    err = float(jnp.max(jnp.abs(got - want)) / jnp.max(jnp.abs(want)))
    assert err < 1e-13, err  # measured 2.5e-16


@pytest.mark.parametrize("name", EXACT_NAMES)
def test_rhs_is_u_t_of_the_exact_solution(name):
    eq, exact = pdes.get(name), solution(name)
    mu = sum(eq.mu_range) / 2
    # t > 0: an exact solution traced by an ODE solve from 0 to t has no t-derivative at 0
    ts = jnp.array([eq.t1 / 3, eq.t1])

    @jax.jit
    def both(p, t):
        u_t = jax.jvp(lambda s: exact(p, s, mu), (t,), (jnp.ones_like(t),))[1]
        return u_t, pdes.rhs_at(eq, lambda y: exact(y, t, mu), p, mu, t)

    if eq.unbounded:  # a density on R^d: points where its mass is, at each time
        means, covs = eq.moments(ts, mu)
        z = jax.random.normal(jax.random.PRNGKey(0), (64, eq.ndim))
        x = means[:, None] + jnp.einsum("tij,nj->tni", jnp.linalg.cholesky(covs), z)
        u_t, f = jax.vmap(jax.vmap(both, (0, None)), (0, 0))(x, ts)
    else:
        x = eq.random_points(64, jax.random.PRNGKey(0))
        u_t, f = jax.vmap(jax.vmap(both, (0, None)), (None, 0))(x, ts)
    assert f.shape == (2, 64) + eq.value_shape
    err = float(jnp.max(jnp.abs(u_t - f)) / jnp.max(jnp.abs(f)))
    # measured: 8.7e-14 (vlasov, through its ODE solve), 1.1e-14 (kdv), 9.4e-15
    # (fokker-planck, through its moment ODEs), 4.4e-16 and below
    assert err < 1e-12, err


@pytest.mark.parametrize("name", FD_NAMES + list(VARIANTS))
@pytest.mark.parametrize("amplitude", [1.0, 1e-3])  # the nonlinear terms, then the linear ones
def test_autodiff_rhs_matches_fd_rhs_at_its_order(name, amplitude):
    eq, mu, _, _ = settings(name)
    u = smooth_periodic(eq, amplitude)
    ns = (32, 64, 128) if eq.ndim == 1 else (16, 32) if eq.ndim == 2 else (8, 16)
    diffs, derived_diffs = [], []
    for n in ns:

        @jax.jit  # one compilation, not one per operation
        def evaluate():
            x = eq.grid(n)
            flat = x.reshape(-1, eq.ndim)
            auto = jax.vmap(lambda p: eq.rhs(u, p, mu))(flat).reshape(x.shape[:-1])
            dx = tuple(length / n for length in eq.lengths)
            values = jax.vmap(u)(flat).reshape(x.shape[:-1])
            fd = eq.fd_rhs(values, mu, dx)
            # the hand-written scheme against the one derived from F
            derived = eq.F(GridField(values, eq.lengths), x, mu) if has_F(eq) else None
            return auto, fd, derived

        auto, fd, derived = evaluate()
        diffs.append(float(jnp.max(jnp.abs(auto - fd)) / jnp.max(jnp.abs(auto))))
        if derived is not None:
            derived_diffs.append(float(jnp.max(jnp.abs(derived - fd)) / jnp.max(jnp.abs(auto))))
    slope = pdes.convergence_slope([1 / n for n in ns], diffs)
    # measured: slopes 1.94 (advection-diffusion-4d, grids 8 and 16) to 2.01; the finest
    # difference 2.5e-2 in 4D, 1.5e-2 in 2D, 9.2e-4 and below in 1D
    assert abs(slope - eq.fd_order) < 0.3 and diffs[-1] < 0.1, (slope, diffs)
    if derived_diffs:  # the derived one is spectrally accurate: the same differences
        assert np.allclose(derived_diffs, diffs, rtol=1e-3, atol=1e-8), (derived_diffs, diffs)


def _grids_solve(eq, mu, ns, ts):
    """The FD reference on the grids `ns` at once: one diffrax solve of the tuple of grid
    functions, each under its own `fd_rhs` (one compilation for all grids; a common step,
    set by the finest grid, at a tolerance far below the spatial error)."""
    dxs = [tuple(length / n for length in eq.lengths) for n in ns]
    solver = dfx.Kvaerno5() if eq.fd_stiff(mu, (max(ns),) * eq.ndim) else dfx.Tsit5()

    def rhs(t, us, mu):
        return tuple(eq.fd_rhs(u, mu, dx) for u, dx in zip(us, dxs))

    @jax.jit
    def run(u0, mu):
        return dfx.diffeqsolve(dfx.ODETerm(rhs), solver, ts[0], ts[-1], None, u0, mu,
                               saveat=dfx.SaveAt(ts=ts), max_steps=100_000,
                               stepsize_controller=dfx.PIDController(rtol=1e-11, atol=1e-13)).ys

    return run(tuple(eq.initial_values(n, mu) for n in ns), jnp.asarray(mu, float))


@functools.cache
def fd_solutions(name):
    eq, mu, t, ns = settings(name)
    ts = jnp.linspace(0.0, t, 5)
    return eq, mu, ts, ns, _grids_solve(eq, mu, ns, ts)


def _on_grid(eq, fn, n):
    x = eq.grid(n)
    return jax.jit(jax.vmap(fn))(x.reshape(-1, eq.ndim)).reshape(x.shape[:-1])


@pytest.mark.parametrize("name", FD_NAMES)
def test_fd_reference_converges_at_its_order(name):
    eq, mu, ts, ns, us = fd_solutions(name)
    last = [u[-1] for u in us]
    if isinstance(eq, pdes.AbstractExactEquation):
        hs = [1 / n for n in ns]
        errs = [float(jnp.sqrt(jnp.mean((u - _on_grid(eq, lambda p: eq.exact(p, ts[-1], mu), n))
                                        ** 2))) for u, n in zip(last, ns)]
    else:  # self-convergence: the differences of solutions on successive grids
        hs = [1 / n for n in ns[:-1]]
        errs = [float(jnp.sqrt(jnp.mean((a - b[(slice(None, None, m // n),) * eq.ndim]) ** 2)))
                for a, b, n, m in zip(last, last[1:], ns, ns[1:])]
    slope = pdes.convergence_slope(hs, errs)
    # measured slopes: advection 1.96, advection-diffusion 2.00 (1D), 1.96 (4D, grids 8..16),
    # allen-cahn 2.01, burgers 1.99, burgers-2d 1.93, kdv 2.04, vlasov 1.97
    assert abs(slope - eq.fd_order) < 0.3, (slope, errs)


def _invariant_values(eq, mu, u_t, name):
    """`I(u)` at each saved time by the rectangle rule, `grad u` by forward differences."""
    inv = ng.get_invariant(name, eq, mu)
    n = u_t.shape[1:]
    x = eq.grid(n).reshape(-1, eq.ndim)
    dx = tuple(length / m for length, m in zip(eq.lengths, n))

    def value(u):
        grad = jnp.stack([(jnp.roll(u, -1, i) - u) / h for i, h in enumerate(dx)], axis=-1)
        dens = jax.vmap(inv.density)(x, u.reshape(-1), grad.reshape(-1, eq.ndim))
        return jnp.sum(dens) * eq.cell_volume(n)

    return np.asarray(jax.jit(jax.vmap(value))(u_t))


@pytest.mark.parametrize("name", FD_NAMES)
def test_fd_reference_keeps_its_invariants(name):
    eq, mu, ts, ns, us = fd_solutions(name)
    _check_invariants(name, eq, mu, lambda inv: _invariant_values(eq, mu, us[-1], inv))


def _check_invariants(name, eq, mu, values_of):
    """The declared invariants hold (to `DRIFT`) and the dissipated ones decrease, over the
    values `values_of(name)` of each at the saved times."""
    kept, dissipated = eq.conserved_at(mu), tuple(eq.dissipated)
    assert kept or dissipated, f"{name} declares no invariant"
    for inv in kept:
        drift = relative_drift(values_of(inv))
        assert drift < DRIFT.get(inv, DRIFT_OTHER), (inv, drift)
    for inv in dissipated:
        values = values_of(inv)
        assert np.all(np.diff(values) < 0), (inv, values)


def smooth_state(eq, amplitude):
    """A smooth `u` on the equation's box with the value shape of its fields: for a system,
    one shifted and scaled copy of `smooth_periodic` per field (values near 1)."""
    u = smooth_periodic(eq, amplitude)
    if eq.n_fields == 1:
        return u
    return lambda x: jnp.stack([0.8 + 0.1 * k + u(x + 0.3 * k) / (1 + k)
                                for k in range(eq.n_fields)])


def _on_grid_fields(eq, fn, n):
    """`fn` of a point (shape `value_shape`) on `grid(n)`: `(*grid)` or `(n_fields, *grid)`."""
    x = eq.grid(n)
    vals = jax.vmap(fn)(x.reshape(-1, eq.ndim)).reshape(x.shape[:-1] + eq.value_shape)
    return jnp.moveaxis(vals, -1, 0) if eq.n_fields > 1 else vals


@pytest.mark.parametrize("name", F_NAMES + [v for v in VARIANTS if has_F(VARIANTS[v])])
def test_rhs_matches_the_right_hand_side_derived_on_a_grid(name):
    """The two evaluators of `F` agree: autodiff at the grid's points and the grid's own
    discretisation, spectrally on periodic boxes, at second order along bounded directions
    (on the interior nodes; the end nodes' treatment is checked by the references)."""
    eq = equation(name)
    mu = sum(eq.mu_range) / 2
    u = smooth_state(eq, 0.5)
    bounded = not all(eq.periodic)
    ns = (33, 65, 129) if bounded else ((64,) if eq.ndim == 1 else (32,) if eq.ndim == 2
                                        else (16,))
    diffs = []
    for n in ns:

        @jax.jit  # one compilation, not one per operation
        def both():
            x = eq.grid(n)
            field = GridField(_on_grid_fields(eq, u, n), eq.lengths, eq.boundaries, 0.0, mu,
                              names=eq.fields)
            return _on_grid_fields(eq, lambda p: eq.rhs(u, p, mu), n), eq.F(field, x, mu)

        auto, derived = both()
        assert derived.shape == auto.shape == eq.value_shape + (n,) * eq.ndim
        inner = (Ellipsis,) + tuple(slice(None) if p else slice(1, -1) for p in eq.periodic)
        diffs.append(float(jnp.max(jnp.abs(auto - derived)[inner]) / jnp.max(jnp.abs(auto))))
    if bounded:
        slope = pdes.convergence_slope([1 / (n - 1) for n in ns], diffs)
        # measured: 2.00 (heat-dirichlet, allen-cahn-neumann)
        assert abs(slope - pdes.BOUNDED_ORDER) < 0.2, (slope, diffs)
    else:  # measured: 1.2e-15 (wave-2d) to 3e-13 (kdv)
        assert diffs[-1] < 1e-11, diffs


@functools.cache
def derived_solutions(name):
    """The reference derived from `F` on the grids of `DERIVED[name]` at once: one diffrax
    solve of the tuple of grid functions (one compilation), the step set by the finest
    grid, the tolerance far below the spatial error."""
    eq, s = pdes.get(name), DERIVED[name]
    mu, ns = s["mu"], s["ns"]
    ts = jnp.linspace(0.0, s["t"], 5)

    def rhs(t, us, mu):
        return tuple(_derived_rhs(eq, t, u, mu) for u in us)

    @jax.jit
    def run(u0, mu):
        return dfx.diffeqsolve(dfx.ODETerm(rhs), dfx.Tsit5(), ts[0], ts[-1], None, u0, mu,
                               saveat=dfx.SaveAt(ts=ts), max_steps=100_000,
                               stepsize_controller=dfx.PIDController(rtol=1e-12, atol=1e-14)).ys

    return eq, mu, ts, ns, run(tuple(eq.initial_values(n, mu) for n in ns),
                               jnp.asarray(mu, float))


def test_derived_settings_name_shipped_equations_that_state_F_only():
    assert set(DERIVED) == set(DERIVED_NAMES)


@pytest.mark.parametrize("name", DERIVED_NAMES)
def test_derived_reference_converges_at_its_order(name):
    eq, mu, ts, ns, us = derived_solutions(name)
    last = [u[-1] for u in us]
    bounded = not all(eq.periodic)
    hs = [1 / (n - 1) if bounded else 1 / n for n in ns]
    if isinstance(eq, pdes.AbstractExactEquation):
        errs = [float(jnp.max(jnp.abs(u - _on_grid_fields(eq, lambda p: eq.exact(p, ts[-1], mu),
                                                           n))))
                for u, n in zip(last, ns)]
    else:  # self-convergence: the differences of solutions on successive grids
        hs = hs[:-1]
        errs = [float(jnp.max(jnp.abs(a - b[(Ellipsis,) + (slice(None, None, 2),) * eq.ndim])))
                for a, b in zip(last, last[1:])]
    if bounded:
        slope = pdes.convergence_slope(hs, errs)
        # measured: heat-dirichlet 1.98 (5.9e-3, 1.4e-3, 3.5e-4 at n = 16, 32, 64),
        # allen-cahn-neumann 2.00
        assert abs(slope - pdes.BOUNDED_ORDER) < 0.3, (slope, errs)
    elif isinstance(eq, pdes.AbstractExactEquation):  # spectral: exact on a modest grid
        assert errs[-1] < 1e-10, errs  # measured 4.7e-12 (wave-2d, 64 x 64)
    else:  # spectral: each doubling gains orders of magnitude
        assert errs[-1] < 1e-4 and errs[-1] < errs[0] / 100, errs  # measured rde: 7.9e-4, 1.9e-6


def _derived_invariant_values(eq, mu, u_t, name):
    """`I(u)` at each saved time: the grid's quadrature weights (trapezoid along bounded
    directions), `grad u` by the grid's own derivatives (`GridField`)."""
    inv = ng.get_invariant(name, eq, mu)
    n = u_t.shape[1 + (eq.n_fields > 1):]
    x = eq.grid(n).reshape(-1, eq.ndim)
    w = eq.quadrature_weights(n).reshape(-1)

    def value(u):
        grad = GridField(u, eq.lengths, eq.boundaries, 0.0, mu, names=eq.fields).grad()
        if eq.n_fields == 1:  # points (N,) and gradients (N, d)
            points, grads = u.reshape(-1), grad.reshape(eq.ndim, -1).T
        else:  # points (N, n_fields) and gradients (N, d, n_fields)
            points = u.reshape(eq.n_fields, -1).T
            grads = grad.reshape(eq.ndim, eq.n_fields, -1).transpose(2, 0, 1)
        return jnp.sum(w * jax.vmap(inv.density)(x, points, grads))

    return np.asarray(jax.jit(jax.vmap(value))(u_t))


@pytest.mark.parametrize("name", DERIVED_NAMES)
def test_derived_reference_keeps_its_invariants(name):
    eq, mu, ts, ns, us = derived_solutions(name)
    if name in NO_INVARIANTS:
        assert not eq.conserved_at(mu) and not eq.dissipated
        return
    _check_invariants(name, eq, mu, lambda inv: _derived_invariant_values(eq, mu, us[-1], inv))
