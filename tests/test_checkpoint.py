"""Training a person can leave running: checkpoints written whole, a stopped run resumed
exactly, clean stops (time limit, SIGTERM), and bad inputs refused before any work, leaving no
partial output. All on an 8-wide, 2-deep network and travelling sine waves."""

import json
import math
import os
import pathlib
import re
import signal
import subprocess
import sys
import tempfile
import time

import equinox as eqx
import jax.random as jr
import numpy as np
import pytest

import neural_galerkin as ng
from neural_galerkin._cli import main

from .helpers import tree_allclose

ROOT = pathlib.Path(__file__).resolve().parents[1]
SETTINGS = dict(steps=300, log_every=50, batch_snapshots=8, batch_points=16, progress=False)
MODEL = dict(width=8, depth=2)


def _waves():
    x0 = np.linspace(0, 1, 16, endpoint=False)
    t = np.linspace(0, 1, 5)
    mus = np.array([1.0, 2.0, 3.0])
    u = np.stack([[np.sin(2 * np.pi * (x0 - m * s)) for s in t] for m in mus])
    return u, mus, t, x0


@pytest.fixture(scope="module")
def waves():
    u, mus, t, x0 = _waves()
    return ng.Trajectories(u=u, mu=mus, t=t, x=(x0,), lower=(0.0,), lengths=(1.0,))


@pytest.fixture
def npz(tmp_path):
    u, mus, t, x0 = _waves()
    np.savez(tmp_path / "d.npz", u=u, mu=mus, t=t, x0=x0)
    return tmp_path / "d.npz"


def test_resume_reproduces_the_uninterrupted_run(waves, tmp_path):
    full, h_full = ng.pretrain(waves, key=jr.PRNGKey(3), checkpoint_dir=tmp_path / "a",
                               checkpoint_every=100, **SETTINGS, **MODEL)
    # the time limit stops the run at the end of its first chunk (50 steps), with a checkpoint
    part, h_part = ng.pretrain(waves, key=jr.PRNGKey(3), checkpoint_dir=tmp_path / "b",
                               checkpoint_every=100, time_limit=1e-6, **SETTINGS, **MODEL)
    assert h_part["stopped"] == "time_limit" and h_part["done"] == 50
    ckpt = ng.load_checkpoint(tmp_path / "b")
    assert ckpt.step == 50 and ckpt.history["step"] == [50]
    assert tree_allclose(ng.load_model(tmp_path / "b"), part, rtol=0, atol=0)
    resumed, h_res = ng.pretrain(waves, resume=tmp_path / "b", checkpoint_dir=tmp_path / "b",
                                 checkpoint_every=100, **SETTINGS)
    assert h_full["stopped"] is None and h_res["stopped"] is None
    assert h_res["step"] == h_full["step"] == [50, 100, 150, 200, 250, 300]
    # measured: the same to the last bit (optimiser state, schedule and keys carry over)
    np.testing.assert_allclose(h_res["loss"], h_full["loss"], rtol=1e-12, atol=0)
    assert tree_allclose(resumed, full, rtol=1e-12, atol=0)
    assert h_full["loss"][-1] < 0.75 * h_full["loss"][0]  # it trains (measured: 0.98 -> 0.56)
    assert ng.load_checkpoint(tmp_path / "b").step == 300


def test_resume_refuses_another_run(waves, tmp_path):
    short = dict(SETTINGS, steps=20, log_every=10)
    ng.pretrain(waves, key=jr.PRNGKey(0), checkpoint_dir=tmp_path / "c", **short, **MODEL)
    ckpt = ng.load_checkpoint(tmp_path / "c")
    with pytest.raises(ValueError, match=r"steps 30 \(the run's: 20\).*init="):
        ng.pretrain(waves, resume=ckpt, **dict(short, steps=30))
    with pytest.raises(ValueError, match="learning_rate 0.001 .*leave them out"):
        ng.pretrain(waves, resume=ckpt, learning_rate=1e-3, **short)
    other = ng.Trajectories(u=2 * waves.u, mu=waves.mu, t=waves.t, x=waves.x, lower=waves.lower,
                            lengths=waves.lengths)
    with pytest.raises(ValueError, match="other training data than the run's"):
        ng.pretrain(other, resume=ckpt, **short)
    with pytest.raises(ValueError, match=r"drop init= and \['width'\]"):
        ng.pretrain(waves, resume=ckpt, width=8, **short)
    with pytest.raises(ValueError, match="key differs .* leave key out"):
        ng.pretrain(waves, resume=ckpt, key=jr.PRNGKey(1), **short)
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        ng.load_checkpoint(tmp_path)


@pytest.mark.parametrize("bad, message", [
    (dict(steps=0), "steps must be at least 1, got 0: give the number of optimiser steps"),
    (dict(steps=-5), "steps must be at least 1, got -5"),
    (dict(steps=2.5), "steps must be at least 1, got 2.5: give .* whole number"),
    (dict(learning_rate=0.0), "learning_rate must be positive, got 0.0: give the peak"),
    (dict(learning_rate=-1e-3), "learning_rate must be positive, got -0.001"),
    (dict(learning_rate=math.nan), "learning_rate must be positive, got nan"),
    (dict(batch_points=0), "batch_points must be at least 1, got 0: give grid points"),
    (dict(checkpoint_every=0), "checkpoint_every must be at least 1, got 0: give steps"),
    (dict(time_limit=0.0), "time_limit must be positive, got 0.0: give the seconds"),
    (dict(checkpoint_dir=None, checkpoint_every=10), "checkpoint_every needs checkpoint_dir"),
])
def test_bad_settings_refused_before_any_work(bad, message, waves, tmp_path):
    kw = dict(SETTINGS, key=jr.PRNGKey(0), checkpoint_dir=tmp_path / "c", **MODEL)
    with pytest.raises(ValueError, match=message):
        ng.pretrain(waves, **{**kw, **bad})
    assert list(tmp_path.iterdir()) == []


def test_unusable_checkpoint_dir_refused_before_any_work(waves, tmp_path):
    (tmp_path / "f").write_text("keep me")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("keep me")
    kw = dict(SETTINGS, key=jr.PRNGKey(0), **MODEL)
    with pytest.raises(ValueError, match="checkpoint_dir .*f is a file; give a folder path"):
        ng.pretrain(waves, checkpoint_dir=tmp_path / "f", **kw)
    with pytest.raises(ValueError, match="lies under .*f, which is a file"):
        ng.pretrain(waves, checkpoint_dir=tmp_path / "f" / "c", **kw)
    with pytest.raises(ValueError, match="holds other files than a checkpoint; give a new"):
        ng.pretrain(waves, checkpoint_dir=tmp_path / "notes", **kw)
    assert (tmp_path / "f").read_text() == "keep me"
    assert [p.name for p in (tmp_path / "notes").iterdir()] == ["a.txt"]


def _config(**kw):
    return ng.ModelConfig(**{**dict(equation="data", lower=(0.0,), lengths=(1.0,),
                                    t_range=(0.0, 1.0), mu_range=(1.0, 3.0), **MODEL), **kw})


def test_save_model_is_atomic(tmp_path, monkeypatch):
    old = ng.make_model(_config(), key=jr.PRNGKey(0))
    new = ng.make_model(_config(), key=jr.PRNGKey(1))
    folder = ng.save_model(tmp_path / "m", old)
    (folder / "history.json").write_text("{}")

    def fails_half_way(path, tree, *args, **kwargs):
        pathlib.Path(path).write_bytes(b"half a file")
        raise OSError("No space left on device")

    monkeypatch.setattr(eqx, "tree_serialise_leaves", fails_half_way)
    with pytest.raises(OSError, match="No space left"):
        ng.save_model(folder, new)
    monkeypatch.undo()
    assert tree_allclose(ng.load_model(folder), old, rtol=0, atol=0)
    assert [p.name for p in tmp_path.iterdir()] == ["m"]  # no half-written folder beside it
    ng.save_model(folder, new)
    assert tree_allclose(ng.load_model(folder), new, rtol=0, atol=0)
    assert (folder / "history.json").read_text() == "{}"  # other files in the folder stay


def test_failed_checkpoint_write_keeps_the_one_before(waves, tmp_path, monkeypatch):
    real, calls = eqx.tree_serialise_leaves, []

    def fails_at_the_second_checkpoint(path, tree, *args, **kwargs):
        calls.append(path)  # a checkpoint writes the weights and the optimiser state
        if len(calls) > 2:
            pathlib.Path(path).write_bytes(b"half a file")
            raise OSError(28, "No space left on device")
        return real(path, tree, *args, **kwargs)

    monkeypatch.setattr(eqx, "tree_serialise_leaves", fails_at_the_second_checkpoint)
    with pytest.raises(OSError, match="could not write a checkpoint to .*No space left on "
                       "device.*the one before it, if any, is still there"):
        ng.pretrain(waves, key=jr.PRNGKey(0), checkpoint_dir=tmp_path / "c",
                    checkpoint_every=10, **dict(SETTINGS, steps=30, log_every=10), **MODEL)
    monkeypatch.undo()
    ckpt = ng.load_checkpoint(tmp_path / "c")
    assert ckpt.step == 10 and ckpt.history["step"] == [10]
    assert [p.name for p in tmp_path.iterdir()] == ["c"]


@pytest.mark.parametrize("kw, message", [
    (dict(mu_range=(3.0, 1.0)), r"mu_range \(3.0, 1.0\) is reversed or empty: give \(low, "),
    (dict(t_range=(1.0, 0.0)), r"t_range \(1.0, 0.0\) is reversed"),
    (dict(t_range=(1.0, 1.0)), r"t_range \(1.0, 1.0\) is reversed or empty"),
    (dict(lengths=(0.0,)), r"lengths \(0.0,\) must be positive"),
    (dict(lengths=(-1.0,)), r"lengths \(-1.0,\) must be positive"),
    (dict(lower=(0.0, 0.0)), "one entry per space direction"),
    (dict(mu_range=(0.0, 1.0), log_mu=True), "log_mu needs a positive mu_range"),
    (dict(depth=1), "depth must be at least 2, got 1"),  # the network needs a hidden layer
    (dict(n_freq=0), "n_freq must be at least 1, got 0"),
])
def test_model_config_refuses_bad_ranges(kw, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        _config(**kw)
    # and a config.json with it is reported as corrupt, with what to do
    folder = ng.save_model(tmp_path / "m", ng.make_model(_config(), key=jr.PRNGKey(0)))
    cfg = json.loads((folder / "config.json").read_text())
    cfg.update({k: list(v) if isinstance(v, tuple) else v for k, v in kw.items()})
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match=f"config.json is corrupt.*{message}.*re-create it"):
        ng.load_model(folder)


def _pretrain_cli(npz, out, *extra):
    return main(["pretrain", "--data", str(npz), "--out", str(out), "--width", "8", "--depth",
                 "2", "--batch-points", "16", *extra])


@pytest.mark.parametrize("extra, message", [
    (["--steps", "0"], "--steps must be at least 1, got 0: give the number of optimiser"),
    (["--steps", "-3"], "--steps must be at least 1, got -3"),
    (["--learning-rate", "0"], "--learning-rate must be positive, got 0.0: give the peak"),
    (["--learning-rate=-1e-3"], "--learning-rate must be positive, got -0.001"),
    (["--batch-points", "0"], "--batch-points must be at least 1, got 0: give grid points"),
    (["--checkpoint-every", "0"], "--checkpoint-every must be at least 1, got 0: give steps"),
    (["--time-limit", "0"], "--time-limit must be positive, got 0.0: give the seconds"),
    (["--time-limit", "-5"], "--time-limit must be positive, got -5.0"),
    (["--resume", "NOWHERE"], "no checkpoint at"),
    (["--init", "NOWHERE", "--resume", "NOWHERE"], "give --init DIR (its weights"),
    (["--resume", "NOWHERE", "--width", "4"], "--resume keeps the run's configuration; drop"),
    (["--resume", "NOWHERE", "--early-weight", "4"], "--resume keeps the run's settings; drop "
     "--early-weight"),
    (["--early-fade", "0.1"], "--early-fade needs --early-weight"),
    (["--early-weight", "-1"], "the early weight must be 0 (uniform) or positive, got -1.0"),
    (["--early-weight", "3", "--early-fade", "0"], "the early time must be positive"),
])
def test_cli_bad_settings_refused_before_any_work(extra, message, npz, tmp_path, capsys):
    out = tmp_path / "w"
    extra = [str(tmp_path / "nowhere") if a == "NOWHERE" else a for a in extra]
    if "--resume" in extra:  # without the model options _pretrain_cli gives
        assert main(["pretrain", "--data", str(npz), "--out", str(out), *extra]) == 2
    else:
        assert _pretrain_cli(npz, out, *extra) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.npz"]


@pytest.mark.parametrize("case", ["file", "under a file", "foreign folder", "not writable"])
def test_cli_unusable_out_refused_before_any_work(case, npz, tmp_path, capsys, monkeypatch):
    (tmp_path / "f").write_text("keep me")
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "notes.txt").write_text("keep me")
    out, message = {
        "file": (tmp_path / "f", "is a file; give a folder path"),
        "under a file": (tmp_path / "f" / "w", "lies under .*f, which is a file; give a path"),
        "foreign folder": (tmp_path / "foreign", "is a folder with other files in it "
                           r"\(notes.txt\); give a new or empty folder"),
        "not writable": (tmp_path / "locked" / "w", "cannot write in .*locked \\(Permission "
                         "denied\\); give a folder you can write to"),
    }[case]
    if case == "not writable":
        (tmp_path / "locked").mkdir()
        real_mkdtemp = tempfile.mkdtemp

        def no_permission(*args, dir=None, **kwargs):  # as root, chmod would not stop us
            if pathlib.Path(dir).name == "locked":
                raise PermissionError(13, "Permission denied")
            return real_mkdtemp(*args, dir=dir, **kwargs)

        monkeypatch.setattr(tempfile, "mkdtemp", no_permission)
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    assert _pretrain_cli(npz, out, "--steps", "10") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --out ") and re.search(message, err), err
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before
    assert (tmp_path / "f").read_text() == "keep me"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="permissions do not stop root")
def test_cli_read_only_out_refused(npz, tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        assert _pretrain_cli(npz, locked / "w", "--steps", "10") == 2
    finally:
        locked.chmod(0o755)
    assert "give a folder you can write to" in capsys.readouterr().err
    assert list(locked.iterdir()) == []


def test_cli_time_limit_stops_and_saves(npz, tmp_path, capsys):
    out = tmp_path / "w"
    assert _pretrain_cli(npz, out, "--steps", "1000000", "--checkpoint-every", "50",
                         "--time-limit", "0.5") == 0
    said = capsys.readouterr().out
    history = json.loads((out / "history.json").read_text())
    done = history["done"]
    assert f"stopped at the time limit (0.5 s) at step {done} of 1000000" in said
    assert f"continue with: neural-galerkin pretrain --resume {out}" in said
    assert history["stopped"] == "time_limit" and 0 < done < 1_000_000 and done % 50 == 0
    assert history["steps"] == 1_000_000 and history["step"] == sorted(history["step"])
    assert ng.load_checkpoint(out).step == done
    assert tree_allclose(ng.load_model(out), ng.load_model(out / "checkpoint"), rtol=0, atol=0)
    # a new run into this model folder replaces the model, its history and its checkpoint
    assert _pretrain_cli(npz, out, "--steps", "20", "--seed", "1") == 0
    assert "trained 20 steps, data-only" in capsys.readouterr().out
    assert json.loads((out / "history.json").read_text())["done"] == 20
    assert ng.load_checkpoint(out).step == 20
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.npz", "w"]


def test_cli_early_weight_run_resumes_exactly(npz, tmp_path, capsys):
    """A run whose batches favour the first snapshots (--early-weight) stops and resumes to
    the same weights as the run without the stop: the weights are part of its settings."""
    full, part = tmp_path / "full", tmp_path / "part"
    early = ["--steps", "100", "--checkpoint-every", "50", "--early-weight", "5",
             "--early-fade", "0.2"]
    assert _pretrain_cli(npz, full, *early) == 0
    assert _pretrain_cli(npz, part, *early, "--time-limit", "1e-6") == 0
    assert 0 < ng.load_checkpoint(part).step < 100  # stopped at the end of its first chunk
    assert ng.load_checkpoint(part).settings["time_weights"] == pytest.approx(
        1 + 5 * np.exp(-np.linspace(0, 1, 5) / 0.2), rel=1e-15)
    assert main(["pretrain", "--resume", str(part)]) == 0
    assert "trained 100 steps" in capsys.readouterr().out
    assert tree_allclose(ng.load_model(part), ng.load_model(full), rtol=1e-12, atol=0)
    uniform = tmp_path / "uniform"  # and the weights change the run
    assert _pretrain_cli(npz, uniform, *early[:4]) == 0
    assert not tree_allclose(ng.load_model(uniform), ng.load_model(full), rtol=1e-6, atol=0)


def test_cli_recipe_run_resumes_with_its_data_seed(tmp_path, monkeypatch, capsys):
    """A recipe whose data points have their own seed (KdV: points 0, training key 5) records
    both, and a resumed run draws its data with the points' seed, not the training one. The
    recipe's data are cut down here (64 points, 5 times) to keep the test small."""
    import dataclasses

    import neural_galerkin._data as data_module

    seeds = []
    draw = data_module.recipe_data

    def small_draw(eq, rec, seed=None):
        seeds.append(rec.points_seed(seed))
        return draw(eq, dataclasses.replace(rec, n=64, n_times=5), seed)

    monkeypatch.setattr(data_module, "recipe_data", small_draw)
    out = tmp_path / "w"
    assert main(["pretrain", "kdv", "--out", str(out), "--width", "4", "--depth", "2",
                 "--rank", "1", "--n-freq", "1", "--steps", "100", "--checkpoint-every", "50",
                 "--time-limit", "1e-6"]) == 0
    info = ng.load_checkpoint(out).run_info
    assert (info["seed"], info["data_seed"]) == (5, 0)
    assert main(["pretrain", "--resume", str(out)]) == 0
    assert "trained 100 steps" in capsys.readouterr().out
    assert seeds == [0, 0]


def test_sigterm_leaves_a_checkpoint_that_resumes(npz, tmp_path, capsys):
    out = tmp_path / "run"
    env = {**os.environ, "XLA_PYTHON_CLIENT_PREALLOCATE": "false", "JAX_PLATFORMS": "cpu"}
    cmd = [sys.executable, "-m", "neural_galerkin._cli", "pretrain", "--data", str(npz),
           "--out", str(out), "--steps", "1000000", "--checkpoint-every", "50", "--width", "8",
           "--depth", "2", "--batch-points", "16"]
    with open(tmp_path / "stderr.txt", "w") as err_file:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=err_file)
        try:
            deadline = time.monotonic() + 300
            while not (out / "checkpoint" / "state.json").is_file():
                assert proc.poll() is None, (tmp_path / "stderr.txt").read_text()
                assert time.monotonic() < deadline, "no checkpoint after 300 s"
                time.sleep(0.1)
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    err = (tmp_path / "stderr.txt").read_text()
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "interrupted by SIGTERM at step" in err
    assert f"resume with: neural-galerkin pretrain --resume {out}" in err
    ckpt = ng.load_checkpoint(out)
    assert 0 < ckpt.step < 1_000_000 and ckpt.step % 50 == 0
    assert tree_allclose(ng.load_model(out / "checkpoint"), ckpt.model, rtol=0, atol=0)
    assert not (out / "config.json").exists()  # a signal writes no model, only the checkpoint
    # the message's command continues it (here for a moment, with a time limit)
    assert main(["pretrain", "--resume", str(out), "--time-limit", "0.5"]) == 0
    assert "stopped at the time limit" in capsys.readouterr().out
    after = ng.load_checkpoint(out)
    assert after.step > ckpt.step
    assert after.history["step"][:len(ckpt.history["step"])] == ckpt.history["step"]
    assert ng.load_model(out).config == ckpt.model.config
