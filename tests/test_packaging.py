"""The wheel carries the rule templates, and srcgrad finds them when installed normally."""

import os
import pathlib
import shutil
import subprocess
import sys
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    build = tmp_path_factory.mktemp("src")
    shutil.copytree(ROOT, build / "srcgrad-src",
                    ignore=shutil.ignore_patterns(".git", "__pycache__", ".pytest_cache",
                                                  ".hypothesis", "*.egg-info", ".srcgrad"))
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                             str(out), str(build / "srcgrad-src")], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip("cannot build a wheel here (pip needs to fetch hatchling): "
                    + result.stderr[-300:])
    return next(out.glob("srcgrad-*.whl"))


def test_wheel_contains_the_templates(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for template in ("srcgrad/_templates/nondifferentiable.py",
                     "srcgrad/_templates/reverse/numpy.py",
                     "srcgrad/_templates/reverse/operators.py",
                     "srcgrad/_templates/reverse/runtime.py",
                     "srcgrad/_templates/forward/numpy.py",
                     "srcgrad/_templates/forward/operators.py",
                     "srcgrad/_templates/forward/runtime.py"):
        assert template in names


def test_installed_package_differentiates_from_another_folder(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    work = tmp_path / "elsewhere"
    work.mkdir()
    (work / "model.py").write_text(
        "import numpy as np\n\ndef loss(W, x):\n    return np.sum(np.tanh(x @ W) ** 2)\n")
    script = ("import numpy as np, srcgrad, model\n"
              "assert srcgrad.__file__.startswith(%r)\n"
              "g = srcgrad.grad(model.loss)(np.ones((3, 2)), np.ones((4, 3)))\n"
              "_, t = srcgrad.jvp(model.loss, (np.ones((3, 2)), np.ones((4, 3))),\n"
              "                   (np.ones((3, 2)), np.zeros((4, 3))))\n"
              "print(g.shape)\n") % str(site)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), str(work)]),
               SRCGRAD_CACHE_DIR=str(tmp_path / "cache"))
    result = subprocess.run([sys.executable, "-c", script], cwd=work, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(3, 2)"
