"""Every error a user can cause is a located SrcgradError that says what to do."""

import inspect
import os

import numpy as np
import pytest

import srcgrad

from .fixtures import unsupported


def line_of(fun, marker):
    """The file line of the first line of `fun`'s source that contains `marker`."""
    lines, first = inspect.getsourcelines(fun)
    for offset, text in enumerate(lines):
        if marker in text:
            return first + offset
    raise AssertionError(f"{marker!r} not in {fun.__name__}")


CASES = [
    # (function, error class, marker on the offending line, words the message contains)
    ("uses_try", srcgrad.UnsupportedSyntaxError, "try:", "try/except"),
    ("uses_with", srcgrad.UnsupportedSyntaxError, "with np", "with statement"),
    ("uses_yield", srcgrad.UnsupportedSyntaxError, "yield np", "generator"),
    ("uses_async", srcgrad.UnsupportedSyntaxError, "async def", "async"),
    ("uses_global", srcgrad.UnsupportedSyntaxError, "global counter", "global"),
    ("uses_del", srcgrad.UnsupportedSyntaxError, "del y", "del"),
    ("uses_class", srcgrad.UnsupportedSyntaxError, "class Local", "class definition"),
    ("uses_out_argument", srcgrad.UnsupportedSyntaxError, "out=y", "out="),
    ("uses_starargs", srcgrad.UnsupportedSyntaxError, "def uses_starargs", "*args"),
    ("inplace_on_argument", srcgrad.UnsupportedSyntaxError, "x += 1.0", "in place"),
    ("inplace_on_alias", srcgrad.UnsupportedSyntaxError, "y += 1.0", "refers to the same memory"),
    ("no_rule", srcgrad.NoRuleError, "np.linalg.det", "np.linalg.det has no derivative rule"),
    ("unhandled_keyword", srcgrad.NoRuleError, "dtype=", "dtype"),
    ("mutating_call", srcgrad.UnsupportedSyntaxError, "y.sort()", "writes into"),
    ("unused_call_result", srcgrad.UnsupportedSyntaxError, "np.linalg.norm(y)", "not used"),
    ("writes_a_global_array", srcgrad.UnsupportedSyntaxError, "GLOBAL_BUFFER[0]",
     "not a local variable"),
    ("appends_to_a_global_list", srcgrad.UnsupportedSyntaxError, "GLOBAL_LIST.append",
     "not a local variable"),
    ("appends_to_an_argument", srcgrad.UnsupportedSyntaxError, "xs.append", "caller's list"),
    ("for_with_else", srcgrad.UnsupportedSyntaxError, "for v in x", "`else:` clause"),
    ("while_with_else", srcgrad.UnsupportedSyntaxError, "while s < 1", "`else:` clause"),
    ("calls_a_function_that_writes_into_its_argument", srcgrad.UnsupportedSyntaxError,
     "return _writes_into_its_argument", "writes into its argument"),
    ("loops_over_a_generator", srcgrad.UnsupportedSyntaxError, "for v in iter(x)",
     "loop over `iter(...)`"),
    ("view_read_after_write", srcgrad.UnsupportedSyntaxError, "y[0] = 5.0",
     "refers to the same memory"),
    ("writes_through_a_copy_then_reads_the_original", srcgrad.UnsupportedSyntaxError,
     "z[0] = 1.0", "`y` refers to the same memory"),
    ("list_holds_a_written_array", srcgrad.UnsupportedSyntaxError, "y[0] = 2.0",
     "`parts` refers to the same memory"),
    ("view_read_in_the_next_iteration", srcgrad.UnsupportedSyntaxError, "y[0] = total",
     "`v` refers to the same memory (a view, a copy of the name, or a list holding it) and "
     "is read after the write, on line"),
    ("uses_before_assignment", srcgrad.UnsupportedSyntaxError, "y = z * x",
     "before it is assigned"),
    ("adds_into_a_loop_name_that_becomes_a_view", srcgrad.UnsupportedSyntaxError,
     "acc += total", "`acc += ...` would modify `acc` in place"),
]


def _args_for(fun):
    names = fun.__code__.co_varnames[:fun.__code__.co_argcount]
    values = {"x": np.eye(3) * 2.0, "xs": [np.ones(2)]}
    return [values.get(n, 0.5) for n in names] or [np.ones(3)]


@pytest.mark.parametrize("name, error, marker, words", CASES, ids=[c[0] for c in CASES])
def test_refusal_is_located(name, error, marker, words):
    fun = getattr(unsupported, name)
    with pytest.raises(error) as info:
        srcgrad.grad(fun)(*_args_for(fun))
    err = info.value
    assert isinstance(err, srcgrad.SrcgradError)
    assert words in str(err)
    assert err.location is not None
    assert os.path.basename(err.location.file) == "unsupported.py"
    assert err.location.line == line_of(fun, marker), str(err)
    assert f"unsupported.py:{err.location.line}" in str(err)
    assert err.hint, "every refusal says what to do"


def test_refusal_happens_before_running_anything():
    with pytest.raises(srcgrad.UnsupportedSyntaxError):
        srcgrad.source(unsupported.uses_try)


def test_function_without_source():
    namespace = {}
    exec("def f(x):\n    return x * x\n", namespace)
    with pytest.raises(srcgrad.SourceUnavailableError) as info:
        srcgrad.grad(namespace["f"])(1.0)
    assert "exec" in str(info.value) and "<string>" in str(info.value)


def test_builtin_function_has_no_source():
    with pytest.raises(srcgrad.SourceUnavailableError) as info:
        srcgrad.grad(np.tanh)(1.0)
    assert "not a Python function" in str(info.value)


def test_two_lambdas_on_one_line_with_the_same_parameters_are_told_apart():
    double, triple = (lambda x: x * 2.0), (lambda x: x * 3.0)  # noqa: E731
    assert srcgrad.grad(double)(1.0) == 2.0
    assert srcgrad.grad(triple)(1.0) == 3.0


def test_a_nested_function_that_calls_itself_is_refused():
    with pytest.raises(srcgrad.UnsupportedSyntaxError) as info:
        srcgrad.grad(unsupported.nested_recursion)(1.0)
    assert "calls itself" in str(info.value)
    assert info.value.location.line == line_of(unsupported.nested_recursion, "return inner(")


def test_a_nested_function_used_as_a_value_is_refused():
    with pytest.raises(srcgrad.UnsupportedSyntaxError) as info:
        srcgrad.grad(unsupported.nested_function_as_value)(np.ones(2))
    assert "used as a value" in str(info.value)


def test_argnums_out_of_range_names_the_function():
    with pytest.raises(srcgrad.ArgnumsError) as info:
        srcgrad.grad(unsupported.two_args, argnums=2)
    assert "out of range" in str(info.value)
    assert info.value.location.line == line_of(unsupported.two_args, "def two_args")
    with pytest.raises(srcgrad.ArgnumsError):
        srcgrad.grad(unsupported.two_args, argnums=(0, 0))
    with pytest.raises(srcgrad.ArgnumsError):
        srcgrad.grad(unsupported.two_args, argnums="x")


def test_argnums_pointing_at_an_int_argument():
    df = srcgrad.grad(unsupported.two_args, argnums=1)
    with pytest.raises(srcgrad.ArgnumsError) as info:
        df(np.ones(3), 3)
    assert "int 3" in str(info.value) and "3.0" in info.value.hint
    with pytest.raises(srcgrad.ArgnumsError):
        df(np.ones(3), np.arange(3))


def test_grad_of_a_non_scalar_output_points_to_vjp():
    with pytest.raises(srcgrad.NonScalarOutputError) as info:
        srcgrad.grad(unsupported.vector_output)(np.ones(3))
    assert "vjp" in info.value.hint
    assert info.value.location.line == line_of(unsupported.vector_output, "return x * 2.0")


def test_errors_are_one_family():
    for cls in (srcgrad.SourceUnavailableError, srcgrad.UnsupportedSyntaxError,
                srcgrad.NoRuleError, srcgrad.ArgnumsError, srcgrad.NonScalarOutputError,
                srcgrad.ShapeMismatchError, srcgrad.TemplateError):
        assert issubclass(cls, srcgrad.SrcgradError)


def test_a_decorator_wrapper_is_refused_with_advice():
    import functools

    def logged(fn):
        @functools.wraps(fn)
        def wrapper(*args):
            return fn(*args)
        return wrapper

    with pytest.raises(srcgrad.UnsupportedSyntaxError) as info:
        srcgrad.grad(logged(unsupported.two_args))
    assert "__wrapped__" in info.value.hint


def test_a_loop_over_a_dict_is_refused_when_it_runs():
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(unsupported.loops_over_a_dict)({0: 1.0, 1: 2.0})
    assert "dict" in str(info.value) and "arrays, lists, tuples" in str(info.value)
