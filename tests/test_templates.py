"""The rule loader: every shipped rule loads, and a malformed rule names its file and line."""

import textwrap

import numpy as np
import pytest

import srcgrad
from srcgrad import rule, templates


def load(tmp_path, body, kind="adjoint"):
    """A rule file of `kind` (reverse or forward rules) with `body` under a 3-line header."""
    path = tmp_path / "rules.py"
    path.write_text(HEADERS[kind] + textwrap.dedent(body))
    registry = templates.Registry()
    templates._FileLoader(path, kind=kind).load(registry)
    return registry, path


HEADERS = {"adjoint": """\
import numpy
from srcgrad.extend import adjoint, d
from srcgrad.runtime import unbroadcast
""", "tangent": """\
import numpy
from srcgrad.extend import d, tangent
from srcgrad.runtime import broadcast_like
"""}


def assert_refused_at(tmp_path, body, line, words, kind="adjoint"):
    with pytest.raises(srcgrad.TemplateError) as info:
        load(tmp_path, body, kind)
    assert words in str(info.value)
    assert info.value.location.line == line
    assert info.value.location.file.endswith("rules.py")


def test_shipped_rules_load():
    registry = templates.registry()
    assert registry.rule_for(np.tanh).name == "tanh"
    assert registry.rule_for(np.ndarray.sum) is registry.rule_for(np.sum)
    assert registry.is_nondifferentiable(np.argmax)
    assert registry.is_nondifferentiable(np.random.default_rng().normal)
    assert registry.is_impure(np.random.normal)
    assert registry.is_mutating(np.ndarray.sort)
    assert len(templates.digest()) == 64


def test_a_good_rule(tmp_path):
    registry, _ = load(tmp_path, """
        @adjoint(numpy.sinh)
        def sinh(y, x):
            d[x] = d[y] * numpy.cosh(x)
    """)
    assert registry.rule_for(np.sinh).params == [("x", rule.REQUIRED)]


@pytest.mark.parametrize("body, line, words", [
    ("""
        @adjoint(numpy.sinh)
        def sinh(y, x):
            d[q] = d[y]
     """, 7, "`q` is not one of the rule's arguments"),
    ("""
        @adjoint(numpy.sinh)
        def sinh(y, x):
            d[x] = d[y] * cosh(x)
     """, 7, "`cosh` is not defined"),
    ("""
        @adjoint(numpy.sinh)
        def sinh(y, x):
            d[x] = d[x] * 2
     """, 7, "only d[y]"),
    ("""
        def sinh(y, x):
            d[x] = d[y]
     """, 5, "decorate it with @adjoint"),
    ("""
        @adjoint(numpy.sinh)
        def sinh(y, x, axis=None):
            d[x] = d[y]
     """, 6, "not a parameter of numpy.sinh"),
    ("""
        @adjoint(numpy.sinh_typo)
        def sinh(y, x):
            d[x] = d[y]
     """, 5, "does not exist"),
    ("""
        @adjoint(numpy.sinh)
        def sinh(y, x):
            for i in range(3):
                d[x] = d[y]
     """, 7, "only assignments and if statements"),
    ("""
        @adjoint(numpy.sinh)
        def sinh(y):
            pass
     """, 6, "needs the result and at least one argument"),
])
def test_a_broken_rule_names_its_file_and_line(tmp_path, body, line, words):
    assert_refused_at(tmp_path, body, line, words)


def test_a_syntax_error_in_a_rule_file(tmp_path):
    with pytest.raises(srcgrad.TemplateError) as info:
        load(tmp_path, "def broken(:\n")
    assert info.value.location.line == 4


def test_static_conditions():
    from srcgrad import syntax
    decide = rule.static_truth
    assert decide(syntax.parse_expr("None is None")) is True
    assert decide(syntax.parse_expr("(1 - 1e-7) is None")) is False
    assert decide(syntax.parse_expr("x is None")) is None
    assert decide(syntax.parse_expr("constant(2.0) and 2.0 > 0")) is True
    assert decide(syntax.parse_expr("constant(x) and x > 0")) is False
    assert decide(syntax.parse_expr("not constant(x) or x")) is True


def test_shipped_forward_rules_mirror_the_reverse_ones():
    registry = templates.registry()
    assert registry.tangent_for(np.tanh).name == "tanh"
    assert registry.tangent_for(np.ndarray.sum) is registry.tangent_for(np.sum)
    for primal, reverse_rule in registry.rules.items():
        if getattr(reverse_rule, "user", False):
            continue
        forward_rule = registry.tangent_for(primal)
        assert forward_rule is not None, f"{reverse_rule.name} has no forward rule"
        assert forward_rule.name == reverse_rule.name


def test_a_good_forward_rule(tmp_path):
    registry, _ = load(tmp_path, kind="tangent", body="""
        @tangent(numpy.hypot)
        def hypot(z, x, y):
            d[z] = d[x] * x / z + d[y] * y / z
    """)
    assert registry.tangent_for(np.hypot).kind == "tangent"


@pytest.mark.parametrize("body, line, words", [
    ("""
        @tangent(numpy.sinh)
        def sinh(y, x):
            d[y] = numpy.cosh(x)
     """, 7, "reads none"),
    ("""
        @tangent(numpy.sinh)
        def sinh(y, x):
            d[y] = d[y] * numpy.cosh(x)
     """, 7, "assigned, never read"),
    ("""
        @tangent(numpy.sinh)
        def sinh(y, x):
            t = d[x] * 2
            d[y] = d[x] * t
     """, 7, "temporaries are computed from primal values"),
    ("""
        @tangent(numpy.sinh)
        def sinh(y, x):
            d[x] = d[x]
     """, 7, "assign to a temporary or to d[y]"),
    ("""
        @tangent(numpy.sinh)
        def sinh(y, x):
            d[y] = d[q]
     """, 7, "`q` is not defined"),
    ("""
        @adjoint(numpy.sinh)
        def sinh(y, x):
            d[y] = d[x]
     """, 6, "decorate it with @tangent"),
])
def test_a_broken_forward_rule_names_its_file_and_line(tmp_path, body, line, words):
    assert_refused_at(tmp_path, body, line, words, kind="tangent")
