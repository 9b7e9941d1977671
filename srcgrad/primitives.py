"""What one normal-form operation is: a copy, a rule application, a literal, ...

`describe(value, unit)` classifies the right-hand side of a normal-form
statement for the analysis and the reverse stage, which must agree on it:

    kind       meaning                                   operands (may carry a gradient)
    constant   constant or static expression             -
    copy       `a = b`                                   b
    rule       a callable/operator with a rule           every local name in its arguments
    call       a Python function (differentiated too)    every local name in its arguments
    custom     a custom_vjp function (its fwd and bwd)   every local name in its arguments
    literal    `(a, b)`, `[a, b]`, `{k: a}`               the elements
    nondiff    zero derivative (table, comparisons)      -
    unknown    a callable with no rule                    every local name in the call
"""

from __future__ import annotations

import dataclasses
import operator
import types

import gast
import numpy

from . import annotations as anno
from . import syntax
from .parse import MISSING
from .custom import custom_vjp
from .templates import registry

_BINARY = {
    gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul,
    gast.Div: operator.truediv, gast.Pow: operator.pow, gast.MatMult: operator.matmul,
    gast.FloorDiv: operator.floordiv, gast.Mod: operator.mod, gast.BitAnd: operator.and_,
    gast.BitOr: operator.or_, gast.BitXor: operator.xor, gast.LShift: operator.lshift,
    gast.RShift: operator.rshift,
}
_UNARY = {gast.USub: operator.neg, gast.UAdd: operator.pos, gast.Not: operator.not_,
          gast.Invert: operator.invert}
_BINARY_TEXT = {operator.add: "+", operator.sub: "-", operator.mul: "*",
                operator.truediv: "/", operator.pow: "**", operator.matmul: "@",
                operator.floordiv: "//", operator.mod: "%"}


@dataclasses.dataclass
class Op:
    kind: str
    label: str = ""
    primal: object = None
    args: list = dataclasses.field(default_factory=list)       # positional argument nodes
    keywords: dict = dataclasses.field(default_factory=dict)   # keyword argument nodes
    operands: list = dataclasses.field(default_factory=list)   # local names
    impure: bool = False
    mutating: bool = False

    @property
    def rule(self):
        return registry().rule_for(self.primal) if self.primal is not None else None


def index_expr(node):
    """A subscript's index as an ordinary expression (`1:3` -> `slice(1, 3, None)`)."""
    if isinstance(node, gast.Slice):
        parts = [p if p is not None else syntax.const(None)
                 for p in (node.lower, node.upper, node.step)]
        if node.step is None:
            parts.pop()                      # `1:3` -> slice(1, 3)
            if node.lower is None and node.upper is None:
                parts.pop()                  # `:` -> slice(None)
        return syntax.call(syntax.name("slice"), parts)
    if isinstance(node, gast.Tuple):
        return syntax.tuple_([index_expr(e) for e in node.elts])
    return node


def _locals_in(nodes, local_names):
    found = []
    for node in nodes:
        for ident in syntax.names_in(node, "load"):
            if ident in local_names and ident not in found:
                found.append(ident)
    return found


def _classify(primal, label, args, keywords, local_names, impure=None):
    reg = registry()
    operands = _locals_in(list(args) + list(keywords.values()), local_names)
    mutating = reg.is_mutating(primal)
    if isinstance(primal, custom_vjp):
        kind = "custom"          # the user's fwd and bwd (custom.py)
    elif reg.rule_for(primal) is not None or reg.has_tangent(primal):
        kind = "rule"
    elif reg.is_nondifferentiable(primal):
        kind = "nondiff"
    elif isinstance(primal, types.FunctionType):
        kind = "call"            # a Python function: differentiated from its source
    else:
        kind = "unknown"
    if impure is None:
        impure = kind in ("unknown", "call", "custom") or reg.is_impure(primal)
    return Op(kind, label, primal, list(args), dict(keywords), operands, impure, mutating)


def describe(value, scope, local_names):
    """The `Op` for the right-hand side `value` of a normal-form statement."""
    if isinstance(value, gast.Name):
        if value.id in local_names:
            return Op("copy", value.id, operands=[value.id])
        return Op("constant")
    if isinstance(value, gast.BinOp):
        primal = _BINARY.get(type(value.op))
        return _classify(primal, _BINARY_TEXT.get(primal, type(value.op).__name__),
                         [value.left, value.right], {}, local_names, impure=False)
    if isinstance(value, gast.UnaryOp):
        primal = _UNARY[type(value.op)]
        return _classify(primal, "unary " + primal.__name__, [value.operand], {}, local_names,
                         impure=False)
    if isinstance(value, gast.Compare):
        return Op("nondiff", "comparison")
    if isinstance(value, gast.JoinedStr):
        return Op("nondiff", "f-string")
    if isinstance(value, gast.BoolOp):     # only conditions stay whole (normalize.py)
        return Op("nondiff", "condition")
    if isinstance(value, (gast.Tuple, gast.List)):
        return Op("literal", operands=_locals_in(value.elts, local_names))
    if isinstance(value, gast.Dict):
        return Op("literal", operands=_locals_in(value.values, local_names))
    if isinstance(value, gast.Subscript):
        op = _classify(operator.getitem, "subscript", [value.value, index_expr(value.slice)], {},
                       local_names, impure=False)
        return dataclasses.replace(op, operands=_locals_in([value.value], local_names))
    if isinstance(value, gast.Attribute):
        return _describe_attribute(value, scope, local_names)
    if isinstance(value, gast.Call):
        return _describe_call(value, scope, local_names)
    return Op("constant")


def resolve_callee(func, scope, local_names):
    """The object a callee expression names: a runtime helper srcgrad inserted, or
    what the user's scope gives."""
    obj = anno.get(func, "object")
    if obj is not None:
        return obj
    return scope.resolve(func, local_names)


def _describe_attribute(value, scope, local_names):
    if not (isinstance(value.value, gast.Name) and value.value.id in local_names):
        return Op("constant")
    attr = getattr(numpy.ndarray, value.attr, MISSING)
    label = "." + value.attr
    if attr is MISSING:      # a field of a namedtuple or an object: read like x['field']
        op = _classify(operator.getitem, label, [value.value, syntax.const(value.attr)], {},
                       local_names, impure=False)
        return dataclasses.replace(op, operands=[value.value.id])
    return _classify(attr, label, [value.value], {}, local_names, impure=False)


def _describe_call(value, scope, local_names):
    func = value.func
    keywords = {kw.arg: kw.value for kw in value.keywords}
    label = syntax.unparse(func)
    receiver_is_local = isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
        and func.value.id in local_names
    if receiver_is_local:
        primal = getattr(numpy.ndarray, func.attr, MISSING)
        args = [func.value] + list(value.args)
        label = f"{func.value.id}.{func.attr}()"
    else:
        primal = resolve_callee(func, scope, local_names)
        args = list(value.args)
        label = label + "()"
    if primal is MISSING:
        operands = _locals_in(args + list(keywords.values()) + [func], local_names)
        return Op("unknown", label, None, args, keywords, operands, impure=True)
    return _classify(primal, label, args, keywords, local_names)

