"""The disk cache: reused across processes, rebuilt when stale or tampered with."""

import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent

MODEL = textwrap.dedent("""
    import numpy as np

    def loss(W, x):
        return np.sum(np.tanh(x @ W) ** 2)
""")

SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    import srcgrad
    from srcgrad import compiler
    import model

    entry = compiler.compiled(model.loss, (0,))
    W, x = np.ones((3, 2)) * 0.1, np.ones((4, 3))
    g = srcgrad.grad(model.loss)(W, x)
    print(entry.origin, entry.path, float(g.sum()))
""")


@pytest.fixture
def project(tmp_path):
    (tmp_path / "model.py").write_text(MODEL)
    (tmp_path / "script.py").write_text(SCRIPT)
    return tmp_path


def run(project, cache_dir):
    env = dict(os.environ, SRCGRAD_CACHE_DIR=str(cache_dir),
               PYTHONPATH=os.pathsep.join([str(ROOT), str(project)]))
    result = subprocess.run([sys.executable, "script.py"], cwd=project, env=env,
                            capture_output=True, text=True, check=True)
    origin, path, total = result.stdout.split()
    return origin, pathlib.Path(path), float(total)


def test_second_process_reuses_the_file(project, tmp_path):
    cache_dir = tmp_path / "cache"
    origin, path, total = run(project, cache_dir)
    assert origin == "built" and path.parent == cache_dir and path.is_file()
    assert path.name.startswith("model.loss.dloss_dW.")
    origin2, path2, total2 = run(project, cache_dir)
    assert (origin2, path2, total2) == ("disk", path, total)
    assert not [p for p in cache_dir.iterdir() if p.name.startswith(".tmp")]


@pytest.mark.parametrize("damage", ["truncate", "edit", "foreign"])
def test_a_damaged_or_foreign_file_is_rebuilt_not_run(project, tmp_path, damage):
    cache_dir = tmp_path / "cache"
    _, path, total = run(project, cache_dir)
    text = path.read_text()
    if damage == "truncate":
        path.write_text(text[: len(text) // 2])
    elif damage == "edit":      # same stamp, different code: the digest no longer matches
        path.write_text(text.replace("np.tanh", "np.sin", 1))
    else:                       # someone else's file under our name
        path.write_text("raise SystemExit('a foreign file was executed')\n")
    origin, path2, total2 = run(project, cache_dir)
    assert origin == "built" and path2 == path and total2 == total
    assert path.read_text() == text


def test_editing_the_function_changes_the_key(project, tmp_path):
    cache_dir = tmp_path / "cache"
    _, path, _ = run(project, cache_dir)
    (project / "model.py").write_text(MODEL.replace("** 2", "** 3"))
    origin, path2, _ = run(project, cache_dir)
    assert origin == "built" and path2 != path


def test_an_unwritable_cache_folder_still_gives_gradients(project, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would be")
    origin, path, total = run(project, blocker / "cache")
    assert origin == "built" and not path.exists()
    assert total == run(project, tmp_path / "cache")[2]


def test_cache_dir_defaults_to_the_user_cache(monkeypatch, tmp_path):
    from srcgrad import cache
    monkeypatch.delenv("SRCGRAD_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.cache_dir() == tmp_path / "srcgrad"
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / "here"))
    assert cache.cache_dir() == tmp_path / "here"
