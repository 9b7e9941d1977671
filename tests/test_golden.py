"""Generated source, held in golden files so that a loss of readability fails CI.

After an intended change, regenerate with:  SRCGRAD_UPDATE_GOLDEN=1 pytest tests/test_golden.py
and read the diff before committing it.
"""

import ast
import os
import pathlib

import pytest

import srcgrad

from .golden import functions

GOLDEN = pathlib.Path(__file__).parent / "golden"

CASES = [
    ("loss", 0, "reverse"),
    ("loss", (0, 1), "reverse"),
    ("mlp", 0, "reverse"),
    ("scalar", (0, 1), "reverse"),
    ("methods", 0, "reverse"),
    ("rnn", (0, 1, 2), "reverse"),
    ("search", 0, "reverse"),
    ("collect", 0, "reverse"),
    ("two_layers", (1, 2, 3, 4), "reverse"),
    ("loss", 0, "forward"),
    ("rnn", (0, 1, 2), "forward"),
    ("search", 0, "forward"),
    ("collect", 0, "forward"),
]


def _name(fname, argnums, mode):
    nums = argnums if isinstance(argnums, tuple) else (argnums,)
    suffix = "_forward" if mode == "forward" else ""
    return f"{fname}_argnums_{'_'.join(map(str, nums))}{suffix}.py.txt"


@pytest.mark.parametrize("fname, argnums, mode", CASES, ids=[_name(*c) for c in CASES])
def test_generated_source_matches_golden_file(fname, argnums, mode):
    text = srcgrad.source(getattr(functions, fname), argnums=argnums, mode=mode)
    path = GOLDEN / _name(fname, argnums, mode)
    if os.environ.get("SRCGRAD_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"generated source changed; see {path}"


def _body_lines(text):
    lines = text.split("def ", 1)[1].splitlines()
    return [line for line in lines if line.strip()]


# DESIGN.md section 5: the target a careful person would write by hand.
TARGET = '''
def dloss_dW(W, b, x, y, dloss=1.0):
    # line 2: h = np.tanh(x @ W + b)
    xW = x @ W
    z = xW + b
    h = np.tanh(z)
    # line 3: return np.mean((h - y) ** 2)
    r = h - y
    r2 = r ** 2
    loss = np.mean(r2)
    # grad of line 3
    dr2 = np.full_like(r2, dloss / r2.size)
    dr = dr2 * 2 * r
    dh = dr
    # grad of line 2
    dz = dh * (1.0 - h * h)
    dxW = unbroadcast(dz, xW)
    dW = x.T @ dxW
    return dW
'''


def test_design_example_is_as_readable_as_the_target():
    text = srcgrad.source(functions.loss, argnums=0)
    assert len(_body_lines(text)) <= 2 * len(_body_lines(TARGET))
    tree = ast.parse(text)
    assigned = {t.id for node in ast.walk(tree) if isinstance(node, ast.Assign)
                for t in node.targets if isinstance(t, ast.Name)}
    assert not assigned & {"dx", "dy", "db"}, "no adjoint for arguments not asked for"
    assert {"dW", "dh", "dz"} <= assigned
    # one contribution each: no adjoint is initialised to zero then added to
    assert "zeros" not in text and "dW = dW" not in text and "dh = dh" not in text
    assert "uuid" not in text and "push" not in text
    assert "# line 6: h = np.tanh(x @ W + b)" in text
    assert "# grad of line 7" in text
