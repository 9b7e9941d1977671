"""Reverse-mode rules for NumPy functions and array methods.

Same conventions as operators.py (read its docstring): `d[v]` is the
adjoint of `v`, a rule is `@adjoint(primal)` over `def name(result, *args)`,
and an array method shares the rule of its NumPy function by stacking
decorators (the method's `self` is the rule's first argument).
"""

import builtins
import math

import numpy

from srcgrad.extend import adjoint, constant, d
from srcgrad.runtime import (array_adjoint, astype_adjoint, own, concatenate_adjoint, dot_grad_left,
                             dot_grad_right, extremum_adjoint, prod_adjoint,
                             stack_adjoint, transpose_adjoint, unbroadcast, unreduce)

# -- elementwise ---------------------------------------------------------------


@adjoint(numpy.exp)
@adjoint(math.exp)
def exp(y, x):
    d[x] = d[y] * y


@adjoint(numpy.log)
@adjoint(math.log)
def log(y, x):
    d[x] = d[y] / x


@adjoint(numpy.log1p)
@adjoint(math.log1p)
def log1p(y, x):
    d[x] = d[y] / (1 + x)


@adjoint(numpy.expm1)
@adjoint(math.expm1)
def expm1(y, x):
    d[x] = d[y] * (y + 1)


@adjoint(numpy.sqrt)
@adjoint(math.sqrt)
def sqrt(y, x):
    d[x] = d[y] / (2 * y)


@adjoint(numpy.square)
def square(y, x):
    d[x] = d[y] * 2 * x


@adjoint(numpy.tanh)
@adjoint(math.tanh)
def tanh(y, x):
    d[x] = d[y] * (1 - y * y)


@adjoint(numpy.sin)
@adjoint(math.sin)
def sin(y, x):
    d[x] = d[y] * numpy.cos(x)


@adjoint(numpy.cos)
@adjoint(math.cos)
def cos(y, x):
    d[x] = -d[y] * numpy.sin(x)


@adjoint(numpy.abs)
@adjoint(numpy.absolute)
@adjoint(builtins.abs)
@adjoint(math.fabs)
def abs(y, x):
    d[x] = d[y] * numpy.sign(x)


@adjoint(numpy.maximum)
def maximum(z, x, y):
    if constant(y):          # max(x, c), as in relu: no gradient at the tie x == c
        d[x] = unbroadcast(numpy.where(x > y, d[z], 0), x)
    elif constant(x):
        d[y] = unbroadcast(numpy.where(y > x, d[z], 0), y)
    else:                    # ties share the gradient equally
        g = numpy.where(x == y, 0.5 * d[z], d[z])
        d[x] = unbroadcast(numpy.where(x == z, g, 0), x)
        d[y] = unbroadcast(numpy.where(y == z, g, 0), y)


@adjoint(numpy.minimum)
def minimum(z, x, y):
    if constant(y):
        d[x] = unbroadcast(numpy.where(x < y, d[z], 0), x)
    elif constant(x):
        d[y] = unbroadcast(numpy.where(y < x, d[z], 0), y)
    else:
        g = numpy.where(x == y, 0.5 * d[z], d[z])
        d[x] = unbroadcast(numpy.where(x == z, g, 0), x)
        d[y] = unbroadcast(numpy.where(y == z, g, 0), y)


@adjoint(numpy.where)
def where(z, condition, x, y):
    d[x] = unbroadcast(numpy.where(condition, d[z], 0), x)
    d[y] = unbroadcast(numpy.where(condition, 0, d[z]), y)


@adjoint(numpy.clip)
@adjoint(numpy.ndarray.clip, a_min="min", a_max="max")
def clip(y, x, a_min=None, a_max=None):
    if a_min is None:
        d[x] = numpy.where(x < a_max, d[y], 0)
    elif a_max is None:
        d[x] = numpy.where(x > a_min, d[y], 0)
    else:
        d[x] = numpy.where((x > a_min) & (x < a_max), d[y], 0)
    d[a_min] = unbroadcast(numpy.where(x < a_min, d[y], 0), a_min)
    d[a_max] = unbroadcast(numpy.where(x > a_max, d[y], 0), a_max)


@adjoint(numpy.logaddexp)
def logaddexp(z, x, y):
    d[x] = unbroadcast(d[z] * numpy.exp(x - z), x)
    d[y] = unbroadcast(d[z] * numpy.exp(y - z), y)


@adjoint(numpy.full_like)
def full_like(y, x, fill_value):
    d[fill_value] = unbroadcast(d[y], fill_value)


@adjoint(numpy.full)
def full(y, shape, fill_value):
    d[fill_value] = unbroadcast(d[y], fill_value)


# -- reductions ----------------------------------------------------------------


@adjoint(numpy.sum)
@adjoint(numpy.ndarray.sum)
def sum(y, x, axis=None, keepdims=False):
    if axis is None:
        d[x] = numpy.full_like(x, d[y])
    else:
        d[x] = unreduce(d[y], x, axis, keepdims)


@adjoint(numpy.mean)
@adjoint(numpy.ndarray.mean)
def mean(y, x, axis=None, keepdims=False):
    if axis is None:
        d[x] = numpy.full_like(x, d[y] / numpy.size(x))
    else:
        d[x] = unreduce(d[y], x, axis, keepdims) / (numpy.size(x) / numpy.size(y))


@adjoint(numpy.max)
@adjoint(numpy.amax)
@adjoint(numpy.ndarray.max)
def max(y, x, axis=None, keepdims=False):
    d[x] = extremum_adjoint(d[y], x, y, axis, keepdims)


@adjoint(numpy.min)
@adjoint(numpy.amin)
@adjoint(numpy.ndarray.min)
def min(y, x, axis=None, keepdims=False):
    d[x] = extremum_adjoint(d[y], x, y, axis, keepdims)


@adjoint(numpy.prod)
@adjoint(numpy.ndarray.prod)
def prod(y, x, axis=None, keepdims=False):
    d[x] = prod_adjoint(d[y], x, axis, keepdims)


# -- linear algebra ------------------------------------------------------------


@adjoint(numpy.dot)
@adjoint(numpy.ndarray.dot)
def dot(z, x, b):
    d[x] = dot_grad_left(d[z], x, b)
    d[b] = dot_grad_right(d[z], x, b)


# -- shapes --------------------------------------------------------------------


@adjoint(numpy.ndarray.T)
def T(y, x):
    d[x] = numpy.transpose(d[y])


@adjoint(numpy.transpose)
@adjoint(numpy.ndarray.transpose)
def transpose(y, x, axes=None):
    if axes is None:
        d[x] = numpy.transpose(d[y])
    else:
        d[x] = transpose_adjoint(d[y], axes)


@adjoint(numpy.reshape)
@adjoint(numpy.ndarray.reshape)
def reshape(y, x, shape):
    d[x] = numpy.reshape(d[y], numpy.shape(x))


@adjoint(numpy.expand_dims)
def expand_dims(y, x, axis):
    d[x] = numpy.reshape(d[y], numpy.shape(x))


@adjoint(numpy.squeeze)
@adjoint(numpy.ndarray.squeeze)
def squeeze(y, x, axis=None):
    d[x] = numpy.reshape(d[y], numpy.shape(x))


@adjoint(numpy.ravel)
@adjoint(numpy.ndarray.ravel)
@adjoint(numpy.ndarray.flatten)
def ravel(y, x):
    d[x] = numpy.reshape(d[y], numpy.shape(x))


@adjoint(numpy.concatenate)
def concatenate(y, arrays, axis=0):
    d[arrays] = concatenate_adjoint(d[y], arrays, axis)


@adjoint(numpy.stack)
def stack(y, arrays, axis=0):
    d[arrays] = stack_adjoint(d[y], axis)


# -- conversions ---------------------------------------------------------------


@adjoint(numpy.asarray)
@adjoint(numpy.array)
def array(y, x):
    d[x] = array_adjoint(d[y], x)


@adjoint(numpy.float64)
@adjoint(numpy.float32)
@adjoint(numpy.ndarray.real)
@adjoint(numpy.ndarray.copy)
@adjoint(numpy.copy)
@adjoint(own)
def asarray(y, x):
    d[x] = d[y]


@adjoint(builtins.float)
@adjoint(numpy.ndarray.item)
def float(y, x):
    d[x] = numpy.reshape(d[y], numpy.shape(x))


@adjoint(numpy.ndarray.astype)
def astype(y, x, dtype):
    d[x] = astype_adjoint(d[y], x, y)
