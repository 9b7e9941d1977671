"""Straight-line functions: no control flow. Argument names pick inputs (see __init__)."""

import math

import numpy as np

# -- elementwise -------------------------------------------------------------------


def exp_sin(x):
    return np.sum(np.exp(x) * np.sin(x))


def log_sqrt(p):
    return np.sum(np.log(p) + np.sqrt(p) * np.cos(p))


def log1p_expm1_square(x):
    return np.sum(np.log1p(x * x) + np.expm1(x / 4) + np.square(x))


def tanh_abs(x):
    return np.sum(np.tanh(x) * np.abs(x))


def quotient(x, p):
    return np.sum(x / p - p / (x * x + 1))


def power_array_exponent(p, x):
    return np.sum(p ** x)


def power_constant(x):
    return np.sum(x ** 3 + 2.0 ** x + (x * x) ** 2)


def negation_and_mod(x):
    return np.sum(-x + (+x) * 2 + x % 1.5)


def softplus(x):
    return np.sum(np.logaddexp(0.0, x))


def relu_family(x, y):
    return np.sum(np.maximum(x, 0.0) + np.minimum(x, y) * 0.5 + np.maximum(x, y))


def where_clip(x):
    return np.sum(np.where(x > 0, x, 0.1 * x) + np.clip(x, -0.5, 0.5) + np.clip(x, 0.2, None))


# -- broadcasting ---------------------------------------------------------------------


def broadcast_row(A, x):
    return np.sum((A + x) * A)


def broadcast_column(A, v):
    return np.sum(A * v[:, None] - v[:, np.newaxis] ** 2)


def broadcast_scalar(s, A):
    return np.sum(s * A + A / (s * s + 1.0))


def broadcast_tensor(T, A, x):
    return np.sum(T * A - x)


# -- reductions --------------------------------------------------------------------------


def sum_axis_keepdims(A):
    return np.sum(np.sum(A, axis=1, keepdims=True) * A)


def mean_axes(T):
    return np.sum(np.mean(T, axis=(0, 2)) ** 2) + np.mean(T)


def max_min(A):
    by_column = np.sum(np.max(A, axis=0) * np.arange(4))
    return by_column + np.min(A) * 2.0 + np.max(A, keepdims=True).sum()


def prod_axis(A):
    return np.sum(np.prod(A, axis=1)) + np.prod(A[0])


def variance(x):
    centered = x - np.mean(x)
    return np.mean(centered ** 2)


# -- linear algebra -------------------------------------------------------------------------


def matmul_chain(X, W, V):
    return np.sum((X @ W) @ V)


def vector_matrix(x, W):
    return np.sum(np.tanh(x @ W))


def matrix_vector(A, x):
    return np.sum((A @ x) ** 2)


def inner_product(x, y):
    return x @ y


def batched_matmul(T, W):
    return np.sum((T @ W) ** 2)


def dot_forms(A, W, x, y):
    return np.sum(np.dot(A, W) ** 2) + np.dot(x, y) + np.sum(A.dot(x))


def mlp_layer(X, W, b):
    h = np.tanh(X @ W + b)
    return np.mean((h - 0.5) ** 2)


def softmax_cross_entropy(X, W, Y):
    logits = X @ W
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.mean(np.sum(Y * log_probs, axis=1))


# -- shapes ------------------------------------------------------------------------------------


def transposes(A, T):
    return np.sum(A.T @ A) + np.sum(np.transpose(A) * 2) + np.sum(np.transpose(T, (2, 0, 1))[0])


def reshapes(A):
    flat = np.sum(A.reshape((12,)) * A.ravel())
    return np.sum(A.reshape(4, 3) @ A) + np.sum(np.reshape(A, (2, 6)) ** 2) + flat


def expand_squeeze(x, A):
    row = np.expand_dims(x, 0)
    return np.sum(row * A) + np.sum(np.squeeze(row) ** 2)


def concatenate_stack(x, y, A):
    joined = np.concatenate([x, y * 2])
    stacked = np.stack([x, y], axis=1)
    rows = np.concatenate((A, A * A), axis=0)
    return np.sum(joined ** 2) + np.sum(stacked * stacked) + np.sum(rows)


def methods(A):
    return A.sum() + A.mean(axis=0).sum() + A.max() + A.min(axis=1).sum() + A.prod(axis=0).sum()


def attributes(A, x):
    n = A.shape[0]
    scale = 1.0 / (A.size + x.ndim)
    return np.sum(A * n * scale) + np.sum(x * len(x))


def astype_and_casts(x):
    y = x.astype(np.float64)
    return float(np.sum(y ** 2)) + np.sum(x * x.astype(int))


# -- subscripts ----------------------------------------------------------------------------------


def basic_indexing(A, x):
    return A[0, 1] * x[2] + np.sum(A[1:, ::2]) + np.sum(A[:, 1] ** 2) + x[-1]


def fancy_indexing(x, A):
    picked = x[[0, 2, 2]]
    return np.sum(picked ** 2) + np.sum(A[[0, 0, 2], 1:3])


def mask_indexing(A):
    positive = A[A > 0]
    return np.sum(positive ** 2)


def ellipsis_indexing(T):
    return np.sum(T[..., 0] @ T[0, ...])


# -- Python floats and the math module -----------------------------------------------------------


def python_scalars(s, t):
    return s * t + np.sin(s) / t + s ** 2


def math_module(s, t):
    return math.exp(s) + math.sqrt(t) + math.log(t) * math.tanh(s) + abs(s)


# -- names: versions, augmented assignment, unpacking ----------------------------------------------


def reassignment(x):
    h = x * 2
    h = np.tanh(h)
    h = h * x
    return np.sum(h)


def augmented_assignment(x, y):
    acc = x * 1.0
    acc += y ** 2
    acc *= x
    acc -= 1.0
    acc /= 2.0
    return np.sum(acc)


def tuple_unpacking(x, y):
    a, b = x, y
    a, b = b, a * 2
    c = d = a * b
    return np.sum(c + d)


def docstring_and_pass(x):
    """A docstring and a pass statement are dropped."""
    pass
    return np.sum(x)


def shared_subexpressions(x):
    a = x * x
    b = a + a
    return np.sum(a * b + a)


# -- pytree parameters ---------------------------------------------------------------


def dict_params(params, X):
    W = params["W"]
    b = params["b"]
    return np.sum(np.tanh(X @ W + b))


def list_of_layers(layers, X):
    h = np.tanh(X @ layers[0]["W"] + layers[0]["b"])
    out = h @ layers[1]["W"] + layers[1]["b"]
    return np.mean(out ** 2)


def tuple_param(pair):
    x, A = pair
    return np.sum(A @ x)


def namedtuple_param(named, X):
    return np.sum((X @ named.W + named.b) ** 2)


def unused_entries(params, config):
    return np.sum(params["W"]) * config["scale"]


def folded_negative_base(x):
    # the rule's constant folds to -1.4 ** 2 unless the printer parenthesizes (-1.4)
    return np.sum(x / ((0.2 - 1.6) ** 2 + 1.0))
