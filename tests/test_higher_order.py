"""Reverse mode over generated gradient code: grad(grad(f)), and vjp of a grad function.

Checked against central differences and against forward over reverse. Gradient code
that keeps a tape (the gradient of a loop) is refused in reverse mode, with a pointer
to forward over reverse; everything else must agree.
"""

import numpy as np
import pytest

import srcgrad
from srcgrad import pytree

from .corpus import control_flow, inputs_for
from .test_corpus import FUNCTIONS, with_second_order_gaps
from .test_forward import _random_tangent


def wiggle(x):
    return np.sin(x) * x ** 3 + np.exp(0.5 * x)


def two_scalars(x, y):
    return np.tanh(x * y) * x + y ** 3


def test_grad_of_grad_matches_differences_of_the_gradient():
    d1 = srcgrad.grad(wiggle)
    d2 = srcgrad.grad(d1)
    x, eps = 0.7, 1e-5
    assert d2(x) == pytest.approx((d1(x + eps) - d1(x - eps)) / (2 * eps), rel=1e-7)
    exact = -np.sin(x) * x ** 3 + 6 * x ** 2 * np.cos(x) + 6 * x * np.sin(x) \
        + np.exp(0.5 * x) / 4
    assert d2(x) == pytest.approx(exact, rel=1e-12)


def test_third_and_fourth_derivatives():
    d2 = srcgrad.grad(srcgrad.grad(wiggle))
    d3 = srcgrad.grad(d2)
    d4 = srcgrad.grad(d3)
    x, eps = 0.7, 1e-4
    assert d3(x) == pytest.approx((d2(x + eps) - d2(x - eps)) / (2 * eps), rel=1e-6)
    assert d4(x) == pytest.approx((d3(x + eps) - d3(x - eps)) / (2 * eps), rel=1e-6)


def test_mixed_partial_derivatives_are_symmetric():
    dx = srcgrad.grad(two_scalars, argnums=0)
    dy = srcgrad.grad(two_scalars, argnums=1)
    dxy = srcgrad.grad(dx, argnums=1)(0.4, -0.9)
    dyx = srcgrad.grad(dy, argnums=0)(0.4, -0.9)
    assert dxy == pytest.approx(dyx, rel=1e-12)


def test_grad_of_grad_shows_generated_code_of_generated_code():
    text = srcgrad.grad(srcgrad.grad(wiggle)).__srcgrad_source__
    assert "def ddwiggle_dx_dx(x, dwiggle=1.0, ddwiggle_dx=1.0):" in text
    assert "# grad of line" in text


def test_reverse_over_a_gradient_with_a_tape_is_refused():
    g = srcgrad.grad(control_flow.rnn, argnums=0)
    args = inputs_for(control_flow.rnn)
    with pytest.raises(srcgrad.UnsupportedSyntaxError) as info:
        srcgrad.vjp(g, *args)
    assert "keeps a tape" in str(info.value) and "srcgrad.hvp" in str(info.value)
    with pytest.raises(srcgrad.UnsupportedSyntaxError):
        srcgrad.grad(srcgrad.grad(control_flow.while_loop))


def _dot(a, b):
    return sum(float(np.sum(np.asarray(x, dtype=float) * np.asarray(y, dtype=float)))
               for x, y in zip(pytree.leaves(a), pytree.leaves(b))
               if x is not None and y is not None)


@pytest.mark.parametrize("fun", with_second_order_gaps(FUNCTIONS), ids=lambda f: f.__name__)
def test_reverse_over_reverse_agrees_with_forward_over_reverse(fun):
    """<vjp(grad f)(u), w> == <u, jvp(grad f)(w)>: the Hessian, both ways."""
    args = inputs_for(fun)
    argnums = tuple(i for i, a in enumerate(args) if pytree.has_inexact(a))
    g = srcgrad.grad(fun, argnums=argnums)
    rng = np.random.default_rng(7)
    w = [_random_tangent(rng, a) for a in args]
    grads, hw = srcgrad.jvp(g, args, w)
    u = _random_tangent(rng, grads)
    if g._generated.generated.uses_tape:
        with pytest.raises(srcgrad.UnsupportedSyntaxError, match="keeps a tape"):
            srcgrad.vjp(g, *args)
        return
    _, vjp_fn = srcgrad.vjp(g, *args)
    cotangents = vjp_fn(u)
    reverse = sum(_dot(pytree.leaves_like(c, a), pytree.leaves_like(t, a))
                  for c, t, a in zip(cotangents, w, args) if pytree.has_inexact(a))
    forward = _dot(u, hw)
    assert reverse == pytest.approx(forward, rel=1e-8, abs=1e-10)


def _stacks_what_it_appends(x):
    parts = []
    parts.append(np.sin(x))
    parts.append(x * x)
    return np.sum(np.stack(parts) ** 2)


def test_reverse_over_a_gradient_that_pops_a_list_adjoint():
    # the gradient takes each item's adjoint off the list's (pop_adjoint): differentiated
    # again, that is a list pop like any other, in both modes
    x = np.linspace(-1.0, 1.0, 4)
    v = np.random.default_rng(3).standard_normal(4)
    _, vjp_fn = srcgrad.vjp(srcgrad.grad(_stacks_what_it_appends), x)
    expected = srcgrad.hvp(_stacks_what_it_appends, (x,), (v,))
    np.testing.assert_allclose(vjp_fn(v)[0], expected, rtol=1e-10)   # the Hessian is symmetric
    srcgrad.check_grads(_stacks_what_it_appends, (x,), order=2)
