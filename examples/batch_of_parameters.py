"""A batch of viscosities in one equation-driven solve (`ng.solve_batch`), against FD.

    python examples/batch_of_parameters.py [--mus 1.8e-3 3.9e-3 5.5e-3 8.2e-3] [--small]

Burgers with the shipped model: the initial weights are fitted per viscosity, then all
viscosities are solved in one compiled call (each with its own adaptive step; `jax.vmap`-ed on
a GPU, one after another on a CPU, where that is faster). The batch is sharded over the
available devices when their number divides it (one CPU here; set
`XLA_FLAGS=--xla_force_host_platform_device_count=4` to try four host devices, or run on
several GPUs). Prints each viscosity's space-time relative error against a finite-difference
reference, its number of steps, and the batch's online wall time (compilation excluded).

`--small` (for CI): two viscosities, 128 Galerkin samples instead of 512, the final time 0.2
instead of 0.4 and a 1024-point FD reference instead of 2048.
"""

import argparse

import jax

jax.config.update("jax_enable_x64", True)

import diffrax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import neural_galerkin as ng  # noqa: E402
import pdes  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mus", type=float, nargs="+", default=None)
    p.add_argument("--small", action="store_true", help="a quick setting for CI")
    args = p.parse_args()
    if args.small:
        mus, samples, t1, n_ref = args.mus or [1.8e-3, 8.2e-3], 128, 0.2, 1024
    else:
        mus, samples, t1, n_ref = args.mus or [1.8e-3, 3.9e-3, 5.5e-3, 8.2e-3], 512, 0.4, 2048
    mus = np.asarray(mus, dtype=float)

    eq, model = pdes.Burgers(), ng.load_pretrained("burgers")
    ts = jnp.linspace(0.0, t1, 21)
    phi0 = jnp.stack([ng.fit_initial_condition(eq, model, mu=m, samples=samples)[0]
                      for m in mus])
    devices = jax.devices()
    shard = len(mus) % len(devices) == 0
    # one compiled call for the whole batch, timed apart from its compilation
    sol, times = ng.compile_and_run(
        lambda phi0: ng.solve_batch(eq, model, 0.0, t1, None, phi0, mus, samples=samples,
                                    saveat=diffrax.SaveAt(ts=ts), throw=False,
                                    devices=devices if shard else None), phi0)
    sol = ng.check_solution(sol)  # raises, per member, what went wrong (if anything did)
    print(f"{len(mus)} viscosities in one solve on {len(devices) if shard else 1} "
          f"{devices[0].platform} device(s): online time {times['time_run_s']:.2f} s "
          f"(compile {times['time_compile_s']:.1f} s)")
    x = eq.grid(n_ref)
    u = sol.evaluate(x)  # (batch, times, points)
    for i, mu in enumerate(mus):
        ref = pdes.fd_solve(eq, mu, n_ref, ts)
        err = float(jnp.linalg.norm(u[i] - ref.us) / jnp.linalg.norm(ref.us))
        print(f"mu={mu:.2e}: error vs FD {err:.3e}, {int(sol.stats['num_steps'][i])} steps, "
              f"max Galerkin residual {float(sol.residuals[i].max()):.2e}")


if __name__ == "__main__":
    main()
