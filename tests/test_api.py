"""The public API: JAX's names and semantics, shapes and dtypes of gradients."""

import collections
import os

import numpy as np
import pytest

import srcgrad

from .helpers import assert_grad_matches_fd

rng = np.random.default_rng(0)


def loss(W, b, x, y):
    h = np.tanh(x @ W + b)
    return np.mean((h - y) ** 2)


def loss_args():
    r = np.random.default_rng(1)
    return r.normal(size=(4, 3)), r.normal(size=3), r.normal(size=(5, 4)), r.normal(size=(5, 3))


def hand_gradients(W, b, x, y):
    z = x @ W + b
    h = np.tanh(z)
    dh = 2 * (h - y) / h.size
    dz = dh * (1 - h ** 2)
    return x.T @ dz, dz.sum(axis=0), dz @ W.T, -dh


def test_grad_matches_a_hand_written_backward_pass():
    args = loss_args()
    grads = srcgrad.grad(loss, argnums=(0, 1, 2, 3))(*args)
    for got, want in zip(grads, hand_gradients(*args)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_decorator_forms():
    @srcgrad.grad
    def plain(x):
        return np.sum(x ** 2)

    @srcgrad.grad(argnums=(0, 1))
    def both(x, y):
        return np.sum(x * y)

    x, y = rng.normal(size=3), rng.normal(size=3)
    np.testing.assert_allclose(plain(x), 2 * x)
    dx, dy = both(x, y)
    np.testing.assert_allclose(dx, y)
    np.testing.assert_allclose(dy, x)
    np.testing.assert_allclose(srcgrad.grad(loss, 1)(*loss_args()), hand_gradients(*loss_args())[1])


def test_argnums_int_gives_one_gradient_and_tuple_gives_a_tuple():
    args = loss_args()
    assert isinstance(srcgrad.grad(loss, argnums=0)(*args), np.ndarray)
    single = srcgrad.grad(loss, argnums=(0,))(*args)
    assert isinstance(single, tuple) and len(single) == 1
    np.testing.assert_allclose(single[0], hand_gradients(*args)[0])
    negative = srcgrad.grad(loss, argnums=-1)(*args)
    np.testing.assert_allclose(negative, hand_gradients(*args)[3])


def with_aux(x):
    y = np.sin(x)
    return np.sum(y ** 2), {"y": y}


def test_has_aux():
    x = rng.normal(size=4)
    g, aux = srcgrad.grad(with_aux, has_aux=True)(x)
    np.testing.assert_allclose(g, 2 * np.sin(x) * np.cos(x))
    np.testing.assert_allclose(aux["y"], np.sin(x))
    (value, aux2), g2 = srcgrad.value_and_grad(with_aux, has_aux=True)(x)
    assert value == pytest.approx(np.sum(np.sin(x) ** 2))
    np.testing.assert_allclose(g2, g)


def test_value_and_grad():
    args = loss_args()
    value, g = srcgrad.value_and_grad(loss)(*args)
    assert value == loss(*args)
    np.testing.assert_allclose(g, hand_gradients(*args)[0])


def affine(W, x):
    return x @ W + 1.0


def pair_out(x, y):
    return x * y, np.sum(x)


def dict_out(x):
    return {"sq": x ** 2, "tot": np.sum(x)}


def test_vjp_of_an_array_output_matches_the_jacobian():
    W, x = rng.normal(size=(4, 3)), rng.normal(size=(2, 4))
    out, f_vjp = srcgrad.vjp(affine, W, x)
    np.testing.assert_allclose(out, affine(W, x))
    ct = rng.normal(size=(2, 3))
    dW, dx = f_vjp(ct)
    np.testing.assert_allclose(dW, x.T @ ct)
    np.testing.assert_allclose(dx, ct @ W.T)


def test_vjp_of_pytree_outputs():
    x, y = rng.normal(size=3), rng.normal(size=3)
    out, f_vjp = srcgrad.vjp(pair_out, x, y)
    dx, dy = f_vjp((np.ones(3), 2.0))
    np.testing.assert_allclose(dx, y + 2.0)
    np.testing.assert_allclose(dy, x)
    out, f_vjp = srcgrad.vjp(dict_out, x)
    (dx,) = f_vjp({"sq": np.ones(3), "tot": 1.0})
    np.testing.assert_allclose(dx, 2 * x + 1.0)


def test_vjp_checks_the_cotangent():
    W, x = rng.normal(size=(4, 3)), rng.normal(size=(2, 4))
    _, f_vjp = srcgrad.vjp(affine, W, x)
    with pytest.raises(srcgrad.ShapeMismatchError):
        f_vjp(np.ones((3, 2)))
    _, f_vjp = srcgrad.vjp(pair_out, W, W)
    with pytest.raises(srcgrad.ShapeMismatchError):
        f_vjp(np.ones((4, 3)))


def scaled(x, n):
    return x * n


def test_vjp_gives_none_for_non_float_primals():
    x = rng.normal(size=3)
    _, f_vjp = srcgrad.vjp(scaled, x, 3)
    dx, dn = f_vjp(np.ones(3))
    np.testing.assert_allclose(dx, 3.0)
    assert dn is None


def test_grad_object_exposes_its_source_and_file():
    df = srcgrad.grad(loss)
    assert df.__wrapped__ is loss
    assert "def dloss_dW(W, b, x, y, dloss=1.0):" in df.__srcgrad_source__
    assert os.path.isfile(df.__srcgrad_file__)
    with open(df.__srcgrad_file__) as handle:
        assert handle.read().startswith(df.__srcgrad_source__)
    assert df.__name__ == "grad(loss)"


def python_float_fn(s, t):
    return s * t + np.sin(s)


def test_python_floats_in_python_floats_out():
    ds, dt = srcgrad.grad(python_float_fn, argnums=(0, 1))(0.3, 2.0)
    assert type(ds) is float and type(dt) is float
    assert ds == pytest.approx(2.0 + np.cos(0.3))
    assert dt == pytest.approx(0.3)


def test_numpy_scalars_keep_their_type():
    ds = srcgrad.grad(python_float_fn)(np.float32(0.3), np.float32(2.0))
    assert type(ds) is np.float32


def bias_broadcast(b, A):
    return np.sum((A + b) ** 2)


def test_broadcasting_is_undone():
    b, A = rng.normal(size=(3, 1)), rng.normal(size=(3, 4))
    g = srcgrad.grad(bias_broadcast)(b, A)
    assert g.shape == (3, 1)
    np.testing.assert_allclose(g, np.sum(2 * (A + b), axis=1, keepdims=True))
    g0 = srcgrad.grad(bias_broadcast)(np.array(0.5), A)
    assert g0.shape == ()


def identity_sum(x):
    y = np.sum(x)
    return y


def test_float32_arrays():
    x = rng.normal(size=(3, 4)).astype(np.float32)
    for fun in (identity_sum, loss_f32):
        g = srcgrad.grad(fun)(x)
        assert g.dtype == np.float32 and g.shape == x.shape


def loss_f32(x):
    return np.mean(np.tanh(x) ** 2)


def test_gradient_is_a_fresh_writable_array_and_input_is_untouched():
    x = rng.normal(size=(3, 4))
    before = x.copy()
    g = srcgrad.grad(identity_sum)(x)   # d/dx sum(x): a broadcast of 1.0 inside
    assert g.flags.writeable and not np.shares_memory(g, x)
    g *= 2.0
    np.testing.assert_array_equal(x, before)


def with_defaults(x, scale=2.0, *, power=2):
    return np.sum(scale * x ** power)


def test_keyword_and_default_arguments_pass_through():
    x = rng.normal(size=3)
    np.testing.assert_allclose(srcgrad.grad(with_defaults)(x), 4.0 * x)
    np.testing.assert_allclose(srcgrad.grad(with_defaults)(x, 3.0), 6.0 * x)
    np.testing.assert_allclose(srcgrad.grad(with_defaults)(x, scale=1.0, power=3), 3 * x ** 2)
    assert_grad_matches_fd(with_defaults, (x, 1.5), 1)


SCALE = 2.0
ACTIVATION = np.tanh


def uses_globals(x):
    return np.sum(ACTIVATION(x) * SCALE)


def test_generated_code_sees_the_current_globals():
    global SCALE, ACTIVATION
    x = rng.normal(size=3)
    df = srcgrad.grad(uses_globals)
    np.testing.assert_allclose(df(x), 2.0 * (1 - np.tanh(x) ** 2))
    try:
        SCALE = 3.0
        np.testing.assert_allclose(df(x), 3.0 * (1 - np.tanh(x) ** 2))
        ACTIVATION = np.sin          # a rebound callable: compiled again with sin's rule
        np.testing.assert_allclose(df(x), 3.0 * np.cos(x))
    finally:
        SCALE, ACTIVATION = 2.0, np.tanh


def make_scaled_loss(scale):
    def scaled_loss(x):
        return np.sum(x * x) * scale
    return scaled_loss


def test_closure_values_are_read_per_function():
    x = rng.normal(size=3)
    f2, f5 = make_scaled_loss(2.0), make_scaled_loss(5.0)
    np.testing.assert_allclose(srcgrad.grad(f2)(x), 4.0 * x)
    np.testing.assert_allclose(srcgrad.grad(f5)(x), 10.0 * x)


Params = collections.namedtuple("Params", ["W", "b"])


def tree_loss(params, extras):
    W, b = params["layer"]
    h = np.tanh(extras[0] @ W + b)
    return np.sum(h * extras[1])


def test_pytree_gradients_have_the_arguments_structure():
    params = {"layer": (rng.normal(size=(4, 3)), rng.normal(size=3)), "unused": rng.normal(size=2)}
    extras = [rng.normal(size=(2, 4)), rng.normal(size=(2, 3))]
    g = srcgrad.grad(tree_loss)(params, extras)
    assert set(g) == {"layer", "unused"} and isinstance(g["layer"], tuple)
    np.testing.assert_array_equal(g["unused"], np.zeros(2))
    assert_grad_matches_fd(tree_loss, (params, extras), 0)
    assert_grad_matches_fd(tree_loss, (params, extras), 1)


def named_loss(p, x):
    return np.sum((x @ p.W + p.b) ** 2)


def test_namedtuple_gradient_is_a_namedtuple():
    p = Params(rng.normal(size=(4, 3)), rng.normal(size=3))
    x = rng.normal(size=(2, 4))
    g = srcgrad.grad(named_loss)(p, x)
    assert isinstance(g, Params)
    assert_grad_matches_fd(named_loss, (p, x), 0)


def test_source_by_stage():
    parsed = srcgrad.source(loss, stage="parsed")
    assert parsed.startswith("def loss(W, b, x, y):")
    normalized = srcgrad.source(loss, stage="normalized")
    assert "xW = x @ W" in normalized and "dW" not in normalized
    raw = srcgrad.source(loss, stage="raw")
    optimized = srcgrad.source(loss)
    assert len(optimized.splitlines()) <= len(raw.splitlines())
    with pytest.raises(ValueError):
        srcgrad.source(loss, stage="nonsense")
    assert srcgrad.source(srcgrad.grad(loss, argnums=1)) == srcgrad.source(loss, argnums=1)


def softplus_impl(x):
    return np.log1p(np.exp(x))


@srcgrad.adjoint(softplus_impl)
def softplus_rule(y, x):
    d[x] = d[y] / (1 + np.exp(-x))  # noqa: F821 - `d` is read by srcgrad, not run


def uses_softplus(x):
    return np.sum(softplus_impl(x) * 2.0)


def test_a_user_rule_is_used_and_shown():
    x = rng.normal(size=4)
    np.testing.assert_allclose(srcgrad.grad(uses_softplus)(x), 2.0 / (1 + np.exp(-x)))
    assert "/ (1 + np.exp(-x))" in srcgrad.source(uses_softplus)
    srcgrad.check_grads(uses_softplus, (x,), order=1, modes="rev")  # a reverse rule only


class Scaler:
    def __init__(self, scale):
        self.scale = scale

    def loss(self, x):
        return np.sum(x * x) * self.scale


def test_bound_methods_differentiate_their_arguments():
    model, x = Scaler(3.0), rng.normal(size=3)
    np.testing.assert_allclose(srcgrad.grad(model.loss)(x), 6.0 * x)
    _, f_vjp = srcgrad.vjp(model.loss, x)
    np.testing.assert_allclose(f_vjp(1.0)[0], 6.0 * x)
    assert "def dloss_dx(self, x, dloss=1.0):" in srcgrad.source(model.loss)
    with pytest.raises(srcgrad.ArgnumsError):
        srcgrad.grad(model.loss, argnums=1)


def no_return(x):
    x * 2.0


def formats(x):
    label = f"{np.sum(x):.3f}"
    return np.sum(x * x) + len(label) * 0.0


def test_a_function_returning_none_is_not_a_scalar():
    with pytest.raises(srcgrad.NonScalarOutputError) as info:
        srcgrad.grad(no_return)(np.ones(2))
    assert "returned None" in str(info.value)


def test_an_f_string_of_a_value_carries_no_gradient():
    x = rng.normal(size=3)
    np.testing.assert_allclose(srcgrad.grad(formats)(x), 2 * x)
