"""Equation-driven solve of 1D viscous Burgers with the shipped model, against FD.

    python examples/burgers_eq.py [--mu 3.9e-3] [--plot burgers.png]
"""

import argparse

import jax

jax.config.update("jax_enable_x64", True)

import diffrax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

import neural_galerkin as ng  # noqa: E402
import pdes  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mu", type=float, default=3.9e-3)
    args = p.parse_args()
    eq = pdes.Burgers()
    model = ng.load_pretrained("burgers")
    ts = jnp.linspace(0, eq.t1, 41)
    phi0, fit_err = ng.fit_initial_condition(eq, model, mu=args.mu)
    sol = ng.solve(eq, model, 0.0, eq.t1, None, phi0, args.mu, saveat=diffrax.SaveAt(ts=ts),
                   progress_meter=diffrax.TqdmProgressMeter())
    ref = pdes.fd_solve(eq, args.mu, 2048, ts)
    u = sol.evaluate(ref.x)
    err = jnp.linalg.norm(u - ref.us) / jnp.linalg.norm(ref.us)
    mass = u.sum(axis=1) / u.shape[1]
    print(f"initial fit error {fit_err:.2e}; space-time relative error {float(err):.3e}; "
          f"mass drift {float(jnp.max(jnp.abs(mass - mass[0])) / abs(mass[0])):.2e}; "
          f"{sol.stats['num_steps']} steps; max Galerkin residual "
          f"{float(sol.residuals.max()):.2e}")


if __name__ == "__main__":
    main()
