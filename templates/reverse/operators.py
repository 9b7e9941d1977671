"""Reverse-mode rules for Python's operators and subscripts.

These files are data: srcgrad parses them (srcgrad/templates.py) and never
imports them. A rule is one function:

    @adjoint(primal)              # the callable; stack decorators to share a rule
    def name(result, *args):      # the primal's result, then its arguments
        d[arg] = expression       # add `expression` to the adjoint of `arg`
        d[arg][index] = expr      # add `expr` to the adjoint of `arg` at `index`

- `d[result]` is the adjoint of the result; it may be read, never assigned.
- Argument names match the primal's parameters. The leading required ones
  may be named freely (they match by position, onto the primal's required or
  positional-only parameters); `@adjoint(primal, a="b")`
  maps argument `a` to the primal's parameter `b`. An argument the user's
  call does not give takes the rule's default, or the rule cannot be used;
  one the user gives that the rule lacks is refused, unless it is the
  primal's default.
- A statement `d[arg] = ...` is dropped when `arg` needs no adjoint.
- Other names are temporaries, this file's imports, or builtins.
- `if` conditions over constant arguments (`axis is None`) are decided when
  the rule is used; `constant(a)` is true when argument `a` is a literal.
  Other conditions stay in the generated code, and then each branch must
  assign the same adjoints.
- Arrays are built with `*_like` or from existing values, never from a bare
  shape, so that a gradient keeps its input's dtype.
"""

import math
import operator

import numpy

from srcgrad.extend import adjoint, constant, d
from srcgrad.runtime import matmul_grad_left, matmul_grad_right, unbroadcast


@adjoint(operator.add)
@adjoint(numpy.add)
def add(z, x, y):
    d[x] = unbroadcast(d[z], x)
    d[y] = unbroadcast(d[z], y)


@adjoint(operator.sub)
@adjoint(numpy.subtract)
def sub(z, x, y):
    d[x] = unbroadcast(d[z], x)
    d[y] = unbroadcast(-d[z], y)


@adjoint(operator.mul)
@adjoint(numpy.multiply)
def mul(z, x, y):
    d[x] = unbroadcast(d[z] * y, x)
    d[y] = unbroadcast(d[z] * x, y)


@adjoint(operator.truediv)
@adjoint(numpy.divide)
def truediv(z, x, y):
    d[x] = unbroadcast(d[z] / y, x)
    d[y] = unbroadcast(-d[z] * z / y, y)


@adjoint(operator.pow)
@adjoint(numpy.power)
def pow(z, x, y):
    d[x] = unbroadcast(d[z] * y * x ** (y - 1), x)
    if constant(x) and x > 0:
        d[y] = unbroadcast(d[z] * z * math.log(x), y)
    else:
        d[y] = unbroadcast(d[z] * z * numpy.log(numpy.where(x == 0, 1, x)), y)


@adjoint(operator.mod)
@adjoint(numpy.mod)
def mod(z, x, y):
    d[x] = unbroadcast(d[z], x)
    d[y] = unbroadcast(-d[z] * numpy.floor_divide(x, y), y)


@adjoint(operator.matmul)
@adjoint(numpy.matmul)
def matmul(z, x, y):
    d[x] = matmul_grad_left(d[z], x, y)
    d[y] = matmul_grad_right(d[z], x, y)


@adjoint(operator.neg)
@adjoint(numpy.negative)
def neg(y, x):
    d[x] = -d[y]


@adjoint(operator.pos)
@adjoint(numpy.positive)
def pos(y, x):
    d[x] = d[y]


@adjoint(operator.getitem)
def getitem(y, x, index):
    d[x][index] = d[y]
