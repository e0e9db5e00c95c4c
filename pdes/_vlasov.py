import math
from collections.abc import Callable

import diffrax as dfx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ._base import AbstractExactEquation, PointFunction, d1


def trace_back(field: Callable[[Array, ArrayLike], Array], x: Float[Array, " 2"], t: ArrayLike,
               mu: ArrayLike) -> Float[Array, " 2"]:
    """The foot `(x, v)` at time 0 of the characteristic `x' = v`, `v' = field(x, mu)` that
    passes through the point `x` at time `t` (Dopri8, `rtol = atol = 1e-13`; `t < 0` traces
    it forward). Differentiable in forward mode (in `x` and `t > 0`)."""

    def backward(s, y, mu):  # the characteristic ODE in reversed time
        return jnp.stack([-y[1], -field(y[0], mu)])

    sol = dfx.diffeqsolve(
        dfx.ODETerm(backward), dfx.Dopri8(), 0.0, jnp.asarray(t), None,
        jnp.asarray(x, dtype=float), mu,
        stepsize_controller=dfx.PIDController(rtol=1e-13, atol=1e-13),
        saveat=dfx.SaveAt(t1=True), max_steps=100_000, adjoint=dfx.ForwardMode(),
    )
    assert sol.ys is not None  # saved at t1
    return sol.ys[-1]


class Vlasov(AbstractExactEquation):
    """The Vlasov equation in 1D1V phase space in a fixed field,
    `f_t + v f_x + E(x) f_v = 0` for `f(x, v)`, a point being `(x, v)`, on the periodic box
    `[0, 2 pi) x [-V, V)` (default `V = 4`; `lower`/`upper` set it).

    The field `E(x) = -phi'(x) = mu sin(x)` comes from the potential `phi(x) = mu (1 + cos x)`,
    a well at `x = pi`; the parameter is the field amplitude `mu` in `[0.5, 1.5]`. Particles
    move along the characteristics `x' = v`, `v' = E(x)` (a nonlinear pendulum, energy
    `v^2/2 + phi(x)`, separatrix at `2 mu`) and `f` is constant along them.

    Default initial condition: the smooth blob
    `exp(-(1 - cos(x - x0)) / s_x^2 - (v - v0)^2 / (2 s_v^2))` (exactly periodic in `x`; near
    its centre a Gaussian of widths `(s_x, s_v)`) at `centre = (x0, v0) = (pi - 1, 0)` with
    `width = (0.4, 0.3)`: a particle displaced by 1 from the bottom of the well, at rest, so the
    blob sits at the same fraction of the well depth for every `mu` (less than `1e-3` of its
    mass lies beyond the separatrix, at `mu = 0.5`). It turns in the well (small-oscillation
    period `2 pi / sqrt(mu)`, 5.1 to 8.9) and shears into a crescent, since the period grows
    with the energy; default `t1 = 4`. The velocity direction is treated as periodic: a
    particle at `|v| = 4` has energy `>= 8`, where the default blob is below `1e-25` (at any
    `mu` in range), so the exact solution stays below that at `|v| = V` at all times.

    `exact` traces the characteristic back with a high-accuracy ODE solve (any time `t`).

    Reference: second-order central differences in `x` and `v`, the field taken as the
    discrete gradient of the potential (`E_i = -(phi_{i+1} - phi_{i-1}) / 2 dx`, also second
    order). Since `v` does not depend on `x` and `E` not on `v`, the semi-discrete operator is
    skew-symmetric: it keeps the mass and the L2 energy `sum f^2/2`, and (by the discrete
    gradient) the particle energy `sum f (v^2/2 + phi)` as well, exactly up to the edges
    `|v| = V` where `f` is negligible. In time: Tsit5, which keeps the two linear invariants
    (mass, particle energy) to round-off and the L2 energy to the step-size tolerance.

    Invariants: `"mass"`, the L2 energy `"energy"` `int f^2/2` (a Casimir), and
    `"total_energy"` `int f (v^2/2 + phi(x)) dx dv` (defined through `invariant_density`).
    """

    name = "vlasov"
    fd_order = 2
    conserved = ("mass", "energy", "total_energy")
    dissipated = {}
    lower: tuple[float, ...] = (0.0, -4.0)
    upper: tuple[float, ...] = (2 * math.pi, 4.0)
    mu_range: tuple[float, float] = (0.5, 1.5)
    t1: float = 4.0
    centre: tuple[float, float] = (math.pi - 1.0, 0.0)
    width: tuple[float, float] = (0.4, 0.3)

    def __check_init__(self):
        if not len(self.lower) == len(self.upper) == 2:
            raise ValueError("the Vlasov phase space is 1D1V: lower and upper need two entries")
        periods = (self.upper[0] - self.lower[0]) / (2 * math.pi)
        if periods < 0.5 or abs(periods - round(periods)) > 1e-12:
            raise ValueError("the x-interval must be a whole number of periods 2 pi of the field")

    def potential(self, x: ArrayLike, mu: ArrayLike) -> Array:
        """`phi(x) = mu (1 + cos x)`."""
        return jnp.asarray(mu) * (1 + jnp.cos(x))

    def field(self, x: ArrayLike, mu: ArrayLike) -> Array:
        """`E(x) = -phi'(x) = mu sin x`."""
        return jnp.asarray(mu) * jnp.sin(x)

    def rhs(self, u: PointFunction, x: Float[Array, " d"], mu: ArrayLike,
            t: ArrayLike = 0.0) -> Float[Array, ""]:
        # one directional derivative (v, E(x)) . grad f
        direction = jnp.stack([x[1], self.field(x[0], mu)]).astype(x.dtype)
        return -jax.jvp(u, (x,), (direction,))[1]

    def initial_condition(self, x: Float[Array, " d"], mu: ArrayLike) -> Float[Array, ""]:
        (x0, v0), (sx, sv) = self.centre, self.width
        return jnp.exp(-(1 - jnp.cos(x[0] - x0)) / sx**2 - (x[1] - v0) ** 2 / (2 * sv**2))

    def exact(self, x: Float[Array, " d"], t: ArrayLike, mu: ArrayLike) -> Float[Array, ""]:
        """Exact solution: `initial_condition` at the foot of the characteristic through
        `(x, v)`, traced back over the time `t` (Dopri8, `rtol = atol = 1e-13`; `t < 0` traces
        it forward). Differentiable in forward mode (in `x` and `t > 0`), as `rhs` needs: the
        right-hand side of the exact solution is its `u_t`."""

        return self.initial_condition(trace_back(self.field, x, t, mu), mu)

    def fd_rhs(self, u: Float[Array, "*grid"], mu: ArrayLike, dx: tuple[float, ...]) -> Array:
        x = self.lower[0] + dx[0] * jnp.arange(u.shape[0])
        v = self.lower[1] + dx[1] * jnp.arange(u.shape[1])
        # the field as the discrete gradient of the potential, `-(phi_{i+1} - phi_{i-1}) / 2h`
        # (second order, like the rest): then the scheme keeps the discrete particle energy
        # `sum f (v^2/2 + phi)` exactly too, besides the mass and `sum f^2/2`
        field = -d1(self.potential(x, mu), 0, dx[0])
        return -v[None, :] * d1(u, 0, dx[0]) - field[:, None] * d1(u, 1, dx[1])

    def invariant_density(self, name: str, x: Float[Array, " d"], u: Float[Array, ""],
                          grad_u: Float[Array, " d"], mu: ArrayLike) -> Float[Array, ""]:
        if name == "total_energy":
            return u * (x[1] ** 2 / 2 + self.potential(x[0], mu))
        return super().invariant_density(name, x, u, grad_u, mu)
