"""Writing a benchmark's results: one markdown table (and optionally the raw numbers)."""

import json
import pathlib
import statistics
import time

import numpy as np


def save_table(out: str, name: str, lines: list[str], rows=None) -> None:
    """Print the table `lines` and write it to `out/name.md` (and `rows` to `out/name.json`),
    each file whole or not at all (`write_text_atomic`)."""
    from neural_galerkin._files import write_text_atomic

    table = "\n".join(lines)
    print(table)
    folder = pathlib.Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    write_text_atomic(folder / f"{name}.md", table + "\n")
    if rows is not None:
        write_text_atomic(folder / f"{name}.json", json.dumps(rows, indent=2) + "\n")


def machine() -> str:
    """The processor and JAX's devices, for a table's header."""
    import platform

    import jax

    return (f"{platform.processor() or platform.machine()}, {jax.device_count()} "
            f"{jax.devices()[0].platform} device(s)")


def fd_time_at(error, fd_rows):
    """The FD time at `error`: log-log interpolation between the two grids of the ladder that
    bracket it; `(time, "<")` / `(time, ">")` when `error` lies above the coarsest grid's error
    (FD is at most that time) or below the finest one's (FD needs at least that time)."""
    fd = sorted(fd_rows, key=lambda r: r["time_s"])
    errs = np.array([r["error"] for r in fd])
    times = np.array([r["time_s"] for r in fd])
    if error >= errs[0]:
        return times[0], "<"
    if error < errs.min():
        return times[int(np.argmin(errs))], ">"
    for (e0, t0), (e1, t1) in zip(zip(errs, times), zip(errs[1:], times[1:])):
        if e1 <= error <= e0:
            w = np.log(error / e0) / np.log(e1 / e0)
            return float(np.exp(np.log(t0) + w * (np.log(t1) - np.log(t0)))), ""
    i = int(np.argmax(errs <= error))  # a non-monotone ladder: the cheapest grid that reaches it
    return times[i], "<"


def median_time(fn, *args, repeats=200):
    """Median wall time of `fn(*args)` over `repeats` calls after a first (compiling) one."""
    import jax

    jax.block_until_ready(fn(*args))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def held_out_split(data, test_mus):
    """The data's indices of the parameters nearest `test_mus`, and a `Trajectories` of the
    others (the training set of a held-out test; a system keeps its fields)."""
    import dataclasses

    test = [int(np.argmin(np.abs(data.mu - m))) for m in test_mus]
    train = [i for i in range(len(data.mu)) if i not in test]
    return test, dataclasses.replace(data, u=data.u[train], mu=data.mu[train])



def add_data_arguments(p, several_samples: bool = False) -> None:
    """The arguments of a benchmark against a data trajectory at held-out parameters: the
    shipped PDE, `--data`, `--weights` (default the shipped ones), `--mus` (default the
    recipe's test parameters), `--samples` (one number, or with `several_samples` a list),
    `--name`, `--out`."""
    p.add_argument("pde")
    p.add_argument("--data", required=True)
    p.add_argument("--weights", default=None)
    p.add_argument("--mus", type=float, nargs="+", default=None)
    p.add_argument("--samples", type=int, default=None, nargs="+" if several_samples else None)
    p.add_argument("--name", default=None)
    p.add_argument("--out", default="benchmarks/results")


def load_data_problem(args):
    """`(equation, model, data, mus)` from the arguments of `add_data_arguments`."""
    import neural_galerkin as ng
    from neural_galerkin._cli import shipped_equation
    from neural_galerkin._recipes import RECIPES, shipped_weights

    model = ng.load_model(args.weights or shipped_weights(args.pde))
    return (shipped_equation(args.pde), model, ng.load_trajectories(args.data),
            args.mus or RECIPES[args.pde].test_mus)


def add_trajectory_arguments(p, times: int) -> None:
    """The arguments of a study of one shipped PDE's solves at one parameter against its
    reference: the PDE, `--weights` (default the shipped ones), `--mu` (default the recipe's
    default), `--times` (saved times, default `times`), `--n-ref`, `--name`, `--out`."""
    p.add_argument("pde")
    p.add_argument("--weights", default=None)
    p.add_argument("--mu", type=float, default=None, help="default: the recipe's default")
    p.add_argument("--times", type=int, default=times)
    p.add_argument("--n-ref", type=int, default=None,
                   help="reference grid points per direction (default: the equation's)")
    p.add_argument("--name", default=None)
    p.add_argument("--out", default="benchmarks/results")


def load_trajectory_problem(args):
    """`(equation, model, mu, n_ref)` from the arguments of `add_trajectory_arguments`."""
    import neural_galerkin as ng
    from neural_galerkin._cli import shipped_equation
    from neural_galerkin._recipes import RECIPES, shipped_weights

    eq = shipped_equation(args.pde)
    model = ng.load_model(args.weights or shipped_weights(args.pde))
    mu = RECIPES[args.pde].default_mu if args.mu is None else args.mu
    return eq, model, mu, args.n_ref or eq.reference_points or 256
