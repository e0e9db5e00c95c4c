"""The documentation keeps up with the repository: every benchmark table in
`benchmarks/results/` is included in `docs/benchmarks.md` (by `--8<--`, so the built site shows
its current contents), and the command-line listing quoted in the getting-started page is the
current one. The site itself is built by `mkdocs build --strict` in CI."""

import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
TABLES = sorted((ROOT / "benchmarks" / "results").rglob("*.md"))


@pytest.mark.parametrize("table", TABLES, ids=[str(t.relative_to(ROOT)) for t in TABLES])
def test_benchmark_table_is_in_the_docs(table):
    page = ROOT / "docs" / "benchmarks.md"
    if not page.is_file():
        pytest.skip("no docs/ here (an sdist)")
    name = table.relative_to(ROOT).as_posix()
    assert f'--8<-- "{name}"' in page.read_text(), f"include {name} in docs/benchmarks.md"


def test_getting_started_shows_the_current_pde_list(capsys):
    """The `neural-galerkin list` output quoted in the getting-started page is the real one."""
    page = ROOT / "docs" / "getting-started.md"
    if not page.is_file():
        pytest.skip("no docs/ here (an sdist)")
    from neural_galerkin._cli import main

    assert main(["list"]) == 0
    listing = capsys.readouterr().out
    assert f"```text\n{listing}```" in page.read_text(), (
        "update the `neural-galerkin list` output in docs/getting-started.md")
