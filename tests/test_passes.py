"""Each optimization pass does what the before/after example in its docstring shows."""

import re
import textwrap

import numpy as np
import pytest

from srcgrad import annotations as anno
from srcgrad import optimize, runtime, syntax

NAMES = {"np": np, "unbroadcast": runtime.unbroadcast, "unreduce": runtime.unreduce}


def resolve(node):
    if isinstance(node, syntax.gast.Name):
        return NAMES.get(node.id)
    if isinstance(node, syntax.gast.Attribute):
        base = resolve(node.value)
        return getattr(base, node.attr, None) if base is np else None
    return None


PASSES = {
    optimize.ConstantFold: lambda: optimize.ConstantFold(),
    optimize.DropUnbroadcast: lambda: optimize.DropUnbroadcast(resolve, []),
    optimize.DeadCode: lambda: optimize.DeadCode(),
    optimize.CopyPropagate: lambda: optimize.CopyPropagate(["x", "r", "h", "dr2"]),
    optimize.HelperArguments: lambda: optimize.HelperArguments(resolve),
    optimize.ForwardSubstitute: lambda: optimize.ForwardSubstitute({"W_shape", "n"}),
}


def examples(cls):
    doc = cls.__doc__
    before, after = re.search(r"Before::\n(.*?)\n\s*After::\n(.*)", doc, re.S).groups()
    return textwrap.dedent(before).strip(), textwrap.dedent(after).strip()


def run_pass(make, code, role="adjoint"):
    body = syntax.parse(code).body
    for stmt in body:
        for node in syntax.gast.walk(stmt):
            if isinstance(node, syntax.gast.stmt):
                anno.tag(node, role=role)
    the_pass = make()
    while the_pass.run(body):
        pass
    return syntax.unparse(body)


@pytest.mark.parametrize("cls", list(PASSES), ids=lambda c: c.__name__)
def test_docstring_example(cls):
    before, after = examples(cls)
    role = "primal" if cls is optimize.ForwardSubstitute else "adjoint"
    assert run_pass(PASSES[cls], before, role) == syntax.unparse(syntax.parse(after).body)


def test_primal_statements_are_not_folded():
    body = syntax.parse("y = x * 1").body
    anno.tag(body[0], role="primal")
    assert not optimize.ConstantFold().run(body)


def test_impure_statements_survive_dead_code():
    body = syntax.parse("a = np.random.rand()\nreturn 1.0").body
    anno.tag(body[0], impure=True)
    optimize.DeadCode().run(body)
    assert len(body) == 2


def test_dead_code_keeps_what_is_live_after_a_break():
    code = textwrap.dedent("""
        for i in rng:
            x_4 = x_2 * 0.5
            if c:
                x_2 = x_4
                break
            x_2 = x_4
        return x_2
    """)
    assert run_pass(PASSES[optimize.DeadCode], code).count("x_2 = x_4") == 2


def test_dead_code_drops_unread_adjoint_accumulations_only():
    code = "ds = g * s\nds += g * s\ny += ds\nreturn g"
    assert run_pass(PASSES[optimize.DeadCode], code) == "return g"
    # a primal in-place update may write into an array its caller sees
    assert "y += v" in run_pass(PASSES[optimize.DeadCode], "y += v\nreturn g", role="primal")


def test_folded_negative_numbers_print_with_parentheses():
    folded = run_pass(PASSES[optimize.ConstantFold], "d = g / ((0.2 - 1.6) ** 2 + 1.0)")
    assert eval(folded.split("= ", 1)[1], {"g": 1.0}) == 1.0 / ((0.2 - 1.6) ** 2 + 1.0)
