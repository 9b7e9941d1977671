"""Stage 4, analyze: which values carry a gradient (activity).

A value is *varied* when it depends, through differentiable operations, on
an argument we differentiate with respect to, and *useful* when the output
depends on it. Only values that are both (active) get an adjoint. Names
assigned in loops or branches have several definitions, so both sets are
computed to a fixed point over every statement. This stage also refuses what
it finds unsafe on active values: calls that write into their arguments, and
calls whose result is dropped.
"""

from __future__ import annotations

import dataclasses

import gast

from . import annotations as anno
from .errors import UnsupportedSyntaxError
from .primitives import Op, describe
from .walk import statements

_CARRIES = ("copy", "rule", "call", "custom", "literal", "unknown", "setitem", "append", "pop")


@dataclasses.dataclass
class Activity:
    varied: set
    useful: set
    ops: dict          # id(statement) -> Op

    def active(self, name):
        return name in self.varied and name in self.useful

    def op(self, stmt):
        return self.ops[id(stmt)]


def target_of(stmt):
    """The name a statement (re)defines: `x = ...`, `x[i] = ...`, `x.append(...)`."""
    if isinstance(stmt, gast.Assign):
        target = stmt.targets[0]
        if isinstance(target, gast.Subscript):
            return target.value.id
        return target.id
    if isinstance(stmt, gast.Expr) and is_append(stmt):
        return stmt.value.func.value.id
    return None


def is_append(stmt):
    """`lst.append(v)` on a local list (normalize.py marks those)."""
    return isinstance(stmt, gast.Expr) and bool(anno.get(stmt, "append"))


def describe_statement(stmt, unit):
    local_names = unit.locals
    if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Subscript):
        value = stmt.value
        operands = [value.id] if isinstance(value, gast.Name) and value.id in local_names else []
        return Op("setitem", "item assignment", operands=operands)
    if is_append(stmt):
        item = stmt.value.args[0]
        operands = [item.id] if isinstance(item, gast.Name) and item.id in local_names else []
        return Op("append", ".append()", operands=operands)
    if anno.get(stmt, "pop"):
        return Op("pop", ".pop()", operands=[anno.get(stmt, "pop")])
    return describe(stmt.value, unit.scope, local_names)


def analyze(unit, wrt):
    """Activity of every name in the normal-form `unit`, differentiating by `wrt` (names)."""
    ops = {}
    flat = [s for s in statements(unit.body) if isinstance(s, (gast.Assign, gast.Expr))]
    for stmt in flat:
        op = describe_statement(stmt, unit)
        ops[id(stmt)] = op
        if op.impure:
            anno.set(stmt, "impure", True)
    varied = set(wrt)
    changed = True
    while changed:
        changed = False
        for stmt in flat:
            op = ops[id(stmt)]
            target = target_of(stmt)
            if op.kind in _CARRIES and target is not None and target not in varied \
                    and any(n in varied for n in op.operands):
                varied.add(target)
                changed = True
    for stmt in flat:
        hot = [n for n in ops[id(stmt)].operands if n in varied]
        if hot:
            _refuse_unsafe(unit, stmt, ops[id(stmt)], hot)
    useful = {unit.output} if unit.output else set()
    changed = True
    while changed:
        changed = False
        for stmt in reversed(flat):
            op = ops[id(stmt)]
            if op.kind in _CARRIES and target_of(stmt) in useful:
                new = set(op.operands) - useful
                if new:
                    useful |= new
                    changed = True
    return Activity(varied=varied, useful=useful, ops=ops)


def _refuse_unsafe(unit, stmt, op, hot):
    location = unit.info.location(anno.get(stmt, "line"))
    names = ", ".join(f"`{n}`" for n in hot)
    if op.mutating:
        raise UnsupportedSyntaxError(
            f"{op.label} writes into {names}, which carries a gradient", location,
            hint="Compute a new array instead of modifying this one in place.")
    if isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call) \
            and op.kind in ("unknown", "rule", "call", "custom"):
        raise UnsupportedSyntaxError(
            f"the result of {op.label} is not used, and it is given {names}, which carries a "
            "gradient: a call used for its side effects may modify its argument", location,
            hint="Assign the result, or move the call out of the differentiated function.")
