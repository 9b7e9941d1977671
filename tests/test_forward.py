"""Forward mode (jvp) and what is built on it: jacfwd, jacrev, hessian, hvp.

Every corpus function's jvp is checked in test_corpus.py; here are the API's
contract, its errors, user forward rules, and second derivatives against
central differences of the gradient.
"""

import numpy as np
import pytest

import srcgrad
from srcgrad import pytree
from srcgrad.runtime import zero_tangent

from .corpus import control_flow, inputs_for
from .test_corpus import FUNCTIONS, with_second_order_gaps


def loss(W1, b1, W2, x, y):
    h = np.tanh(x @ W1 + b1)
    out = h @ W2
    return np.mean((out - y) ** 2)


def _mlp_args(dtype=np.float64):
    rng = np.random.default_rng(0)
    return tuple(a.astype(dtype) for a in (rng.normal(size=(3, 4)), rng.normal(size=4),
                                           rng.normal(size=(4, 2)), rng.normal(size=(5, 3)),
                                           rng.normal(size=(5, 2))))


def _fd(fun, args, direction, eps=1e-6):
    plus = fun(*[a + eps * d for a, d in zip(args, direction)])
    minus = fun(*[a - eps * d for a, d in zip(args, direction)])
    return (np.asarray(plus) - np.asarray(minus)) / (2 * eps)


# -- jvp ----------------------------------------------------------------------------


def test_jvp_matches_finite_differences_for_a_vector_output():
    def f(W, x):
        return np.tanh(x @ W) * 2.0

    rng = np.random.default_rng(1)
    args = (rng.normal(size=(3, 4)), rng.normal(size=(5, 3)))
    direction = (rng.normal(size=(3, 4)), rng.normal(size=(5, 3)))
    out, t = srcgrad.jvp(f, args, direction)
    np.testing.assert_allclose(out, f(*args))
    np.testing.assert_allclose(t, _fd(f, args, direction), rtol=1e-6, atol=1e-8)


def test_jvp_keeps_float32_and_python_floats():
    args = _mlp_args(np.float32)
    tangents = tuple(np.ones_like(a) for a in args)
    _, t = srcgrad.jvp(loss, args, tangents)
    assert np.asarray(t).dtype == np.float32

    def scalar(s, t):
        return s * t + np.sin(s)

    _, ts = srcgrad.jvp(scalar, (1.5, 2.0), (1.0, 0.0))
    assert ts == pytest.approx(2.0 + np.cos(1.5))


def test_jvp_leaves_the_callers_tangents_alone():
    x = np.array([0.5, -1.0, 2.0])
    dx = np.array([1.0, 2.0, 3.0])
    kept, x_kept = dx.copy(), x.copy()
    srcgrad.jvp(control_flow.inplace_argument, (x,), (dx,))
    np.testing.assert_array_equal(dx, kept)
    np.testing.assert_array_equal(x, x_kept)   # the primal's own write goes to its copy


def test_jvp_of_a_pytree_argument():
    def f(params, x):
        return np.sum(np.tanh(x @ params["W"] + params["b"]) ** 2)

    rng = np.random.default_rng(2)
    params = {"W": rng.normal(size=(3, 2)), "b": rng.normal(size=2), "n": 3}
    x = rng.normal(size=(4, 3))
    v = {"W": rng.normal(size=(3, 2)), "b": rng.normal(size=2), "n": 0}
    _, t = srcgrad.jvp(f, (params, x), (v, np.zeros_like(x)))
    eps = 1e-6
    moved = [{"W": params["W"] + s * v["W"], "b": params["b"] + s * v["b"], "n": 3}
             for s in (eps, -eps)]
    assert t == pytest.approx((f(moved[0], x) - f(moved[1], x)) / (2 * eps), rel=1e-6)


@pytest.mark.parametrize("tangent, words", [
    ((np.ones(3), np.ones(2)), "shape (2,)"),
    ((np.ones(3), np.ones(4, dtype=np.float32)), "dtype float32"),
    (({"a": np.ones(3)}, np.ones(4)), "structure"),
])
def test_a_tangent_that_does_not_match_its_primal_is_refused(tangent, words):
    def f(x, y):
        return np.sum(x) * np.sum(y)

    with pytest.raises(srcgrad.ShapeMismatchError) as info:
        srcgrad.jvp(f, (np.ones(3), np.ones(4)), tangent)
    assert words in str(info.value)
    assert info.value.location.file == __file__


def test_source_in_forward_mode_comments_each_primal_line():
    text = srcgrad.source(control_flow.rnn, argnums=(0, 1, 2), mode="forward")
    assert "def rnn_jvp(dWh, dUx, dbh, Wh, Ux, bh, xs):" in text
    assert "# line 184: h = np.tanh(Wh @ h + Ux @ xs[t] + bh)" in text
    assert "dh_2 = dz_2 * (1 - h_2 * h_2)" in text
    assert "tape" not in text            # forward mode keeps nothing for later


# -- user rules ---------------------------------------------------------------------


def softish(x):
    return np.log1p(np.exp(x))


def softish_tangent_rule(y, x):
    d[y] = d[x] / (1 + np.exp(-x))  # noqa: F821 - `d` is read by srcgrad, never run


def _uses_softish(x):
    return np.sum(softish(x) * 2.0)


def test_a_user_forward_rule_appears_in_the_generated_code():
    from srcgrad import d  # noqa: F401 - the rule reads it
    srcgrad.tangent(softish)(softish_tangent_rule)
    text = srcgrad.source(_uses_softish, mode="forward")
    assert "/ (1 + np.exp(-x))" in text
    x = np.array([0.3, -1.2, 2.0])
    v = np.array([1.0, -0.5, 0.25])
    _, t = srcgrad.jvp(_uses_softish, (x,), (v,))
    assert t == pytest.approx(_fd(_uses_softish, (x,), (v,)), rel=1e-6)


def only_reverse(x):
    return x * 3.0


def _uses_only_reverse(x):
    return np.sum(only_reverse(x))


def test_a_callable_with_a_reverse_rule_only_is_refused_in_forward_mode():
    from srcgrad import d  # noqa: F401

    @srcgrad.adjoint(only_reverse)
    def only_reverse_rule(y, x):
        d[x] = d[y] * 3.0  # noqa: F821

    assert srcgrad.grad(_uses_only_reverse)(np.ones(2)) == pytest.approx([3.0, 3.0])
    with pytest.raises(srcgrad.NoRuleError) as info:
        srcgrad.jvp(_uses_only_reverse, (np.ones(2),), (np.ones(2),))
    assert "no forward-mode rule" in str(info.value)
    assert "@srcgrad.tangent(only_reverse)" in str(info.value)
    assert info.value.location.file == __file__


# -- Jacobians and Hessians ------------------------------------------------------------


def _hessian_by_differences(fun, args, argnum=0, eps=1e-5):
    g = srcgrad.grad(fun, argnums=argnum)
    x = args[argnum]
    columns = []
    for k in range(x.size):
        e = np.zeros_like(x)
        e.flat[k] = 1
        plus = list(args)
        minus = list(args)
        plus[argnum], minus[argnum] = x + eps * e, x - eps * e
        columns.append((g(*plus) - g(*minus)) / (2 * eps))
    return np.moveaxis(np.stack(columns), 0, -1).reshape(x.shape + x.shape)


def test_hessian_of_an_mlp_loss_matches_differences_of_its_gradient():
    args = _mlp_args()
    H = srcgrad.hessian(loss)(*args)
    assert H.shape == (3, 4, 3, 4)
    np.testing.assert_allclose(H, _hessian_by_differences(loss, args), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(H.reshape(12, 12), H.reshape(12, 12).T, atol=1e-12)


def test_hessian_of_all_parameters_flattened():
    args = _mlp_args()
    sizes = [a.size for a in args[:3]]

    def flat_loss(theta, x, y):
        W1 = theta[:12].reshape(3, 4)
        b1 = theta[12:16]
        W2 = theta[16:].reshape(4, 2)
        return loss(W1, b1, W2, x, y)

    theta = np.concatenate([a.ravel() for a in args[:3]])
    H = srcgrad.hessian(flat_loss)(theta, *args[3:])
    assert H.shape == (sum(sizes), sum(sizes))
    np.testing.assert_allclose(H, _hessian_by_differences(flat_loss, (theta,) + args[3:]),
                               rtol=1e-6, atol=1e-8)
    v = np.random.default_rng(3).normal(size=theta.shape)
    zeros = [np.zeros_like(a) for a in args[3:]]
    hv = srcgrad.hvp(flat_loss, (theta,) + args[3:], (v, *zeros))
    np.testing.assert_allclose(hv, H @ v, rtol=1e-10, atol=1e-12)


def test_hessian_with_several_argnums_has_a_block_per_pair():
    args = _mlp_args()
    H = srcgrad.hessian(loss, argnums=(0, 1))(*args)
    assert [[h.shape for h in row] for row in H] == [[(3, 4, 3, 4), (3, 4, 4)],
                                                      [(4, 3, 4), (4, 4)]]
    np.testing.assert_allclose(H[0][1], np.moveaxis(H[1][0], 0, -1), atol=1e-12)


def test_jacfwd_and_jacrev_agree_with_differences():
    def f(W, x):
        return np.tanh(x @ W)

    rng = np.random.default_rng(4)
    W, x = rng.normal(size=(3, 2)), rng.normal(size=(4, 3))
    Jf = srcgrad.jacfwd(f)(W, x)
    Jr = srcgrad.jacrev(f)(W, x)
    assert Jf.shape == Jr.shape == (4, 2, 3, 2)
    np.testing.assert_allclose(Jf, Jr, atol=1e-12)
    e = np.zeros_like(W)
    e[1, 0] = 1.0
    np.testing.assert_allclose(Jf[..., 1, 0], _fd(f, (W, x), (e, np.zeros_like(x))),
                               rtol=1e-6, atol=1e-8)


def test_hessian_of_a_non_scalar_function_is_refused():
    def f(x):
        return np.tanh(x)

    with pytest.raises(srcgrad.NonScalarOutputError) as info:
        srcgrad.hessian(f)(np.ones(3))
    assert info.value.location.file == __file__


# -- forward over reverse, for every corpus function ------------------------------------

# Known gaps are refused with a SrcgradError, never a wrong answer (see test_corpus.py).

def _random_tangent(rng, arg):
    if not pytree.has_inexact(arg):
        return arg
    values = []
    for leaf in pytree.leaves(arg):
        if not pytree.is_inexact(leaf):
            values.append(zero_tangent(leaf))
        elif isinstance(leaf, float):
            values.append(float(rng.standard_normal()))
        else:
            values.append(rng.standard_normal(np.shape(leaf)).astype(np.asarray(leaf).dtype))
    return pytree.rebuild(arg, values)


def _moved(args, tangents, step):
    return [pytree.rebuild(a, [leaf + step * t if pytree.is_inexact(leaf) else leaf
                               for leaf, t in zip(pytree.leaves(a), pytree.leaves(v))])
            if pytree.has_inexact(a) else a for a, v in zip(args, tangents)]


@pytest.mark.parametrize("fun", with_second_order_gaps(FUNCTIONS), ids=lambda f: f.__name__)
def test_hvp_matches_differences_of_the_gradient(fun):
    args = inputs_for(fun)
    argnums = tuple(i for i, a in enumerate(args) if pytree.has_inexact(a))
    tangents = [_random_tangent(np.random.default_rng(5), a) for a in args]
    g = srcgrad.grad(fun, argnums=argnums)
    _, hv = srcgrad.jvp(g, args, tangents)
    eps = 1e-6
    plus, minus = g(*_moved(args, tangents, eps)), g(*_moved(args, tangents, -eps))
    for h, p, m in zip(pytree.leaves(hv), pytree.leaves(plus), pytree.leaves(minus)):
        numeric = (np.asarray(p, dtype=float) - np.asarray(m, dtype=float)) / (2 * eps)
        np.testing.assert_allclose(h, numeric, rtol=1e-4, atol=1e-6)


def test_a_user_forward_rule_with_an_argument_its_primal_lacks_names_its_line():
    from srcgrad import d  # noqa: F401

    with pytest.raises(srcgrad.TemplateError) as info:
        @srcgrad.tangent(np.sinh)
        def sinh_rule(y, x, scale):
            d[y] = d[x] * np.cosh(x) * scale  # noqa: F821

    assert "`scale` is not a parameter of numpy.sinh" in str(info.value)
    assert info.value.location.file == __file__
