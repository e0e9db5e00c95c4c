"""The helpers behind the benchmark tables (their figures are quoted in the docs)."""

import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "benchmarks"))
from _results import fd_time_at  # noqa: E402

# an FD ladder with error ~ n^-2 and time ~ n^2: time = 1e-4 / error
LADDER = [{"error": 4.0 / n**2, "time_s": 4e-4 * n**2 / 4.0} for n in (16, 32, 64, 128)]


def test_fd_time_at_interpolates_log_log():
    t, bound = fd_time_at(4.0 / 45**2, LADDER)
    assert bound == "" and t == pytest.approx(1e-4 * 45**2, rel=1e-12)


def test_fd_time_at_outside_the_ladder():
    assert fd_time_at(1.0, LADDER) == (pytest.approx(LADDER[0]["time_s"]), "<")
    assert fd_time_at(1e-9, LADDER) == (pytest.approx(LADDER[-1]["time_s"]), ">")
