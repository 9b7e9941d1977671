"""Which names provably have the same shape, for dropping `unbroadcast` (optimize.py)."""

from __future__ import annotations

import collections

import gast
import numpy

from . import runtime
from .walk import is_number, statements, stores


class ShapeClasses:
    """Names that provably have the same shape, from how each one is computed.

    Elementwise operations keep the shape of their operands (`r2 = r ** 2`,
    `h = np.tanh(z)`, `t = a + b` with a, b alike, `np.where(z > 0, dh, 0)`),
    as do `np.full_like(x, ...)` and `unbroadcast(g, x)`; a scalar (a number,
    a full reduction such as `np.sum(x)`) takes the shape of what it meets; an
    adjoint seed has its output's shape. Only names assigned once are related.
    """

    SCALAR = "()"

    def __init__(self, body, resolve, seeds=()):
        self.resolve = resolve
        self.parent = {}
        defs = collections.Counter()
        for stmt in statements(body):
            defs.update(stores(stmt))
        for seed, output in seeds:
            self.union(seed, output)
        for stmt in statements(body):
            if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) \
                    and defs[stmt.targets[0].id] == 1:
                cls = self.of(stmt.value)
                if cls is not None:
                    self.union(stmt.targets[0].id, cls)

    def find(self, name):
        while self.parent.get(name, name) != name:
            name = self.parent[name]
        return name

    def union(self, a, b):
        a, b = self.find(a), self.find(b)
        if a != b:
            if b == self.SCALAR:
                a, b = b, a
            self.parent[b] = a

    def elementwise(self, operands):
        """The class of an elementwise result: its non-scalar operands must agree."""
        classes = {self.of(op) for op in operands} - {self.SCALAR}
        if None in classes or len(classes) > 1:
            return None
        return classes.pop() if classes else self.SCALAR

    def of(self, expr):
        """The class of an expression's shape, or None when unknown."""
        if isinstance(expr, gast.Name):
            return self.find(expr.id)
        if is_number(expr):
            return self.SCALAR
        if isinstance(expr, gast.UnaryOp):
            return self.of(expr.operand)
        if isinstance(expr, gast.BinOp) and not isinstance(expr.op, gast.MatMult):
            return self.elementwise([expr.left, expr.right])
        if isinstance(expr, gast.Compare):
            return self.elementwise([expr.left] + expr.comparators)
        if isinstance(expr, gast.Call):
            return self.of_call(expr)
        return None

    def of_call(self, expr):
        func = self.resolve(expr.func)
        args = expr.args
        if func in (runtime.unbroadcast, runtime.broadcast_like) and len(args) == 2:
            return self.of(args[1])
        if func in _LIKE_FIRST_ARG and args:
            return self.of(args[0])
        if isinstance(func, numpy.ufunc) and len(args) == func.nin and not expr.keywords:
            return self.elementwise(args)
        if func is numpy.where and len(args) == 3:
            return self.elementwise(args)
        if _is_full_reduction(func, expr):
            return self.SCALAR
        return None


_LIKE_FIRST_ARG = (numpy.full_like, numpy.zeros_like, numpy.ones_like, numpy.empty_like)


_REDUCTIONS = (numpy.sum, numpy.mean, numpy.max, numpy.min, numpy.prod)


def _is_full_reduction(func, call):
    """np.sum(x) / x.sum() and the like, with no axis: a scalar."""
    if call.keywords:
        return False
    if func in _REDUCTIONS:
        return len(call.args) == 1
    return isinstance(call.func, gast.Attribute) and call.func.attr in \
        ("sum", "mean", "max", "min", "prod") and not call.args and func is None
