"""Stage 5, reverse: the primal sweep, then the adjoint sweep, from the rules.

    def dloss_dW(W, b, x, y, dloss=1.0):
        <the primal statements>
        <the adjoint of each statement, last first: its rule, instantiated>
        return loss, dW

`d[v]` in a rule becomes the adjoint variable of `v` (`dv`). An adjoint is
either zero (it does not exist yet) or set; the first contribution assigns
it, later ones add to it, so no adjoint is initialised to zero unless paths
meet: after an `if` whose branches leave it set on one path only, or around
a loop whose iterations add to it. Adjoints srcgrad allocated itself are
added to in place (`dW += ...`).

Control flow reverses structurally: `if c:` again on the same `c`, a loop
over the same range backwards (`for t in reversed(rng)`), or as many times
as it ran (`trips`). Inside loops, values the adjoint reads are overwritten
by later iterations; each straight run of statements pushes them on a tape
(`tape.append(...)`) and its adjoint pops them back first (tape.py decides
which values, after optimization).
"""

from __future__ import annotations

import dataclasses
import operator

import gast

from . import analysis
from . import annotations as anno
from . import naming, syntax, templates
from .errors import NoRuleError
from .accumulate import _ARRAY_CONSTRUCTORS, Accumulate, _Adj, _in
from .imports import Imports, bind_runtime_references
from .walk import statements
from .reverse_flow import ReverseFlow, Segment  # noqa: F401 - part of this stage's API
from .rule import BindError


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
    segments: list          # tape.Segment records, for each straight run inside a loop
    tape: str               # the tape's name
    tangent_params: list = dataclasses.field(default_factory=list)   # forward mode: the
                            # parameters that take the inputs' tangents


def function_name(unit, wrt):
    parts = "_".join("d" + w for w in wrt) if wrt else "dnothing"
    return f"d{unit.name}_{parts}" if len(wrt) <= 3 else f"grad_{unit.name}"


_SIMPLE = (gast.Assign, gast.Expr, gast.Assert, gast.Raise)


class Reverse(Accumulate, ReverseFlow):
    def __init__(self, unit, activity, wrt, program=None, index=0):
        self.unit = unit
        self.program = program
        self.index = index              # this function's place in the program
        self.replacements = {}          # id(primal statement) -> the statement to emit
        self.activity = activity
        self.wrt = tuple(wrt)
        self.namer = unit.namer
        used = {n.id for s in unit.body for n in gast.walk(s) if isinstance(n, gast.Name)}
        self.imports = Imports(unit.scope, self.namer, used)
        self.names = {}          # primal name -> adjoint name
        self.states = {}         # adjoint name -> _Adj
        self.line = None
        self.segments = []
        self.tape = self.namer.fresh("tape")
        self.arrays = self._array_valued()
        bind_runtime_references(unit.body, self.imports)

    # -- what may hold a container ------------------------------------------------------

    def _array_valued(self):
        """Names whose values are arrays or numbers (never dict/list/tuple), so their
        adjoints are too: defined by array rules, or parameters only used by them."""
        defs, uses = {}, {}
        for stmt in statements(self.unit.body):
            if not isinstance(stmt, (gast.Assign, gast.Expr)) or id(stmt) not in self.activity.ops:
                continue
            op = self.activity.op(stmt)
            target = analysis.target_of(stmt)
            array_rule = op.kind == "rule" and op.primal is not operator.getitem
            if target is not None and op.kind not in ("setitem", "append"):
                made = array_rule or _in(op.primal, _ARRAY_CONSTRUCTORS)
                defs.setdefault(target, []).append(("copy", op.operands[0])
                                                   if op.kind == "copy" else made)
            if op.kind in ("rule", "call", "custom", "literal", "unknown", "setitem", "append"):
                for name in op.operands:
                    uses.setdefault(name, []).append(array_rule)
        arrays = {p for p in self.unit.params if uses.get(p) and all(uses[p])}
        changed = True
        while changed:
            changed = False
            for name, kinds in defs.items():
                if name in arrays or name in self.unit.params:
                    continue
                if all(k is True or (isinstance(k, tuple) and k[1] in arrays) for k in kinds):
                    arrays.add(name)
                    changed = True
        return arrays

    # -- adjoint variables -----------------------------------------------------------------


    # -- simple statements -----------------------------------------------------------------------

    def statement(self, stmt):
        """The adjoint statements of one simple primal statement (primal extras, adjoint)."""
        self.line = anno.get(stmt, "line")
        if not isinstance(stmt, (gast.Assign, gast.Expr)) or id(stmt) not in self.activity.ops:
            return [], []
        op = self.activity.op(stmt)
        if op.kind == "setitem":
            return self.set_item(stmt)
        if analysis.is_append(stmt):
            return [], self.append(stmt)
        if op.kind == "pop":
            return [], self.pop(stmt)
        if not isinstance(stmt, gast.Assign):
            return [], []
        target = stmt.targets[0].id
        if not self.activity.active(target) or not self.state(target).set:
            if target in self.names:
                self.states[self.names[target]] = _Adj()
            return [], []
        d_target = syntax.name(self.names[target])
        out = []
        if self.states[self.names[target]].maybe:
            fill = syntax.call(self.helper("filled"), [syntax.clone(d_target), syntax.name(target)])
            out.append(self.tag(syntax.assign(d_target.id, fill)))
            self.states[d_target.id] = _Adj(set=True, owned=False, sparse=True)
        if op.kind == "copy":
            out = self.contribute(op.operands[0], d_target)
        elif op.kind == "literal":
            out = self.literal(stmt.value, d_target)
        elif op.kind == "rule":
            out = self.rule(op, stmt, d_target)
        elif op.kind == "call":
            out = self.call(stmt, op, d_target)
        elif op.kind == "custom":
            out = self.custom(stmt, op, d_target)
        elif op.kind == "unknown":
            raise templates.no_rule_error(op.label.rstrip("()"),
                                          self.unit.info.location(self.line))
        if target not in op.operands:
            self.states[self.names[target]] = _Adj()    # the value before this one starts at zero
        return [], out

    def literal(self, value, d_target):
        """(a, b) / [a, b] / {k: a}: each element gets its entry of the adjoint."""
        if isinstance(value, gast.Dict):
            pairs = list(zip(value.keys, value.values))
        else:
            pairs = [(syntax.const(i), e) for i, e in enumerate(value.elts)]
        sparse = self.states[d_target.id].sparse
        out = []
        for key, elt in pairs:
            if not isinstance(elt, gast.Name):
                continue
            if sparse:      # a missing entry is a zero of the element's shape
                item = syntax.call(self.helper("entry"), [syntax.clone(d_target),
                                                          syntax.clone(key), syntax.clone(elt)])
            else:
                item = syntax.subscript(syntax.clone(d_target), syntax.clone(key))
            out.extend(self.contribute(elt.id, item))
        return out

    def rule(self, op, stmt, d_target):
        rule = op.rule
        if rule is None:
            label = op.label.rstrip("()")
            raise NoRuleError(
                f"{label} has a forward-mode rule but no reverse-mode rule, and a value that "
                "carries a gradient flows into it", self.unit.info.location(self.line),
                hint=f"Add one with @srcgrad.adjoint({label}) (see 'Adding rules' in the "
                     "README).")
        try:
            bound = rule.bind(op.primal, op.args, op.keywords)
        except BindError as err:
            raise NoRuleError(f"{op.label}: {err}", self.unit.info.location(self.line),
                              hint="Call it without that argument, or add a rule that "
                                   "handles it with @srcgrad.adjoint.") from None
        items = rule.instantiate(bound, syntax.name(stmt.targets[0].id), d_target,
                                 self.namer.fresh, self.imports.ref)
        return self.items(items)

    def call(self, stmt, op, d_target):
        """`y = helper(x, w)` -> primal `y, y_res = helper_fwd(x, w)`, adjoint
        `dx, dw = helper_bwd(y_res, dy)` (program.py)."""
        from . import program as programs
        bound = programs.call_site(op.primal, op)
        if bound is None or self.program is None:
            raise templates.no_rule_error(op.label.rstrip("()"),
                                          self.unit.info.location(self.line))
        active = [p for p, node in bound.items()
                  if isinstance(node, gast.Name) and self.activity.active(node.id)]
        if not active:
            return []
        location = self.unit.info.location(self.line)
        fwd, bwd = self.program.request(op.primal, active, self.index,
                                        programs.reach_text(stmt.value.func), location)
        residuals = self.split_call(stmt, syntax.name(fwd))
        backward = syntax.call(syntax.name(bwd), [syntax.name(residuals), syntax.clone(d_target)])
        if len(active) == 1:
            return self.contribute(bound[active[0]].id, backward)
        args = [bound[p].id for p in active]
        direct = len(set(args)) == len(args) and not any(self.state(a).set for a in args)
        if direct:          # first contributions: the results are the adjoints themselves
            names = [self.name_of(a) for a in args]
            for name in names:
                self.states[name] = _Adj(set=True)
            return [self.tag(syntax.assign(syntax.tuple_(
                [syntax.name(n, "store") for n in names], "store"), backward))]
        parts = [self.namer.fresh(f"d{bound[p].id}_{p}") for p in active]
        out = [self.tag(syntax.assign(syntax.tuple_([syntax.name(n, "store") for n in parts],
                                                    "store"), backward))]
        for param, part in zip(active, parts):
            out.extend(self.contribute(bound[param].id, syntax.name(part)))
        return out

    def split_call(self, stmt, fwd):
        """`y = f(args)` becomes `y, y_res = fwd(args)` in the primal sweep; returns the
        residuals' name."""
        target = stmt.targets[0].id
        residuals = self.namer.fresh(f"{target}_res")
        value = syntax.call(fwd, [syntax.clone(a) for a in stmt.value.args],
                            [(k.arg, syntax.clone(k.value)) for k in stmt.value.keywords])
        replacement = syntax.assign(syntax.tuple_([syntax.name(target, "store"),
                                                   syntax.name(residuals, "store")], "store"),
                                    value)
        anno.copy(stmt, replacement)
        self.replacements[id(stmt)] = replacement
        return residuals

    def custom(self, stmt, op, d_target):
        """`y = f(x, w)` with f a custom_vjp -> primal `y, y_res = f.fwd(x, w)`, adjoint
        `dx_f, dw_f = f.bwd(y_res, dy)` (one cotangent per positional parameter)."""
        from . import program as programs
        location = self.unit.info.location(self.line)
        fun = op.primal
        if fun.fwd is None or fun.bwd is None:
            raise NoRuleError(f"{op.label.rstrip('()')} is a custom_vjp with no rule yet",
                              location, hint="Call its defvjp(fwd, bwd) before differentiating.")
        bound = programs.call_site(fun.fun, op)
        params = list(programs.signature_params(fun.fun))
        if bound is None or any(p not in params for p in bound):
            raise NoRuleError(f"{op.label}: custom_vjp functions take positional parameters "
                              "only", location)
        func = syntax.clone(stmt.value.func)
        residuals = self.split_call(stmt, syntax.attribute(func, "fwd"))
        parts = []          # a name per cotangent bwd returns, `_` for those not needed
        for p in params:
            node = bound.get(p)
            active = isinstance(node, gast.Name) and self.activity.active(node.id)
            parts.append(self.namer.fresh(f"d{node.id}_{naming.sanitize(fun.__name__)}")
                         if active else "_")
        backward = syntax.call(syntax.attribute(syntax.clone(func), "bwd"),
                               [syntax.name(residuals), syntax.clone(d_target)])
        targets = syntax.tuple_([syntax.name(n, "store") for n in parts], "store")
        out = [self.tag(syntax.assign(targets, backward))]
        for param, part in zip(params, parts):
            if part != "_":
                out.extend(self.contribute(bound[param].id, syntax.name(part)))
        return out

    def set_item(self, stmt):
        """`y[i] = v`: v gets what y had at i; then y at i has no gradient; y is restored."""
        target = stmt.targets[0]
        base, index = target.value.id, _index_expr(target.slice)
        saved = self.namer.fresh(f"{base}_old")
        save = syntax.assign(saved, syntax.call(self.helper("snapshot"),
                                                [syntax.name(base), syntax.clone(index)]))
        anno.tag(save, line=self.line, role="primal", restore_of=base)
        out = []
        if self.activity.active(base) and self.state(base).set:
            name = self.names[base]
            if isinstance(stmt.value, gast.Name):
                taken = syntax.call(self.helper("snapshot"), [syntax.name(name),
                                                              syntax.clone(index)])
                out += self.contribute(stmt.value.id, syntax.call(
                    self.helper("unbroadcast"), [taken, syntax.clone(stmt.value)]))
            owned = self.states[name].owned
            args = [syntax.name(name), syntax.clone(index)]
            if not owned:
                args.append(gast.keyword(arg="copy", value=syntax.const(True)))
            call = syntax.call(self.helper("zero_at"), args[:2])
            if not owned:
                call.keywords = [args[2]]
            out.append(self.tag(syntax.assign(name, call)))
            self.states[name] = _Adj(set=True, owned=True)
        restore = syntax.expr_stmt(syntax.call(self.helper("restore"), [
            syntax.name(base), syntax.clone(index), syntax.name(saved)]))
        out.append(self.tag(restore))
        anno.set(restore, "impure", True)
        anno.set(restore, "restore_of", base)
        anno.set(restore, "saved", saved)
        return [save], out

    def append(self, stmt):
        """`lst.append(v)`: v gets the list adjoint's last entry; the list shrinks back."""
        base = stmt.value.func.value.id
        item = stmt.value.args[0]
        out = []
        if self.activity.active(base) and self.state(base).set:
            name = self.names[base]
            if not self.states[name].owned:
                out.append(self.tag(syntax.assign(name, syntax.call(syntax.name("list"),
                                                                    [syntax.name(name)]))))
                self.states[name].owned = True
            taken = syntax.call(self.helper("pop_adjoint"), [syntax.name(name),
                                                             syntax.clone(item)])
            if isinstance(item, gast.Name) and self.activity.active(item.id):
                out += self.contribute(item.id, taken)
            else:       # the item carries no gradient, but its entry leaves the list too
                out.append(self.tag(syntax.expr_stmt(syntax.call(
                    syntax.attribute(syntax.name(name), "pop"), []))))
        undo = syntax.expr_stmt(syntax.call(syntax.attribute(syntax.name(base), "pop"), []))
        out.append(self.tag(undo))
        anno.set(undo, "restore_of", base)
        return out

    def pop(self, stmt):
        """`v = lst.pop()`: the list's adjoint gets v's back as its last entry; the list gets
        v back (the reverse of `lst.append(v)`)."""
        base = anno.get(stmt, "pop")
        target = stmt.targets[0].id
        out = []
        if self.activity.active(base):
            name = self.name_of(base)
            state = self.states[name]
            if not state.set:       # no adjoint yet: one (zero) entry per item left in the list
                size = syntax.call(syntax.name("len"), [syntax.name(base)])
                value = syntax.binop(syntax.list_([syntax.const(None)]), "*", size)
                out.append(self.tag(syntax.assign(name, value)))
            elif not state.owned:
                out.append(self.tag(syntax.assign(name, syntax.call(syntax.name("list"),
                                                                    [syntax.name(name)]))))
            item = syntax.const(None)
            if self.activity.active(target) and self.state(target).set:
                item = syntax.name(self.names[target])
            out.append(self.tag(syntax.expr_stmt(syntax.call(
                syntax.attribute(syntax.name(name), "append"), [item]))))
            self.states[name] = _Adj(set=True, owned=True, sparse=True)
        if target in self.names:
            self.states[self.names[target]] = _Adj()     # v before the pop: no adjoint
        undo = syntax.expr_stmt(syntax.call(syntax.attribute(syntax.name(base), "append"),
                                            [syntax.name(target)]))
        out.append(self.tag(undo))
        anno.set(undo, "restore_of", base)
        return out

    # -- the whole function ----------------------------------------------------------------------

    def run(self):
        unit = self.unit
        body = list(unit.body)
        returned = body.pop()            # normal form ends with its return
        seed = self.namer.adjoint(unit.output) if unit.output else self.namer.fresh("dout")
        if unit.output:
            self.names[unit.output] = seed
            # a callee's seed comes from its caller's code: a container adjoint there may
            # lack entries (None), as its caller built it
            self.states[seed] = _Adj(set=True, owned=False, sparse=self.index > 0)
        primal, adjoint = self.block(body, None)
        self.line = anno.get(returned, "line")
        grads = []
        for w in self.wrt:
            if w in self.names and self.states.get(self.names[w], _Adj()).set:
                grads.append(syntax.name(self.names[w]))
            else:
                grads.append(syntax.const(None))
        result = grads[0] if len(grads) == 1 else syntax.tuple_(grads)
        final = syntax.return_(syntax.tuple_([returned.value, result]))
        anno.tag(final, line=self.line, role="return")
        start = []
        if self.segments:
            start = [anno.tag(syntax.assign(self.tape, syntax.list_([])),
                              line=anno.get(unit.parsed.tree, "line") or unit.parsed.tree.lineno,
                              role="primal", impure=True)]
        return Derivative(unit=unit, name=function_name(unit, self.wrt), seed=seed,
                          body=start + primal + adjoint + [final], imports=self.imports,
                          wrt=self.wrt, adjoints=dict(self.names), segments=self.segments,
                          tape=self.tape)


def _index_expr(node):
    from .primitives import index_expr
    return index_expr(node)


def differentiate(unit, activity, wrt):
    return Reverse(unit, activity, wrt).run()
