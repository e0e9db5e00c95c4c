import json
import shutil

import pytest

from neural_galerkin._cli import main
from neural_galerkin._compare import JSON_KEYS
from neural_galerkin._recipes import RECIPES, shipped_weights


def test_list(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "burgers" in out and "[0.001, 0.01]" in out and "advection" in out


def test_solve_burgers_shipped_eq(tmp_path, capsys):
    """The README's main job: an EQ solve of Burgers at a viscosity the shipped model was not
    trained on, within the bound the foundation issue sets (1.5e-1)."""
    mu = RECIPES["burgers"].default_mu
    assert mu not in RECIPES["burgers"].train_mus
    out_json = tmp_path / "r.json"
    plot = tmp_path / "r.png"
    assert main(["solve", "burgers", "--json", str(out_json), "--plot", str(plot)]) == 0
    report = json.loads(out_json.read_text())
    assert set(JSON_KEYS) <= set(report)
    assert report["mode"] == "eq" and report["mu"] == mu
    assert report["rel_error"] < 1.5e-1
    assert report["rel_error_final"] < 1.5e-1
    assert report["num_steps"] > 0
    assert plot.stat().st_size > 10_000
    assert "relative L2 error" in capsys.readouterr().out


def test_solve_burgers_shipped_d(tmp_path):
    out_json = tmp_path / "r.json"
    assert main(["solve", "burgers", "--mode", "d", "--mu", "8.2e-3", "--json",
                 str(out_json)]) == 0
    report = json.loads(out_json.read_text())
    assert report["mode"] == "d" and report["rel_error"] < 3e-3


@pytest.mark.parametrize(
    "argv, message",
    [
        (["solve", "heat"], "unknown PDE 'heat'; the shipped PDEs are: advection, burgers"),
        (["solve", "burgers", "--mu", "0.5"], r"outside the range [0.001, 0.01]"),
        (["solve", "burgers", "--mu", "nan"], "mu must be finite"),
        (["solve", "burgers", "--weights", "/nonexistent/w"], "no weights folder"),
        (["pretrain", "--out", "/tmp/x"], "give a PDE name"),
        (["pretrain", "--data", "/nonexistent.npz", "--out", "/tmp/x"], "no data file"),
    ],
)
def test_cli_errors(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err


def test_cli_mismatched_weights(tmp_path, capsys):
    assert main(["solve", "burgers", "--weights", str(shipped_weights("advection"))]) == 2
    assert "trained for 'advection', not 'burgers'" in capsys.readouterr().err
    folder = tmp_path / "w"
    shutil.copytree(shipped_weights("burgers"), folder)
    (folder / "weights.eqx").unlink()
    assert main(["solve", "burgers", "--weights", str(folder)]) == 2
    assert "has no weights.eqx" in capsys.readouterr().err
