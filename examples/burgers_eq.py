"""Equation-driven solve of 1D viscous Burgers with the shipped model, against FD.

    python examples/burgers_eq.py [--mu 3.9e-3] [--small]

`--small` (for CI): 128 Galerkin samples instead of 512 and a 1024-point FD reference instead
of 2048 (with this network 128 uniform samples are about as accurate as 512; see the docs,
"How to choose").
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
    p.add_argument("--small", action="store_true", help="a quick setting for CI")
    args = p.parse_args()
    samples, n_ref = (128, 1024) if args.small else (512, 2048)
    eq = pdes.Burgers()
    model = ng.load_pretrained("burgers")
    ts = jnp.linspace(0, eq.t1, 41)
    phi0, fit_err = ng.fit_initial_condition(eq, model, mu=args.mu, samples=samples)
    meter = diffrax.NoProgressMeter() if args.small else diffrax.TqdmProgressMeter()
    sol = ng.solve(eq, model, 0.0, eq.t1, None, phi0, args.mu, samples=samples,
                   saveat=diffrax.SaveAt(ts=ts), progress_meter=meter)
    ref = pdes.fd_solve(eq, args.mu, n_ref, ts)
    u = sol.evaluate(ref.x)
    err = jnp.linalg.norm(u - ref.us) / jnp.linalg.norm(ref.us)
    mass = u.sum(axis=1) / u.shape[1]
    print(f"initial fit error {fit_err:.2e}; space-time relative error {float(err):.3e}; "
          f"mass drift {float(jnp.max(jnp.abs(mass - mass[0])) / abs(mass[0])):.2e}; "
          f"{sol.stats['num_steps']} steps; max Galerkin residual "
          f"{float(sol.residuals.max()):.2e}")


if __name__ == "__main__":
    main()
