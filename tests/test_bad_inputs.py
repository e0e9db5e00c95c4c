"""Bad inputs of the online phase: each gets a clear error (what is wrong, what to do) before
any work is done, and leaves no partial output. Small fixture networks, except where the
command line needs a shipped model."""

import json
import pathlib
import warnings

import diffrax as dfx
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import neural_galerkin as ng
import pdes
from neural_galerkin import _compare
from neural_galerkin._cli import main
from neural_galerkin._files import write_text_atomic

EQ = pdes.Burgers()
MU = 5e-3


@pytest.fixture(scope="module")
def net():
    """A small untrained Burgers network with 4 online weights."""
    return ng.CoLoRAMLP(ng.PeriodicEmbedding(EQ.lower, EQ.lengths), 8, 3, 1,
                        key=jr.PRNGKey(0))


@pytest.fixture(scope="module")
def model():
    return ng.load_pretrained("burgers")


def solve_small(net, **kw):
    kw = {"samples": 64, "residual_tol": None, **kw}
    return ng.solve(EQ, net, 0.0, 0.05, kw.pop("dt0", None), ng.get_phi(net), MU, **kw)


def run_cli(argv, capsys):
    code = main(argv)
    return code, capsys.readouterr().err


# --- the Galerkin samples -------------------------------------------------------------------


def test_samples_is_a_total_count_in_every_dimension():
    eq2 = pdes.get("burgers-2d")
    assert ng.sample_points(eq2, 4096).shape == (4096, 2)  # 64 x 64
    assert ng.sample_points(eq2, 5000).shape == (71 * 71, 2)  # about n: 71 per direction
    assert ng.sample_points(eq2, None).shape == (4096, 2)  # the default in 2D
    assert ng.sample_points(EQ, None).shape == (512, 1)
    eq6 = pdes.get("advection-diffusion-6d")
    assert ng.sample_points(eq6, None).shape == (2048, 6)  # random points above 3D
    with pytest.raises(ValueError, match="is the total number of points, not points per "
                       "direction"):
        ng.sample_points(eq2, 512**2 + 1)
    with pytest.raises(ValueError, match=r"samples must be a positive number of points, got 0"):
        ng.sample_points(EQ, 0)


def test_fewer_samples_than_twice_the_online_weights_are_refused(net, model):
    p = ng.num_phi(net)
    with pytest.raises(ValueError, match=rf"3 Galerkin sample points for {p} online weights.*"
                       rf"use at least samples={2 * p}"):
        solve_small(net, samples=3)
    with pytest.raises(ValueError, match=r"use at least samples=24"):
        ng.fit_initial_condition(EQ, model, mu=MU, samples=8)
    with pytest.raises(ValueError, match="use at least samples"):
        solve_small(net, samples=ng.RandomSampler(5, jr.PRNGKey(0)))


def test_residual_is_measured_on_points_the_least_squares_did_not_fit(net):
    # with as many points as online weights the system is square: it fits any right-hand side
    # exactly on its own points (residual at round-off), however wrong it is between them
    p = ng.num_phi(net)
    field = ng.GalerkinField(EQ, net, ng.sample_points(EQ, p), ng.LeastSquares())
    phi = ng.get_phi(net)
    on_fitted = float(field.residual(0.0, phi, MU))
    elsewhere = float(field.residual(0.0, phi, MU, ng.sample_points(EQ, 512) + 0.5 / 512))
    assert on_fitted < 1e-10 and elsewhere > 1e-2, (on_fitted, elsewhere)


def test_cli_too_few_samples(capsys, tmp_path):
    out = tmp_path / "r.json"
    code, err = run_cli(["solve", "burgers", "--samples", "3", "--json", str(out)], capsys)
    assert code == 2 and "3 Galerkin sample points for 12 online weights" in err
    assert "use at least samples=24" in err and not out.exists()
    for bad in ("0", "-1"):
        with pytest.raises(SystemExit) as e:
            main(["solve", "burgers", "--samples", bad])
        assert e.value.code == 2
        assert f"--samples: must be positive, got {bad}" in capsys.readouterr().err


# --- time stepping that cannot finish ------------------------------------------------------


@pytest.mark.parametrize("kw, message", [
    (dict(dt0=0.0), r"dt0 must be a positive step size .* got 0.0"),
    (dict(dt0=-1e-3), r"dt0 must be a positive step size"),
    (dict(stepsize_controller=dfx.PIDController(rtol=0.0, atol=0.0)),
     r"tolerances rtol=0, atol=0 must be non-negative and not both below round-off"),
    (dict(stepsize_controller=dfx.PIDController(rtol=-1.0, atol=1e-8)),
     r"rtol=-1, atol=1e-08 must be non-negative"),
    (dict(stepsize_controller=dfx.ConstantStepSize()), r"a constant step size needs dt0"),
    (dict(max_steps=0), r"max_steps must be a positive integer or None, got 0"),
    (dict(residual_tol=0.0), r"residual_tol must be a positive number \(or None for no "
     r"check\), got 0.0"),
    (dict(max_residual=-1.0), r"max_residual must be a positive number"),
])
def test_stepping_that_cannot_finish_is_refused(net, kw, message):
    with pytest.raises(ValueError, match=message):
        solve_small(net, **kw)


@pytest.mark.parametrize("kw, error, message", [
    (dict(eps=0.0), ValueError, r"eps must be positive .* got 0.0"),
    (dict(eps=-1e-3), ValueError, r"eps must be positive"),
    (dict(eps=float("nan")), ValueError, r"eps must be positive"),
    (dict(iterations=0), ValueError, r"iterations must be an integer of at least 1 .* got 0"),
    (dict(iterations=1.5), ValueError, r"iterations must be an integer"),
    (dict(theta=0.7), ValueError, r"theta must be 1 \(implicit Euler\) or 0.5"),
    (dict(least_squares=dfx.Tsit5()), TypeError, r"least_squares must be an optimistix "
     r"least-squares solver"),
])
def test_bad_implicit_step_options(kw, error, message):
    with pytest.raises(error, match=message):
        ng.RegularisedImplicit(**kw)


@pytest.mark.parametrize("kw, message", [
    (dict(sparse_updates=ng.SparseUpdates(2, jr.PRNGKey(0))), r"does not take sparse_updates"),
    (dict(conserve=ng.Conservation(("mass",), method="constraint")),
     r"method='projection'"),
])
def test_implicit_step_refuses_what_it_cannot_do(net, kw, message):
    with pytest.raises(ValueError, match=message):
        solve_small(net, solver=ng.RegularisedImplicit(), dt0=1e-2,
                    stepsize_controller=dfx.ConstantStepSize(), **kw)


def test_implicit_step_takes_projection_and_dynamic_samples(net):
    """Through `GalerkinSolver`: points redrawn at every step, mass projected after it."""
    sol = solve_small(net, solver=ng.RegularisedImplicit(), dt0=1e-2,
                      stepsize_controller=dfx.ConstantStepSize(),
                      samples=ng.RandomSampler(64, jr.PRNGKey(1)),
                      conserve=ng.Conservation(("mass",), method="projection"))
    assert sol.result == ng.RESULTS.successful and int(sol.stats["num_steps"]) == 5
    assert sol.drift()["mass"] < 1e-12


@pytest.mark.parametrize("rtol", ["0", "-1", "1.5", "abc"])
def test_cli_rtol(rtol, capsys):
    with pytest.raises(SystemExit) as e:
        main(["solve", "burgers", "--rtol", rtol])
    assert e.value.code == 2 and "--rtol:" in capsys.readouterr().err


# --- failures of the solve itself ----------------------------------------------------------


TIGHT = dfx.PIDController(rtol=1e-12, atol=1e-12)  # too many steps for max_steps=2


def test_step_limit_is_a_solve_error_with_advice(net):
    with pytest.raises(ng.SolveError, match=r"maximum number of steps \(2\); the last saved "
                       r"time with a solution is t=.*compare with the data-driven prediction"):
        solve_small(net, max_steps=2, stepsize_controller=TIGHT)


def test_partial_solution_warns_where_it_has_no_values(net):
    sol = solve_small(net, max_steps=2, stepsize_controller=TIGHT, throw=False,
                      saveat=dfx.SaveAt(ts=jnp.linspace(0, 0.05, 5)))
    assert sol.result == ng.RESULTS.step_limit
    assert sol.message.startswith("the equation-driven solve reached max_steps")
    assert sol.t_reached == 0.0
    with pytest.warns(ng.IncompleteSolutionWarning, match=r"4 of 5 saved times have no "
                      r"solution and evaluate to NaN: the solve stopped \(last solution at t=0;"):
        u = sol.evaluate(jnp.linspace(0, 1, 8))
    assert np.isfinite(u[0]).all() and np.isnan(u[1:]).all()


def test_residual_above_tolerance_warns_and_flags(net):
    # an untrained network cannot follow Burgers: the API says so, not only the command line
    with pytest.warns(ng.GalerkinResidualWarning, match=r"relative Galerkin residual reached "
                      r".* above residual_tol=0.1"):
        sol = solve_small(net, residual_tol=0.1)
    assert sol.residual_exceeded and float(jnp.max(sol.residuals)) > 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quiet = solve_small(net, residual_tol=None)
    assert not quiet.residual_exceeded


# --- the initial fit ---------------------------------------------------------------------


def test_fit_checks_mu_and_the_shape_of_u0(model, net):
    with pytest.raises(ValueError, match=r"mu=0.5 is outside the range \[0.001, 0.01\]"):
        ng.fit_initial_condition(EQ, model, mu=0.5)
    with pytest.raises(ValueError, match=r"u0 must return one value for one point x of shape "
                       r"\(1,\); it returned \(3,\)"):
        ng.fit_initial_condition(EQ, net, lambda x: jnp.ones(3) * x[0], samples=64)
    with pytest.raises(ValueError, match=r"u0 failed on one point x of shape \(1,\)"):
        ng.fit_initial_condition(EQ, net, lambda x: x.reshape(2, 2)[0, 0], samples=64)


# --- the model against the equation --------------------------------------------------------


def _data_model(equation_name, lower, lengths):
    config = ng.ModelConfig(equation=equation_name, lower=lower, lengths=lengths,
                            t_range=(0.0, 1.0), mu_range=(1e-3, 1e-2), width=4, depth=2)
    return ng.make_model(config, key=jr.PRNGKey(0))


def test_model_domain_and_name_are_checked():
    ac = pdes.AllenCahn()
    with pytest.raises(ValueError, match=r"trained on the box \[0, 1\), the equation is posed on "
                       r"\[0, 6.28319\)"):
        _compare.check_model_fits(ac, _data_model("data", (0.0,), (1.0,)))
    adv = pdes.Advection()
    with pytest.raises(ValueError, match="trained for 'advection-diffusion', not 'advection'"):
        _compare.check_model_fits(adv, _data_model("advection-diffusion", adv.lower,
                                                   adv.lengths))
    eq2 = pdes.get("burgers-2d")  # a dimension suffix names the same equation
    _compare.check_model_fits(eq2, _data_model("burgers-2d", eq2.lower, eq2.lengths))



def test_vlasov_colora_keeps_the_data_box_and_a_whole_field():
    """Its field is fitted on the data's box: another box is refused, as is a coefficient
    list that is not `(a_0, a_1..a_K, b_1..b_K)`."""
    with pytest.raises(ValueError, match=r"posed on the data's box \[-1, 1\)\^2"):
        pdes.VlasovCoLoRA(lower=(0.0, -1.0), upper=(2.0, 1.0))
    with pytest.raises(ValueError, match="an odd number, not 4"):
        pdes.VlasovCoLoRA(coefficients=(0.1, 0.2, 0.3, 0.4))

# --- the reference -------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 0, -4, 7, 2.5])
def test_fd_grid_too_coarse_or_not_whole(n):
    with pytest.raises(ValueError, match="points per direction|too coarse"):
        pdes.fd_solve(EQ, MU, n, jnp.linspace(0, 0.1, 3))


@pytest.mark.parametrize("mu, message", [(float("nan"), "mu must be finite"),
                                         (-1e-3, r"outside the range \[0.001, 0.01\]")])
def test_fd_bad_mu(mu, message):
    with pytest.raises(ValueError, match=message):
        pdes.fd_solve(EQ, mu, 64, jnp.linspace(0, 0.1, 3))


@pytest.fixture
def no_reference(monkeypatch):
    """Fails the test if the FD reference is started: the checks must come first."""
    def fail(*args, **kwargs):
        raise AssertionError("the reference ran before the options were checked")

    monkeypatch.setattr(_compare, "_reference", fail)


@pytest.mark.parametrize("argv, message", [
    (["--n-ref", "1"], "a reference grid of 1 points is too coarse"),
    (["--mode", "d", "--t1", "0.8"], "predicts inside the trained window [0, 0.4] only"),
    (["--mode", "d", "--conserve", "mass"], "conservation applies to the equation-driven mode"),
    (["--conserve", "energy"], "burgers does not keep 'energy'"),
    (["--conserve", "momentum"], "momentum"),
])
def test_cli_options_checked_before_the_reference(argv, message, capsys, no_reference):
    code, err = run_cli(["solve", "burgers", *argv], capsys)
    assert code == 2 and "error: " in err and message in err, err


# --- output files ---------------------------------------------------------------------------


@pytest.mark.parametrize("option", ["--json", "--plot"])
def test_cli_unwritable_outputs_refused_first(option, tmp_path, capsys, no_reference):
    folder = tmp_path / "a_folder"
    folder.mkdir()
    code, err = run_cli(["solve", "burgers", option, str(folder)], capsys)
    assert code == 2 and f"{option} {folder} is a folder; give a file name" in err
    missing = tmp_path / "nowhere" / "r.out"
    code, err = run_cli(["solve", "burgers", option, str(missing)], capsys)
    assert code == 2 and "does not exist; create it or give another path" in err
    assert not missing.parent.exists() and list(folder.iterdir()) == []


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "r.json"
    write_text_atomic(target, json.dumps({"old": 1}))

    def broken(self, text):
        raise OSError("disk full")

    monkeypatch.setattr(pathlib.Path, "write_text", broken)
    with pytest.raises(OSError, match="disk full"):
        write_text_atomic(target, json.dumps({"new": 2}))
    monkeypatch.undo()
    assert json.loads(target.read_text()) == {"old": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]  # no temporary file left
