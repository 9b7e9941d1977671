"""Callables that need no derivative rule.

Data, read by srcgrad/templates.py like the rule files:

- `nondifferentiable(...)`: the result has a zero derivative everywhere it
  has one (indices, shapes, comparisons, rounding, integer casts, random
  draws, constructors of new arrays). A module stands for every callable in
  it. `impure=True` marks calls with side effects (random draws advance the
  generator, print writes): generated code keeps them, in order, even when
  their result is unused.
- `mutating(...)`: calls that write into an argument. srcgrad refuses them
  on a value that may carry a gradient (they would change it behind the
  derivative's back).
"""

import builtins
import math
import operator

import numpy

import srcgrad.extend
import srcgrad.runtime
from srcgrad.extend import mutating, nondifferentiable

nondifferentiable(
    # indices and counts
    numpy.argmax, numpy.argmin, numpy.argsort, numpy.argwhere, numpy.nonzero,
    numpy.flatnonzero, numpy.searchsorted, numpy.count_nonzero, numpy.unique,
    numpy.ndarray.argmax, numpy.ndarray.argmin, numpy.ndarray.argsort,
    numpy.ndarray.nonzero,
    # shapes and types
    numpy.shape, numpy.ndim, numpy.size, numpy.result_type, numpy.broadcast_shapes,
    builtins.len, builtins.isinstance, builtins.type, builtins.range,
    # new arrays that do not depend on the values of their arguments
    numpy.zeros_like, numpy.ones_like, numpy.empty_like, numpy.zeros, numpy.ones,
    numpy.empty, numpy.eye, numpy.identity, numpy.arange, numpy.linspace,
    numpy.tri, numpy.tril_indices, numpy.triu_indices, numpy.indices,
    # piecewise-constant functions
    numpy.sign, numpy.floor, numpy.ceil, numpy.round, numpy.around, numpy.rint,
    numpy.trunc, numpy.fix, numpy.heaviside, math.floor, math.ceil, math.trunc,
    builtins.round,
    # comparisons and predicates
    numpy.equal, numpy.not_equal, numpy.less, numpy.less_equal, numpy.greater,
    numpy.greater_equal, numpy.logical_and, numpy.logical_or, numpy.logical_not,
    numpy.logical_xor, numpy.isnan, numpy.isinf, numpy.isfinite, numpy.isclose,
    numpy.allclose, numpy.array_equal, numpy.all, numpy.any, numpy.ndarray.all,
    numpy.ndarray.any, math.isclose, math.isnan, math.isinf, math.isfinite,
    # integer and boolean casts
    builtins.int, builtins.bool, numpy.int8, numpy.int16, numpy.int32, numpy.int64,
    numpy.uint8, numpy.uint16, numpy.uint32, numpy.uint64, numpy.bool_,
    numpy.floor_divide, operator.floordiv, operator.not_, operator.invert,
    # array attributes that are not values
    numpy.ndarray.shape, numpy.ndarray.ndim, numpy.ndarray.size, numpy.ndarray.dtype,
    numpy.ndarray.itemsize, numpy.ndarray.nbytes, numpy.ndarray.strides,
    numpy.ndarray.flags,
    # strings and errors
    builtins.str, builtins.repr, builtins.format,
    # an explicit stop
    srcgrad.extend.stop_gradient,
    # what srcgrad itself puts in the primal code
    srcgrad.runtime.sequence_length, srcgrad.runtime.shape_of, srcgrad.runtime.zero_adjoint,
    srcgrad.runtime.zero_tangent,
)

nondifferentiable(
    numpy.random,
    builtins.print,
    impure=True,
)

mutating(
    numpy.copyto, numpy.put, numpy.place, numpy.putmask, numpy.fill_diagonal,
    numpy.random.shuffle, numpy.ndarray.sort, numpy.ndarray.fill, numpy.ndarray.put,
    numpy.ndarray.resize, numpy.ndarray.partition,
    numpy.ndarray.setfield, numpy.add.at, numpy.subtract.at, numpy.multiply.at,
)
