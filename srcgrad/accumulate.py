"""Adjoint variables: when they exist, how contributions add up, who owns their memory.

Part of the reverse stage (reverse.py). An adjoint is unset (zero) until its
first contribution, which assigns it; later ones add to it: in place (`dx +=`)
when srcgrad made the array and no other name refers to it ("owned"), else
`dx = dx + e`; `add_grad` where the adjoint may be a container or None.
`d[x][i] = e` in a rule adds at an index (`grad_at`, `add_into`, `add_at`).
"""

from __future__ import annotations

import dataclasses

import gast

from . import annotations as anno
from . import runtime, syntax
from .errors import NoRuleError
from .rule import Contribution


@dataclasses.dataclass
class _Adj:
    set: bool = False       # the adjoint has a value (else it is zero)
    owned: bool = False     # its value is an object only it refers to (may be added to in place)
    sparse: bool = False    # a container that may lack entries (None for zero)
    maybe: bool = False     # may hold None: zero where its primal did not exist to copy


def _in(obj, collection):
    try:
        return obj in collection
    except TypeError:
        return False


def _array_constructors():
    import numpy
    return {numpy.zeros, numpy.ones, numpy.full, numpy.empty, numpy.zeros_like, numpy.ones_like,
            numpy.full_like, numpy.empty_like, numpy.eye, numpy.arange, numpy.linspace}


_ARRAY_CONSTRUCTORS = _array_constructors()


def _helpers(*names):
    import numpy
    found = [getattr(runtime, n) for n in names if hasattr(runtime, n)]
    found += [getattr(numpy, n[3:]) for n in names if n.startswith("np.")]
    return tuple(found)


_FRESH = _helpers("snapshot", "matmul_grad_left", "matmul_grad_right", "dot_grad_left",
                  "dot_grad_right", "extremum_adjoint", "prod_adjoint", "zero_adjoint",
                  "stack_adjoint", "concatenate_adjoint", "array_adjoint",
                  "np.full_like", "np.zeros_like", "np.ones_like", "np.where")


_COPYING = _FRESH + _helpers("pop_adjoint")


class Accumulate:
    """Reverse methods for adjoint variables (a mixin of reverse.Reverse)."""

    def name_of(self, primal):
        if primal not in self.names:
            self.names[primal] = self.namer.adjoint(primal)
        self.states.setdefault(self.names[primal], _Adj())
        return self.names[primal]

    def state(self, primal):
        return self.states[self.name_of(primal)]

    def helper(self, name):
        return self.imports.ref(name, getattr(runtime, name))

    def numpy(self, attr):
        import numpy
        return syntax.attribute(self.imports.ref("numpy", numpy), attr)

    def tag(self, stmt):
        for node in gast.walk(stmt):
            if isinstance(node, gast.stmt):
                anno.tag(node, line=self.line, role="adjoint")
        return stmt

    def expr_is_array(self, expr):
        if isinstance(expr, gast.Name):
            return expr.id in self.arrays or any(
                self.names.get(p) == expr.id for p in self.arrays)
        if isinstance(expr, gast.Subscript):
            return False
        if isinstance(expr, gast.Call) and isinstance(expr.func, gast.Name) \
                and getattr(self.imports.objects.get(expr.func.id), "__name__", "") \
                in runtime.CONTAINER_HELPERS:
            return False
        return True

    def _note_aliases(self, expr):
        """An adjoint read other than as an operand of arithmetic or of a helper that
        copies may now be shared by another name."""
        adjoint_names = set(self.names.values())

        def visit(node, safe):
            if isinstance(node, gast.Name):
                if node.id in adjoint_names and not safe:
                    self.states[node.id].owned = False
                return
            inside = isinstance(node, (gast.BinOp, gast.UnaryOp)) or (
                isinstance(node, gast.Call) and self.imports.resolve(node.func) in _COPYING)
            for child in gast.iter_child_nodes(node):
                visit(child, inside)

        visit(expr, False)

    def zeros(self, primal, defined):
        """(statement, state): the adjoint of `primal` set to zero, or to None where the
        primal may not exist yet (`defined`: names that surely do) to copy a shape from."""
        name = self.name_of(primal)
        if primal not in defined:
            return self.tag(syntax.assign(name, syntax.const(None))), \
                _Adj(set=True, owned=False, maybe=True)
        if primal in self.arrays:
            value = syntax.call(self.numpy("zeros_like"), [syntax.name(primal)])
        else:
            value = syntax.call(self.helper("zero_adjoint"), [syntax.name(primal)])
        return self.tag(syntax.assign(name, value)), \
            _Adj(set=True, owned=True, sparse=primal not in self.arrays)

    def contribute(self, target, expr, index=None):
        """Statements adding `expr` (at `index`, if given) to the adjoint of `target`."""
        if not self.activity.active(target):
            return []
        self._note_aliases(expr)
        name = self.name_of(target)
        state = self.states[name]
        current = syntax.name(name)
        is_array = target in self.arrays
        fresh = self.is_fresh(expr)
        if index is not None:
            if not state.set or state.maybe:
                value = syntax.call(self.helper("grad_at"), [syntax.name(target), index, expr])
                if state.maybe:
                    value = syntax.call(self.helper("add_grad"), [current, value])
            elif state.owned:
                value = syntax.call(self.helper("add_into"), [current, index, expr])
            else:
                value = syntax.call(self.helper("add_at"), [current, index, expr])
            self.states[name] = _Adj(set=True, owned=True, sparse=True)
            return [self.tag(syntax.assign(name, value))]
        if not state.set:
            self.states[name] = _Adj(set=True, owned=fresh, sparse=self.maybe_sparse(expr))
            return [self.tag(syntax.assign(name, expr))]
        if state.maybe:             # None or a value: add_grad takes both
            self.states[name] = _Adj(set=True, owned=False, sparse=not is_array)
            return [self.tag(syntax.assign(name, syntax.call(self.helper("add_grad"),
                                                             [current, expr])))]
        if is_array and state.owned:
            return [self.tag(gast.AugAssign(target=syntax.name(name, "store"), op=gast.Add(),
                                            value=expr))]
        if is_array and self.expr_is_array(expr):
            self.states[name] = _Adj(set=True, owned=True)
            return [self.tag(syntax.assign(name, syntax.binop(current, "+", expr)))]
        self.states[name] = _Adj(set=True, owned=False,
                                 sparse=state.sparse and self.maybe_sparse(expr))
        return [self.tag(syntax.assign(name, syntax.call(self.helper("add_grad"),
                                                         [current, expr])))]

    def is_fresh(self, expr):
        """Is `expr` a new object no name refers to yet? (arithmetic, or unbroadcast of it)"""
        if isinstance(expr, (gast.BinOp, gast.UnaryOp)):
            return True
        if isinstance(expr, gast.Call) and expr.args:
            helper = self.imports.resolve(expr.func)
            if helper is runtime.unbroadcast:
                return self.is_fresh(expr.args[0])
            return helper in _FRESH
        return False

    def maybe_sparse(self, expr):
        """May this contribution be a container with missing entries?"""
        if isinstance(expr, gast.Name):
            return any(st.sparse for n, st in self.states.items() if n == expr.id)
        if isinstance(expr, gast.Call):
            helper = self.imports.objects.get(getattr(expr.func, "id", None))
            return getattr(helper, "__name__", "") in ("grad_at", "add_at", "add_into",
                                                      "add_grad", "zero_adjoint", "entry")
        return False

    def items(self, items):
        """Statements for a rule's instantiated items (statements and Contributions)."""
        out = []
        for item in items:
            if isinstance(item, Contribution):
                out.extend(self.contribute(item.target, item.expr, item.index))
            elif isinstance(item, gast.If):
                out.extend(self.rule_if(item))
            else:
                out.append(self.tag(item))
        return out

    def rule_if(self, node):
        """A rule's `if` decided at run time: each branch assigns the same adjoints."""
        branches = [self._branch(node.body), self._branch(node.orelse)]
        targets = [sorted(b[1]) for b in branches]
        if targets[0] != targets[1]:
            raise NoRuleError("a derivative rule's run-time `if` assigns different adjoints in "
                              "its branches; pass that argument as a constant",
                              self.unit.info.location(self.line))
        parts = {t: self.namer.fresh(f"d{t}_part") for t in targets[0]}
        bodies = []
        for stmts, contributions in branches:
            body = list(stmts)
            for target, expr in contributions.items():
                body.append(syntax.assign(parts[target], expr))
            bodies.append(body)
        out = [self.tag(syntax.if_(node.test, bodies[0], bodies[1]))]
        for target, name in parts.items():
            out.extend(self.contribute(target, syntax.name(name)))
        return out

    def _branch(self, items):
        stmts, contributions = [], {}
        for item in items:
            if isinstance(item, Contribution):
                if not self.activity.active(item.target):
                    continue
                expr = item.expr
                if item.index is not None:
                    expr = syntax.call(self.helper("grad_at"),
                                       [syntax.name(item.target), item.index, expr])
                if item.target in contributions:
                    expr = syntax.call(self.helper("add_grad"),
                                       [contributions[item.target], expr])
                contributions[item.target] = expr
            elif isinstance(item, gast.If):
                raise NoRuleError("nested run-time `if`s in a derivative rule are not supported",
                                  self.unit.info.location(self.line))
            else:
                stmts.append(item)
        return stmts, contributions
