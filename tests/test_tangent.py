"""The tangent-space term of pretraining (`pretrain(tangent_weight=...)`, `tangent_residual`)."""

import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import neural_galerkin as ng
import pdes
from neural_galerkin._checkpoint import load_checkpoint
from neural_galerkin._tangent import tangent_residual
from neural_galerkin._training import pretrain, trajectories_from_fd


def _advection_model(online_shift):
    config = ng.ModelConfig(equation="advection", lower=(0.0,), lengths=(1.0,),
                            t_range=(0.0, 1.0), mu_range=(0.5, 1.5), width=12, depth=3,
                            rank=2, online_shift=online_shift)
    return ng.make_model(config, key=jr.PRNGKey(3))


def test_tangent_residual_zero_where_the_tangent_space_holds_F():
    """Linear advection: with an online shift, `u_x` is (minus) the shift's column of `J`, so
    `F = -mu u_x` lies in the tangent space whatever the other weights, and the residual is
    zero to round-off without a ridge; the ridge adds about `ridge^2` (the coefficient's
    penalty); without the shift the (untrained) tangent space misses part of `F`."""
    eq = pdes.Advection()
    x = ng.sample_points(eq, 64)
    t, mu = jnp.asarray(0.3), jnp.asarray(0.9)
    shifted = _advection_model(True)
    phi = shifted.hyper(t, mu) + 0.3  # any online weights, not only the hypernetwork's
    exact = float(tangent_residual(eq, shifted.net, phi, t, mu, x, ridge=0.0))
    assert exact < 1e-24
    ridged = float(tangent_residual(eq, shifted.net, phi, t, mu, x, ridge=1e-3))
    assert 0 < ridged < 1e-5
    plain = _advection_model(False)
    missing = float(tangent_residual(eq, plain.net, plain.hyper(t, mu), t, mu, x, ridge=0.0))
    assert missing > 1e-4  # measured 1.1e-3: 20 orders of magnitude above the shifted one's


def test_tangent_residual_is_the_galerkin_residual_squared():
    """Without a ridge it is the online solve's relative residual `||J v - F|| / ||F||`,
    squared."""
    eq = pdes.Advection()
    model = _advection_model(False)
    x = ng.sample_points(eq, 48)
    phi = model.hyper(jnp.asarray(0.5), jnp.asarray(1.2))
    field = ng.GalerkinField(eq, model.net, x, ng.LeastSquares())
    want = float(field.residual(0.5, phi, 1.2)) ** 2
    assert float(tangent_residual(eq, model.net, phi, 0.5, 1.2, x, ridge=0.0)) == pytest.approx(
        want, rel=1e-10)


@pytest.fixture(scope="module")
def small_data():
    return trajectories_from_fd(pdes.Burgers(), (4e-3, 1e-2), 128, np.linspace(0, 0.4, 11))


def _pretrain(data, **kwargs):
    return pretrain(data, equation="burgers", batch_snapshots=8, batch_points=64,
                    key=jr.PRNGKey(0), progress=False, width=12, depth=3, rank=2, **kwargs)


@pytest.mark.parametrize("bad, message", [
    (dict(tangent_weight=-1.0), "tangent_weight must be 0 or positive"),
    (dict(tangent_weight=1.0, tangent_sigma=float("nan")), "tangent_sigma must be 0 or"),
    (dict(tangent_weight=1.0, tangent_ridge=-1e-3), "tangent_ridge must be 0 or positive"),
    (dict(tangent_weight=1.0, tangent_points=0), "tangent_points must be at least 1"),
    (dict(tangent_weight=1.0), "needs the pde"),
    (dict(tangent_weight=1.0, pde=pdes.Burgers(), tangent_points=6),
     "must exceed the model's"),
])
def test_tangent_settings_refused(small_data, bad, message):
    with pytest.raises(ValueError, match=message):
        _pretrain(small_data, steps=2, **bad)


def test_tangent_pretraining_runs_and_is_recorded(small_data, tmp_path):
    """A few steps with the term (perturbed weights): a finite loss, the settings in the
    checkpoint, and a resume with another sigma refused."""
    eq = pdes.Burgers()
    kw = dict(pde=eq, tangent_weight=1.0, tangent_sigma=0.1, tangent_snapshots=2,
              tangent_points=32, log_every=5)
    model, history = _pretrain(small_data, steps=10, checkpoint_dir=tmp_path / "c", **kw)
    assert history["done"] == 10 and np.all(np.isfinite(history["loss"]))
    settings = load_checkpoint(tmp_path / "c").settings
    assert settings["tangent_sigma"] == 0.1 and settings["tangent_points"] == 32
    with pytest.raises(ValueError, match="tangent_sigma"):
        pretrain(small_data, steps=10, resume=tmp_path / "c", progress=False,
                 **{**kw, "tangent_sigma": 0.2})
