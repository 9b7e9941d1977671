"""Stage 5 in forward mode: each primal statement, then its tangent, from the forward rules.

    def loss_jvp(dW, W, b, x, y):
        # line 2: h = np.tanh(x @ W + b)
        xW = x @ W
        dxW = x @ dW
        z = xW + b
        dz = broadcast_like(dxW, z)
        h = np.tanh(z)
        dh = dz * (1 - h * h)
        ...
        return loss, dloss

`d[v]` in a forward rule becomes the tangent of `v` (`dv`), which has v's
shape. Control flow stays as the primal's: a tangent is computed wherever its
value is, so no tape is needed. Every name that may carry a tangent (varied)
has one wherever it is defined: a definition that does not depend on the
inputs (`h = np.zeros(n)`, a branch that sets a constant) gives a zero tangent.
Tangents alias one another as their primals do, except where the primal is a
new array that the function then writes into (`y = x + 0.0; y[0] = ...`): its
tangent is made a new array too (`own`), so that writing into it changes no
other tangent, nor the caller's.

A call `y = helper(x, w)` into a Python function becomes
`y, dy = helper_jvp(dx, dw, x, w)`: the tangents of the arguments that carry
one, then the call's own arguments as written (program.py generates it).
"""

from __future__ import annotations

import collections
import operator

import gast
import numpy

from . import analysis
from . import annotations as anno
from . import runtime, syntax, templates
from .errors import NoRuleError
from .imports import Imports, bind_runtime_references
from .reverse import Derivative
from .rule import BindError
from .walk import statements

# Calls whose result is always a new array (never one of their arguments or a view of it).
_FRESH_CALLS = (runtime.zero_tangent, runtime.cast_like, runtime.extremum_tangent,
                runtime.snapshot, runtime.prod_tangent, runtime.astype_tangent, runtime.own,
                numpy.where,
                numpy.sum, numpy.mean, numpy.dot, numpy.matmul, numpy.concatenate, numpy.stack,
                numpy.array, numpy.copy, numpy.zeros_like)


def _written_in_place(unit, activity):
    """Names whose arrays or lists the primal changes in place: `y[i] =`, `.append`,
    `.pop()`, `dx = add_into(dx, ...)`."""
    found = set()
    for stmt in statements(unit.body):
        if anno.get(stmt, "restore"):
            continue        # its tangent is put back into the very array that was written
        if id(stmt) in activity.ops and activity.op(stmt).kind in ("setitem", "append"):
            found.add(analysis.target_of(stmt))
        elif isinstance(stmt, gast.Assign) and anno.get(stmt, "pop"):
            found.add(anno.get(stmt, "pop"))
        elif isinstance(stmt, gast.Assign) and isinstance(stmt.value, gast.Call) \
                and anno.get(stmt, "inplace_of"):
            found.add(anno.get(stmt, "inplace_of"))
    return found


def _sharing(names, body, towards_sources):
    """`names` and what may share memory with them, through every assignment whose value
    normalize did not mark as a new object: towards the values they were made from
    (copies, carries and the arrays they view), or towards the names made from them."""
    found = set(names)
    changed = True
    while changed:
        changed = False
        for stmt in statements(body):
            if not (isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)) \
                    or anno.get(stmt, "fresh"):
                continue
            target, sources = stmt.targets[0].id, set(syntax.names_in(stmt.value, "load"))
            if anno.get(stmt, "inplace_of"):    # `dx = add_into(dx, i, g)` only reads g
                sources = {anno.get(stmt, "inplace_of")}
            if towards_sources and target in found and sources - found:
                found |= sources
                changed = True
            elif not towards_sources and target not in found and sources & found:
                found.add(target)
                changed = True
    return found


def function_name(unit):
    return f"{unit.name}_jvp"


class Forward:
    def __init__(self, unit, activity, wrt, program=None, index=0):
        self.unit = unit
        self.activity = activity
        self.wrt = tuple(wrt)
        self.program = program
        self.index = index
        self.namer = unit.namer
        used = {n.id for s in unit.body for n in gast.walk(s) if isinstance(n, gast.Name)}
        self.imports = Imports(unit.scope, self.namer, used)
        self.names = {}            # primal name -> tangent name
        self.primal_of = {}        # tangent name -> primal name
        self.line = None
        # the memory the function writes into, and the names that may see those writes
        self.written = _sharing(_written_in_place(unit, activity), unit.body, True)
        self.seen_written = _sharing(self.written, unit.body, False)
        self.definitions = collections.Counter(
            n for s in statements(unit.body) if isinstance(s, gast.Assign)
            for t in s.targets if isinstance(t, gast.Name) for n in [t.id])
        self.zeros = set()          # names assigned once, with a tangent that is zero
        bind_runtime_references(unit.body, self.imports)

    # -- names ------------------------------------------------------------------------------

    def varied(self, name):
        """Does `name` carry a tangent that may not be zero?"""
        return name in self.activity.varied and name not in self.zeros

    def tangent(self, name):
        if name not in self.names:
            self.names[name] = self.namer.adjoint(name)
            self.primal_of[self.names[name]] = name
        return self.names[name]

    def helper(self, name):
        return self.imports.ref(name, getattr(runtime, name))

    def of(self, node):
        """The tangent of an atom (a local name or a constant): its name, or a zero."""
        if isinstance(node, gast.Name) and self.varied(node.id):
            return syntax.name(self.tangent(node.id))
        return self.zero(node)

    def zero(self, node):
        if syntax.is_constant_expr(node) and isinstance(syntax.constant_value(node),
                                                        (int, float)):
            return syntax.const(0.0)
        return syntax.call(self.helper("zero_tangent"), [syntax.clone(node)])

    def tag(self, stmt):
        for node in gast.walk(stmt):
            if isinstance(node, gast.stmt):
                anno.tag(node, line=self.line, role="tangent")
        return stmt

    # -- statements -------------------------------------------------------------------------

    def block(self, body):
        out = []
        for stmt in body:
            if isinstance(stmt, gast.If):
                stmt.body, stmt.orelse = self.block(stmt.body), self.block(stmt.orelse)
                out.append(stmt)
            elif isinstance(stmt, (gast.For, gast.While)):
                stmt.body = self.block(stmt.body)
                out.append(stmt)
            else:
                out.extend(self.statement(stmt))
        return out

    def statement(self, stmt):
        """The primal statement (or its replacement) followed by its tangent statements."""
        self.line = anno.get(stmt, "line")
        if not isinstance(stmt, (gast.Assign, gast.Expr)) or id(stmt) not in self.activity.ops:
            return [stmt]
        op = self.activity.op(stmt)
        target = analysis.target_of(stmt)
        if target is None or not self.varied(target):
            return [stmt]
        if op.kind == "setitem":
            dbase = syntax.name(self.tangent(target))
            index = syntax.clone(stmt.targets[0].slice)
            write = syntax.assign(syntax.subscript(dbase, index, "store"), self.of(stmt.value))
            return [stmt, self.tag(write)]
        if analysis.is_append(stmt):
            call = syntax.call(syntax.attribute(syntax.name(self.tangent(target)), "append"),
                               [self.of(stmt.value.args[0])])
            return [stmt, self.tag(syntax.expr_stmt(call))]
        if not isinstance(stmt, gast.Assign):
            return [stmt]
        dtarget = syntax.name(self.tangent(target))
        if op.kind == "pop" and not self.varied(op.operands[0]):
            return [stmt, self.tag(syntax.assign(dtarget.id, self.zero(stmt.targets[0])))]
        if op.kind == "pop":            # the tangents' list gives back its last item
            call = syntax.call(syntax.attribute(syntax.name(self.tangent(op.operands[0])),
                                                "pop"), [])
            pop = self.tag(syntax.assign(dtarget.id, call))
            anno.set(pop, "impure", True)       # keeps the tangents' list in step
            return [stmt, pop]
        if op.kind == "copy":
            out = [syntax.assign(dtarget.id, self.of(stmt.value))]
        elif op.kind == "literal":
            out = [syntax.assign(dtarget.id, self.literal(stmt.value))]
        elif op.kind == "rule" and op.primal is operator.getitem:
            out = [syntax.assign(dtarget.id, self.structural(stmt.value, op))]
        elif op.kind == "rule":
            out = self.rule(op, stmt, dtarget)
        elif op.kind == "call":
            return self.call(stmt, op, dtarget)
        elif op.kind == "custom":
            out = self.rule(op, stmt, dtarget)
        elif op.kind == "unknown":
            raise templates.no_rule_error(op.label.rstrip("()"),
                                          self.unit.info.location(self.line))
        else:                   # a constant or a value with a zero derivative
            like = stmt.value if syntax.is_constant_expr(stmt.value) else stmt.targets[0]
            out = [syntax.assign(dtarget.id, self.zero(like))]
        if self.definitions[target] == 1 and target not in self.written \
                and isinstance(out[-1], gast.Assign) and self.is_zero(out[-1].value):
            self.zeros.add(target)      # later rules drop its terms, as for a constant
            return [stmt]
        if isinstance(out[-1], gast.Assign) and not anno.get(stmt, "carry") \
                and not anno.get(stmt, "inplace_of") \
                and (target in self.written or (anno.get(stmt, "fresh")
                                                and self.reads_written(out[-1].value))):
            # a new array, and kept one: one the function writes into (a carry is the
            # primal's own alias; `dx = add_into(dx, ...)` updates dx's tangent, which is
            # owned already), or a new primal whose tangent would see a later write
            if not self.is_fresh(out[-1].value):
                out[-1].value = syntax.call(self.helper("own"), [out[-1].value])
            anno.set(out[-1], "owns", True)
        return [stmt] + [self.tag(s) for s in out]

    def literal(self, value):
        if isinstance(value, gast.Dict):
            return gast.Dict(keys=[syntax.clone(k) for k in value.keys],
                             values=[self.of(v) for v in value.values])
        elts = [self.of(e) for e in value.elts]
        return syntax.list_(elts) if isinstance(value, gast.List) else syntax.tuple_(elts)

    def structural(self, value, op):
        """`y = x[i]` / `y = p.W`: the same read of the tangent (`dx[i]`, `dp.W`)."""
        if not self.varied(op.operands[0]):
            return self.zero(syntax.clone(value))
        node = syntax.clone(value)
        node.value = syntax.name(self.tangent(op.operands[0]))
        return node

    def rule(self, op, stmt, dtarget):
        rule = templates.registry().tangent_for(op.primal)
        location = self.unit.info.location(self.line)
        if rule is None and op.kind == "custom":
            label = op.label.rstrip("()")
            raise NoRuleError(
                f"{label} is a custom_vjp: its rule is for reverse mode only", location,
                hint=f"Add a forward rule with @srcgrad.tangent({label}), or differentiate "
                     "in reverse mode.")
        if rule is None:
            raise NoRuleError(
                f"{op.label.rstrip('()')} has a reverse-mode rule but no forward-mode rule, "
                "and a value that carries a tangent flows into it", location,
                hint=f"Add one with @srcgrad.tangent({op.label.rstrip('()')}) (see 'Adding "
                     "rules' in the README).")
        try:
            bound = rule.bind(op.primal, op.args, op.keywords)
        except BindError as err:
            raise NoRuleError(f"{op.label}: {err}", location,
                              hint="Call it without that argument, or add a rule that "
                                   "handles it with @srcgrad.tangent.") from None
        tangents = {p: syntax.name(self.tangent(node.id)) for p, node in bound.items()
                    if isinstance(node, gast.Name) and self.varied(node.id)}
        return rule.instantiate_tangent(bound, syntax.name(stmt.targets[0].id), dtarget,
                                        tangents, self.namer.fresh, self.imports.ref)

    def call(self, stmt, op, dtarget):
        """`y = helper(x, w)` -> `y, dy = helper_jvp(dx, dw, x, w)`."""
        from . import program as programs
        bound = programs.call_site(op.primal, op)
        if bound is None or self.program is None:
            raise templates.no_rule_error(op.label.rstrip("()"),
                                          self.unit.info.location(self.line))
        active = [p for p, node in bound.items()
                  if isinstance(node, gast.Name) and self.varied(node.id)]
        if not active:
            zero = self.tag(syntax.assign(dtarget.id, self.zero(stmt.targets[0])))
            return [stmt, zero]
        name = self.program.request_jvp(op.primal, active, self.index,
                                        programs.reach_text(stmt.value.func),
                                        self.unit.info.location(self.line))
        args = [self.of(bound[p]) for p in active] + [syntax.clone(a) for a in stmt.value.args]
        value = syntax.call(syntax.name(name), args,
                            [(k.arg, syntax.clone(k.value)) for k in stmt.value.keywords])
        target = syntax.tuple_([syntax.name(stmt.targets[0].id, "store"),
                                syntax.name(dtarget.id, "store")], "store")
        replacement = syntax.assign(target, value)
        anno.copy(stmt, replacement)
        return [replacement]

    def reads_written(self, expr):
        """Does `expr` read the tangent of a value that a later write may change?"""
        return any(self.primal_of.get(n) in self.seen_written
                   for n in syntax.names_in(expr, "load"))

    def is_zero(self, expr):
        if syntax.is_constant_expr(expr):
            return syntax.constant_value(expr) == 0
        return isinstance(expr, gast.Call) and isinstance(expr.func, gast.Name) \
            and self.imports.objects.get(expr.func.id) is runtime.zero_tangent

    def is_fresh(self, expr):
        """Is `expr` a new object that no other name refers to?"""
        if isinstance(expr, (gast.BinOp, gast.UnaryOp, gast.List, gast.Dict)):
            return True
        if isinstance(expr, gast.Call):
            obj = self.imports.resolve(expr.func)
            return isinstance(obj, numpy.ufunc) or any(obj is f for f in _FRESH_CALLS)
        return False

    # -- the whole function -----------------------------------------------------------------

    def run(self):
        unit = self.unit
        body = list(unit.body)
        returned = body.pop()            # normal form ends with its return
        params = [self.tangent(w) for w in self.wrt]
        start = []
        for p in unit.params:       # not moved, but assigned later from moved values
            if p not in self.wrt and p in self.activity.varied:
                self.line = anno.get(unit.parsed.tree, "line") or unit.parsed.tree.lineno
                start.append(self.tag(syntax.assign(self.tangent(p), self.zero(syntax.name(p)))))
        body = start + self.block(body)
        self.line = anno.get(returned, "line")
        out = returned.value
        if isinstance(out, gast.Tuple) and unit.has_aux:
            out = out.elts[0]
        dout = self.of(out) if unit.output else self.zero(out)
        final = syntax.return_(syntax.tuple_([returned.value, dout]))
        anno.tag(final, line=self.line, role="return")
        return Derivative(unit=unit, name=function_name(unit), seed=None, body=body + [final],
                          imports=self.imports, wrt=self.wrt, adjoints=dict(self.names),
                          segments=[], tape=None, tangent_params=params)
