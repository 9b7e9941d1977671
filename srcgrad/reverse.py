"""Stage 5, reverse: the primal sweep, then the adjoint sweep, from the rules.

For a normal-form function the generated function is

    def dloss_dW(W, b, x, y, dloss=1.0):
        <the primal statements>
        <for each active statement, last first: its rule, instantiated>
        return loss, dW

`d[v]` in a rule becomes the adjoint variable of `v` (`dv`). The first
contribution to an adjoint assigns it; later ones add to it, so no adjoint
is ever initialised to zero. Adjoints are computed only for active values
(analysis.py), so none exists for arguments outside `argnums`.
"""

from __future__ import annotations

import dataclasses
import operator

import gast

from . import annotations as anno
from . import runtime, syntax, templates
from .errors import NoRuleError
from .imports import Imports
from .rule import BindError, Contribution


@dataclasses.dataclass
class Derivative:
    """A generated function before optimization and printing."""

    unit: object            # the Normalized primal
    name: str
    seed: str               # the parameter holding the output's adjoint
    body: list
    imports: Imports
    wrt: tuple
    adjoints: dict          # primal name -> its adjoint's name (which has the primal's shape)


def function_name(unit, wrt):
    parts = "_".join("d" + w for w in wrt) if wrt else "dnothing"
    return f"d{unit.name}_{parts}" if len(wrt) <= 3 else f"grad_{unit.name}"


class Reverse:
    def __init__(self, unit, activity, wrt):
        self.unit = unit
        self.activity = activity
        self.wrt = tuple(wrt)
        self.namer = unit.namer
        used = {n.id for s in unit.body for n in gast.walk(s) if isinstance(n, gast.Name)}
        self.imports = Imports(unit.scope, self.namer, used)
        self.adjoint = {}        # primal name -> adjoint name
        self.array_kind = {}     # adjoint name -> True when known to hold an array/scalar
        self.out = []
        self.line = None
        self.kinds = self._primal_kinds()

    # -- kinds: may a value be a container? ---------------------------------------------

    def _primal_kinds(self):
        """{name: True} for values known to be arrays or scalars (never containers)."""
        kinds = {}
        for stmt in self.unit.body:
            if not isinstance(stmt, gast.Assign):
                continue
            target = stmt.targets[0].id
            op = self.activity.ops.get(id(stmt))
            if op is None:
                continue
            if op.kind == "copy":
                kinds[target] = kinds.get(op.operands[0], False)
            else:
                kinds[target] = op.kind == "rule" and op.primal is not operator.getitem
        return kinds

    def expr_is_array(self, expr):
        if isinstance(expr, gast.Name):
            if expr.id in self.array_kind:
                return self.array_kind[expr.id]
            return self.kinds.get(expr.id, False)
        if isinstance(expr, gast.Subscript):
            return False
        if isinstance(expr, gast.Call) and isinstance(expr.func, gast.Name) \
                and self.imports.objects.get(expr.func.id) is not None \
                and getattr(self.imports.objects[expr.func.id], "__name__", "") \
                in runtime.CONTAINER_HELPERS:
            return False
        return True

    # -- emitting ------------------------------------------------------------------------

    def emit(self, stmt):
        anno.tag(stmt, line=self.line, role="adjoint")
        self.out.append(stmt)

    def helper(self, name):
        return self.imports.ref(name, getattr(runtime, name))

    def contribute(self, target, expr, index=None):
        """Add `expr` (at `index`, if given) to the adjoint of `target`."""
        if not self.activity.active(target):
            return
        is_array = index is None and self.expr_is_array(expr)
        current = self.adjoint.get(target)
        if current is None:
            current = self.namer.adjoint(target)
            self.adjoint[target] = current
            if index is not None:
                expr = syntax.call(self.helper("grad_at"), [syntax.name(target), index, expr])
            self.array_kind[current] = is_array
        elif index is not None:
            expr = syntax.call(self.helper("add_at"), [syntax.name(current), index, expr])
            self.array_kind[current] = False
        elif is_array and self.array_kind[current]:
            expr = syntax.binop(syntax.name(current), "+", expr)
        else:
            expr = syntax.call(self.helper("add_grad"), [syntax.name(current), expr])
            self.array_kind[current] = False
        self.emit(syntax.assign(current, expr))

    def emit_items(self, items):
        for item in items:
            if isinstance(item, Contribution):
                self.contribute(item.target, item.expr, item.index)
            elif isinstance(item, gast.If):
                self.emit_if(item)
            else:
                self.emit(item)

    def emit_if(self, node):
        """A rule's `if` decided at run time: each branch assigns the same adjoints."""
        branches = [self._branch(node.body), self._branch(node.orelse)]
        targets = [sorted(b[1]) for b in branches]
        if targets[0] != targets[1]:
            raise NoRuleError("a derivative rule's run-time `if` assigns different adjoints in "
                              "its branches; pass that argument as a constant",
                              self.unit.info.location(self.line))
        # A first contribution assigns the adjoint in both branches; a later one
        # goes through a temporary that is added after the `if`.
        parts = {t: self.namer.fresh(f"d{t}_part") if t in self.adjoint
                 else self.namer.adjoint(t) for t in targets[0]}
        bodies = []
        for stmts, contributions in branches:
            body = list(stmts)
            for target, expr in contributions.items():
                body.append(syntax.assign(parts[target], expr))
            bodies.append(body)
        for stmt in gast.walk(syntax.module(bodies[0] + bodies[1])):
            if isinstance(stmt, gast.stmt):
                anno.tag(stmt, line=self.line, role="adjoint")
        self.emit(syntax.if_(node.test, bodies[0], bodies[1]))
        for target, name in parts.items():
            if target in self.adjoint:
                self.contribute(target, syntax.name(name))
            else:
                self.adjoint[target] = name
                self.array_kind[name] = all(self.expr_is_array(b[1][target]) for b in branches)

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

    # -- statements -------------------------------------------------------------------------

    def statement(self, stmt):
        """The adjoint of one primal assignment."""
        target = stmt.targets[0].id
        if target not in self.adjoint or not self.activity.active(target):
            return
        self.line = anno.get(stmt, "line")
        op = self.activity.op(stmt)
        d_target = syntax.name(self.adjoint[target])
        if op.kind == "copy":
            self.contribute(op.operands[0], d_target)
        elif op.kind == "literal":
            self.literal(stmt.value, d_target)
        elif op.kind == "rule":
            self.rule(op, stmt, d_target)
        elif op.kind == "unknown":
            raise templates.no_rule_error(op.label.rstrip("()"),
                                          self.unit.info.location(self.line))

    def literal(self, value, d_target):
        if isinstance(value, gast.Dict):
            pairs = list(zip(value.keys, value.values))
        else:
            pairs = [(syntax.const(i), e) for i, e in enumerate(value.elts)]
        for key, elt in pairs:
            if isinstance(elt, gast.Name):
                self.contribute(elt.id, syntax.subscript(d_target, syntax.clone(key)))

    def rule(self, op, stmt, d_target):
        rule = op.rule
        try:
            bound = rule.bind(op.primal, op.args, op.keywords)
        except BindError as err:
            raise NoRuleError(f"{op.label}: {err}", self.unit.info.location(self.line),
                              hint="Call it without that argument, or add a rule that "
                                   "handles it with @srcgrad.adjoint.") from None
        items = rule.instantiate(bound, syntax.name(stmt.targets[0].id), d_target,
                                 self.namer.fresh, self.imports.ref)
        self.emit_items(items)

    # -- the whole function ----------------------------------------------------------------

    def run(self):
        unit = self.unit
        body = list(unit.body)
        returned = body.pop()            # normal form ends with its return
        seed = self.namer.adjoint(unit.output) if unit.output else self.namer.fresh("dout")
        if unit.output:
            self.adjoint[unit.output] = seed
            self.array_kind[seed] = self.kinds.get(unit.output, False)
        for stmt in reversed(body):
            if isinstance(stmt, gast.Assign):
                self.statement(stmt)
        grads = [syntax.name(self.adjoint[w]) if w in self.adjoint else syntax.const(None)
                 for w in self.wrt]
        self.line = anno.get(returned, "line")
        result = grads[0] if len(grads) == 1 else syntax.tuple_(grads)
        final = syntax.return_(syntax.tuple_([returned.value, result]))
        anno.tag(final, line=self.line, role="return")
        return Derivative(unit=unit, name=function_name(unit, self.wrt), seed=seed,
                          body=body + self.out + [final], imports=self.imports, wrt=self.wrt,
                          adjoints=dict(self.adjoint))


def differentiate(unit, activity, wrt):
    return Reverse(unit, activity, wrt).run()
