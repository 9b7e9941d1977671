"""custom_vjp: the user's fwd and bwd run in the generated code, and are what it differentiates."""

import numpy as np
import pytest

import srcgrad


@srcgrad.custom_vjp
def softclip(x, limit):
    return limit * np.tanh(x / limit)


def softclip_fwd(x, limit):
    y = limit * np.tanh(x / limit)
    return y, (y, limit)


def softclip_bwd(residuals, g):
    y, limit = residuals
    return g * (1 - (y / limit) ** 2), None


softclip.defvjp(softclip_fwd, softclip_bwd)


@srcgrad.custom_vjp
def straight_through_round(x):
    return np.round(x)


straight_through_round.defvjp(lambda x: (np.round(x), None), lambda residuals, g: (g,))


def loss(x, w):
    h = softclip(x * w, 2.0)
    return np.sum(h ** 2)


def quantized(x):
    return np.sum(straight_through_round(x * 3.0) * x)


def test_the_fwd_and_bwd_calls_appear_in_the_generated_code():
    text = srcgrad.source(loss, argnums=(0, 1))
    assert "h, h_res = softclip.fwd(xw, 2.0)" in text
    assert "dxw_softclip, _ = softclip.bwd(h_res, dh)" in text


def test_a_custom_vjp_matches_finite_differences_when_it_is_the_true_derivative():
    rng = np.random.default_rng(0)
    srcgrad.check_grads(loss, (rng.normal(size=5), rng.normal(size=5)), order=1, modes="rev")


def test_the_users_bwd_is_what_the_gradient_uses():
    x = np.array([0.2, -0.7, 1.3])
    # round has a zero derivative; the straight-through bwd passes g through unchanged
    expected = 3.0 * x + np.round(3.0 * x)
    np.testing.assert_allclose(srcgrad.grad(quantized)(x), expected)


def test_grad_of_a_custom_vjp_function_itself():
    assert srcgrad.grad(softclip)(1.0, 2.0) == pytest.approx(1 - np.tanh(0.5) ** 2)


def test_forward_mode_needs_a_forward_rule():
    x = np.ones(3)
    with pytest.raises(srcgrad.NoRuleError) as info:
        srcgrad.jvp(loss, (x, x), (x, x))
    assert "custom_vjp" in str(info.value)
    assert "@srcgrad.tangent(softclip)" in str(info.value)
    assert info.value.location.file == __file__
