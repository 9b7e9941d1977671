"""Stage 6, optimize: make the generated function what a person would write.

Passes, each a class whose `run(body)` edits the statement list in place and
returns whether it changed anything; `optimize` repeats them until none does.

    ConstantFold   dr2 * 2 * r ** (2 - 1)  ->  dr2 * 2 * r       (adjoint code only)
    DropUnbroadcast unbroadcast(dr2 * 2 * r, r) -> dr2 * 2 * r     (when shapes provably agree)
    DeadCode       drops pure assignments whose value is never read
    CopyPropagate  dr = dr2 * 2 * r; dh = dr  ->  dh = dr2 * 2 * r
"""

from __future__ import annotations

import collections
import numbers
import types

import gast
import numpy

from . import annotations as anno
from . import runtime, syntax


def _loads(node):
    return [n.id for n in gast.walk(node) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)]


def _stores(node):
    return [n.id for n in gast.walk(node) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)]


def _is_number(node, value=None):
    if not (isinstance(node, gast.Constant) and isinstance(node.value, numbers.Number)
            and not isinstance(node.value, bool)):
        return False
    return value is None or (node.value == value and type(node.value) is int)


class _Folder(gast.NodeTransformer):
    def __init__(self):
        self.changed = False

    def visit_BinOp(self, node):
        self.generic_visit(node)
        left, right = node.left, node.right
        if _is_number(left) and _is_number(right):
            code = syntax.unparse(node)
            try:
                value = eval(compile(code, "<fold>", "eval"), {"__builtins__": {}})  # noqa: S307
            except Exception:
                return node
            self.changed = True
            return syntax.const(value)
        if isinstance(node.op, (gast.Pow, gast.Mult, gast.Div)) and _is_number(right, 1):
            self.changed = True
            return left
        if isinstance(node.op, gast.Mult) and _is_number(left, 1):
            self.changed = True
            return right
        return node


class ConstantFold:
    """Arithmetic on constants in instantiated rules, and `e ** 1`, `e * 1`, `1 * e`."""

    def run(self, body):
        folder = _Folder()
        for stmt in _all_statements(body):
            if anno.get(stmt, "role") == "adjoint" and isinstance(stmt, gast.Assign):
                stmt.value = folder.visit(stmt.value)
        return folder.changed


class ShapeClasses:
    """Names that provably have the same shape, from how each one is computed.

    `r2 = r ** 2`, `h = np.tanh(z)`, `dr2 = np.full_like(r2, ...)`,
    `dh = unbroadcast(dr, h)`, `t = a * 2.0` and `t = a + b` with a, b alike
    all keep their operand's shape. Only names assigned once are related.
    """

    def __init__(self, body, resolve):
        self.resolve = resolve
        self.parent = {}
        defs = collections.Counter()
        for stmt in _all_statements(body):
            defs.update(_stores(stmt))
        for stmt in _all_statements(body):
            if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) \
                    and defs[stmt.targets[0].id] == 1:
                cls = self.of(stmt.value)
                if cls is not None:
                    self.parent[self.find(stmt.targets[0].id)] = self.find(cls)

    def find(self, name):
        while self.parent.get(name, name) != name:
            name = self.parent[name]
        return name

    def of(self, expr):
        """The class of an expression's shape, or None when unknown."""
        if isinstance(expr, gast.Name):
            return self.find(expr.id)
        if isinstance(expr, gast.UnaryOp):
            return self.of(expr.operand)
        if isinstance(expr, gast.BinOp) and not isinstance(expr.op, gast.MatMult):
            if _is_number(expr.right):
                return self.of(expr.left)
            if _is_number(expr.left):
                return self.of(expr.right)
            left, right = self.of(expr.left), self.of(expr.right)
            return left if left is not None and left == right else None
        if isinstance(expr, gast.Call) and expr.args:
            func = self.resolve(expr.func)
            if func is runtime.unbroadcast and len(expr.args) == 2:
                return self.of(expr.args[1])
            if func in _LIKE_FIRST_ARG or (isinstance(func, numpy.ufunc) and func.nin == 1
                                           and len(expr.args) == 1 and not expr.keywords):
                return self.of(expr.args[0])
        return None


_LIKE_FIRST_ARG = (numpy.full_like, numpy.zeros_like, numpy.ones_like, numpy.empty_like)


class DropUnbroadcast:
    """`unbroadcast(e, x)` is `e` when e and x provably have the same shape."""

    def __init__(self, resolve):
        self.resolve = resolve

    def run(self, body):
        classes = ShapeClasses(body, self.resolve)
        changed = False

        class Rewrite(gast.NodeTransformer):
            def visit_Call(inner, node):
                nonlocal changed
                inner.generic_visit(node)
                if self.resolve(node.func) is runtime.unbroadcast and len(node.args) == 2:
                    cls = classes.of(node.args[0])
                    if cls is not None and cls == classes.of(node.args[1]):
                        changed = True
                        return node.args[0]
                return node

        for stmt in _all_statements(body):
            if anno.get(stmt, "role") == "adjoint" and isinstance(stmt, gast.Assign):
                stmt.value = Rewrite().visit(stmt.value)
        return changed


class DeadCode:
    """Removes assignments whose value no later statement reads (side effects kept)."""

    def run(self, body):
        self.changed = False
        self.sweep(body, set())
        return self.changed

    def sweep(self, body, live):
        """Liveness, last statement first; returns the names live before `body`."""
        for i in range(len(body) - 1, -1, -1):
            stmt = body[i]
            if isinstance(stmt, gast.If):
                live_body = self.sweep(stmt.body, set(live))
                live_else = self.sweep(stmt.orelse, set(live))
                if not stmt.body and not stmt.orelse:
                    del body[i]
                    self.changed = True
                    continue
                live |= live_body | live_else | set(_loads(stmt.test))
                continue
            if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name):
                target = stmt.targets[0].id
                if target not in live and not anno.get(stmt, "impure"):
                    del body[i]
                    self.changed = True
                    continue
                live.discard(target)
            live.update(_loads(stmt))
        return live


def _all_statements(body):
    for stmt in body:
        yield stmt
        if isinstance(stmt, gast.If):
            yield from _all_statements(stmt.body)
            yield from _all_statements(stmt.orelse)


class CopyPropagate:
    """`a = b` between local names: rename b's definition to a, or read b where a was read."""

    def __init__(self, params):
        self.params = set(params)

    def run(self, body):
        changed = False
        i = 0
        while i < len(body):
            stmt = body[i]
            if self.is_copy(stmt) and (self.rename_source(body, i) or self.forward(body, i)):
                changed = True
                continue
            i += 1
        return changed

    def is_copy(self, stmt):
        return isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) \
            and isinstance(stmt.value, gast.Name)

    def counts(self, body):
        defs, uses = collections.Counter(), collections.Counter()
        for stmt in _all_statements(body):
            if isinstance(stmt, gast.If):
                uses.update(_loads(stmt.test))
                continue
            defs.update(_stores(stmt))
            uses.update(_loads(stmt))
        return defs, uses

    def rename_source(self, body, i):
        """b = <expr>; ...; a = b   ->   a = <expr>; ...   (b used only by the copy)."""
        a, b = body[i].targets[0].id, body[i].value.id
        defs, uses = self.counts(body)
        if b in self.params or a in self.params or defs[a] != 1 or defs[b] != 1 or uses[b] != 1:
            return False
        for j in range(i):
            stmt = body[j]
            if isinstance(stmt, gast.Assign) and stmt.targets[0].id == b:
                if anno.get(stmt, "role") != anno.get(body[i], "role"):
                    return False
                stmt.targets[0].id = a
                del body[i]
                return True
        return False

    def forward(self, body, i):
        """a = b; ... a ...   ->   ... b ...   (a defined once, b not redefined later)."""
        a, b = body[i].targets[0].id, body[i].value.id
        defs, _ = self.counts(body)
        if a in self.params or defs[a] != 1:
            return False
        later = body[i + 1:]
        if any(b in _stores(s) for s in later):
            return False
        if any(isinstance(s, gast.Return) and a in _loads(s) for s in later):
            return False
        for stmt in later:
            syntax.rename(stmt, {a: b})
        del body[i]
        return True


def resolver(derivative):
    """A function from a callee expression in generated code to the object it names."""
    imports, scope = derivative.imports, derivative.unit.scope

    def resolve(node):
        if isinstance(node, gast.Name):
            if node.id in imports.objects:
                return imports.objects[node.id]
            return scope.lookup(node.id)
        if isinstance(node, gast.Attribute):
            base = resolve(node.value)
            return getattr(base, node.attr, None) if isinstance(base, types.ModuleType) else None
        return None

    return resolve


def optimize(derivative):
    """Run the passes to a fixed point; returns the derivative, edited in place."""
    params = list(derivative.unit.params) + [derivative.seed]
    passes = [ConstantFold(), DropUnbroadcast(resolver(derivative)), DeadCode(),
              CopyPropagate(params)]
    body = derivative.body
    changed = True
    while changed:
        changed = False
        for p in passes:
            changed |= p.run(body)
    return derivative
