"""Every example runs in its small setting (`python examples/NAME.py --small`, as CI does) and
prints what it promises. Examples are found by glob: a new one is run without touching this
file, and must then be listed in `docs/examples.md` too."""

import concurrent.futures
import math
import os
import pathlib
import re
import subprocess
import sys

import pytest

from .helpers import child_env

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
NUMBER = r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf)"


def values(label: str, text: str) -> list[float]:
    """The numbers printed right after `label` (a regular expression), in order."""
    return [float(v) for v in re.findall(rf"{label}\s+{NUMBER}", text)]


def lines_with(word: str, text: str) -> list[str]:
    return [line for line in text.splitlines() if word in line]


# beyond the general checks: what each example must print, with bounds a few times looser than
# measured (2 CPU cores, float64); lambdas take stdout
CHECKS = {
    "burgers_eq.py": [
        # measured 7.0e-4 and 8.7e-3
        lambda out: 0 < values("space-time relative error", out)[0] < 2e-3,
        lambda out: values("max Galerkin residual", out)[0] < 0.05,
    ],
    "conservation.py": [
        # without conservation the mass drifts (measured 3.9e-4) ...
        lambda out: values(r"mass drift \(2048 grid\)", lines_with("conserve=none", out)[0])[0]
        > 1e-6,
        # ... and held by projection it stays at round-off on its own quadrature (5.6e-16)
        lambda out: all(values(r"mass drift \(own quadrature\)", line)[0] < 1e-12
                        for line in lines_with("conserve=", out)
                        if "both" in line or "projection" in line),
        lambda out: len(values("error vs FD", out)) >= 2
        and max(values("error vs FD", out)) < 2e-3,  # measured 6.3e-4
    ],
    "batch_of_parameters.py": [
        # one line per viscosity; measured 8.4e-4 and 4.7e-4
        lambda out: len(values(r"error vs FD", out)) >= 2
        and max(values("error vs FD", out)) < 2e-3,
    ],
    "high_dimension.py": [
        # relative to u, which is 0.5 + a bump that is small on most of the 6D box: measured
        # EQ 9.8e-3 and D 1.0e-2, against 1.3e-2 for keeping u(0) (see the example's output)
        lambda out: values("EQ error", out)[0] < 0.05 and values("D error", out)[0] < 0.05,
        lambda out: len(values("frozen initial condition error", out)) == 1,
    ],
    "custom_equation.py": [
        # the spectral reference derived from F on 16, 32, 64 points against the exact
        # solution (measured 8.9e-12, 8.9e-12, 1.2e-11: the time tolerance) and its mass
        # drift (measured 1.1e-16, 2.2e-16, 0)
        lambda out: len(errs := values("max error at t1", out)) == 3 and max(errs) < 1e-10,
        lambda out: len(drift := values("mass drift", out)) == 3 and max(drift) < 1e-13,
        lambda out: values("EQ error", out)[0] < 0.1,  # measured 1.5e-2 (small pretraining)
    ],
}


def run_small(path: pathlib.Path) -> subprocess.CompletedProcess:
    # two run at once: on a GPU neither may preallocate most of its memory (child_env)
    return subprocess.run([sys.executable, str(path), "--small"], cwd=ROOT, env=child_env(),
                          capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def runs(request):
    """The selected examples, started two at a time as soon as the first test asks (most of
    an example's time is compilation, which runs on one core)."""
    selected = [item.callspec.params["path"] for item in request.session.items
                if getattr(item, "originalname", None) == "test_example_runs_small"]
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1))
    yield {path: pool.submit(run_small, path) for path in selected}
    pool.shutdown(cancel_futures=True)


def test_examples_are_found():
    assert len(EXAMPLES) >= 5, EXAMPLES


def test_example_processes_ask_for_no_gpu_preallocation(monkeypatch):
    """On a GPU each JAX process preallocates most of the device's memory at start, and the
    examples run two at a time: their environment must turn that off (on an H200, 52 tests
    passed, then the examples failed with CUDA_ERROR_OUT_OF_MEMORY)."""
    seen = {}

    def fake_run(cmd, **kwargs):
        seen.update(kwargs["env"])
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(subprocess, "run", fake_run)
    run_small(EXAMPLES[0])
    assert seen["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false"


@pytest.mark.slow  # each example pretrains a small model and solves
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs_small(path, runs):
    out = runs[path].result()
    assert out.returncode == 0, (
        f"`python examples/{path.name} --small` failed (every example needs a --small "
        f"setting for CI):\n{out.stderr[-4000:]}")
    text = out.stdout
    assert text.strip(), f"{path.name} printed nothing"
    assert not re.search(r"\b(nan|inf)\b", text, re.IGNORECASE), text
    for err in values(r"\berror", text):  # every "... error X" is a sane relative error
        assert math.isfinite(err) and 0 <= err < 1, (err, text)
    for i, check in enumerate(CHECKS.get(path.name, [])):
        try:
            ok = check(text)
        except (IndexError, ValueError) as e:  # a line it should print is missing
            ok = e
        assert ok is True, f"{path.name}: check {i} failed ({ok}) on its output:\n{text}"


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_is_in_the_docs(path):
    page = ROOT / "docs" / "examples.md"
    if not page.is_file():
        pytest.skip("no docs/ here (an sdist)")
    assert f'--8<-- "examples/{path.name}"' in page.read_text(), (
        f"add examples/{path.name} to docs/examples.md")
