"""`RegularisedImplicit`: a stable step for stiff Galerkin dynamics, a few
regularised Gauss-Newton iterations per step (optimistix)."""

from collections.abc import Callable
from typing import ClassVar

import diffrax as dfx
import equinox as eqx
import jax.numpy as jnp
import optimistix as optx

from ._checks import is_traced
from ._galerkin import LeastSquares
from ._solver import find_field


class RegularisedImplicit(dfx.AbstractAdaptiveSolver):
    r"""The regularised implicit step of the dynamical parametric approximation (as in Lubich
    and Nick, *Regularized dynamical parametric approximation*, 2025), for the Galerkin
    dynamics of `solve`: from $\phi_0$ at $t_0$, the step to $t_1 = t_0 + h$ is

    $$\phi_1 = \arg\min_\phi \Big\|\frac{u(\phi) - u(\phi_0)}{h} - \theta F(u(\phi))
    - (1 - \theta) F(u(\phi_0))\Big\|^2 + \varepsilon^2 \Big\|\frac{\phi - \phi_0}{h}\Big\|^2,$$

    the first norm over the Galerkin sample points (the rows of `GalerkinField`: sample-major,
    field-weighted), the second over the online weights. It is implicit in $F$, so a stiff
    right-hand side (diffusion) does not bound the step; and $u(\phi) - u(\phi_0)$ is kept
    whole rather than linearised, so the step follows the network's manifold. To first order
    in $h$ the step solves the Galerkin least squares with $\varepsilon$ as its Tikhonov
    damping: `eps` plays the role of `LeastSquares.ridge` (same units: the residual summed,
    not averaged, over the samples), and keeps the step's Gauss-Newton systems well posed where
    $J$ has near-null directions.

    The minimisation is `optimistix.least_squares`, started from $\phi_0$ and stopped after
    `iterations` updates (or sooner, at the solver's tolerances). One update is the linearly
    implicit Euler step; the second is worth its cost (shipped heat-dirichlet model, 128
    samples, 20 fixed steps: error 4.3e-2 with one, 1.4e-2 with two or four, in 0.27, 0.39,
    0.76 s; `benchmarks/results/implicit_step_options.md`). An unconverged iterate is kept (a
    few iterations are the method, not a failure); a non-finite one fails the step (a
    `PIDController` then retries a smaller one). The start is $\phi_0$, not the explicit
    predictor: on a stiff problem the predictor lies far off, and two updates from it did not
    come back (heat-dirichlet, `h = 0.05`: error above 1 after three steps, then overflow).

    **Error estimate** (for `diffrax.PIDController`; local error of order $h^2$, as for
    diffrax's `ImplicitEuler`): the difference between $\phi_1$ and the explicit predictor
    $\phi_0 + h v$ ($v$ the Galerkin velocity with the same damping, so that the difference
    vanishes to first order), measured in the metric of the ansatz: as $R (\phi_1 - \phi_0 - h
    v) \sqrt{p / n}$ with $J(\phi_1) = Q R$, a vector of the weights' shape whose RMS is the
    RMS over the samples of the change of $u$ it makes. Directions of $\phi$ that hardly change
    $u$ (the near-null directions of $J$, which make the Galerkin ODE stiff for an explicit
    solver) then do not limit the step; the controller's `atol` bounds the local error of $u$,
    `rtol` multiplies $|\phi|$. The estimate is not filtered for stiffness of the PDE itself
    (a decay rate $\lambda$ with $h \lambda \gg 1$ in function space inflates it):
    `ConstantStepSize` steps such a problem at any size.

    **Arguments:**

    - `eps`: the regularisation $\varepsilon > 0$ (default `1e-3`; on the shipped
      heat-dirichlet model, 128 samples, 20 fixed steps, the error was 3.5e-2, 1.4e-2, 1.5e-2
      at `eps` 1e-4, 1e-3, 1e-2). The residual is summed over the samples, so the singular
      values of $J$ grow like $\sqrt{n}$ (that model's $J$ on 512 samples has them from 11
      down to 7e-5): what matters is `eps` relative to them.
    - `iterations`: Gauss-Newton updates per step, at least 1 (default 2).
    - `theta`: `1` (the default), implicit Euler: order 1, L-stable (stiff modes are damped
      out); `0.5`, the trapezoidal rule (Crank-Nicolson): order 2 at the same cost per step,
      A-stable but stiff modes are not damped (their factor tends to -1). Its error estimate
      is still that of the explicit Euler predictor, an overestimate: the controller then
      keeps the first-order error below the tolerances.
    - `least_squares`: the optimistix least-squares solver (default
      `optx.GaussNewton(rtol=1e-8, atol=1e-10)`: the regularisation already damps it).

    Works through `solve` with dynamic samplers and conservation by projection (both by
    `GalerkinSolver`), and under `jax.vmap`. The Gauss-Newton linear solves are not run one
    batch member at a time (`LeastSquares.one_by_one`): a batch sharded over several CPU
    devices of one process has not been tried with it.

    **Raises:** `ValueError` for a non-positive `eps`, fewer than one iteration or a `theta`
    other than 1 or 0.5; `TypeError` for a `least_squares` that is not an optimistix
    least-squares solver; inside `solve`, `ValueError` for sparse updates or conservation by
    constraint (use `Conservation(..., method="projection")`: `solve` then projects after
    every step).
    """

    term_structure: ClassVar = dfx.AbstractTerm
    interpolation_cls: ClassVar[Callable[..., dfx.LocalLinearInterpolation]] = (
        dfx.LocalLinearInterpolation)

    eps: float = 1e-3
    iterations: int = eqx.field(default=2, static=True)
    least_squares: optx.AbstractLeastSquaresSolver = optx.GaussNewton(rtol=1e-8, atol=1e-10)
    theta: float = eqx.field(default=1.0, static=True)

    def __check_init__(self):
        if not is_traced(self.eps) and not self.eps > 0:
            raise ValueError(f"eps must be positive (the regularisation of the step's least "
                             f"squares, in the units of LeastSquares.ridge), got {self.eps!r}")
        if not (isinstance(self.iterations, int) and self.iterations >= 1):
            raise ValueError(f"iterations must be an integer of at least 1 (Gauss-Newton "
                             f"updates per step), got {self.iterations!r}")
        if self.theta not in (0.5, 1.0):
            raise ValueError(f"theta must be 1 (implicit Euler) or 0.5 (the trapezoidal rule), "
                             f"got {self.theta!r}")
        if not isinstance(self.least_squares, optx.AbstractLeastSquaresSolver):
            raise TypeError(f"least_squares must be an optimistix least-squares solver (e.g. "
                            f"optx.GaussNewton or optx.LevenbergMarquardt), got "
                            f"{self.least_squares!r}")

    def order(self, terms):
        return 2 if self.theta == 0.5 else 1

    def error_order(self, terms):
        return 2

    def init(self, terms, t0, t1, y0, args):
        return None

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        field = find_field(terms)
        if field.active is not None:
            raise ValueError("RegularisedImplicit moves every online weight: it does not "
                             "take sparse_updates; leave them out or use an explicit solver")
        if field.mask is not None:
            raise ValueError("RegularisedImplicit moves every online weight: it does not "
                             "take adaptive online weights; leave adaptive= out or use an "
                             "explicit solver")
        if field.conservation is not None and field.conservation.constrain:
            raise ValueError("RegularisedImplicit does not hold invariants by constraint; "
                             "use conserve=Conservation(..., method='projection') (a projection "
                             "after every step)")
        mu, h = args, t1 - t0
        J0, F0 = field.system(y0, mu, t0)
        lstsq = LeastSquares(field.lstsq.rcond, self.eps, field.lstsq.one_by_one)
        predictor = y0 + h * lstsq(J0, F0)
        u0, _ = field.values(y0, mu, t0)

        def residual(phi, _):
            u, F = field.values(phi, mu, t1)
            F = self.theta * F + (1 - self.theta) * F0
            return jnp.concatenate([(u - u0) / h - F, self.eps * (phi - y0) / h])

        # optimistix counts the evaluation at the start as a step: `iterations` updates
        sol = optx.least_squares(residual, self.least_squares, y0,
                                 max_steps=self.iterations + 1, throw=False)
        y1 = sol.value
        # measured in the ansatz's metric: `R e` with `J = Q R` has the norm of `J e`, the
        # change of `u` at the samples, scaled to the RMS over the samples
        R = jnp.linalg.qr(field.jacobian(y1), mode="r")
        y_error = jnp.sqrt(R.shape[0] / u0.shape[0]) * (R @ (y1 - predictor))
        result = dfx.RESULTS.where(jnp.all(jnp.isfinite(y1)), dfx.RESULTS.successful,
                                   dfx.RESULTS.promote(optx.RESULTS.nonlinear_divergence))
        return y1, y_error, dict(y0=y0, y1=y1), None, result

    def func(self, terms, t0, y0, args):
        return terms.vf(t0, y0, args)
