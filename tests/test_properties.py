"""Property tests: rules against central differences over random shapes, axes and values."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

import srcgrad

SETTINGS = settings(max_examples=25, deadline=None)


def add(a, b, w):
    return np.sum((a + b) * w)


def sub(a, b, w):
    return np.sum((a - b) * w)


def mul(a, b, w):
    return np.sum(a * b * w)


def div(a, b, w):
    return np.sum(a / (b * b + 1.0) * w)


def power(a, b, w):
    return np.sum((a * a + 0.5) ** b * w)


def maximum(a, b, w):
    return np.sum(np.maximum(a, b) * w)


def minimum(a, b, w):
    return np.sum(np.minimum(a, b) * w)


def logaddexp(a, b, w):
    return np.sum(np.logaddexp(a, b) * w)


def where(a, b, w):
    return np.sum(np.where(a > b, a * b, b - a) * w)


BINARY = [add, sub, mul, div, power, maximum, minimum, logaddexp, where]


@pytest.mark.parametrize("fun", BINARY, ids=lambda f: f.__name__)
@SETTINGS
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
       seed=st.integers(0, 2 ** 16))
def test_broadcasting_binary_operations(fun, shapes, seed):
    rng = np.random.default_rng(seed)
    (sa, sb), out = shapes.input_shapes, shapes.result_shape
    a, b, w = rng.normal(size=sa), rng.normal(size=sb), rng.normal(size=out)
    srcgrad.check_grads(fun, (a, b, w))
    da, db = srcgrad.grad(fun, argnums=(0, 1))(a, b, w)
    assert da.shape == a.shape and db.shape == b.shape


def reduce_sum(x, axis, keepdims):
    return np.sum(np.sum(x, axis=axis, keepdims=keepdims) ** 2)


def reduce_mean(x, axis, keepdims):
    return np.sum(np.mean(x, axis=axis, keepdims=keepdims) ** 2)


def reduce_max(x, axis, keepdims):
    return np.sum(np.max(x, axis=axis, keepdims=keepdims) ** 2)


def reduce_min(x, axis, keepdims):
    return np.sum(np.min(x, axis=axis, keepdims=keepdims) ** 2)


def reduce_prod(x, axis, keepdims):
    return np.sum(np.prod(x, axis=axis, keepdims=keepdims) ** 2)


@st.composite
def shape_and_axis(draw):
    shape = draw(array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    ndim = len(shape)
    axis = draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1),
                          st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim,
                                   unique=True).map(tuple)))
    return shape, axis


@pytest.mark.parametrize("fun", [reduce_sum, reduce_mean, reduce_max, reduce_min, reduce_prod],
                         ids=lambda f: f.__name__)
@SETTINGS
@given(case=shape_and_axis(), keepdims=st.booleans(), seed=st.integers(0, 2 ** 16),
       zeros=st.booleans())
def test_reductions_over_axes(fun, case, keepdims, seed, zeros):
    shape, axis = case
    x = np.random.default_rng(seed).normal(size=shape)
    if zeros and fun is reduce_prod:
        x.flat[0] = 0.0           # the product rule must not divide by zero
    srcgrad.check_grads(fun, (x, axis, keepdims))


def transpose_axes(x, axes):
    return np.sum(np.transpose(x, axes) * np.arange(x.size).reshape(np.transpose(x, axes).shape))


@SETTINGS
@given(shape=array_shapes(min_dims=1, max_dims=4, max_side=3), data=st.data())
def test_transpose_with_any_permutation(shape, data):
    axes = tuple(data.draw(st.permutations(range(len(shape)))))
    x = np.random.default_rng(0).normal(size=shape)
    srcgrad.check_grads(transpose_axes, (x, axes))


def matmul(a, b):
    return np.sum(np.tanh(a @ b))


@SETTINGS
@given(case=st.sampled_from([((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 3), (3, 4)),
                             ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((3,), (5, 3, 4)),
                             ((5, 2, 3), (3,)), ((1, 2, 3), (5, 3, 4))]),
       seed=st.integers(0, 2 ** 16))
def test_matmul_of_every_rank(case, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=case[0]), rng.normal(size=case[1])
    srcgrad.check_grads(matmul, (a, b))


def dot(a, b):
    return np.sum(np.sin(np.dot(a, b)))


@SETTINGS
@given(case=st.sampled_from([((), (3,)), ((3,), ()), ((3,), (3,)), ((2, 3), (3,)),
                             ((3,), (3, 4)), ((2, 3), (3, 4)), ((2, 2, 3), (3, 4)),
                             ((2, 3), (4, 3, 2)), ((2, 2, 3), (4, 3, 2))]),
       seed=st.integers(0, 2 ** 16))
def test_dot_of_every_rank(case, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=case[0]), rng.normal(size=case[1])
    srcgrad.check_grads(dot, (a, b))
