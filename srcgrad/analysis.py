"""Stage 4, analyze: which values carry a gradient (activity).

A value is *varied* when it depends, through differentiable operations, on
an argument we differentiate with respect to, and *useful* when the output
depends on it. Only values that are both (active) get an adjoint. This stage
also refuses what it finds unsafe on active values: `a and b`, calls that
write into their arguments, and calls whose result is dropped.
"""

from __future__ import annotations

import dataclasses

import gast

from . import annotations as anno
from .errors import UnsupportedSyntaxError
from .primitives import describe

_CARRIES = ("copy", "rule", "literal", "unknown")


@dataclasses.dataclass
class Activity:
    varied: set
    useful: set
    ops: dict          # id(statement) -> Op

    def active(self, name):
        return name in self.varied and name in self.useful

    def op(self, stmt):
        return self.ops[id(stmt)]


def analyze(unit, wrt):
    """Activity of every name in the normal-form `unit`, differentiating by `wrt` (names)."""
    local_names = unit.locals
    ops = {}
    varied = set(wrt)
    for stmt in unit.body:
        value = _value(stmt)
        if value is None:
            continue
        op = describe(value, unit.scope, local_names)
        ops[id(stmt)] = op
        if op.impure:
            anno.set(stmt, "impure", True)
        hot = [n for n in op.operands if n in varied]
        if hot:
            _refuse_unsafe(unit, stmt, op, hot)
        if isinstance(stmt, gast.Assign) and op.kind in _CARRIES and hot:
            varied.add(stmt.targets[0].id)
    useful = {unit.output} if unit.output else set()
    for stmt in reversed(unit.body):
        if isinstance(stmt, gast.Assign) and stmt.targets[0].id in useful:
            op = ops[id(stmt)]
            if op.kind in _CARRIES:
                useful.update(op.operands)
    return Activity(varied=varied, useful=useful, ops=ops)


def _value(stmt):
    if isinstance(stmt, gast.Assign):
        return stmt.value
    if isinstance(stmt, gast.Expr):
        return stmt.value
    return None


def _refuse_unsafe(unit, stmt, op, hot):
    location = unit.info.location(anno.get(stmt, "line"))
    names = ", ".join(f"`{n}`" for n in hot)
    if op.kind == "opaque":
        raise UnsupportedSyntaxError(
            f"`{op.label}` on {names}, which carries a gradient: `and`/`or` pick one of their "
            "operands, and srcgrad does not differentiate that choice", location,
            hint="Use np.where(condition, a, b), or compare explicitly.")
    if op.mutating:
        raise UnsupportedSyntaxError(
            f"{op.label} writes into {names}, which carries a gradient", location,
            hint="Compute a new array instead of modifying this one in place.")
    if isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call) \
            and op.kind in ("unknown", "rule"):
        raise UnsupportedSyntaxError(
            f"the result of {op.label} is not used, and it is given {names}, which carries a "
            "gradient: a call used for its side effects may modify its argument", location,
            hint="Assign the result, or move the call out of the differentiated function.")
