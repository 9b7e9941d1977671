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
import math
import inspect

import gast

from . import annotations as anno
from . import naming, runtime, syntax, tape
from .shapes import ShapeClasses
from .walk import (COMPOUND, blocks, deep_loads, deep_stores, is_number, loads, statements,
                   stores)


# Roles of derivative statements (adjoint or tangent), as opposed to primal ones.
DERIVED = ("adjoint", "tangent")


def _is_one(node):
    """1, or 1.0: multiplying an adjoint (a float) by either leaves it unchanged."""
    return is_number(node) and node.value == 1


class _Folder(gast.NodeTransformer):
    def __init__(self):
        self.changed = False

    def visit_BinOp(self, node):
        self.generic_visit(node)
        left, right = node.left, node.right
        if is_number(left) and is_number(right):
            code = syntax.unparse(node)
            try:
                value = eval(compile(code, "<fold>", "eval"), {"__builtins__": {}})  # noqa: S307
            except Exception:
                return node
            if not (isinstance(value, (int, float)) and math.isfinite(value)):
                return node                 # nan, inf and complex have no literal
            self.changed = True
            return syntax.const(value)
        if isinstance(node.op, (gast.Pow, gast.Mult, gast.Div)) and _is_one(right):
            self.changed = True
            return left
        if isinstance(node.op, gast.Mult) and _is_one(left):
            self.changed = True
            return right
        return node


def _updated_in_place(body, resolve):
    """Names that statements update in place: `v += e`, `v = add_into(v, ...)`."""
    found = set()
    for stmt in statements(body):
        if isinstance(stmt, gast.AugAssign) and isinstance(stmt.target, gast.Name):
            found.add(stmt.target.id)
        elif isinstance(stmt, gast.Assign) and isinstance(stmt.value, gast.Call) \
                and stmt.value.args and isinstance(stmt.value.args[0], gast.Name) \
                and resolve is not None \
                and resolve(stmt.value.func) in runtime.IN_PLACE_HELPERS:
            found.add(stmt.value.args[0].id)
    return found


class ConstantFold:
    """Arithmetic on constants in instantiated rules, and `e ** 1`, `e * 1`, `1.0 * e`.

    Before::

        dr = dr2 * 2 * r ** (2 - 1)
        dq = dp * 1 / 1

    After::

        dr = dr2 * 2 * r
        dq = dp
    """

    def __init__(self, resolve=None):
        self.resolve = resolve

    def run(self, body):
        changed = False
        updated = _updated_in_place(body, self.resolve)
        for stmt in statements(body):
            if anno.get(stmt, "role") in DERIVED and isinstance(stmt, gast.Assign) \
                    and not anno.get(stmt, "owns"):
                folder = _Folder()
                before = syntax.clone(stmt.value)
                after = folder.visit(stmt.value)
                if isinstance(after, gast.Name) and syntax.names_in(stmt.targets[0], "store") \
                        and set(syntax.names_in(stmt.targets[0], "store")) & updated:
                    stmt.value = before     # `dx = dz * 1` stays a new array: dx is added into
                    continue
                stmt.value = after
                changed |= folder.changed
        return changed


_RESHAPERS = (runtime.unbroadcast, runtime.broadcast_like)


class DropUnbroadcast:
    """`unbroadcast(e, x)` and `broadcast_like(e, x)` are `e` when e and x provably have the
    same shape.

    Before::

        r2 = r ** 2
        dr2 = np.full_like(r2, 1.0)
        dr = unbroadcast(dr2 * 2 * r, r)
        dy = unbroadcast(dr2, y)
        return dr, dy

    After::

        r2 = r ** 2
        dr2 = np.full_like(r2, 1.0)
        dr = dr2 * 2 * r
        dy = unbroadcast(dr2, y)
        return dr, dy
    """

    def __init__(self, resolve, seeds):
        self.resolve = resolve
        self.seeds = seeds

    def run(self, body):
        classes = ShapeClasses(body, self.resolve, self.seeds)
        changed = False

        class Rewrite(gast.NodeTransformer):
            def visit_Call(inner, node):
                nonlocal changed
                inner.generic_visit(node)
                if self.resolve(node.func) in _RESHAPERS and len(node.args) == 2:
                    cls = classes.of(node.args[0])
                    if cls is not None and cls == classes.of(node.args[1]):
                        changed = True
                        return node.args[0]
                return node

        for stmt in statements(body):
            if anno.get(stmt, "role") in DERIVED and isinstance(stmt, gast.Assign):
                stmt.value = Rewrite().visit(stmt.value)
        return changed


class DeadCode:
    """Removes assignments whose value no later statement reads (side effects kept).

    What is live at a `break` is what is live after its loop, whatever follows
    the `break` in its block. A name that only feeds itself (`n = n + 1` in a
    loop, with nothing else reading n) is dead too: a value is needed only when
    it reaches something other than an assignment (a return, a condition, a
    call kept for its effects, a write into an array) through assignments.

    Before::

        a = x * 2
        b = x * 3
        if b > 0:
            c = a
        else:
            c = b
        return b

    After::

        b = x * 3
        return b
    """

    def run(self, body):
        self.changed = False
        self.exits = []         # for each loop around: the names live after it (at a `break`)
        self.sweep(body, set())
        self.drop_unneeded(body)
        return self.changed

    def drop_unneeded(self, body):
        def pure(stmt):
            return isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) \
                and not anno.get(stmt, "impure")
        feeds, needed = {}, set()
        for stmt in statements(body):
            if pure(stmt):
                feeds.setdefault(stmt.targets[0].id, set()).update(loads(stmt))
            else:
                needed.update(loads(stmt))
        work = list(needed)
        while work:
            for name in feeds.pop(work.pop(), ()):
                if name not in needed:
                    needed.add(name)
                    work.append(name)
        for block in blocks(body):
            kept = [s for s in block if not pure(s) or s.targets[0].id in needed]
            if len(kept) != len(block):
                block[:] = kept
                self.changed = True

    def sweep(self, body, live):
        """Liveness, last statement first; returns the names live before `body`."""
        for i in range(len(body) - 1, -1, -1):
            stmt = body[i]
            if isinstance(stmt, gast.If):
                live_body = self.sweep(stmt.body, set(live))
                live_else = self.sweep(stmt.orelse, set(live))
                if not stmt.body and not stmt.orelse and not anno.get(stmt, "keep"):
                    del body[i]
                    self.changed = True
                    continue
                live |= live_body | live_else | set(loads(stmt))
                continue
            if isinstance(stmt, (gast.For, gast.While)):
                live |= self.loop(stmt, live)
                continue
            if isinstance(stmt, gast.Break):
                live.clear()
                live |= self.exits[-1]
                continue
            if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name):
                target = stmt.targets[0].id
                if target not in live and not anno.get(stmt, "impure"):
                    del body[i]
                    self.changed = True
                    continue
                live.discard(target)
            elif self.is_unread_accumulation(stmt, live):
                del body[i]
                self.changed = True
                continue
            live.update(loads(stmt))
        return live

    @staticmethod
    def is_unread_accumulation(stmt, live):
        """`dv += ...` into an adjoint nothing reads later. Adjoints are added into in place
        only when they own their buffer (see accumulate.py), so no other name sees it."""
        return isinstance(stmt, gast.AugAssign) and isinstance(stmt.target, gast.Name) \
            and stmt.target.id not in live and anno.get(stmt, "role") == "adjoint" \
            and not anno.get(stmt, "impure")

    def loop(self, stmt, live_after):
        """Names live before a loop; removes what no iteration, nor the code after, reads."""
        live = self.live_around(stmt, live_after)
        self.exits.append(set(live_after))
        try:
            self.sweep(stmt.body, set(live))
        finally:
            self.exits.pop()
        return live

    def live_around(self, stmt, live_after):
        """Live at the loop head: after it, or read by an iteration before being set."""
        live = set(live_after) | set(loads(stmt))
        self.exits.append(set(live_after))
        try:
            while True:
                new = live | self.measure(stmt.body, live)
                if new == live:
                    return live
                live = new
        finally:
            self.exits.pop()

    def measure(self, body, live):
        """The names live before `body`, removing nothing."""
        live = set(live)
        for stmt in reversed(body):
            if isinstance(stmt, gast.If):
                live = self.measure(stmt.body, live) | self.measure(stmt.orelse, live) \
                    | set(loads(stmt))
            elif isinstance(stmt, (gast.For, gast.While)):
                live = self.live_around(stmt, live)
            elif isinstance(stmt, gast.Break):
                live = set(self.exits[-1])
            else:
                if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name):
                    live.discard(stmt.targets[0].id)
                live |= set(loads(stmt))
        return live


class CopyPropagate:
    """`a = b` between local names: one name for both, the more readable one.

    Either b's definition is renamed to a (it stands earlier in the same
    block and nothing reads b in between), or the reads of a become reads of
    b (a defined only by the copy, read only later in the same block, and b
    not assigned after it there). When both apply, the name kept is the more
    readable one (no version suffix, then shorter), and on a tie the
    source's, unless a is returned (the gradients keep their names). Renames
    apply to the whole function: a name has one meaning everywhere.

    Before::

        dr = dr2 * 2 * r
        dh = dr
        dW_2 = dh * h
        dW = dW_2
        return dW

    After::

        dr = dr2 * 2 * r
        dW = dr * h
        return dW
    """

    def __init__(self, params):
        self.params = set(params)

    def run(self, body):
        changed = False
        again = True
        while again:
            again = False
            for block in blocks(body):
                for i, stmt in enumerate(block):
                    if self.is_copy(stmt) and self.propagate(body, block, i):
                        changed = again = True
                        break
                if again:
                    break
        return changed

    def is_copy(self, stmt):
        return isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) \
            and isinstance(stmt.value, gast.Name) and not anno.get(stmt, "impure")

    def counts(self, body):
        defs, uses = collections.Counter(), collections.Counter()
        for stmt in statements(body):
            defs.update(stores(stmt))
            uses.update(loads(stmt))
        return defs, uses

    def propagate(self, body, block, i):
        a, b = block[i].targets[0].id, block[i].value.id
        defs, uses = self.counts(body)
        source = self.source_definition(block, i, b, defs)
        forward = self.can_forward(block, i, a, b, defs, uses)
        returned = any(isinstance(s, gast.Return) and a in loads(s) for s in body)
        keep_a = _rank(a) < _rank(b) or (returned and _rank(a) == _rank(b))
        if source is not None and (keep_a or not forward):
            source.targets[0].id = a          # b = <expr>; ...; a = b  ->  a = <expr>
            del block[i]
            for stmt in body:
                syntax.rename(stmt, {b: a})
            return True
        if forward and not (returned and keep_a):
            del block[i]                       # a = b; ... a ...  ->  ... b ...
            for stmt in body:
                syntax.rename(stmt, {a: b})
            return True
        return False

    def source_definition(self, block, i, b, defs):
        """b's single definition, earlier in this block, if nothing reads b in between."""
        a = block[i].targets[0].id
        if {a, b} & self.params or defs[a] != 1 or defs[b] != 1:
            return None
        for j in range(i - 1, -1, -1):
            stmt = block[j]
            if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) \
                    and stmt.targets[0].id == b:
                same_role = anno.get(stmt, "role") == anno.get(block[i], "role")
                return stmt if same_role and not anno.get(stmt, "impure") else None
            if b in deep_loads([stmt]) or b in deep_stores([stmt]):
                return None
        return None

    def can_forward(self, block, i, a, b, defs, uses):
        """a is defined once (here), read only after it in this block; b keeps its value."""
        if a in self.params or defs[a] != 1:
            return False
        later = block[i + 1:]
        if deep_loads(later).count(a) != uses[a]:
            return False
        return b not in deep_stores(later)


def _rank(name):
    """Smaller is more readable: no version suffix first, then shorter."""
    return (naming.base_name(name) != name, len(name))


class ForwardSubstitute:
    """A temporary that carries no gradient (a shape, an index, a condition), read once
    later in the same block, is written where it is read (primal code only):
    `shape = W.shape; n = shape[0]; h = np.zeros(n)` reads `h = np.zeros(W.shape[0])`.
    Values that have an adjoint, or that the adjoint reads, keep their names.

    Before::

        W_shape = W.shape
        n = W_shape[0]
        h = np.zeros(n)
        return h

    After::

        h = np.zeros(W.shape[0])
        return h
    """

    def __init__(self, temporaries):
        self.temporaries = set(temporaries)

    def run(self, body):
        changed = False
        defs, uses = collections.Counter(), collections.Counter()
        for stmt in statements(body):
            defs.update(stores(stmt))
            uses.update(loads(stmt))
        for block in blocks(body):
            i = 0
            while i < len(block):
                if self.substitute(block, i, defs, uses):
                    changed = True
                    defs, uses = collections.Counter(), collections.Counter()
                    for stmt in statements(body):
                        defs.update(stores(stmt))
                        uses.update(loads(stmt))
                    continue
                i += 1
        return changed

    def substitute(self, block, i, defs, uses):
        stmt = block[i]
        if not (isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)
                and anno.get(stmt, "role") == "primal" and not anno.get(stmt, "impure")):
            return False
        name = stmt.targets[0].id
        if name not in self.temporaries or defs[name] != 1 or uses[name] != 1:
            return False
        operands = set(loads(stmt))
        for later in block[i + 1:]:
            if name in deep_loads([later]):
                if anno.get(later, "role") != "primal" or (
                        isinstance(later, COMPOUND) and name not in loads(later)):
                    return False
                _replace_load(later, name, stmt.value)
                del block[i]
                return True
            if operands & set(deep_stores([later])) or anno.get(later, "tape"):
                return False
        return False


def _replace_load(stmt, name, value):
    class Replace(gast.NodeTransformer):
        def visit_Name(self, node):
            if node.id == name and isinstance(node.ctx, gast.Load):
                return syntax.clone(value)
            return node
    target = stmt
    if isinstance(stmt, gast.For):
        stmt.iter = Replace().visit(stmt.iter)
    elif isinstance(stmt, (gast.If, gast.While)):
        stmt.test = Replace().visit(stmt.test)
    else:
        Replace().visit(target)


class HelperArguments:
    """Calls of runtime helpers read like calls people write: options by keyword,
    defaults left out.

    Before::

        dp = unreduce(dsum, p, 1, False)
        dq = unreduce(dsum, q, None, True)

    After::

        dp = unreduce(dsum, p, axis=1)
        dq = unreduce(dsum, q, keepdims=True)
    """

    def __init__(self, resolve):
        self.resolve = resolve

    def run(self, body):
        changed = False
        for stmt in statements(body):
            for node in gast.walk(stmt):
                if isinstance(node, gast.Call) and self.restyle(node):
                    changed = True
        return changed

    def restyle(self, call):
        helper = self.resolve(call.func)
        if getattr(helper, "__module__", None) != runtime.__name__ or not callable(helper):
            return False
        params = list(inspect.signature(helper).parameters.values())
        changed = False
        for i in range(len(call.args) - 1, -1, -1):
            param = params[i] if i < len(params) else None
            if param is None or param.default is inspect.Parameter.empty:
                break
            arg = call.args.pop(i)
            if not (syntax.is_constant_expr(arg) and syntax.constant_value(arg) == param.default
                    and type(syntax.constant_value(arg)) is type(param.default)):
                call.keywords.insert(0, gast.keyword(arg=param.name, value=arg))
            changed = True
        return changed


def resolver(derivative):
    """A function from a callee expression in generated code to the object it names."""
    return derivative.imports.resolve


def optimize(derivative):
    """Run the passes to a fixed point, planning the tape between rounds; returns the
    derivative, edited in place."""
    params = list(derivative.unit.params) + [derivative.seed] + list(derivative.tangent_params)
    params = [p for p in params if p is not None]
    seeds = [(adjoint, primal) for primal, adjoint in derivative.adjoints.items()]
    resolve = resolver(derivative)
    inactive = derivative.unit.temporaries - set(derivative.adjoints)
    passes = [ConstantFold(resolve), DropUnbroadcast(resolve, seeds), DeadCode(),
              CopyPropagate(params),
              ForwardSubstitute(inactive)]
    body = derivative.body
    while True:
        changed = True
        while changed:
            changed = False
            for p in passes:
                changed |= p.run(body)
        if not tape.plan(derivative, resolve):
            break
    HelperArguments(resolve).run(body)
    return derivative
