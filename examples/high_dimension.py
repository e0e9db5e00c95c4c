"""Advection-diffusion in d dimensions: pretrain a small CoLoRA model on the exact solution at
scattered points, then solve equation-driven at an unseen diffusivity and compare with the
exact solution (no grid fits in memory in 6D: a finite-difference reference on 64^6 points
would need terabytes).

    python examples/high_dimension.py [--dim 6] [--mu 2.2e-2] [--steps N] [--kappa K] [--small]

`u_t + (1, ..., 1) . grad u = mu Laplace(u)` on the periodic unit box, started from a bump
that is a product over the directions (`pdes.get("advection-diffusion-6d")`). Training data:
`ng.trajectories_from_exact` at a few diffusivities; the network has an online shift of its
periodic embedding, which can carry the advection, and its online CoLoRA weights follow the
decay. Prints the pretraining time and loss, the equation-driven (EQ) and hypernetwork (D)
errors against the exact solution at random points and, as a yardstick, the error of keeping
the initial condition frozen. The solution is `0.5 + bump`, and in 6D the bump is small on
most of the box, so errors are given relative to `u` and relative to the bump.

What to expect (measured, 2 CPU cores): with the default bump (`kappa = 2`, each factor
between `e^-4` and 1) the bump is concentrated near the centre of the 6D box, where few random
training points fall; the models learn the constant but not the bump. Small setting: EQ error
9.8e-3 relative to `u` but 1.1 relative to the bump (frozen `u(0)`: 1.3e-2 and 1.4); full
setting (342 s of pretraining): 9.7e-3 and 0.95 (frozen: 2.6e-2 and 2.6). A wider bump,
`--kappa 0.5`, is learned by the small setting already: EQ error 0.11 relative to the bump
(frozen: 0.91), largest Galerkin residual 0.08.

`--small` (for CI): a smaller network, 600 pretraining steps instead of 6000, the final time
0.5 instead of 1, fewer points; expect a much larger error than in the full setting.
"""

import argparse
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.random as jr  # noqa: E402
import numpy as np  # noqa: E402

import neural_galerkin as ng  # noqa: E402
import pdes  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dim", type=int, default=6)
    p.add_argument("--mu", type=float, default=2.2e-2, help="not a training diffusivity")
    p.add_argument("--steps", type=int, default=None, help="pretraining steps")
    p.add_argument("--kappa", type=float, default=None,
                   help="width parameter of the bump (default: the equation's, 2)")
    p.add_argument("--small", action="store_true", help="a quick setting for CI")
    args = p.parse_args()
    if args.small:
        train_mus, t1, n_times, n_points, steps = (5e-3, 1.6e-2, 5e-2), 0.5, 11, 2048, 600
        net = dict(width=16, depth=3, rank=2, n_freq=1)
        samples, n_ref = 256, 1024
    else:
        train_mus, t1, n_times, n_points, steps = (5e-3, 1e-2, 2e-2, 3.5e-2, 5e-2), 1.0, 41, \
            8192, 6000
        net = dict(width=32, depth=4, rank=2, n_freq=2)
        samples, n_ref = 2048, 4096
    steps = args.steps or steps

    eq = pdes.get(f"advection-diffusion-{args.dim}d")  # the unit box, velocity (1, ..., 1)
    if args.kappa is not None:
        eq = pdes.AdvectionDiffusion.in_dimension(args.dim, kappa=args.kappa)
    data = ng.trajectories_from_exact(eq, train_mus, np.linspace(0.0, t1, n_times), n_points,
                                      key=jr.PRNGKey(0))
    start = time.perf_counter()
    model, history = ng.pretrain(data, equation=eq.name, steps=steps, key=jr.PRNGKey(1),
                                 progress=not args.small, log_every=max(steps // 10, 1),
                                 online_shift=True, **net)
    print(f"{eq.name} in {args.dim}D (kappa={eq.kappa:g}): pretrained on the exact solution at "
          f"mu = {', '.join(f'{m:g}' for m in train_mus)} ({n_points} points, {n_times} times), "
          f"{steps} steps in {time.perf_counter() - start:.1f} s, final loss "
          f"{history['loss'][-1]:.2e}, {model.num_phi} online weights")

    # Galerkin samples: uniformly random points (a grid of samples^(1/d) per direction would
    # be too coarse); the exact reference at n_ref other random points
    pts = eq.random_points(samples, jr.PRNGKey(2))
    kw = dict(reference="exact", n_ref=n_ref, n_times=11, t1=t1)
    eq_run = ng.compare(eq, model, args.mu, mode="eq", samples=pts, **kw)
    d_run = ng.compare(eq, model, args.mu, mode="d", **kw)
    u_ref = eq_run.u_ref
    # u = offset + bump, and in 6D the bump is small on most of the box: the error relative
    # to u is dominated by the offset, so also give it relative to the bump, u_ref - offset
    bump = np.linalg.norm(u_ref - eq.offset)

    def errors(u):
        e = np.linalg.norm(u - u_ref)
        return f"{e / np.linalg.norm(u_ref):.3e} (relative to the bump: {e / bump:.3e})"

    print(f"mu={args.mu:g}, t in [0, {t1:g}], {samples} random Galerkin samples, exact "
          f"reference at {n_ref} random points; relative L2 errors over space-time:")
    print(f"EQ error {errors(eq_run.u)}; {eq_run.num_steps} steps, online time "
          f"{eq_run.time_online_s:.2f} s, max Galerkin residual "
          f"{eq_run.max_residual:.2e}, initial fit error {eq_run.fit_error:.2e}")
    print(f"D error {errors(d_run.u)}")
    print(f"frozen initial condition error {errors(np.broadcast_to(u_ref[:1], u_ref.shape))} "
          "(the yardstick: keeping u(0) for all times)")

if __name__ == "__main__":
    main()
