"""The tangent-space term of pretraining: how well the network's tangent space at (perturbed)
online weights holds the PDE's right-hand side, as the online Galerkin solve will ask of it."""

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

import pdes

from ._galerkin import GalerkinField, LeastSquares
from ._lift import BoundaryLift
from ._network import CoLoRAMLP


def tangent_residual(equation: pdes.AbstractEquation, net: CoLoRAMLP, phi: Float[Array, " p"],
                     t: ArrayLike, mu: ArrayLike, points: Float[Array, "n d"], *,
                     ridge: float = 1e-3, lift: BoundaryLift | None = None,
                     field_weights: Float[Array, " fields"] | None = None) -> Float[Array, ""]:
    """The relative, Tikhonov-regularised Galerkin least-squares residual at the online
    weights `phi`,

        `min_eta (||J eta - F||^2 + lam^2 ||eta||^2) / ||F||^2`,  `lam = ridge ||J||_F`,

    with `J = du/dphi` and `F` the PDE's right-hand side of `u(.; phi)` at the time `t` and
    the parameter `mu`, both at `points` (the rows of `GalerkinField.system`: a lift's rate
    subtracted, a system's fields weighted by `field_weights`).

    **Numerics.** Relative to `||F||^2` so that it reads as the fraction of the equation's
    `u_t` the network cannot follow (the quantity `GalerkinField.residual` reports, squared),
    the same at every `(t, mu)` whatever `u_t`'s size. The ridge is relative to `J`'s
    Frobenius norm (held constant under differentiation): a direction of the tangent space whose
    singular value is below about `ridge ||J||_F` counts as missing, since the online solve
    would follow `F` along it only with a `phi_dot` about `1/ridge` times larger (stiff, tiny
    time steps); `ridge=0` gives the plain least-squares residual (the online solve's, whose
    truncated SVD drops only singular values below 1e-10 of the largest). `eta` is solved by
    `LeastSquares` on the rows `[J; lam I]`, `[F; 0]` (QR, then a truncated SVD) and is
    **not** differentiated through: the value of a minimum has the gradient of its objective
    at the minimiser (envelope theorem), so the gradient with respect to the network's
    weights (through `J` and `F`) is exact without the derivative of the solve, and stays
    finite where that of an SVD would not (close singular values).
    """
    field = GalerkinField(equation, net, points, LeastSquares(rcond=1e-10), lift=lift,
                          field_weights=field_weights)
    J, F = field.system(phi, mu, t)
    lam = ridge * jax.lax.stop_gradient(jnp.linalg.norm(J))
    if ridge > 0:  # Tikhonov through the augmented rows [J; lam I], [F; 0]
        p = J.shape[1]
        J_aug = jnp.concatenate([J, lam * jnp.eye(p, dtype=J.dtype)])
        F_aug = jnp.concatenate([F, jnp.zeros((p,), F.dtype)])
    else:
        J_aug, F_aug = J, F
    eta = jax.lax.stop_gradient(LeastSquares(rcond=1e-10)(J_aug, F_aug))
    value = jnp.sum((J @ eta - F) ** 2) + lam**2 * jnp.sum(eta**2)
    return value / jnp.maximum(jnp.sum(F**2), jnp.finfo(F.dtype).tiny)
