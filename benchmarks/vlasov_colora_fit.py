"""Fit the fixed field `E(x)` of the CoLoRA authors' Vlasov data (`f_t + v f_x + E(x) f_v = 0`
on `[-1, 1)^2`, initial condition `exp(-100 ((x - (mu - 0.2))^2 + v^2))`): the coefficients
of `pdes.VlasovCoLoRA`'s periodic cubic B-spline (`--knots` uniform knots on `[-1, 1)`).

    python benchmarks/vlasov_colora_fit.py [--data /work/data/colora_vlasov] [--knots 20]
        [--every 3] [--alpha 0.3] [--iterations 40]

The model: the exact solution, the initial condition at the foot of the characteristic
`x' = v, v' = E(x)` traced back from each grid point (RK4, 6 steps per fitted snapshot
interval). The misfit: the sum over all nine parameters and every `--every`-th snapshot of
the squared differences with the data on their 100 x 100 grid, plus `alpha` times the
squared second differences of the coefficients (the field is only seen where the blob goes,
`x` in about `[-0.35, 0.9]`; elsewhere this keeps it smooth). Levenberg-Marquardt from the
field the blob's centre of mass suggests (`dV/dt` against `X`). Prints the coefficients,
the relative L2 error per parameter, and the field on a grid.
"""

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)

from neural_galerkin._training import load_trajectories  # noqa: E402


def spline(c, x):
    """`sum_j c_j B((x - x_j) / h)`: the periodic cubic B-spline with coefficients `c` on the
    `n = len(c)` uniform knots `x_j = -1 + j h`, `h = 2 / n`, of `[-1, 1)` (period 2)."""
    n = c.shape[0]
    h = 2.0 / n
    s = (jnp.asarray(x)[..., None] - (-1 + h * jnp.arange(n))) / h
    a = jnp.abs(jnp.mod(s + n / 2, n) - n / 2)  # distance to each knot, periodically
    b = jnp.where(a < 1, 2 / 3 - a**2 + a**3 / 2, jnp.where(a < 2, (2 - a) ** 3 / 6, 0.0))
    return b @ c


def fourier(c, modes, n=4096):
    """`(a_0, a_1..a_K, b_1..b_K)` of the spline's Fourier series, truncated at `K = modes`,
    and the largest difference between the two."""
    x = -1 + 2 * np.arange(n) / n
    e = np.asarray(spline(c, jnp.asarray(x)))
    f = np.fft.rfft(e) / n
    shift = np.exp(-1j * np.pi * np.arange(modes + 1))  # the grid starts at -1
    f = f[: modes + 1] * shift
    coeffs = np.concatenate([[f[0].real], 2 * f[1:].real, -2 * f[1:].imag])
    m = np.arange(1, modes + 1)
    series = coeffs[0] + (np.cos(np.pi * m * x[:, None]) @ coeffs[1: modes + 1]
                          + np.sin(np.pi * m * x[:, None]) @ coeffs[modes + 1:])
    return coeffs, float(np.max(np.abs(series - e)))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", default="/work/data/colora_vlasov")
    p.add_argument("--knots", type=int, default=20)
    p.add_argument("--every", type=int, default=3)
    p.add_argument("--alpha", type=float, default=0.3)
    p.add_argument("--iterations", type=int, default=60)
    p.add_argument("--modes", type=int, default=32, help="Fourier modes of the field printed")
    args = p.parse_args()
    data = load_trajectories(args.data)
    u = jnp.asarray(np.asarray(data.u, float)[:, :: args.every])
    ts = np.asarray(data.t, float)[:: args.every]
    mus = jnp.asarray(data.mu, float)
    x = np.asarray(data.x[0], float)
    X, V = jnp.meshgrid(x, x, indexing="ij")
    dt, sub = ts[1] - ts[0], 6

    def initial(xx, vv, mu):
        d = jnp.mod(xx - (mu - 0.2) + 1, 2) - 1
        return jnp.exp(-100 * (d**2 + vv**2))

    def feet(c):
        def f(y):
            return jnp.stack([-y[1], -spline(c, y[0])])

        def step(y, _):
            def rk4(y, _):
                h = dt / sub
                k1 = f(y)
                k2 = f(y + h / 2 * k1)
                k3 = f(y + h / 2 * k2)
                k4 = f(y + h * k3)
                return y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4), None

            y, _ = jax.lax.scan(rk4, y, None, length=sub)
            return y, y

        y0 = jnp.stack([X.ravel(), V.ravel()])
        _, ys = jax.lax.scan(step, y0, None, length=len(ts) - 1)
        return jnp.concatenate([y0[None], ys])

    def predict(c):
        y = feet(c)
        return jax.vmap(lambda mu: initial(y[:, 0], y[:, 1], mu))(mus).reshape(u.shape)

    def residual(c):
        return (predict(c) - u).ravel()

    @jax.jit
    def normal(c):
        r, lin = jax.linearize(residual, c)
        jac = jax.vmap(lin, out_axes=1)(jnp.eye(c.size))
        return jac.T @ jac, jac.T @ r, r @ r

    loss = jax.jit(lambda c: jnp.sum(residual(c) ** 2))
    k = args.knots
    d2 = np.roll(np.eye(k), 1, 1) - 2 * np.eye(k) + np.roll(np.eye(k), -1, 1)
    reg = jnp.asarray(args.alpha * d2.T @ d2)
    # initial guess: the centre of mass obeys X' = V, V' ~ E(X)
    m = u.sum((2, 3))
    xc = np.asarray((u * X).sum((2, 3)) / m).ravel()
    ec = np.gradient(np.asarray((u * V).sum((2, 3)) / m), dt, axis=1, edge_order=2).ravel()
    basis = np.asarray(jax.vmap(lambda z: jax.jacfwd(spline)(jnp.zeros(k), z))(jnp.asarray(xc)))
    c = jnp.asarray(np.linalg.solve(basis.T @ basis + np.asarray(reg), basis.T @ ec))
    lam = 1e-2
    for it in range(args.iterations):
        start = time.time()
        hess, grad, value = normal(c)
        hess, grad, value = hess + reg, grad + reg @ c, value + c @ reg @ c
        while lam < 1e10:
            new = c - jnp.linalg.solve(hess + lam * jnp.diag(jnp.diag(hess)), grad)
            new_value = float(loss(new) + new @ reg @ new)
            if new_value < value:
                c, lam = new, lam / 3
                break
            lam *= 5
        print(f"{it}: misfit {float(value):.6g} -> {new_value:.6g} ({time.time() - start:.1f} s)",
              flush=True)
        if lam >= 1e10 or value - new_value < 1e-7 * value:
            break
    err = (jnp.linalg.norm((predict(c) - u).reshape(len(mus), -1), axis=1)
           / jnp.linalg.norm(u.reshape(len(mus), -1), axis=1))
    print("spline coefficients:", np.asarray(c).tolist())
    coeffs, diff = fourier(c, args.modes)
    print(f"Fourier coefficients (K = {args.modes}; max difference to the spline {diff:.1e}):",
          coeffs.tolist())
    print("relative L2 error per mu:", dict(zip(np.asarray(mus).round(3).tolist(),
                                                 np.asarray(err).round(6).tolist())))
    grid = jnp.linspace(-1, 1, 41)
    print("E on [-1, 1] (step 0.05):", np.asarray(spline(c, grid)).round(4).tolist())


if __name__ == "__main__":
    main()
