"""The data-driven prediction, and the Galerkin residual along it."""

from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

import pdes

from ._checks import check_mu, diagnostic_points, net_lift, sample_points
from ._galerkin import GalerkinField, LeastSquares
from ._model import CoLoRAModel
from ._solution import RESULTS, Solution
from ._solve import as_field_weights, as_gradient_weights, gradient_rows


def predict(model: CoLoRAModel, ts: ArrayLike, mu: ArrayLike, *,
            equation: pdes.AbstractEquation | None = None) -> Solution:
    """Data-driven (CoLoRA-D) prediction: `phi(t, mu) = h(t, mu)` from the hypernetwork.

    A model trained on `u` minus the lift of nonzero boundary data (`model.config.lift`,
    `pretrain(pde=...)`) needs the `equation` whose data to add back.

    **Raises:** `ValueError` if `mu` or a time in `ts` lies outside what the model was trained
    on (the hypernetwork is not to be trusted there; use the equation-driven `solve`), or
    where the boundary data's lift and the model's training do not match.
    """
    lift = None
    if equation is not None:
        mu = check_mu(equation, model, mu)
        lift = net_lift(equation, model.net)
    else:
        mu = pdes.check_parameter(mu, model.mu_range, model.config.equation)
    if model.config.lift and equation is None:
        raise ValueError("the model was trained on u minus the lift of its equation's "
                         "boundary data: give equation= to add the lift back")
    if equation is not None and (lift is not None) != model.config.lift:
        raise ValueError(f"{equation.name} has {'nonzero' if lift else 'zero'} boundary data, "
                         f"the model was trained {'with' if model.config.lift else 'without'} "
                         "a lift of such data; pretrain it with pde=equation")
    ts = jnp.atleast_1d(jnp.asarray(ts, dtype=jnp.zeros(()).dtype))
    t0, t1 = model.t_range
    if ts.ndim != 1 or bool(jnp.any(ts < t0 - 1e-12)) or bool(jnp.any(ts > t1 + 1e-12)):
        raise ValueError(f"times must lie in the trained window [{t0:g}, {t1:g}]")
    mu = jnp.asarray(mu, float)
    phis = _predict(model.hyper, ts, mu)
    return Solution(ts=ts, phis=phis, net=model.net, residuals=None, stats={},
                    result=RESULTS.successful, mode="d", lift=lift,
                    mu=None if lift is None else mu)


@eqx.filter_jit
def _predict(hyper, ts, mu):
    return jax.vmap(hyper, in_axes=(0, None))(ts, mu)


def manifold_residual(
    equation: pdes.AbstractEquation, model: CoLoRAModel, mu: ArrayLike, ts: ArrayLike, *,
    samples: int | ArrayLike | None = None, lstsq: LeastSquares = LeastSquares(),
    field_weights: Sequence[float] | str | None = None,
    gradient_weights: dict[str, float] | str | None = None,
) -> Float[Array, " t"]:
    """The relative Galerkin residual `||J phi_dot - F|| / ||F||` along the hypernetwork's
    own trajectory `phi = h(t, mu)` (at a training `mu`, along the training data).

    Run it before trusting a pretrained network with equation-driven solves: where it is of
    order one, the network's tangent space does not contain the PDE's right-hand side and the
    equation-driven solve will drift from the truth, however small the time step. As in
    `solve`, the least squares is solved on `samples` and its residual measured on points
    it did not fit, and in the same norm: `field_weights`, `gradient_weights` as in `solve`
    (default the equation's).
    """
    mu = check_mu(equation, model, mu)
    pts = sample_points(equation, samples)
    field = galerkin_field(equation, model, pts, mu, lstsq, field_weights, gradient_weights)
    ts = jnp.atleast_1d(jnp.asarray(ts, dtype=jnp.zeros(()).dtype))
    return _manifold_residual(field, diagnostic_points(equation, pts.shape[0]), model.hyper,
                              ts, jnp.asarray(mu, float))


def galerkin_field(equation: pdes.AbstractEquation, model: CoLoRAModel, points: ArrayLike,
                   mu: ArrayLike, lstsq: LeastSquares = LeastSquares(),
                   field_weights: Sequence[float] | str | None = None,
                   gradient_weights: dict[str, float] | str | None = None) -> GalerkinField:
    """The Galerkin field of `model` at `points` in `solve`'s norm: `field_weights` and
    `gradient_weights` as in `solve` (default the equation's), the lift of nonzero boundary
    data."""
    return GalerkinField(equation, model.net, jnp.asarray(points), lstsq,
                         lift=net_lift(equation, model.net),
                         field_weights=as_field_weights(field_weights, equation, model),
                         **gradient_rows(as_gradient_weights(gradient_weights, equation),
                                         equation, mu))


@eqx.filter_jit
def _manifold_residual(field, points, hyper, ts, mu):
    return jax.vmap(lambda t: field.residual(t, hyper(t, mu), mu, points))(ts)
