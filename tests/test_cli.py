"""`srcgrad show` and `python -m srcgrad`."""

import os
import pathlib
import subprocess
import sys

import pytest

from srcgrad import cli

ROOT = pathlib.Path(__file__).resolve().parent.parent
MODEL = pathlib.Path(__file__).parent / "golden" / "functions.py"


def run(*args, **env):
    environment = dict(os.environ, PYTHONPATH=str(ROOT), **env)
    environment.pop("NO_COLOR", None)
    return subprocess.run([sys.executable, "-m", "srcgrad", *args], capture_output=True,
                          text=True, env=environment)


def test_show_prints_the_generated_gradient_plain_when_piped():
    result = run("show", f"{MODEL}:loss", "--argnums", "0")
    assert result.returncode == 0, result.stderr
    assert "def dloss_dW(W, b, x, y, dloss=1.0):" in result.stdout
    assert "\033[" not in result.stdout
    expected = (pathlib.Path(__file__).parent / "golden" / "loss_argnums_0.py.txt").read_text()
    assert result.stdout == expected


def test_show_several_argnums_and_stages():
    result = run("show", f"{MODEL}:loss", "--argnums", "0,1")
    assert "def dloss_dW_db(" in result.stdout
    for stage, text in [("parsed", "def loss(W, b, x, y):"), ("normalized", "xW = x @ W"),
                        ("raw", "dloss_dW"), ("optimized", "dloss_dW")]:
        result = run("show", f"{MODEL}:loss", "--stage", stage)
        assert result.returncode == 0 and text in result.stdout, (stage, result.stderr)


def test_show_forward_mode():
    result = run("show", f"{MODEL}:loss", "--mode", "forward")
    assert result.returncode == 0, result.stderr
    expected = (pathlib.Path(__file__).parent / "golden" / "loss_argnums_0_forward.py.txt")
    assert result.stdout == expected.read_text()


def test_colour_on_request():
    result = run("show", f"{MODEL}:loss", "--color", "always")
    assert "\033[" in result.stdout
    assert run("show", f"{MODEL}:loss", "--color", "always", NO_COLOR="1").stdout.count("\033[") > 0


def test_errors_are_reported_without_a_traceback(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import numpy as np\n\ndef f(x):\n    return np.linalg.det(x)\n")
    result = run("show", f"{bad}:f")
    assert result.returncode == 1
    assert f"{bad}:4" in result.stderr and "Traceback" not in result.stderr
    missing = run("show", f"{bad}:nope")
    assert missing.returncode == 2 and "no function 'nope'" in missing.stderr
    assert run("show", "nofile.py:f").returncode == 2
    assert run("show", "justaname").returncode == 2
    assert run("show", f"{bad}:f", "--argnums", "a").returncode == 2


def test_highlight_keeps_the_text():
    from srcgrad.highlight import highlight
    text = (pathlib.Path(__file__).parent / "golden" / "mlp_argnums_0.py.txt").read_text()
    coloured = highlight(text)
    import re
    assert re.sub("\033\\[[0-9;]*m", "", coloured) == text


def test_main_in_process(capsys):
    assert cli.main(["show", f"{MODEL}:scalar", "--argnums", "0,1"]) == 0
    assert "def dscalar_ds_dt(s, t, dscalar=1.0):" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["show"])
