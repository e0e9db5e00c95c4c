"""The user's equation on the command line: `--equation package.module:Class` or
`--equation path/to/file.py[:Class]` for `solve` and `pretrain`."""

import json
import pathlib
import sys
import textwrap

import numpy as np
import pytest

import neural_galerkin as ng
import pdes
from neural_galerkin._cli import load_equation, main
from neural_galerkin._recipes import default_recipe

EQUATIONS = textwrap.dedent('''
    import jax.numpy as jnp

    import pdes


    class Drift(pdes.AbstractEquation):
        """u_t = -mu u_x on [0, 1): small and cheap (32 reference points, t1 = 0.1)."""

        name = "drift"
        conserved = ("mass",)
        reference_points = 32
        lower: tuple[float, ...] = (0.0,)
        upper: tuple[float, ...] = (1.0,)
        mu_range: tuple[float, float] = (0.5, 1.0)
        t1: float = 0.1

        def F(self, field, x, mu):
            return -mu * field.derivative(0, 1)

        def initial_condition(self, x, mu):
            return 1.0 + 0.5 * jnp.sin(2 * jnp.pi * x[0])


    class Needs(pdes.AbstractEquation):
        scale: float
        name = "needs"
        lower: tuple[float, ...] = (0.0,)
        upper: tuple[float, ...] = (1.0,)
        mu_range: tuple[float, float] = (0.5, 1.0)
        t1: float = 0.1

        def F(self, field, x, mu):
            return -mu * field.derivative(0, 1)

        def initial_condition(self, x, mu):
            return self.scale * jnp.sin(2 * jnp.pi * x[0])


    class Nameless(pdes.AbstractEquation):  # no final time t1
        lower: tuple[float, ...] = (0.0,)
        upper: tuple[float, ...] = (1.0,)
        mu_range: tuple[float, float] = (0.5, 1.0)

        def F(self, field, x, mu):
            return field.value()

        def initial_condition(self, x, mu):
            return x[0]


    def helper():
        return 1


    longer = Drift(t1=0.5)
''')

ONE = textwrap.dedent('''
    import jax.numpy as jnp

    import pdes


    class Heat(pdes.AbstractEquation):
        name = "heat-here"
        conserved = ("mass",)
        lower: tuple[float, ...] = (0.0,)
        upper: tuple[float, ...] = (1.0,)
        mu_range: tuple[float, float] = (0.1, 1.0)
        t1: float = 1.0

        def F(self, field, x, mu):
            return mu * field.laplacian()

        def initial_condition(self, x, mu):
            return jnp.sin(2 * jnp.pi * x[0])
''')


@pytest.fixture
def eq_file(tmp_path):
    path = tmp_path / "my_equations.py"
    path.write_text(EQUATIONS)
    return path


def test_load_by_path_and_by_module(eq_file, tmp_path, monkeypatch):
    eq = load_equation(f"{eq_file}:Drift")
    assert eq.name == "drift" and eq.t1 == 0.1 and eq.mu_range == (0.5, 1.0)
    assert load_equation(f"{eq_file}:longer").t1 == 0.5  # an instance made in the file
    one = tmp_path / "one_equation.py"
    one.write_text(ONE)
    assert load_equation(str(one)).name == "heat-here"  # the one equation class it defines
    monkeypatch.syspath_prepend(str(tmp_path))
    for module in ("my_equations", "one_equation"):
        monkeypatch.delitem(sys.modules, module, raising=False)
    assert load_equation("my_equations:Drift").name == "drift"
    assert load_equation("one_equation").name == "heat-here"
    monkeypatch.chdir(tmp_path.parent)
    assert load_equation(f"{tmp_path.name}/my_equations.py:Drift").t1 == 0.1  # relative path


def test_load_the_documented_example():
    """The example's file defines one equation: the file alone names it."""
    example = pathlib.Path(__file__).parents[1] / "examples" / "custom_equation.py"
    if not example.is_file():
        pytest.skip("no examples/ here")
    eq = load_equation(str(example))
    assert eq.name == "heat" and isinstance(eq, pdes.AbstractEquation)


@pytest.mark.parametrize(
    "spec, error, message",
    [
        ("FILE:Nope", ValueError, r"has no 'Nope' \(the equation classes it defines: Drift, "
         r"Needs\)"),
        ("FILE:helper", ValueError, "helper in .* is function, not a subclass of "
         "pdes.AbstractEquation"),
        ("FILE:Needs", ValueError, r"Needs\(\) failed \(.*scale.*\); the command line makes the "
         r"equation with no arguments: give its fields defaults"),
        ("FILE:Nameless", ValueError, "Nameless is abstract: it lacks t1; define them in the "
         "class"),
        ("FILE", ValueError, r"defines 2 equation classes .*: Drift, Needs\); name one: "
         r".*my_equations.py:Drift"),
        ("BROKEN:Drift", ValueError, r"running .*broken.py failed: RuntimeError: no luck "
         r"\(.*broken.py, line 3\)"),
        ("/nonexistent/eqs.py:Drift", FileNotFoundError, "there is no file /nonexistent/eqs.py"),
        ("no_such_module_for_ng:Drift", ValueError, "there is no module "
         "'no_such_module_for_ng' .* give the path of a file instead"),
        (":Drift", ValueError, "no module or file given; write package.module:Class or "
         "path/to/file.py:Class"),
        ("json:dumps", ValueError, "dumps in the module json is function, not a subclass"),
    ],
)
def test_bad_specs(spec, error, message, eq_file, tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("import math\n\nraise RuntimeError('no luck')\n")
    spec = spec.replace("FILE", str(eq_file)).replace("BROKEN", str(broken))
    with pytest.raises(error, match=message):
        load_equation(spec)


def test_cli_equation_errors(eq_file, tmp_path, capsys):
    def error(argv):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ")
        return err

    out = str(tmp_path / "w")
    assert "your equation 'drift' has no shipped weights; give --weights DIR (make them with " \
        f"`neural-galerkin pretrain --equation {eq_file}:Drift --out DIR`)" in error(
            ["solve", "--equation", f"{eq_file}:Drift"])
    assert "give a shipped PDE (burgers) or --equation" in error(
        ["solve", "burgers", "--equation", f"{eq_file}:Drift", "--weights", out])
    assert "give a PDE name (see `neural-galerkin list`) or --equation SPEC" in error(["solve"])
    assert "for your own equation give --equation" in error(["solve", "heat"])
    assert "give a shipped PDE (burgers) or --equation" in error(
        ["pretrain", "burgers", "--equation", f"{eq_file}:Drift", "--out", out])
    assert "has no 'Nope'" in error(["pretrain", "--equation", f"{eq_file}:Nope", "--out", out])
    x0 = np.linspace(0, 2, 8, endpoint=False)
    np.savez(tmp_path / "d.npz", u=np.broadcast_to(x0, (2, 3, 8)), mu=[0.5, 1.0],
             t=[0, 0.05, 0.1], x0=x0)
    assert "the data's grid spans [0, 2), drift is posed on [0, 1)" in error(
        ["pretrain", "--equation", f"{eq_file}:Drift", "--data", str(tmp_path / "d.npz"),
         "--out", out])


def test_default_recipe_of_a_user_equation(eq_file):
    drift = load_equation(f"{eq_file}:Drift")
    rec = default_recipe(drift)
    assert rec.train_mus == (0.5, 0.625, 0.75, 0.875, 1.0)  # evenly: a range of a factor 2
    assert rec.data == "fd" and rec.n == 32 and rec.n_times == 41  # its reference_points
    heat = pdes.Burgers()  # mu in [1e-3, 1e-2]: log-spaced, 1024 points in 1D
    rec = default_recipe(heat)
    np.testing.assert_allclose(rec.train_mus, np.geomspace(1e-3, 1e-2, 5))
    assert rec.n == 1024 and rec.residual_weight == 0.0
    assert default_recipe(pdes.AdvectionDiffusion.in_dimension(4)).data == "exact"


@pytest.mark.slow  # 15 s: five reference solves, the compiled training step and a solve
def test_pretrain_and_solve_a_user_equation(eq_file, tmp_path, capsys):
    """`pretrain --equation` on the equation's own (pseudo-spectral) reference at 5
    parameters across its range, then `solve --equation --weights`."""
    spec = f"{eq_file}:Drift"
    out = tmp_path / "w"
    assert main(["pretrain", "--equation", spec, "--out", str(out), "--steps", "20",
                 "--width", "8", "--depth", "2"]) == 0
    captured = capsys.readouterr()
    assert "drift: pseudo-spectral trajectories at mu = 0.5, 0.625, 0.75, 0.875, 1 on 32 " \
        "points" in captured.err
    model = ng.load_model(out)
    assert model.config.equation == "drift" and model.mu_range == (0.5, 1.0)
    assert model.t_range == (0.0, 0.1)
    report = tmp_path / "r.json"
    assert main(["solve", "--equation", spec, "--weights", str(out), "--mu", "0.7", "--mode",
                 "d", "--n-ref", "32", "--json", str(report)]) == 0
    summary = json.loads(report.read_text())
    assert summary["pde"] == "drift" and summary["reference"] == "spectral"
    assert np.isfinite(summary["rel_error"])
