"""Forward-mode rules for Python's operators and subscripts.

Read as data, like the reverse rules (templates/reverse/operators.py), with the
same rule names in the same order. A rule is one function:

    @tangent(primal)              # the callable; stack decorators to share a rule
    def name(result, *args):      # the primal's result, then its arguments
        d[result] = term + term   # the tangent of the result

- `d[arg]` is the tangent of an argument; `d[result]` is assigned, never read.
- The right-hand side of `d[result] = ...` is a sum of terms (joined by `+`
  and `-`), each linear in the tangent of exactly one argument. A term whose
  argument carries no tangent is dropped; so the terms must each make sense
  alone: a term that may be smaller than the result (an operand that
  broadcasts) is wrapped in `broadcast_like(term, result)`. Together the terms
  have the result's shape, so the wrapper is dropped when no term is, and
  elsewhere where srcgrad can prove the shapes agree.
- Temporaries are computed from primal values only; other names are this
  file's imports or builtins.
- `if` conditions over constant arguments are decided when the rule is used,
  as in reverse rules; other conditions stay, and each branch assigns
  `d[result]`.
"""

import math
import operator

import numpy

from srcgrad.extend import constant, d, tangent
from srcgrad.runtime import broadcast_like


@tangent(operator.add)
@tangent(numpy.add)
def add(z, x, y):
    d[z] = broadcast_like(d[x], z) + broadcast_like(d[y], z)


@tangent(operator.sub)
@tangent(numpy.subtract)
def sub(z, x, y):
    d[z] = broadcast_like(d[x], z) - broadcast_like(d[y], z)


@tangent(operator.mul)
@tangent(numpy.multiply)
def mul(z, x, y):
    d[z] = d[x] * y + x * d[y]


@tangent(operator.truediv)
@tangent(numpy.divide)
def truediv(z, x, y):
    d[z] = d[x] / y - d[y] * z / y


@tangent(operator.pow)
@tangent(numpy.power)
def pow(z, x, y):
    if constant(x) and x > 0:
        d[z] = d[x] * y * x ** (y - 1) + d[y] * z * math.log(x)
    else:
        d[z] = d[x] * y * x ** (y - 1) + d[y] * z * numpy.log(numpy.where(x == 0, 1, x))


@tangent(operator.mod)
@tangent(numpy.mod)
def mod(z, x, y):
    d[z] = broadcast_like(d[x], z) - d[y] * numpy.floor_divide(x, y)


@tangent(operator.matmul)
@tangent(numpy.matmul)
def matmul(z, x, y):
    d[z] = d[x] @ y + x @ d[y]


@tangent(operator.neg)
@tangent(numpy.negative)
def neg(y, x):
    d[y] = -d[x]


@tangent(operator.pos)
@tangent(numpy.positive)
def pos(y, x):
    d[y] = +d[x]


@tangent(operator.getitem)
def getitem(y, x, index):
    d[y] = d[x][index]
