"""One deterministic namer for every fresh name in generated code.

Names read like the ones a person would write, and never depend on uuids,
ids or hash order, so that generated code is stable from run to run.

Patterns (`hint_for`), for a temporary holding ...
    x @ W          -> xW          (operand names joined when both are short)
    a + b          -> z           a - b   -> r        a / b -> q
    a * b          -> ab / p      r ** 2  -> r2       -a    -> neg_a
    np.exp(x)      -> exp_x       np.exp(long_name) -> exp
    x.T            -> xT          x.shape -> x_shape
    x[0], x[i]     -> x0, xi      params['W'] -> W
    (a, b), [a, b] -> tup, lst    a < b   -> mask
the adjoint of v    -> dv         (dW, dxW, dr2)
A taken name gets the first free suffix: z, z_2, z_3, ...
"""

from __future__ import annotations

import builtins
import keyword
import re

import gast

RESERVED = frozenset(dir(builtins)) | frozenset(keyword.kwlist)

_OP_HINTS = {
    gast.Add: "z", gast.Sub: "r", gast.Div: "q", gast.FloorDiv: "q", gast.Mod: "m",
    gast.Mult: "p", gast.MatMult: "mm", gast.Pow: "pw",
}


def sanitize(text):
    text = re.sub(r"\W", "_", text).strip("_") or "t"
    if text[0].isdigit():
        text = "t" + text
    return text


class Namer:
    """Hands out names not yet taken; `taken` holds every name in scope."""

    def __init__(self, taken=()):
        self.taken = set(taken) | RESERVED

    def reserve(self, *names):
        self.taken.update(names)

    def fresh(self, hint):
        base = hint if hint == "_" else sanitize(hint)
        if base not in self.taken:
            self.taken.add(base)
            return base
        i = 2
        while f"{base}_{i}" in self.taken:
            i += 1
        result = f"{base}_{i}"
        self.taken.add(result)
        return result

    def adjoint(self, primal_name):
        return self.fresh("d" + primal_name)


def base_name(name):
    """`h_2` -> `h`: a name without its version suffix."""
    stem, sep, suffix = name.rpartition("_")
    return stem if sep and stem and suffix.isdigit() else name


def _short(node, limit=4):
    if isinstance(node, gast.Name) and len(base_name(node.id)) <= limit:
        return base_name(node.id)
    return None


def _callee(func):
    if isinstance(func, gast.Attribute):
        return func.attr
    if isinstance(func, gast.Name):
        return func.id
    return "call"


def hint_for(expr):
    """A readable name for a temporary holding `expr` (see the module docstring)."""
    if isinstance(expr, gast.BinOp):
        left, right = _short(expr.left), _short(expr.right)
        if isinstance(expr.op, (gast.MatMult, gast.Mult)) and left and right:
            return left + right
        if isinstance(expr.op, gast.Pow) and left and isinstance(expr.right, gast.Constant) \
                and isinstance(expr.right.value, int) and 0 <= expr.right.value < 10:
            return f"{left}{expr.right.value}"
        return _OP_HINTS.get(type(expr.op), "t")
    if isinstance(expr, gast.UnaryOp):
        operand = _short(expr.operand, 8)
        return f"neg_{operand}" if operand else "neg"
    if isinstance(expr, gast.Call):
        fname = _callee(expr.func)
        arg = _short(expr.args[0], 5) if expr.args else None
        if isinstance(expr.func, gast.Attribute) and not expr.args:
            arg = _short(expr.func.value, 5)      # x.sum() -> sum_x
        if arg:
            return f"{fname}_{arg}"
        return fname if fname not in RESERVED else fname + "_val"
    if isinstance(expr, gast.Attribute):
        base = _short(expr.value, 8) or "v"
        return base + expr.attr if expr.attr in ("T", "mT") else f"{base}_{expr.attr}"
    if isinstance(expr, gast.Subscript):
        base = _short(expr.value, 8) or "item"
        index = expr.slice
        if isinstance(index, gast.Constant):
            if isinstance(index.value, str) and index.value.isidentifier():
                return index.value
            if isinstance(index.value, int):
                return f"{base}{index.value}"
        if isinstance(index, gast.Name) and len(index.id) <= 3:
            return base + index.id
        return f"{base}_part"
    if isinstance(expr, gast.Tuple):
        return "tup"
    if isinstance(expr, gast.List):
        return "lst"
    if isinstance(expr, gast.Dict):
        return "dct"
    if isinstance(expr, (gast.Compare, gast.BoolOp)):
        return "mask"
    return "t"
