"""Your own PDE: subclass `pdes.AbstractEquation`, state its right-hand side once, and solve
it equation-driven.

    python examples/custom_equation.py [--small]

The heat equation `u_t = mu u_xx` on the periodic interval `[0, 1)`, with an exact solution
(each Fourier mode decays at its own rate). Its right-hand side is one line, `F`, against the
vocabulary of `pdes._operators`: from it come the autodiff right-hand side at a point (the
Galerkin solve) and a pseudo-spectral reference on a grid (`pdes.reference_solve`), with no
discretisation written by hand. The script checks the derived reference against the exact
solution on 16, 32 and 64 points, then pretrains a small CoLoRA model on the exact solution
and compares an equation-driven solve at an unseen `mu` with it.

`--small` (for CI): 500 pretraining steps instead of 3000 and fewer points.
"""

import argparse

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import jax.random as jr  # noqa: E402
import numpy as np  # noqa: E402

import neural_galerkin as ng  # noqa: E402
import pdes  # noqa: E402


# an equation with an exact solution derives from `pdes.AbstractExactEquation` (and defines
# `exact`); one without, from `pdes.AbstractEquation`
class Heat(pdes.AbstractExactEquation):
    """The heat equation `u_t = mu u_xx` on `[0, 1)`, diffusivity `mu` in `[1e-3, 1e-2]`."""

    # what the equation is: set once for the class
    name = "heat"
    conserved = ("mass",)
    dissipated = {"energy": "d/dt int u^2/2 dx = -mu int u_x^2 dx"}
    # the domain, parameter range and final time: fields, so an instance can change them
    lower: tuple[float, ...] = (0.0,)
    upper: tuple[float, ...] = (1.0,)
    mu_range: tuple[float, float] = (1e-3, 1e-2)
    t1: float = 2.0

    def F(self, field, x, mu):
        # the right-hand side, once: field.value(), .grad(), .laplacian(), .derivative(axis,
        # order), .div(flux)
        return mu * field.laplacian()

    def initial_condition(self, x, mu):
        return self.exact(x, 0.0, mu)

    def exact(self, x, t, mu):
        # the exact solution: it enables reference="exact" and trajectories_from_exact
        decay = lambda k: jnp.exp(-mu * (2 * jnp.pi * k) ** 2 * t)  # noqa: E731
        return (1.0 + 0.5 * decay(1) * jnp.sin(2 * jnp.pi * x[0])
                + 0.25 * decay(3) * jnp.cos(6 * jnp.pi * x[0]))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--small", action="store_true", help="a quick setting for CI")
    args = p.parse_args()
    steps, n_points, samples, n_ref = (500, 256, 64, 256) if args.small else (3000, 1024, 256,
                                                                              2048)
    eq, mu = Heat(), 4e-3

    # 1. the reference derived from F (pseudo-spectral) against the exact solution at t1
    for n in (16, 32, 64):
        ref = pdes.reference_solve(eq, mu, n, jnp.array([0.0, eq.t1]))  # method="spectral"
        exact = jax.vmap(lambda y: eq.exact(y, eq.t1, mu))(ref.x)
        mass = ref.us.sum(axis=1)
        print(f"spectral reference on {n} points: max error at t1 "
              f"{float(jnp.max(jnp.abs(ref.us[-1] - exact))):.1e}, mass drift "
              f"{float(abs(mass[1] / mass[0] - 1)):.1e}")

    # 2. pretrain on the exact solution, then an equation-driven solve at an unseen mu
    data = ng.trajectories_from_exact(eq, [1e-3, 2.5e-3, 6e-3, 1e-2],
                                      np.linspace(0.0, eq.t1, 21), n_points, key=jr.PRNGKey(2))
    # n_freq=3: the embedding has the frequencies of the initial condition (1 and 3)
    model, history = ng.pretrain(data, equation=eq.name, steps=steps, key=jr.PRNGKey(3),
                                 progress=False, log_every=max(steps // 5, 1), width=16,
                                 depth=3, rank=2, n_freq=3)
    report = ng.compare(eq, model, mu, reference="exact", n_ref=n_ref, samples=samples)
    print(f"pretrained {steps} steps (final loss {history['loss'][-1]:.2e}); at mu={mu:g}: "
          f"EQ error {report.rel_error:.3e}, max Galerkin residual "
          f"{report.max_residual:.2e}, {report.num_steps} steps")


if __name__ == "__main__":
    main()
