"""The examples run and do what they say."""

import importlib.util
import pathlib

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quickstart_fits_the_sine_down_to_the_noise(capsys):
    final = load("quickstart").main(steps=1500)
    assert final < 0.02                     # the noise floor is 0.01
    assert "def dloss_dparams(" in capsys.readouterr().out


def test_newton_converges_on_hessian_vector_products():
    gradient_norm, hvp_error = load("newton").main()
    assert gradient_norm < 1e-4
    assert hvp_error < 1e-10
