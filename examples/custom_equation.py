"""Your own PDE: state it once (right-hand side, initial condition, domain, parameter range),
then pretrain, solve and compare, with nothing else written by hand.

    python examples/custom_equation.py [--small]

The heat equation `u_t = mu u_xx` on the periodic interval `[0, 1)`. The class below is all
a user writes: from its `F` come the autodiff right-hand side at a point (the Galerkin solve)
and a pseudo-spectral reference on a grid (`pdes.reference_solve`), with no discretisation
written by hand. The script

1. checks the derived reference against the exact solution (known here: each Fourier mode
   decays at its own rate) on 16, 32 and 64 points;
2. pretrains a small CoLoRA model on the derived reference at five diffusivities;
3. solves equation-driven at a diffusivity it was not trained on and compares with the
   reference.

The same from the command line (the class in a file):

    neural-galerkin pretrain --equation examples/custom_equation.py:Heat --out heat-model
    neural-galerkin solve --equation examples/custom_equation.py:Heat --weights heat-model \
        --mu 4e-3

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


# --8<-- [start:equation]
class Heat(pdes.AbstractEquation):
    """The heat equation `u_t = mu u_xx` on the periodic interval `[0, 1)`."""

    lower = (0.0,)
    upper = (1.0,)  # periodic by default; bounded: boundaries = (pdes.Dirichlet(0, 0),)
    mu_range = (1e-3, 1e-2)
    t1 = 2.0

    def F(self, field, x, mu):
        return mu * field.laplacian()

    def initial_condition(self, x, mu):
        return (1.0 + 0.5 * jnp.sin(2 * jnp.pi * x[0]) + 0.25 * jnp.cos(6 * jnp.pi * x[0]))
# --8<-- [end:equation]


def exact(x, t, mu):
    """The exact solution, for the check only: mode k decays as exp(-mu (2 pi k)^2 t)."""
    decay = lambda k: jnp.exp(-mu * (2 * jnp.pi * k) ** 2 * t)  # noqa: E731
    return (1.0 + 0.5 * decay(1) * jnp.sin(2 * jnp.pi * x[0])
            + 0.25 * decay(3) * jnp.cos(6 * jnp.pi * x[0]))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--small", action="store_true", help="a quick setting for CI")
    args = p.parse_args()
    steps, n_train, samples, n_ref = (500, 128, 64, 256) if args.small else (3000, 512, 256,
                                                                              2048)
    eq, mu = Heat(), 4e-3

    # 1. the reference derived from F (pseudo-spectral) against the exact solution at t1
    for n in (16, 32, 64):
        ref = pdes.reference_solve(eq, mu, n, jnp.array([0.0, eq.t1]))  # method="spectral"
        want = jax.vmap(lambda y: exact(y, eq.t1, mu))(ref.x)
        mass = ref.us.sum(axis=1)  # the heat equation keeps int u dx on a periodic box
        print(f"derived reference on {n} points: max error at t1 "
              f"{float(jnp.max(jnp.abs(ref.us[-1] - want))):.1e}, mass drift "
              f"{float(abs(mass[1] / mass[0] - 1)):.1e}")

    # 2. pretrain on the derived reference at five diffusivities
    data = ng.trajectories_from_fd(eq, [1e-3, 1.8e-3, 3.2e-3, 5.6e-3, 1e-2], n_train,
                                   np.linspace(0.0, eq.t1, 21))
    # n_freq=3: the embedding has the frequencies of the initial condition (1 and 3)
    model, history = ng.pretrain(data, equation=eq.name, steps=steps, key=jr.PRNGKey(3),
                                 progress=False, log_every=max(steps // 5, 1), width=16,
                                 depth=3, rank=2, n_freq=3)

    # 3. an equation-driven solve at an unseen mu, compared with the reference
    report = ng.compare(eq, model, mu, n_ref=n_ref, samples=samples)
    print(f"pretrained {steps} steps (final loss {history['loss'][-1]:.2e}); at mu={mu:g}: "
          f"EQ error {report.rel_error:.3e} against the {report.reference} reference, max "
          f"Galerkin residual {report.max_residual:.2e}, {report.num_steps} steps")


if __name__ == "__main__":
    main()
