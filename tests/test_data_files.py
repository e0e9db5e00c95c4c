"""Training data from files: `.npz` with one field or several, and folders of HDF5 files (one
per parameter, the CoLoRA authors' layout)."""

import json
import sys

import jax
import numpy as np
import pytest

import neural_galerkin as ng
import pdes
from neural_galerkin._data import MissingH5py, Trajectories, load_trajectories

MUS = (1.0, 2.0, 3.0)
T = np.linspace(0.0, 1.0, 4)


def _snapshots(x, mu, n_fields=1, ts=T):
    """(n_fields, n_t, n_x): a periodic profile per field, different in every field."""
    return np.stack([[np.sin(2 * np.pi * (x - mu * t)) * (k + 1) + k for t in ts]
                     for k in range(n_fields)])


def test_two_field_npz(tmp_path):
    x0 = np.linspace(0, 1, 16, endpoint=False)
    u = np.stack([_snapshots(x0, m, 2).swapaxes(0, 1) for m in MUS])  # (n_mu, n_t, 2, n_x)
    np.savez(tmp_path / "d.npz", u=u, mu=MUS, t=T, x0=x0)
    data = load_trajectories(tmp_path / "d.npz")
    assert data.u.shape == (3, 4, 2, 16) and data.n_fields == 2
    assert data.fields == ("u0", "u1")
    np.testing.assert_array_equal(data.u, u)
    np.savez(tmp_path / "n.npz", u=u, mu=MUS, t=T, x0=x0, fields=["rho", "m"])
    assert load_trajectories(tmp_path / "n.npz").fields == ("rho", "m")
    np.savez(tmp_path / "b.npz", u=u, mu=MUS, t=T, x0=x0, fields=["rho"])
    with pytest.raises(ValueError, match=r"names 1 fields \(rho\), u has 2"):
        load_trajectories(tmp_path / "b.npz")
    np.savez(tmp_path / "o.npz", u=u, mu=MUS, t=T, x0=x0,
             fields=np.array(["rho", 1], dtype=object))
    with pytest.raises(ValueError, match="'fields' .* is not a string array"):
        load_trajectories(tmp_path / "o.npz")
    np.savez(tmp_path / "a.npz", u=u[..., None], mu=MUS, t=T, x0=x0)
    with pytest.raises(ValueError, match=r"u has 5 axes; with 1 coordinate arrays it needs 3 "
                       r"\(n_mu, n_t, \*grid\) or 4 \(n_mu, n_t, n_fields, \*grid\)"):
        load_trajectories(tmp_path / "a.npz")


def test_one_field_npz_in_both_layouts_is_the_same(tmp_path):
    x0 = np.linspace(0, 1, 17)  # both ends stored: the repeated one is dropped
    u = np.stack([_snapshots(x0, m)[0] for m in MUS])  # (n_mu, n_t, n_x)
    np.savez(tmp_path / "a.npz", u=u, mu=MUS, t=T, x0=x0)
    np.savez(tmp_path / "b.npz", u=u[:, :, None], mu=MUS, t=T, x0=x0)
    a, b = load_trajectories(tmp_path / "a.npz"), load_trajectories(tmp_path / "b.npz")
    assert a.u.shape == (3, 4, 16) and a.fields == ("u",) and a.n_fields == 1
    for field in ("u", "mu", "t", "lower", "lengths", "fields"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    np.testing.assert_array_equal(a.x[0], b.x[0])
    np.savez(tmp_path / "c.npz", u=u[:, :, None], mu=MUS, t=T, x0=x0, fields=["h"])
    assert load_trajectories(tmp_path / "c.npz").fields == ("h",)


def test_cli_pretrains_on_a_two_field_npz(tmp_path, capsys):
    """`neural-galerkin pretrain --data` on a two-field `.npz` (the layout `(n_mu, n_t,
    n_fields, *grid)`): the model has one output per field, named as the file names them,
    and fits both (a one-field file: test_cli's `test_pretrain_from_data_with_holdout`).
    Measured: relative D errors 1.7e-2 / 2.0e-2 in the two fields at a training mu. (It
    found an implicit rank promotion in the loss of a system, `(batch, points, fields) /
    (fields,)`, which the suite's `jax_numpy_rank_promotion="raise"` refuses.)"""
    from neural_galerkin._cli import main

    x0 = np.linspace(0, 1, 16, endpoint=False)
    u = np.stack([_snapshots(x0, m, 2).swapaxes(0, 1) for m in MUS])  # (n_mu, n_t, 2, n_x)
    np.savez(tmp_path / "d.npz", u=u, mu=MUS, t=T, x0=x0, fields=["rho", "m"])
    out = tmp_path / "w"
    assert main(["pretrain", "--data", str(tmp_path / "d.npz"), "--out", str(out),
                 "--steps", "2000", "--width", "8", "--depth", "2"]) == 0
    assert "trained 2000 steps" in capsys.readouterr().out
    model = ng.load_model(out)
    assert model.config.fields == ("rho", "m") and model.net.n_fields == 2
    data = load_trajectories(tmp_path / "d.npz")
    pred = np.asarray(ng.predict(model, data.t, 2.0).evaluate(np.asarray(data.points)))
    assert pred.shape == (4, 2, 16)
    errors = [np.linalg.norm(pred[:, k] - u[1, :, k]) / np.linalg.norm(u[1, :, k])
              for k in range(2)]
    assert max(errors) < 0.1, errors


def test_periodic_ends_are_judged_in_every_field(tmp_path):
    """The last point is dropped only where it repeats the first in all fields, each to its
    own scale (a small field is not judged by the large one's)."""
    x0 = np.linspace(0, 1, 17)
    u = np.stack([_snapshots(x0, m, 2).swapaxes(0, 1) for m in MUS])
    u[:, :, 1] *= 1e-4
    np.savez(tmp_path / "p.npz", u=u, mu=MUS, t=T, x0=x0)
    assert load_trajectories(tmp_path / "p.npz").u.shape == (3, 4, 2, 16)
    u[:, :, 1, -1] += 1e-5  # the small field does not repeat its end: not a periodic copy
    np.savez(tmp_path / "q.npz", u=u, mu=MUS, t=T, x0=x0)
    assert load_trajectories(tmp_path / "q.npz").u.shape == (3, 4, 2, 17)


def test_trajectories_checks_the_field_layout():
    x0 = np.linspace(0, 1, 8, endpoint=False)
    kw = dict(mu=np.array([1.0, 2.0]), t=np.array([0.0, 1.0]), x=(x0,), lower=(0.0,),
              lengths=(1.0,))
    with pytest.raises(ValueError, match=r"must be \(n_mu, n_t, \*grid\) = \(2, 2, 8\) \(one "
                       r"field is stored without a field axis: give u\[:, :, 0\]\)"):
        Trajectories(u=np.zeros((2, 2, 1, 8)), **kw)
    with pytest.raises(ValueError, match=r"2 fields \(a, b\) and grid \(8,\) it must be "
                       r"\(n_mu, n_t, n_fields, \*grid\) = \(2, 2, 2, 8\)"):
        Trajectories(u=np.zeros((2, 2, 8)), fields=("a", "b"), **kw)
    with pytest.raises(ValueError, match="fields must be distinct non-empty names"):
        Trajectories(u=np.zeros((2, 2, 2, 8)), fields=("a", "a"), **kw)
    data = Trajectories(u=np.zeros((2, 2, 2, 8)), fields=["a", "b"], **kw)  # type: ignore
    assert data.fields == ("a", "b") and data.n_fields == 2


@pytest.fixture
def h5py():
    return pytest.importorskip("h5py")


def _write_h5(path, mu, *, x0, t=T, n_fields=2, mu_attr="mu", coords=True, **extra):
    import h5py

    with h5py.File(path, "w") as f:
        f["u"] = _snapshots(x0, mu, n_fields, t).astype(np.float32)  # (n_fields, n_t, n_x)
        if coords:
            f["t"] = t
            f["x0"] = x0
        f.attrs[mu_attr] = mu
        for k, v in extra.items():
            f.attrs[k] = v


def test_hdf5_folder(tmp_path, h5py):
    x0 = np.linspace(0, 1, 17)
    for m in (3.0, 1.0, 2.0):  # the parameters are sorted, not taken in the files' order
        _write_h5(tmp_path / f"run_{m:g}.hdf5", m, x0=x0, equation="mine")
    (tmp_path / "README.txt").write_text("other files are left alone")
    data = load_trajectories(tmp_path)
    assert data.u.shape == (3, 4, 2, 16) and data.fields == ("u0", "u1")
    np.testing.assert_array_equal(data.mu, MUS)
    np.testing.assert_allclose(data.u[1, :, :, :], _snapshots(x0, 2.0, 2).swapaxes(0, 1)[..., :16],
                               rtol=1e-6, atol=1e-6)
    assert data.lower == (0.0,) and np.isclose(data.lengths[0], 1.0)

    one = tmp_path / "one"
    one.mkdir()
    for m in MUS:  # one field, the parameter under another name, coordinates as attributes
        with h5py.File(one / f"{m:g}.h5", "w") as f:
            f["u"] = _snapshots(x0, m)[0]  # (n_t, n_x): no field axis
            f.attrs["viscosity"] = m
            f.attrs["t"] = T
            f.attrs["x"] = x0
            f.attrs["fields"] = ["h"]
            f.attrs["name"] = "not a number"
    data = load_trajectories(one)
    assert data.u.shape == (3, 4, 16) and data.fields == ("h",)
    np.testing.assert_array_equal(data.mu, MUS)


def test_hdf5_float32_coordinates(tmp_path, h5py):
    """Float32 coordinates (as in the CoLoRA files) pass the uniform-spacing check, and the
    loaded grid is the uniform one they were checked to be, in float64 (not theirs, which is
    off it by ~1e-8)."""
    x0 = np.linspace(-1, 1, 101, dtype=np.float32)  # the authors' Vlasov grid
    for m in MUS:
        _write_h5(tmp_path / f"{m:g}.h5", m, x0=x0, t=T.astype(np.float32), n_fields=1)
    data = load_trajectories(tmp_path)
    assert data.u.shape == (3, 4, 100) and data.fields == ("u",)
    assert np.abs(x0[:-1].astype(float) - data.x[0]).max() > 1e-9  # theirs is off the grid
    np.testing.assert_array_equal(data.x[0], -1 + 0.02 * np.arange(100))
    np.testing.assert_allclose(data.lengths, (2.0,), rtol=1e-7)
    np.testing.assert_allclose(data.t, T, rtol=1e-7)


def test_hdf5_folder_refusals(tmp_path, h5py):
    x0 = np.linspace(0, 1, 17)

    def folder(name, *specs):
        path = tmp_path / name
        path.mkdir()
        for i, (mu, kw) in enumerate(specs):
            _write_h5(path / f"f{i}.h5", mu, **{"x0": x0, **kw})
        return path

    with pytest.raises(ValueError, match=r"f0.h5 and f1.h5 have different t \(4 and 5 values\)"):
        load_trajectories(folder("t", (1.0, {}), (2.0, dict(t=np.linspace(0, 1, 5)))))
    with pytest.raises(ValueError, match=r"f0.h5 and f1.h5 have different x0 \(values differ"):
        load_trajectories(folder("x", (1.0, {}), (2.0, dict(x0=np.linspace(0, 2, 17)))))
    with pytest.raises(ValueError, match=r"f0.h5 and f1.h5 have different fields \(2"):
        load_trajectories(folder("f", (1.0, {}), (2.0, dict(n_fields=1))))
    with pytest.raises(ValueError, match=r"f0.h5 and f1.h5 have the same mu \(1\)"):
        load_trajectories(folder("m", (1.0, {}), (1.0, {})))
    with pytest.raises(ValueError, match=r"lacks the times t \(n_t,\) and the coordinates x0, "
                       r"x1, .*add each as a dataset or an attribute"):
        load_trajectories(folder("c", (1.0, dict(coords=False))))
    with pytest.raises(ValueError, match=r"no attribute 'mu' \(its parameter\) and several "
                       r"numeric attributes \(a, b\)"):
        load_trajectories(folder("p", (1.0, dict(mu_attr="a", b=2))))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="holds no .h5 or .hdf5 files"):
        load_trajectories(tmp_path / "empty")
    with pytest.raises(ValueError, match="give the folder"):
        load_trajectories(tmp_path / "t" / "f0.h5")
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "a.h5").write_bytes(b"junk")
    with pytest.raises(ValueError, match="a.h5 is not a readable HDF5 file"):
        load_trajectories(tmp_path / "junk")
    with pytest.raises(FileNotFoundError, match="no data file at"):
        load_trajectories(tmp_path / "nothing")


def test_hdf5_without_h5py(tmp_path, monkeypatch, h5py):
    _write_h5(tmp_path / "a.h5", 1.0, x0=np.linspace(0, 1, 8))
    monkeypatch.setitem(sys.modules, "h5py", None)  # `import h5py` raises ImportError
    with pytest.raises(MissingH5py, match=r"needs h5py: pip install 'neural-galerkin\[hdf5\]'"):
        load_trajectories(tmp_path)
    assert issubclass(MissingH5py, ImportError)


def test_cli_says_what_to_install_for_hdf5(tmp_path, monkeypatch, capsys, h5py):
    from neural_galerkin._cli import main

    x0 = np.linspace(0, 1, 9)
    for m in MUS:
        _write_h5(tmp_path / f"{m:g}.h5", m, x0=x0)
    out = tmp_path / "w"
    monkeypatch.setitem(sys.modules, "h5py", None)
    assert main(["pretrain", "--data", str(tmp_path), "--out", str(out)]) == 2
    assert capsys.readouterr().err == ("error: reading a folder of HDF5 files needs h5py: "
                                       "pip install 'neural-galerkin[hdf5]'\n")


def test_compare_with_a_data_trajectory_starts_from_its_first_snapshot():
    """`compare(..., data=)`: EQ from the data's first snapshot, errors against the rest; the
    same numbers as against the reference the data came from."""
    jax.config.update("jax_enable_x64", True)
    eq = pdes.Burgers()
    model = ng.load_pretrained("burgers")
    mu = 3.9e-3
    ts = np.linspace(0.0, 0.6, 7)  # beyond the model's window [0, 0.4]: compared up to 0.4
    data = ng.trajectories_from_fd(eq, [mu], 256, ts)
    rep = ng.compare(eq, model, mu, data=data, samples=128)
    assert rep.reference == "data" and rep.u.shape == rep.u_ref.shape == (5, 256)
    assert rep.fit_error is not None and rep.fit_error < 5e-3
    assert rep.rel_error < 5e-3  # the shipped model's EQ error is ~7e-4 against FD
    d = ng.compare(eq, model, mu, data=data, mode="d")
    assert d.rel_error < 2e-2
    with pytest.raises(ValueError, match="no trajectory at mu=0.005"):
        ng.compare(eq, model, 5e-3, data=data)


def test_cli_solve_data_compares_with_the_trajectory(tmp_path, capsys):
    from neural_galerkin._cli import main

    jax.config.update("jax_enable_x64", True)
    d = ng.trajectories_from_fd(pdes.Burgers(), [3.9e-3], 256, np.linspace(0.0, 0.2, 5))
    path = tmp_path / "one.npz"
    np.savez(path, u=d.u, mu=d.mu, t=d.t, x0=d.x[0])
    out = tmp_path / "s.json"
    assert main(["solve", "burgers", "--data", str(path), "--mu", "3.9e-3", "--samples",
                 "128", "--json", str(out)]) == 0
    summary = json.loads(out.read_text())
    assert summary["reference"] == "data" and summary["t1"] == pytest.approx(0.2)
    assert summary["rel_error"] < 5e-3
    assert main(["solve", "burgers", "--data", str(path)]) == 2
    assert "needs --mu" in capsys.readouterr().err


def test_eq_against_data_holds_mass_on_the_data_grid():
    """`compare(data=..., conserve=mass by projection)`: the mass is held on the data's grid,
    where the comparison measures it (not on the Galerkin samples' grid)."""
    from neural_galerkin._data import trajectories_from_fd
    from neural_galerkin._recipes import shipped_weights

    eq = pdes.get("burgers")
    model = ng.load_model(shipped_weights("burgers"))
    mu = 3.9e-3
    data = trajectories_from_fd(eq, [mu], 96, np.linspace(0.0, 0.2, 3))
    kw = dict(mode="eq", data=data, samples=256, rtol=1e-4, atol=1e-6)
    held = ng.compare(eq, model, mu, conserve=ng.Conservation(("mass",), "projection"), **kw)
    assert held.mass_drift <= 1e-13
    # held on the samples' grid instead, the data grid's mass drifts: the check can fail
    other = ng.compare(eq, model, mu, conserve=ng.Conservation(("mass",), "projection", 256),
                       **kw)
    assert other.mass_drift > 1e3 * max(held.mass_drift, 1e-16)
