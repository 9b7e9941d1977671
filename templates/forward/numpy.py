"""Forward-mode rules for NumPy functions and array methods.

Same conventions as operators.py in this folder (read its docstring): `d[v]`
is the tangent of `v`, the tangent of the result is a sum of terms, one per
argument. Rule names and order follow templates/reverse/numpy.py.
"""

import builtins
import math

import numpy

from srcgrad.extend import constant, d, tangent
from srcgrad.runtime import (astype_tangent, broadcast_like, cast_like, extremum_tangent, own,
                             prod_tangent)

# -- elementwise ---------------------------------------------------------------


@tangent(numpy.exp)
@tangent(math.exp)
def exp(y, x):
    d[y] = d[x] * y


@tangent(numpy.log)
@tangent(math.log)
def log(y, x):
    d[y] = d[x] / x


@tangent(numpy.log1p)
@tangent(math.log1p)
def log1p(y, x):
    d[y] = d[x] / (1 + x)


@tangent(numpy.expm1)
@tangent(math.expm1)
def expm1(y, x):
    d[y] = d[x] * (y + 1)


@tangent(numpy.sqrt)
@tangent(math.sqrt)
def sqrt(y, x):
    d[y] = d[x] / (2 * y)


@tangent(numpy.square)
def square(y, x):
    d[y] = d[x] * 2 * x


@tangent(numpy.tanh)
@tangent(math.tanh)
def tanh(y, x):
    d[y] = d[x] * (1 - y * y)


@tangent(numpy.sin)
@tangent(math.sin)
def sin(y, x):
    d[y] = d[x] * numpy.cos(x)


@tangent(numpy.cos)
@tangent(math.cos)
def cos(y, x):
    d[y] = -d[x] * numpy.sin(x)


@tangent(numpy.abs)
@tangent(numpy.absolute)
@tangent(builtins.abs)
@tangent(math.fabs)
def abs(y, x):
    d[y] = d[x] * numpy.sign(x)


@tangent(numpy.maximum)
def maximum(z, x, y):
    if constant(y):          # max(x, c), as in relu: no derivative at the tie x == c
        d[z] = numpy.where(x > y, d[x], 0)
    elif constant(x):
        d[z] = numpy.where(y > x, d[y], 0)
    else:                    # ties share the derivative equally
        g = numpy.where(x == y, 0.5, 1.0)
        d[z] = numpy.where(x == z, g, 0) * d[x] + numpy.where(y == z, g, 0) * d[y]


@tangent(numpy.minimum)
def minimum(z, x, y):
    if constant(y):
        d[z] = numpy.where(x < y, d[x], 0)
    elif constant(x):
        d[z] = numpy.where(y < x, d[y], 0)
    else:
        g = numpy.where(x == y, 0.5, 1.0)
        d[z] = numpy.where(x == z, g, 0) * d[x] + numpy.where(y == z, g, 0) * d[y]


@tangent(numpy.where)
def where(z, condition, x, y):
    d[z] = broadcast_like(numpy.where(condition, d[x], 0), z) \
        + broadcast_like(numpy.where(condition, 0, d[y]), z)


@tangent(numpy.clip)
@tangent(numpy.ndarray.clip, a_min="min", a_max="max")
def clip(y, x, a_min=None, a_max=None):
    if a_min is None:
        d[y] = numpy.where(x < a_max, d[x], 0) + numpy.where(x > a_max, d[a_max], 0)
    elif a_max is None:
        d[y] = numpy.where(x > a_min, d[x], 0) + numpy.where(x < a_min, d[a_min], 0)
    else:
        d[y] = numpy.where((x > a_min) & (x < a_max), d[x], 0) \
            + numpy.where(x < a_min, d[a_min], 0) + numpy.where(x > a_max, d[a_max], 0)


@tangent(numpy.logaddexp)
def logaddexp(z, x, y):
    d[z] = d[x] * numpy.exp(x - z) + d[y] * numpy.exp(y - z)


@tangent(numpy.full_like)
def full_like(y, x, fill_value):
    d[y] = numpy.full_like(y, d[fill_value])


@tangent(numpy.full)
def full(y, shape, fill_value):
    d[y] = numpy.full_like(y, d[fill_value])


# -- reductions ----------------------------------------------------------------


@tangent(numpy.sum)
@tangent(numpy.ndarray.sum)
def sum(y, x, axis=None, keepdims=False):
    if axis is None and not keepdims:
        d[y] = numpy.sum(d[x])
    elif not keepdims:
        d[y] = numpy.sum(d[x], axis=axis)
    else:
        d[y] = numpy.sum(d[x], axis=axis, keepdims=keepdims)


@tangent(numpy.mean)
@tangent(numpy.ndarray.mean)
def mean(y, x, axis=None, keepdims=False):
    if axis is None and not keepdims:
        d[y] = numpy.mean(d[x])
    elif not keepdims:
        d[y] = numpy.mean(d[x], axis=axis)
    else:
        d[y] = numpy.mean(d[x], axis=axis, keepdims=keepdims)


@tangent(numpy.max)
@tangent(numpy.amax)
@tangent(numpy.ndarray.max)
def max(y, x, axis=None, keepdims=False):
    d[y] = extremum_tangent(d[x], x, y, axis, keepdims)


@tangent(numpy.min)
@tangent(numpy.amin)
@tangent(numpy.ndarray.min)
def min(y, x, axis=None, keepdims=False):
    d[y] = extremum_tangent(d[x], x, y, axis, keepdims)


@tangent(numpy.prod)
@tangent(numpy.ndarray.prod)
def prod(y, x, axis=None, keepdims=False):
    d[y] = prod_tangent(d[x], x, y, axis, keepdims)


# -- linear algebra ------------------------------------------------------------


@tangent(numpy.dot)
@tangent(numpy.ndarray.dot)
def dot(z, x, b):
    d[z] = numpy.dot(d[x], b) + numpy.dot(x, d[b])


# -- shapes --------------------------------------------------------------------


@tangent(numpy.ndarray.T)
def T(y, x):
    d[y] = numpy.transpose(d[x])


@tangent(numpy.transpose)
@tangent(numpy.ndarray.transpose)
def transpose(y, x, axes=None):
    if axes is None:
        d[y] = numpy.transpose(d[x])
    else:
        d[y] = numpy.transpose(d[x], axes)


@tangent(numpy.reshape)
@tangent(numpy.ndarray.reshape)
def reshape(y, x, shape):
    d[y] = numpy.reshape(d[x], numpy.shape(y))


@tangent(numpy.expand_dims)
def expand_dims(y, x, axis):
    d[y] = numpy.reshape(d[x], numpy.shape(y))


@tangent(numpy.squeeze)
@tangent(numpy.ndarray.squeeze)
def squeeze(y, x, axis=None):
    d[y] = numpy.reshape(d[x], numpy.shape(y))


@tangent(numpy.ravel)
@tangent(numpy.ndarray.ravel)
@tangent(numpy.ndarray.flatten)
def ravel(y, x):
    d[y] = numpy.reshape(d[x], numpy.shape(y))


@tangent(numpy.concatenate)
def concatenate(y, arrays, axis=0):
    if axis == 0:
        d[y] = numpy.concatenate(d[arrays])
    else:
        d[y] = numpy.concatenate(d[arrays], axis)


@tangent(numpy.stack)
def stack(y, arrays, axis=0):
    if axis == 0:
        d[y] = numpy.stack(d[arrays])
    else:
        d[y] = numpy.stack(d[arrays], axis)


# -- conversions ---------------------------------------------------------------


@tangent(numpy.asarray)
@tangent(numpy.array)
def array(y, x):
    d[y] = cast_like(d[x], y)


@tangent(numpy.float64)
@tangent(numpy.float32)
@tangent(numpy.ndarray.real)
@tangent(numpy.ndarray.copy)
@tangent(numpy.copy)
@tangent(own)
def asarray(y, x):
    d[y] = cast_like(d[x], y)


@tangent(builtins.float)
@tangent(numpy.ndarray.item)
def float(y, x):
    d[y] = builtins.float(d[x])


@tangent(numpy.ndarray.astype)
def astype(y, x, dtype):
    d[y] = astype_tangent(d[x], y)
