"""The Galerkin (Dirac-Frenkel) system `J phi_dot ~ F` at sample points, and its solve."""

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, ArrayLike, Bool, Float, Int, PRNGKeyArray

import pdes

from ._invariants import InvariantConstraints
from ._lift import BoundaryLift, boundary_lift, lifted
from ._linalg import one_by_one, svd_solve
from ._network import CoLoRAMLP, set_phi


class LeastSquares(eqx.Module):
    """Solves the small least-squares problem `min_v ||J v - F||^2 + ridge^2 ||v||^2`.

    `J` (samples x online weights) is often ill-conditioned: online weights of different
    layers act on the output through very different gains, and some combinations barely change
    `u` at all. The default is a truncated SVD (`lineax.SVD`): singular values below
    `rcond * sigma_max` are dropped and the minimum-norm solution is returned. This leaves the
    well-determined directions unbiased and stops the poorly determined ones from producing
    huge `phi_dot` (which would force tiny time steps). `ridge > 0` adds Tikhonov damping on
    top, solved through the augmented matrix `[J; ridge I]` so that the normal equations
    (which square the condition number) are never formed.

    The sample weights are uniform, so the residual norm approximates the L2 norm of the
    PDE residual over the domain. A tall `J` (more than `2p` rows) is first reduced by a
    Householder QR to its `p x p` triangle, which leaves the solution unchanged and is much
    cheaper than the SVD of the tall matrix.
    """

    rcond: float = 1e-10
    ridge: float = 0.0
    one_by_one: bool = eqx.field(default=False, static=True)
    """Under `jax.vmap`, solve the batch's problems one after another (`jax.lax.map`)
    instead of in one batched LAPACK call. `solve_batch` sets it when it shards over several
    CPU devices of one process, where batched LAPACK calls can deadlock (see
    `_linalg.one_by_one`)."""

    def __check_init__(self):
        if not (self.rcond >= 0 and self.ridge >= 0):
            raise ValueError("rcond and ridge must be non-negative")

    def __call__(self, J: Float[Array, "n p"], F: Float[Array, " n"]) -> Float[Array, " p"]:
        if self.one_by_one:
            return one_by_one(self._solve)(J, F)
        return self._solve(J, F)

    def _solve(self, J, F):
        n, p = J.shape
        if n > 2 * p:
            # reduce the tall n x p problem to p x p first: with J = Q R (Householder),
            # ||J v - F||^2 = ||R v - Q^T F||^2 + const, and R has J's singular values and
            # right singular vectors, so the truncated-SVD solution is the same; a QR of a
            # tall matrix costs a fraction of its SVD (measured 0.11 ms against 2.3 ms for
            # 2048 x 12 on one CPU core)
            Q, J = jnp.linalg.qr(J)
            F = Q.T @ F
        if self.ridge > 0:
            p = J.shape[1]
            J = jnp.concatenate([J, self.ridge * jnp.eye(p, dtype=J.dtype)])
            F = jnp.concatenate([F, jnp.zeros((p,), F.dtype)])
        # non-finite input gives a non-finite phi_dot, which an adaptive controller rejects
        # and `solve` reports with a message a person can act on
        return svd_solve(J, F, self.rcond)


class SparseUpdates(eqx.Module):
    """Randomised sparse updates: at every time step only `n_active` of the `p` online
    weights, drawn uniformly at random without replacement, move; the others are held for that
    step. The Jacobian is then formed for the active columns only (`n_active` forward-mode
    tangents), and the least-squares problem has `n_active` unknowns. The full Jacobian is
    formed in reverse mode at a cost that hardly grows with `p`, so the Jacobian is cheaper
    only for `n_active` below about the cost of one reverse pass in tangents (about 7 for the
    shipped Burgers network). The draw depends on `key` and the step count only
    (reproducible; all stages of a step share it)."""

    n_active: int = eqx.field(static=True)
    key: PRNGKeyArray

    def __check_init__(self):
        if self.n_active < 1:
            raise ValueError(f"n_active must be at least 1, got {self.n_active}")

    def __call__(self, p: int, step: Int[Array, ""]) -> Int[Array, " s"]:
        if self.n_active > p:
            raise ValueError(f"n_active={self.n_active} is more than the {p} online weights")
        return jr.choice(jr.fold_in(self.key, step), p, (self.n_active,), replace=False)


def field_gradients(fn: Callable[[Array], Array],
                    fields: tuple[int, ...]) -> Callable[[Array], Array]:
    """`x -> d fn(x)[k] / dx` for the fields `k` of a function of one point (one value, or
    one per field): shape `(len(fields), d)`."""
    index = jnp.asarray(fields)
    return jax.jacfwd(lambda x: jnp.atleast_1d(fn(x))[index])


class GalerkinField(eqx.Module):
    """The Neural Galerkin vector field `phi_dot = argmin ||J(phi) phi_dot - F(u(.; phi))||`.

    Usable directly as the vector field of a `diffrax.ODETerm`, with `args = mu`. With
    `active` (indices of online weights), only those move: `J` has their columns only and the
    other entries of `phi_dot` are zero (randomised sparse updates, `SparseUpdates`).

    **Boundary data.** With a `lift` (`boundary_lift`; `solve` sets it from the equation's
    nonzero or time-dependent data), the solution is `u = L(x, t, mu) + N(x; phi)` with the
    network `N` holding zero data by its ansatz, and the right-hand side is
    `F(L + N) - L_t` (`J` is the network's alone: `L` does not depend on `phi`).

    **Systems.** For a network with several outputs (one per field), the rows of `J` and `F`
    are the fields at each sample point (sample-major), the residual of field `k` scaled by
    `field_weights[k]`: the least squares minimises `sum_k w_k^2 ||u_k_t - F_k||^2`, the
    Dirac-Frenkel condition in that weighted norm. `solve` passes its `field_weights`
    (default `None`: all 1, the plain L2 norm over every field).

    **Gradient rows** (a Sobolev norm). With `gradient_fields` (field indices) and their
    `gradient_weights` `g`, each sample point adds the spatial gradient of those fields'
    residuals, `d` rows per field: the least squares minimises `sum_k w_k^2 ||u_k_t - F_k||^2
    + sum_j g_j^2 ||grad(u_j_t - F_j)||^2`. For the wave equation's `(u, v)` with
    `g_u = c` this is its energy norm (plus `||u_t - v||^2`), in which the wave operator is
    skew: the Dirac-Frenkel condition in the norm the flow conserves (`pdes.Wave2D`).

    With `mask` (a boolean over the online weights; adaptive online weights,
    `AdaptiveOnline`), only the masked weights move: the other columns of `J` (and of the
    constraint Jacobian) are zero, which the truncated SVD gives a zero coefficient, and
    their entries of `phi_dot` are zero. Where the constraint Jacobian's masked columns are
    degenerate (`InvariantConstraints.degenerate` with the mask: the invariants do not depend
    on the weights that move), `phi_dot` is zero, as for degenerate constraints without a
    mask; the solve reports it.
    """

    equation: pdes.AbstractEquation
    net: CoLoRAMLP
    samples: Float[Array, "n d"]
    lstsq: LeastSquares
    conservation: InvariantConstraints | None = None  # with `constrain=True`
    active: Int[Array, " s"] | None = None
    field_weights: Float[Array, " fields"] | None = None
    lift: BoundaryLift | None = None
    mask: Bool[Array, " p"] | None = None
    gradient_weights: Float[Array, " g"] | None = None
    gradient_fields: tuple[int, ...] = eqx.field(static=True, default=())

    def __check_init__(self):
        if len(self.gradient_fields) != (0 if self.gradient_weights is None
                                         else self.gradient_weights.shape[0]):
            raise ValueError("gradient_fields and gradient_weights go together, one weight "
                             "per field index")
        if self.lift is None and boundary_lift(self.equation,
                                               self.net.embedding.bounded) is not None:
            raise ValueError(f"{self.equation.name} has nonzero or time-dependent boundary data "
                             "that the network's ansatz does not hold alone: pass "
                             "lift=ng.boundary_lift(equation)")

    def _rows(self, a: Array) -> Array:
        """`a` of shape `(n, *fields, ...)` as rows `(n * n_fields, ...)`, field-weighted."""
        if self.net.n_fields == 1:
            return a
        n, f = a.shape[:2]
        a = a.reshape(n * f, *a.shape[2:])
        if self.field_weights is None:
            return a
        w = jnp.tile(self.field_weights, n)
        return a * w.reshape(-1, *([1] * (a.ndim - 1)))

    def _gradient_rows(self, a: Array) -> Array:
        """`a` of shape `(n, g, d, ...)` (the gradient-row fields' gradients) as rows
        `(n * g * d, ...)`, weighted by `gradient_weights`."""
        assert self.gradient_weights is not None
        w = self.gradient_weights.reshape(1, -1, *([1] * (a.ndim - 2)))
        return (a * w).reshape(-1, *a.shape[3:])

    def _gradients(self, fn: Callable[[Array], Array]) -> Callable[[Array], Array]:
        return field_gradients(fn, self.gradient_fields)

    def _with_gradient_rows(self, rows: Array, grads: Callable[[Array], Array]) -> Array:
        if not self.gradient_fields:
            return rows
        return jnp.concatenate([rows, self._gradient_rows(jax.vmap(grads)(self.samples))])

    def jacobian(self, phi: Float[Array, " p"]) -> Float[Array, "n p"]:
        """`J = du/dphi` at the sample points (n x p, or n x s for the `active` columns).

        All columns: reverse mode, one forward and one backward pass of the network per
        sample whatever the number of online weights `p` (measured 1.6-4.2x faster than forward
        mode over `p` for every shipped model; `benchmarks/online_step.py`). Sparse updates:
        forward mode along the `s` active directions only, whose cost grows with `s`.
        """

        def u_of(phi, x):
            return set_phi(self.net, phi)(x)

        def gradient_rows(J):  # the gradient rows' Jacobian, appended
            if not self.gradient_fields:
                return J
            # forward (in x) over reverse (in phi): measured 2.3x faster than the reverse
            # over forward of the same derivatives (wave-2d, 4096 samples)
            index = jnp.asarray(self.gradient_fields)
            G = jax.vmap(lambda x: jax.jacfwd(lambda y: jax.jacrev(
                lambda q: jnp.atleast_1d(u_of(q, y))[index])(phi))(x))(self.samples)
            G = jnp.swapaxes(G, -1, -2)  # (n, g, d, p)
            if self.active is not None:
                G = G[..., self.active]
            return jnp.concatenate([J, self._gradient_rows(G)])

        if self.active is None:
            grad = jax.grad if self.net.n_fields == 1 else jax.jacrev
            J = self._rows(jax.vmap(grad(u_of), in_axes=(None, 0))(phi, self.samples))
            J = gradient_rows(J)
            return J if self.mask is None else jnp.where(self.mask, J, 0.0)
        tangents = jnp.eye(phi.shape[0], dtype=phi.dtype)[self.active]

        def row(x):  # (s,) or, for several fields, (fields, s)
            cols = jax.vmap(lambda e: jax.jvp(lambda q: u_of(q, x), (phi,), (e,))[1])(tangents)
            return cols.T

        return gradient_rows(self._rows(jax.vmap(row)(self.samples)))

    def values(self, phi: Float[Array, " p"], mu: ArrayLike, t: ArrayLike):
        """The network's `N` and the right-hand side at the sample points at the time `t`, as
        the rows of the least squares (n each); with a `lift`, `F(L + N) - L_t`, so that
        `N_t = F - L_t` is what the rows ask of the network."""
        net = set_phi(self.net, phi)
        values = self._with_gradient_rows(self._rows(jax.vmap(net)(self.samples)),
                                          self._gradients(net))
        return values, self._rhs(net, mu, t)

    def system(self, phi: Float[Array, " p"], mu: ArrayLike, t: ArrayLike):
        """`J` (n x p, or n x s for the `active` columns) and `F` (n) at the sample points, at
        the time `t` (for an equation that is not `autonomous`); with a `lift`, `F(L + N) -
        L_t`."""
        return self.jacobian(phi), self._rhs(set_phi(self.net, phi), mu, t)

    def _rhs(self, net: CoLoRAMLP, mu: ArrayLike, t: ArrayLike) -> Array:
        """`F` at the samples at the time `t` (read by an equation that is not `autonomous`
        and by a lift)."""
        u = lifted(net, self.lift, t, mu)
        lift = self.lift

        def rhs(x):
            F = pdes.rhs_at(self.equation, u, x, mu, t)
            return F if lift is None else F - lift.rate(x, t, mu)

        return self._with_gradient_rows(self._rows(jax.vmap(rhs)(self.samples)),
                                        self._gradients(rhs))

    def phi_dot(self, phi, J, F) -> Float[Array, " p"]:
        if self.conservation is not None and self.conservation.constrain:
            G = self.conservation.jacobian(self.net, phi)
            if self.active is not None:
                G = G[:, self.active]
            # with a mask, the constraints on the masked columns alone (and their degeneracy
            # judged against the whole G: zero where they do not move the invariants)
            v = self.conservation.constrained_lstsq(self.lstsq, J, F, G, self.mask)
        else:
            v = self.lstsq(J, F)
        if self.mask is not None:
            v = jnp.where(self.mask, v, 0.0)
        if self.active is None:
            return v
        return jnp.zeros_like(phi).at[self.active].set(v)

    def __call__(self, t, phi: Float[Array, " p"], mu: ArrayLike) -> Float[Array, " p"]:
        J, F = self.system(phi, mu, t)
        return self.phi_dot(phi, J, F)

    def residual(self, t, phi: Float[Array, " p"], mu: ArrayLike,
                 points: Float[Array, "m d"] | None = None) -> Float[Array, ""]:
        """The relative Galerkin residual `||J phi_dot - F|| / ||F||`: the part of the PDE's
        right-hand side the network cannot follow. Near zero: the ansatz carries the
        equation; of order one: the equation-driven solve cannot be trusted.

        `phi_dot` is the least-squares solution on the field's samples; with `points`, the
        residual is measured there instead. On the fitted points alone it says little where
        the samples are few (with as many points as online weights it is zero whatever the
        error), so the solve measures it on points it did not fit."""
        J, F = self.system(phi, mu, t)
        v = self.phi_dot(phi, J, F)
        if points is not None or self.active is not None:
            where = self.samples if points is None else points
            J, F = eqx.tree_at(lambda f: (f.samples, f.active), self, (where, None),
                               is_leaf=lambda x: x is None).system(phi, mu, t)
        return jnp.linalg.norm(J @ v - F) / jnp.maximum(jnp.linalg.norm(F), 1e-300)
