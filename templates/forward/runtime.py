"""Forward-mode rules for srcgrad's own runtime helpers.

Generated derivative code calls these helpers (srcgrad/runtime.py); their
rules make that code differentiable in turn, which is how higher derivatives
are taken: a Hessian-vector product is forward mode over the generated
gradient. Same format as operators.py in this folder. Most helpers are linear
in the adjoint they move around (`g`), and read their other arguments only
for shapes; where they read values (the factors of a matrix product), those
get a term too. A term that reads several tangents (the helpers that add
adjoints, which are linear in all of them together) gets zeros for the ones
that are missing. Helpers that update an argument in place (`add_into`) do
the same to its tangent.
"""

import numpy

from srcgrad.extend import d, tangent
from srcgrad.runtime import (add_at, add_grad, add_into, array_adjoint, astype_adjoint,
                             astype_tangent, broadcast_like, cast_like, concatenate_adjoint,
                             dot_grad_left, dot_grad_right, entry, extremum_adjoint,
                             extremum_tangent, filled, grad_at, matmul_grad_left,
                             matmul_grad_right, prod_adjoint, prod_others,
                             prod_others_tangent, prod_tangent, snapshot, stack_adjoint,
                             transpose_adjoint, unbroadcast, unreduce, zero_at)


@tangent(unbroadcast)
def unbroadcast(r, g, like):
    d[r] = unbroadcast(d[g], like)


@tangent(unreduce)
def unreduce(r, g, x, axis=None, keepdims=False):
    d[r] = unreduce(d[g], x, axis, keepdims)


@tangent(extremum_adjoint)
def extremum_adjoint(r, g, x, y, axis=None, keepdims=False):
    d[r] = extremum_adjoint(d[g], x, y, axis, keepdims)


@tangent(prod_adjoint)
def prod_adjoint(r, g, x, axis=None, keepdims=False):
    d[r] = prod_adjoint(d[g], x, axis, keepdims) \
        + unreduce(g, x, axis, keepdims) * prod_others_tangent(d[x], x, axis)


@tangent(prod_others)
def prod_others(r, x, axis=None):
    d[r] = prod_others_tangent(d[x], x, axis)


@tangent(matmul_grad_left)
def matmul_grad_left(r, g, a, b):
    d[r] = matmul_grad_left(d[g], a, b) + matmul_grad_left(g, a, d[b])


@tangent(matmul_grad_right)
def matmul_grad_right(r, g, a, b):
    d[r] = matmul_grad_right(d[g], a, b) + matmul_grad_right(g, d[a], b)


@tangent(dot_grad_left)
def dot_grad_left(r, g, a, b):
    d[r] = dot_grad_left(d[g], a, b) + dot_grad_left(g, a, d[b])


@tangent(dot_grad_right)
def dot_grad_right(r, g, a, b):
    d[r] = dot_grad_right(d[g], a, b) + dot_grad_right(g, d[a], b)


@tangent(transpose_adjoint)
def transpose_adjoint(r, g, axes):
    d[r] = transpose_adjoint(d[g], axes)


@tangent(concatenate_adjoint)
def concatenate_adjoint(r, g, arrays, axis=0):
    d[r] = concatenate_adjoint(d[g], arrays, axis)


@tangent(stack_adjoint)
def stack_adjoint(r, g, axis=0):
    d[r] = stack_adjoint(d[g], axis)


@tangent(array_adjoint)
def array_adjoint(r, g, x):
    d[r] = array_adjoint(d[g], x)


@tangent(astype_adjoint)
def astype_adjoint(r, g, x, y):
    d[r] = astype_adjoint(d[g], x, y)


@tangent(snapshot)
def snapshot(r, x, index):
    d[r] = snapshot(d[x], index)


@tangent(grad_at)
def grad_at(r, x, index, g):
    d[r] = grad_at(x, index, d[g])


@tangent(add_at)
def add_at(r, dx, index, g):
    d[r] = add_at(d[dx], index, d[g])


@tangent(add_into)
def add_into(r, dx, index, g):
    d[r] = add_into(d[dx], index, d[g])


@tangent(zero_at)
def zero_at(r, dx, index, copy=False):
    d[r] = zero_at(d[dx], index, copy)


@tangent(filled)
def filled(r, dx, like):
    d[r] = filled(d[dx], like)


@tangent(entry)
def entry(r, dx, key, like):
    d[r] = entry(d[dx], key, like)


@tangent(add_grad)
def add_grad(r, a, b):
    d[r] = add_grad(d[a], d[b])


# -- the helpers of forward mode, for forward over forward ---------------------------


@tangent(broadcast_like)
def broadcast_like(r, t, like):
    d[r] = broadcast_like(d[t], like)


@tangent(cast_like)
def cast_like(r, t, y):
    d[r] = cast_like(d[t], y)


@tangent(extremum_tangent)
def extremum_tangent(r, t, x, y, axis=None, keepdims=False):
    d[r] = extremum_tangent(d[t], x, y, axis, keepdims)


@tangent(prod_tangent)
def prod_tangent(r, t, x, y, axis=None, keepdims=False):
    d[r] = prod_tangent(d[t], x, y, axis, keepdims) \
        + numpy.sum(t * prod_others_tangent(d[x], x, axis), axis=axis, keepdims=keepdims)


@tangent(astype_tangent)
def astype_tangent(r, t, y):
    d[r] = astype_tangent(d[t], y)
