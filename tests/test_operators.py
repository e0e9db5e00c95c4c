"""The vocabulary of derivatives (`pdes._operators`): autodiff at a point and pseudo-spectral
on a grid against closed forms, the right-hand sides stated once (`F`) against the
hand-written ones, and the derived spectral reference against exact solutions."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pdes
from pdes._operators import GridField, PointField

LENGTHS = (1.0, 2.0)  # the box [0, 1) x [0, 2)
K = (2 * np.pi, np.pi)  # the fundamental wave numbers along x_0, x_1


def u_trig(x):
    """`sin(a) cos(b) + cos(a + 3 b) / 2`, `a = 2 pi x_0`, `b = pi x_1`: periodic on the box."""
    a, b = K[0] * x[..., 0], K[1] * x[..., 1]
    return jnp.sin(a) * jnp.cos(b) + 0.5 * jnp.cos(a + 3 * b)


def closed_forms(x):
    """`u`, its derivatives of order 1 to 4 along each axis, the Laplacian and the
    divergences of `u^2/2` (every axis) and of `(u^2/2, u^3/3)` (one flux per axis), in
    closed form."""
    a, b = K[0] * x[..., 0], K[1] * x[..., 1]
    k0, k1 = K

    def along(axis, order):  # d^order/dx_axis^order, each term's phase moved by order pi/2
        turn = order * np.pi / 2
        if axis == 0:
            return k0**order * (jnp.sin(a + turn) * jnp.cos(b)
                                + 0.5 * jnp.cos(a + 3 * b + turn))
        return (k1**order * jnp.sin(a) * jnp.cos(b + turn)
                + 0.5 * (3 * k1) ** order * jnp.cos(a + 3 * b + turn))

    u = along(0, 0)
    d = {(i, m): along(i, m) for i in (0, 1) for m in (1, 2, 3, 4)}
    return {
        "u": u,
        "d": d,
        "lap": d[0, 2] + d[1, 2],
        "div_same": u * (d[0, 1] + d[1, 1]),
        "div_axes": u * d[0, 1] + u**2 * d[1, 1],
    }


FLUX = lambda u: u**2 / 2  # noqa: E731
FLUXES = (lambda u: u**2 / 2, lambda u: u**3 / 3)


def evaluate(field):
    return {
        "u": field.value(),
        "d": {(i, m): field.derivative(i, m) for i in (0, 1) for m in (1, 2, 3, 4)},
        "grad": field.grad(),
        "lap": field.laplacian(),
        "div_same": field.div(FLUX),
        "div_axes": field.div(FLUXES),
    }


def errors_by_order(got, want):
    """The largest error of each operator, keyed by its order of differentiation."""
    grad = jnp.stack([want["d"][0, 1], want["d"][1, 1]])
    pairs = [(0, got["u"], want["u"]), (2, got["lap"], want["lap"]), (1, got["grad"], grad),
             (1, got["div_same"], want["div_same"]), (1, got["div_axes"], want["div_axes"])]
    pairs += [(m, got["d"][i, m], want["d"][i, m]) for i, m in want["d"]]
    out = {}
    for order, g, w in pairs:
        out[order] = max(out.get(order, 0.0), float(jnp.max(jnp.abs(g - w))))
    return out


def test_point_field_equals_closed_forms(getkey):
    x = jax.random.uniform(getkey(), (50, 2)) * jnp.asarray(LENGTHS)[None]
    got = jax.vmap(lambda p: evaluate(PointField(u_trig, p)))(x)
    got["grad"] = got["grad"].T  # the component first, as on a grid
    want = closed_forms(x)
    # relative round-off: a derivative of order m is ~ (3 pi)^m (the largest wave number)
    for order, err in errors_by_order(got, want).items():
        assert err < 1e-14 * (3 * np.pi) ** order, (order, err)


def test_grid_field_equals_closed_forms_to_round_off():
    eq = pdes.AdvectionDiffusion(lower=(0.0, 0.0), upper=LENGTHS, velocity=(1.0, 1.0))
    x = eq.grid(32)  # (32, 32, 2)
    got = evaluate(GridField(u_trig(x), LENGTHS))
    assert got["grad"].shape == (2, 32, 32)
    # round-off: the FFT's 1e-16 in every mode grows by the largest wave number of the grid,
    # k = 2 pi 16 ~ 100, per order (measured: 5e-14, 5e-12, 3e-10, 3e-8 for orders 1 to 4)
    for order, err in errors_by_order(got, closed_forms(x)).items():
        assert err < 1e-14 * (2 * np.pi * 16) ** order, (order, err)


def test_grid_field_dealiases_a_quadratic_flux():
    # n = 8 along x: sin(3 x) is kept, sin(3 x)^2 / 2 has the mode 6, which aliases onto 2
    # on 8 points; the 2/3 rule (keep |k| < 8/3) removes both, so div is 0, not the alias
    x = 2 * np.pi * jnp.arange(8) / 8
    u = jnp.sin(3 * x) + 0.1 * jnp.sin(x)
    div = GridField(u, (2 * np.pi,)).div(FLUX)
    # what is left: the kept mode of (0.1 sin x)^2 / 2 (mode 2), exactly
    want = 0.01 * jnp.sin(2 * x) / 2
    assert float(jnp.max(jnp.abs(div - want))) < 1e-14


def old_rhs_advection_diffusion(eq, u, x, mu):
    """The hand-written right-hand side `AdvectionDiffusion.rhs` had before `F`."""
    _, grad, second = pdes._base.derivatives(u, x)
    return -jnp.dot(jnp.asarray(eq.velocity, x.dtype), grad) + mu * jnp.sum(second)


def old_rhs_burgers(eq, u, x, mu):
    """The hand-written right-hand side `Burgers.rhs` had before `F`."""
    val, grad, second = pdes._base.derivatives(u, x)
    return -val * jnp.sum(grad) + mu * jnp.sum(second)


def old_rhs_kdv(eq, u, x, mu):
    """The hand-written right-hand side `KdV.rhs` had before `F`."""
    return -6.0 * u(x) * pdes._base.partial(u, x, 0) - pdes._base.partial3(u, x, 0)


def old_rhs_allen_cahn(eq, u, x, mu):
    """The hand-written right-hand side `AllenCahn.rhs` had before `F`."""
    v = u(x)
    return mu * sum(pdes._base.partial2(u, x, i) for i in range(eq.ndim)) + v - v**3


@pytest.mark.parametrize("eq, old", [
    (pdes.AdvectionDiffusion(), old_rhs_advection_diffusion),
    (pdes.AdvectionDiffusion.in_dimension(3), old_rhs_advection_diffusion),
    (pdes.Burgers(), old_rhs_burgers),
    (pdes.Burgers.in_dimension(2), old_rhs_burgers),
    (pdes.KdV(), old_rhs_kdv),
    (pdes.AllenCahn(), old_rhs_allen_cahn),
    (pdes.AllenCahn(lower=(0.0, 0.0), upper=(1.0, 2.0)), old_rhs_allen_cahn),
])
def test_rhs_from_F_equals_the_hand_written_one(eq, old, getkey):
    assert type(eq).rhs is pdes.AbstractEquation.rhs  # derived from F, not written by hand
    d = eq.ndim
    w = jax.random.normal(getkey(), (3, d))

    def u(y):  # a smooth, not separable function of the point
        return jnp.sin(w[0] @ y) * jnp.exp(jnp.cos(w[1] @ y)) + (w[2] @ y) ** 2

    x = eq.random_points(64, getkey())
    mu = 0.5 * sum(eq.mu_range)
    derived = jax.vmap(lambda p: eq.rhs(u, p, mu))(x)
    by_hand = jax.vmap(lambda p: old(eq, u, p, mu))(x)
    assert float(jnp.max(jnp.abs(derived - by_hand))) <= 1e-12 * float(jnp.max(jnp.abs(by_hand)))


def test_spectral_advection_diffusion_against_exact():
    eq = pdes.AdvectionDiffusion()
    mu, ts = 5e-3, jnp.array([0.0, 0.3, 0.7])  # times off whole periods: aliases would show
    errors = {}
    for n in (16, 32, 64):
        s = pdes.spectral_solve(eq, mu, n, ts, rtol=1e-12, atol=1e-14)
        x = s.x.reshape(-1, 1)
        exact = jax.vmap(lambda t: jax.vmap(lambda p: eq.exact(p, t, mu))(x))(ts)
        errors[n] = float(jnp.max(jnp.abs(s.us - exact.reshape(s.us.shape))))
    # measured: 3.5e-7, 4.2e-13, 4.3e-13 (the time integration's tolerance)
    assert errors[16] < 1e-5
    assert errors[32] < 1e-10 and errors[64] < 1e-10
    assert errors[32] < 1e-4 * errors[16]


def test_spectral_burgers_against_cole_hopf_and_fd():
    eq = pdes.Burgers(mu_range=(1e-3, 0.2))
    mu, ts = 0.05, jnp.array([0.0, 0.05, 0.1])
    ch = lambda x, t: pdes.cole_hopf(x, t, mu)  # noqa: E731
    s = pdes.spectral_solve(eq, mu, 64, ts, u0=ch(eq.grid(64)[..., 0], 0.0))
    exact = jax.vmap(lambda t: ch(s.x[..., 0], t))(ts)
    # measured: 3.4e-12 (2.2e-7 at n = 32)
    assert float(jnp.max(jnp.abs(s.us - exact))) < 1e-10
    # the hand-written FD reference converges to the derived one at its second order
    # (measured: 5.1e-4, 1.3e-4, 3.2e-5 at n = 32, 64, 128; slope 2.00)
    errors = []
    for n in (32, 64, 128):
        f = pdes.fd_solve(eq, mu, n, ts, u0=ch(eq.grid(n)[..., 0], 0.0), rtol=1e-11, atol=1e-13)
        errors.append(float(jnp.max(jnp.abs(f.us[:, :: n // 32] - s.us[:, ::2]))))
    slope = pdes.convergence_slope([1 / 32, 1 / 64, 1 / 128], errors)
    assert 1.8 < slope < 2.3, (errors, slope)


def test_spectral_kdv_against_the_two_soliton_solution():
    # a third derivative and a conservative flux; the explicit step is ~ h^3, so a short time
    eq, mu, ts = pdes.KdV(), 2.0, jnp.array([0.0, 0.1, 0.2])
    s = pdes.spectral_solve(eq, mu, 512, ts)
    x = s.x.reshape(-1, 1)
    exact = jax.vmap(lambda t: jax.vmap(lambda p: eq.exact(p, t, mu))(x))(ts)
    # measured 4.0e-9 (2.0e-5 at n = 256); the exact solution is periodic to 6e-9 only
    assert float(jnp.max(jnp.abs(s.us - exact.reshape(s.us.shape)))) < 1e-7


def test_spectral_solve_refuses_an_equation_without_F():
    with pytest.raises(NotImplementedError, match="method='fd'"):
        pdes.spectral_solve(pdes.Vlasov(), 0.5 * sum(pdes.Vlasov().mu_range), 16, [0.0, 0.1])


def test_an_equation_without_a_right_hand_side_is_refused_when_made():
    class Silent(pdes.AbstractEquation):
        name = "silent"
        fd_order = 2
        lower: tuple[float, ...] = (0.0,)
        upper: tuple[float, ...] = (1.0,)
        mu_range: tuple[float, float] = (0.0, 1.0)
        t1: float = 1.0

        def initial_condition(self, x, mu):
            return x[0]

        def fd_rhs(self, u, mu, dx):
            return u

    with pytest.raises(TypeError, match="Silent states no right-hand side: define F"):
        Silent()


class HeatF(pdes.AbstractExactEquation):
    """`u_t = mu u_xx` on `[0, 1)` stated as `F` only: no `rhs`, no `fd_rhs`."""

    name = "heat-f"
    conserved = ("mass",)
    lower: tuple[float, ...] = (0.0,)
    upper: tuple[float, ...] = (1.0,)
    mu_range: tuple[float, float] = (1e-3, 1e-2)
    t1: float = 1.0

    def F(self, field, x, mu):
        return mu * field.laplacian()

    def initial_condition(self, x, mu):
        return self.exact(x, 0.0, mu)

    def exact(self, x, t, mu):
        return 1.0 + jnp.exp(-mu * (2 * jnp.pi) ** 2 * t) * jnp.sin(2 * jnp.pi * x[0])


def test_an_equation_with_F_only_gets_the_spectral_reference_by_default():
    eq, mu, ts = HeatF(), 4e-3, jnp.array([0.0, 0.5, 1.0])
    assert pdes.reference_method(eq) == "spectral" and eq.fd_order is None
    s = pdes.reference_solve(eq, mu, 16, ts)
    exact = jax.vmap(lambda t: jax.vmap(lambda p: eq.exact(p, t, mu))(s.x))(ts)
    # the same as spectral_solve's, and exact to the time tolerance (measured 2.0e-12)
    assert np.array_equal(s.us, pdes.spectral_solve(eq, mu, 16, ts).us)
    assert float(jnp.max(jnp.abs(s.us - exact))) < 1e-9


def test_method_fd_without_fd_rhs_is_refused_saying_what_to_use():
    with pytest.raises(NotImplementedError, match="method='spectral'"):
        pdes.reference_solve(HeatF(), 4e-3, 16, [0.0, 0.1], method="fd")
    with pytest.raises(NotImplementedError, match="spectral reference"):
        HeatF().fd_rhs(jnp.zeros(16), 4e-3, (1 / 16,))
    with pytest.raises(ValueError, match="'fd' or 'spectral'"):
        pdes.reference_solve(HeatF(), 4e-3, 16, [0.0, 0.1], method="chebyshev")


def test_equations_with_fd_rhs_keep_the_fd_reference_by_default():
    eq, mu, ts = pdes.Burgers(), 0.01, [0.0, 0.1]
    assert pdes.reference_method(eq) == "fd"
    assert np.array_equal(pdes.reference_solve(eq, mu, 32, ts).us,
                          pdes.fd_solve(eq, mu, 32, ts).us)


def test_compare_against_the_spectral_reference_agrees_with_fd_to_its_order():
    import neural_galerkin as ng
    from neural_galerkin._recipes import shipped_weights

    model, eq, mu = ng.load_model(shipped_weights("burgers")), pdes.Burgers(), 0.0039
    diffs = []
    for n in (256, 512):  # the data-driven mode: cheap, the model is not what is checked
        kw = dict(mode="d", n_ref=n, n_times=5)
        fd = ng.compare(eq, model, mu, reference="fd", **kw)
        sp = ng.compare(eq, model, mu, reference="spectral", **kw)
        assert sp.reference == "spectral" and sp.u_ref.shape == fd.u_ref.shape == (5, n)
        diffs.append(float(np.max(np.abs(fd.u_ref - sp.u_ref))))
    # FD's second order: measured 1.3e-2, 3.0e-3 (ratio 4.4; 7.6e-4 at n = 1024)
    assert 3.0 < diffs[0] / diffs[1] < 6.0 and diffs[1] < 1e-2, diffs
    assert ng.compare(pdes.Burgers(), model, mu, mode="d", n_ref=256, n_times=3).reference == "fd"
