"""Reverse-mode rules for srcgrad's own runtime helpers (see templates/forward/runtime.py).

Generated derivative code calls the helpers in srcgrad/runtime.py; these rules
make that code differentiable again in reverse mode (a gradient of a gradient).
Same format as operators.py in this folder. The helpers are linear in the
adjoint they move (`g`); a helper that also reads values (a matrix product's
other factor) gets a rule for those too. Most adjoints of a helper are another
helper: the adjoint of summing a gradient down to a shape (`unbroadcast`) is
broadcasting it back up (`broadcast_like`).
"""

import numpy

from srcgrad.extend import adjoint, d
from srcgrad.runtime import (add_at, add_grad, add_into, array_adjoint, array_pieces,
                             astype_adjoint, cast_like, concatenate_adjoint,
                             concatenate_pieces, dot_grad_left, dot_grad_right, entry,
                             extremum_adjoint, extremum_tangent, filled, grad_at,
                             matmul_grad_left, matmul_grad_right, prod_adjoint, prod_others,
                             prod_others_tangent, prod_tangent, reduce_like, snapshot,
                             stack_adjoint, stack_pieces, transpose_adjoint, transpose_axes,
                             unbroadcast, unreduce, zero_at, broadcast_like, astype_tangent)


@adjoint(unbroadcast)
def unbroadcast(r, g, like):
    d[g] = broadcast_like(d[r], g)


@adjoint(unreduce)
def unreduce(r, g, x, axis=None, keepdims=False):
    d[g] = reduce_like(d[r], g, axis, keepdims)


@adjoint(extremum_adjoint)
def extremum_adjoint(r, g, x, y, axis=None, keepdims=False):
    d[g] = extremum_tangent(d[r], x, y, axis, keepdims)


@adjoint(prod_adjoint)
def prod_adjoint(r, g, x, axis=None, keepdims=False):
    d[g] = prod_tangent(d[r], x, g, axis, keepdims)
    d[x] = prod_others_tangent(unreduce(g, x, axis, keepdims) * d[r], x, axis)


@adjoint(prod_others)
def prod_others(r, x, axis=None):
    d[x] = prod_others_tangent(d[r], x, axis)     # its Jacobian is symmetric


@adjoint(matmul_grad_left)
def matmul_grad_left(r, g, a, b):
    d[g] = numpy.matmul(d[r], b)
    d[b] = matmul_grad_right(g, d[r], b)


@adjoint(matmul_grad_right)
def matmul_grad_right(r, g, a, b):
    d[g] = numpy.matmul(a, d[r])
    d[a] = matmul_grad_left(g, a, d[r])


@adjoint(dot_grad_left)
def dot_grad_left(r, g, a, b):
    d[g] = numpy.dot(d[r], b)
    d[b] = dot_grad_right(g, d[r], b)


@adjoint(dot_grad_right)
def dot_grad_right(r, g, a, b):
    d[g] = numpy.dot(a, d[r])
    d[a] = dot_grad_left(g, a, d[r])


@adjoint(transpose_adjoint)
def transpose_adjoint(r, g, axes):
    d[g] = transpose_axes(d[r], axes)


@adjoint(concatenate_adjoint)
def concatenate_adjoint(r, g, arrays, axis=0):
    d[g] = concatenate_pieces(d[r], arrays, axis)


@adjoint(stack_adjoint)
def stack_adjoint(r, g, axis=0):
    d[g] = stack_pieces(d[r], g, axis)


@adjoint(array_adjoint)
def array_adjoint(r, g, x):
    d[g] = array_pieces(d[r], g)


@adjoint(astype_adjoint)
def astype_adjoint(r, g, x, y):
    d[g] = astype_adjoint(d[r], g, y)


@adjoint(snapshot)
def snapshot(y, x, index):
    d[x][index] = d[y]


@adjoint(grad_at)
def grad_at(r, x, index, g):
    d[g] = entry(d[r], index, g)


@adjoint(add_at)
def add_at(r, dx, index, g):
    d[dx] = d[r]
    d[g] = entry(d[r], index, g)


@adjoint(add_into)
def add_into(r, dx, index, g):
    d[dx] = d[r]
    d[g] = entry(d[r], index, g)


@adjoint(zero_at)
def zero_at(r, dx, index, copy=False):
    d[dx] = zero_at(d[r], index, True)


@adjoint(filled)
def filled(r, dx, like):
    d[dx] = d[r]


@adjoint(entry)
def entry(r, dx, key, like):
    d[dx][key] = d[r]


@adjoint(add_grad)
def add_grad(r, a, b):
    d[a] = d[r]
    d[b] = d[r]


# -- the helpers of forward mode, for reverse over forward --------------------------


@adjoint(broadcast_like)
def broadcast_like(r, t, like):
    d[t] = unbroadcast(d[r], t)


@adjoint(cast_like)
def cast_like(r, t, y):
    d[t] = cast_like(d[r], t)


@adjoint(extremum_tangent)
def extremum_tangent(r, t, x, y, axis=None, keepdims=False):
    d[t] = extremum_adjoint(d[r], x, y, axis, keepdims)


@adjoint(prod_tangent)
def prod_tangent(r, t, x, y, axis=None, keepdims=False):
    d[t] = prod_adjoint(d[r], x, axis, keepdims)
    d[x] = prod_others_tangent(t * unreduce(d[r], x, axis, keepdims), x, axis)


@adjoint(astype_tangent)
def astype_tangent(r, t, y):
    d[t] = astype_adjoint(d[r], t, y)
