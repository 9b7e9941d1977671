"""Every corpus function: reverse and forward mode against central differences, and
float32 kept."""

import inspect

import numpy as np
import pytest

import srcgrad
from srcgrad import pytree

from .corpus import control_flow, inputs_for, straight_line
from .helpers import assert_grad_matches_fd, float_argnums, raw_gradients


def _functions(module):
    return [f for name, f in inspect.getmembers(module, inspect.isfunction)
            if f.__module__ == module.__name__ and not name.startswith("_")]


FUNCTIONS = _functions(straight_line) + _functions(control_flow)


def test_corpus_is_large_enough():
    assert len(_functions(straight_line)) >= 30
    assert len(_functions(control_flow)) >= 30


@pytest.mark.parametrize("fun", FUNCTIONS, ids=lambda f: f.__name__)
def test_vjp_matches_finite_differences(fun):
    srcgrad.check_grads(fun, inputs_for(fun), order=1, modes="rev")


@pytest.mark.parametrize("fun", FUNCTIONS, ids=lambda f: f.__name__)
def test_jvp_matches_finite_differences(fun):
    srcgrad.check_grads(fun, inputs_for(fun), order=1, modes="fwd")


# Known gap, refused with a SrcgradError (never a wrong answer): the gradient writes into
# the array its loop starts from, and restores it when that loop is reversed; the aliasing
# check on the gradient's code cannot tell that the reversed loop runs as often as the
# loop did, so it takes a read after it to see the write.
SECOND_ORDER_GAPS = {"writes_into_the_array_a_loop_starts_from"}


def with_second_order_gaps(functions):
    """The functions as test parameters, each known gap a strict xfail on its refusal."""
    return [pytest.param(f, marks=pytest.mark.xfail(
        raises=srcgrad.UnsupportedSyntaxError, strict=True,
        reason="differentiating this gradient's code again is refused by the aliasing check"))
        if f.__name__ in SECOND_ORDER_GAPS else f for f in functions]


@pytest.mark.parametrize("fun", with_second_order_gaps(FUNCTIONS), ids=lambda f: f.__name__)
def test_second_derivatives_match_finite_differences(fun):
    """check_grads' defaults: order 2 in both modes (forward over the generated jvp code and
    over the generated gradient code)."""
    srcgrad.check_grads(fun, inputs_for(fun))


@pytest.mark.parametrize("fun", FUNCTIONS, ids=lambda f: f.__name__)
def test_grad_of_each_argument_matches_finite_differences(fun):
    args = inputs_for(fun)
    for argnum in float_argnums(args):
        assert_grad_matches_fd(fun, args, argnum)


@pytest.mark.parametrize("fun", FUNCTIONS, ids=lambda f: f.__name__)
def test_float32_stays_float32(fun):
    args = inputs_for(fun, dtype=np.float32)
    argnums = float_argnums(args)
    if np.asarray(fun(*args)).dtype == np.float32:
        # The function computes in float32, so its derivative code must too
        # (where the user's own code promotes to float64, so does its derivative).
        raw = raw_gradients(fun, args, argnums)
        for i, g in zip(argnums, raw):
            for leaf_g, leaf in zip(pytree.leaves_like(g, args[i]), pytree.leaves(args[i])):
                if leaf_g is not None and isinstance(leaf, np.ndarray):
                    assert np.asarray(leaf_g).dtype == np.float32, (fun.__name__, i)
    grads = srcgrad.grad(fun, argnums=argnums)(*args)
    for i, g in zip(argnums, grads):
        for gl, leaf in zip(pytree.leaves_like(g, args[i]), pytree.leaves(args[i])):
            if isinstance(leaf, np.ndarray) and leaf.dtype.kind == "f":
                assert gl.dtype == leaf.dtype
            elif isinstance(leaf, float):
                assert type(gl) is float

