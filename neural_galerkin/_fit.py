"""The initial fit: the online weights `phi0` whose network matches an initial condition."""

from collections.abc import Callable, Sequence
from typing import cast

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx
from jaxtyping import Array, ArrayLike, Float

import pdes

from ._checks import (
    as_net,
    as_sampler,
    check_finite,
    check_fits,
    check_lift_data,
    check_mu,
    check_sample_count,
    is_traced,
    net_lift,
)
from ._galerkin import field_gradients
from ._model import CoLoRAModel
from ._network import CoLoRAMLP, get_phi, num_phi, pool_mask, set_phi
from ._sampling import AbstractSampler
from ._solution import RESULTS
from ._solve import as_field_weights, as_gradient_weights


def fit_initial_condition(
    equation: pdes.AbstractEquation,
    model: CoLoRAModel | CoLoRAMLP,
    u0=None,
    mu: ArrayLike | None = None,
    *,
    samples: int | ArrayLike | AbstractSampler | None = None,
    phi_guess: ArrayLike | None = None,
    rtol: float = 1e-10,
    atol: float = 1e-12,
    max_steps: int = 1000,
    t0: ArrayLike | None = None,
    field_weights: Sequence[float] | str = "plain",
    gradient_weights: dict[str, float] | str | None = None,
) -> tuple[Float[Array, " p"], float]:
    """Fit the online weights to an initial condition: `phi0 = argmin sum_i (u(x_i; phi) -
    u0(x_i))^2` by Levenberg-Marquardt (optimistix). Plain Gauss-Newton can diverge on this
    problem; the damping of Levenberg-Marquardt keeps the steps inside the region where the
    linearisation holds.

    **Arguments:**
    - `u0`: a function of one point `x` (shape `(d,)`) returning one value (for a system of
      fields, one per field: shape `(n_fields,)`), or its values at the sample points (shape
      `(n,)`, or `(n, n_fields)`); default: the equation's initial condition at `mu`.
    - `mu`: the parameter (for the default initial condition and the starting guess); it
      must lie in a pretrained model's range.
    - `samples`: the fitting points, as in `solve` (a sampler fits on its uniform grid of the
      same size); at least twice as many as online weights.
    - `phi_guess`: starting guess; default `model.phi(t0, mu)` for a pretrained model, else
      the network's current online weights. A network's pool scales (`pool_mask`) are not
      fitted: they keep their value in `phi_guess` (zero in `model.phi`), so that an adaptive
      solve starts with its pool offline at zero, as the data-driven solution has it.
    - `t0`: the initial time, where the lift of nonzero boundary data is taken (the network
      fits `u0 - L(., t0, mu)`; see `GalerkinField`); default: the start of a pretrained
      model's time range, else 0.
    - `field_weights`, `gradient_weights`: the norm of the fit, as in `solve`: a system's
      fields weighted (default `"plain"`, all 1), and the spatial gradient of the fields'
      errors where `gradient_weights` (default: the equation's Galerkin norm,
      `galerkin_gradient_fields`) says, so that the start is fitted in the norm the solve
      holds the equation in. The error the start carries along is that of the flow's
      norm: for the wave (`pdes.Wave2D`) its energy norm, in which the exact flow keeps
      it; the fitted start carried by the exact flow measured 9.5e-3 (space-time, at
      `mu = 0.55` and `0.85`) fitted in values, 5.0e-3 / 4.5e-3 fitted in the energy norm
      (`benchmarks/error_floors.py`). Gradient rows
      need the initial condition as a function (the default, or a callable `u0`) and `mu`
      where the equation's weights depend on it; with `u0` as values at points (or no
      `mu`), the equation's default gradient rows are left out and the fit is in values.

    **Returns:** `(phi0, relative L2 fit error at the samples)` (the error a float for a
    concrete call, a scalar array under `jax.jit` / `jax.vmap`, which trace it).

    **Raises:** `ValueError` for `mu` out of range, non-finite or wrongly shaped `u0`, too few
    samples, or a failed fit (`RESULTS.fit_failed`; traced: through `eqx.error_if`).
    """
    net = as_net(model)
    check_fits(equation, net)
    shape = () if net.n_fields == 1 else (net.n_fields,)
    if mu is not None:
        mu = check_mu(equation, model, mu)
    sampler = as_sampler(equation, samples)
    check_sample_count(equation, sampler, num_phi(net))
    pts = sampler.fixed_points(equation)  # a dynamic sampler fits on its uniform grid
    lift = net_lift(equation, net)
    if lift is not None:
        if mu is None:
            raise ValueError(f"{equation.name} has nonzero boundary data: give mu, at which "
                             "their lift is taken")
        if t0 is None:
            t0 = model.t_range[0] if isinstance(model, CoLoRAModel) else 0.0
        t_lift = jnp.asarray(t0, dtype=pts.dtype)
        mu = mu_lift = check_lift_data(lift, t_lift, mu)
    if u0 is None:
        if mu is None:
            raise ValueError("give u0, or mu for the equation's default initial condition")
        u0 = lambda x: equation.initial_condition(x, mu)  # noqa: E731
    if callable(u0):
        _check_point_function(u0, pts, shape)
        target = jax.vmap(u0)(pts)
    else:
        target = jnp.asarray(u0, dtype=pts.dtype)
        if target.shape != (pts.shape[0], *shape):
            per = "one value" if not shape else f"{shape[0]} values (one per field)"
            raise ValueError(
                f"u0 values have shape {target.shape}, expected {(pts.shape[0], *shape)}: "
                f"{per} per sample point"
            )
    target = check_finite(target, "the initial condition", "give finite values")
    target = jnp.asarray(target)
    weights = as_field_weights(field_weights, equation, model)
    gradient = as_gradient_weights(gradient_weights, equation)
    if gradient is not None and (not callable(u0) or (gradient.weights is None and mu is None)):
        if gradient_weights is not None:
            raise ValueError("gradient_weights need the initial condition as a function of x "
                             "(u0 callable, or the equation's default with mu) and mu where "
                             "the equation weighs them: give them, or leave gradient_weights "
                             "out to fit values")
        gradient = None  # the equation's default, where it cannot be formed: values alone
    if gradient is not None:
        u0_fn = cast(Callable[[Array], Array], u0)

        def ic(x):
            value = u0_fn(x)
            return value if lift is None else value - lift(x, t_lift, mu_lift)

        g_weights = gradient.weights
        if g_weights is None:  # the equation's, at mu (given: checked above)
            assert mu is not None
            g_weights = gradient.at(equation, mu)
        grad_target = jax.vmap(field_gradients(ic, gradient.fields))(pts)
        gradient = (gradient.fields, g_weights, grad_target)
    if lift is not None:
        whole = jnp.linalg.norm(target)  # the fit error stays relative to u0
        target = target - jax.vmap(lambda x: lift(x, t_lift, mu_lift))(pts)
    if phi_guess is None:
        if isinstance(model, CoLoRAModel) and mu is not None:
            phi_guess = model.phi(model.t_range[0], mu)
        else:
            phi_guess = get_phi(net)
    phi_guess = jnp.asarray(phi_guess, dtype=pts.dtype)
    pool = pool_mask(net)
    free = None if not pool.any() else tuple(int(i) for i in np.flatnonzero(~pool))
    phi0, err = _fit(net, pts, target, phi_guess, rtol, atol, max_steps, free, weights,
                     gradient)
    if lift is not None:
        err = err * jnp.linalg.norm(target) / whole
    failed = ~(jnp.isfinite(err) & jnp.all(jnp.isfinite(phi0)))
    if is_traced(phi0):
        return RESULTS.fit_failed.error_if(phi0, failed), err
    if bool(failed):
        raise ValueError(RESULTS[RESULTS.fit_failed])
    return phi0, float(err)


def _check_point_function(u0, pts, shape=()) -> None:
    d = pts.shape[1]
    try:
        out = jax.eval_shape(u0, pts[0])
    except Exception as e:  # whatever the user's function raised, said with what it was given
        raise ValueError(f"u0 failed on one point x of shape ({d},): {type(e).__name__}: "
                         f"{e}") from None
    if getattr(out, "shape", None) != shape:
        what = "one value" if not shape else f"an array of shape {shape} (one value per field)"
        raise ValueError(
            f"u0 must return {what} for one point x of shape ({d},); it returned "
            f"{getattr(out, 'shape', type(out).__name__)}. Write it for a single point "
            "(it is vmapped over the samples), or pass its values at the samples")


@eqx.filter_jit
def _fit(net, pts, target, phi_guess, rtol, atol, max_steps, free=None, weights=None,
         gradient=None):
    # `free`: the indices of the weights fitted (the others stay at `phi_guess`); None: all.
    # `weights`: per field; `gradient`: (field indices, their weights, the target's gradients
    # there, shape (n, g, d)); the error returned is that of the values, unweighted
    def full(v):
        return v if free is None else phi_guess.at[jnp.asarray(free)].set(v)

    def value_error(v):
        return jax.vmap(set_phi(net, full(v)))(pts) - target

    def residual(v, _):
        r = value_error(v)
        if weights is not None:
            r = r * weights
        if gradient is None:
            return r
        fields, g_weights, g_target = gradient
        g = jax.vmap(field_gradients(set_phi(net, full(v)), fields))(pts)
        return jnp.concatenate([r.ravel(), ((g - g_target) * g_weights[None, :, None]).ravel()])

    solver = optx.LevenbergMarquardt(rtol=rtol, atol=atol)
    start = phi_guess if free is None else phi_guess[jnp.asarray(free)]
    sol = optx.least_squares(residual, solver, start, max_steps=max_steps, throw=False)
    # a fit stopped by max_steps is still the best point found; the error says how good it is
    err = jnp.linalg.norm(value_error(sol.value)) / jnp.linalg.norm(target)
    return full(sol.value), err
