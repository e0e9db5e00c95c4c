import math

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ._base import AbstractEquation
from ._operators import AbstractField


class RDE(AbstractEquation):
    """The rotating detonation engine model of Koch, Kurosaka, Knowlen & Kutz (Phys. Rev. E
    101, 013106, 2020) in the form of the CoLoRA authors' RDE data (Berman & Peherstorfer,
    ICML 2024; `julesberman/CoLoRA`, `data/rde/`): the fields `("eta", "lambda")`, a
    property like the specific internal energy and the combustion progress, on the periodic
    annulus `[0, 2 pi)`:

        eta_t = -c (eta^2/2)_x + (1 - lambda) omega(eta) q0 + nu c^2 eta_xx - eps eta
        lambda_t = (1 - lambda) omega(eta) - beta(eta) lambda + nu c^2 lambda_xx

    with the heat release `omega(eta) = exp((eta - eta_c) / alpha)` and the gain recovery
    (injection) `beta = mu / (1 + exp(k (eta - up)))` (Koch's `s up` with `s = mu / up`);
    the loss is Koch's `xi = (eta0 - eta) eta^n` with `eta0 = 0`, `n = 0`. The convective
    term is written conservatively. The derivatives carry `c = 2 pi / period` with
    `period = 6.28`: the data are labelled on `[0, 2 pi)` but differentiate as a period of
    6.28. Constants: `q0 = 1`, `eta_c = 1.1`, `alpha = 0.3`, `nu = 0.025`, `eps = 0.11`,
    `k = 5`, `up = 0.5`. The parameter `mu = s up`, the strength of the injection, in
    `[2.0, 3.1]` (the data's; they test on 2.3 and 2.7). Initial condition
    `eta0(x) = 1 + 0.4 exp(-2.25 (x - pi)^2)`, `lambda0 = 0.75`; `t1 = 20`.

    The paper does not state these; they were inferred from the data (each constant by a fit
    where the model reduces to ODEs, far from the initial pulse, then the transport terms),
    and reproduce it to a relative L2 error of 2.9e-5, 2.2e-5, 2.0e-5 at `mu = 2.0, 2.5, 3.1`
    (all times, both fields) when integrated as the data were: backward Euler with the fixed
    step 1e-3. The data carry that method's first-order time error: the converged solution
    of this model (our reference) differs from them by 1.0e-2, 4.6e-3, 3.1e-3 at the same
    `mu` (benchmarks/results/rde_colora_data_setup.md says how the set-up was found).
    Compare a reduced model with the data through `compare(..., data=...)` /
    `neural-galerkin solve rde --data DIR`, with the model's own solution by default. The
    shipped weights were trained on the data, then on this model's converged solutions at
    the same parameters (an equation-driven solve follows the converged equation, which a
    manifold of the data alone does not hold: benchmarks/results/rde_residual_along*.md).

    The model keeps no invariant (heat release, losses and injection change everything).

    Reference: derived from `F`, pseudo-spectral (FFT, the flux `eta^2/2` dealiased by the
    2/3 rule), explicit (Tsit5); 512 points (the backward-Euler replica changes by 1e-14
    from 256 to 2048 points at `mu = 2.3`).
    """

    name = "rde"
    fields = ("eta", "lambda")
    reference_points = 512
    lower: tuple[float, ...] = (0.0,)
    upper: tuple[float, ...] = (2 * math.pi,)
    mu_range: tuple[float, float] = (2.0, 3.1)
    t1: float = 20.0
    period: float = 6.28
    nu: float = 0.025
    eta_c: float = 1.1
    alpha: float = 0.3
    q0: float = 1.0
    eps: float = 0.11
    k: float = 5.0
    up: float = 0.5

    def __check_init__(self):
        if len(self.lower) != 1 or len(self.upper) != 1:
            raise ValueError("the RDE model is one-dimensional: give lower and upper of "
                             "length 1")

    def omega(self, eta: Array) -> Array:
        """The heat release rate `exp((eta - eta_c) / alpha)`."""
        return jnp.exp((eta - self.eta_c) / self.alpha)

    def beta(self, eta: Array, mu: ArrayLike) -> Array:
        """The gain recovery `mu / (1 + exp(k (eta - up)))`."""
        return jnp.asarray(mu) / (1 + jnp.exp(self.k * (eta - self.up)))

    def F(self, field: AbstractField, x: Array, mu: ArrayLike) -> Array:
        c = 2 * math.pi / self.period
        eta_f, lam_f = field["eta"], field["lambda"]
        eta, lam = eta_f.value(), lam_f.value()
        burn = (1 - lam) * self.omega(eta)
        eta_t = (-c * eta_f.div(lambda e: e**2 / 2) + self.q0 * burn
                 + self.nu * c**2 * eta_f.laplacian() - self.eps * eta)
        lam_t = burn - self.beta(eta, mu) * lam + self.nu * c**2 * lam_f.laplacian()
        return jnp.stack([eta_t, lam_t])

    def initial_condition(self, x: Float[Array, " d"], mu: ArrayLike) -> Float[Array, " 2"]:
        eta = 1.0 + 0.4 * jnp.exp(-2.25 * (x[0] - math.pi) ** 2)
        return jnp.stack([eta, jnp.full_like(eta, 0.75)])
