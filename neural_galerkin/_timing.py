"""Wall time of a compiled computation, compilation apart: the helper the command line,
`compare`, the benchmarks and the examples share."""

import time

import equinox as eqx
import jax


def compile_and_run(fn, *args, **kwargs):
    """`fn(*args, **kwargs)` compiled ahead of time (`eqx.filter_jit(fn).lower(...)
    .compile()`), then run once. `fn` is traced whole: a `solve` inside it takes its traced
    path (checks through `eqx.error_if`), so call it with `throw=False` and pass the result to
    `check_solution` for the messages of a concrete call.

    **Returns:** `(out, {"time_compile_s": ..., "time_run_s": ...})`, the run timed until its
    outputs are ready."""
    start = time.perf_counter()
    jitted = eqx.filter_jit(fn)
    compiled = jitted.lower(*args, **kwargs).compile()  # pyright: ignore[reportFunctionMemberAccess]
    compile_s = time.perf_counter() - start
    start = time.perf_counter()
    out = jax.block_until_ready(compiled(*args, **kwargs))
    return out, {"time_compile_s": compile_s, "time_run_s": time.perf_counter() - start}
