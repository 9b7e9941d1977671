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

import copy
import dataclasses
import operator

import gast

from . import analysis
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
    segments: list          # tape.Segment records, for each straight run inside a loop
    tape: str               # the tape's name


@dataclasses.dataclass
class Segment:
    """A push/pop pair inside a loop: for a straight run, or for a compound's header."""

    pushes: list            # the Expr statements `tape.append(...)` (one per path)
    pop: object             # the statement `... = tape.pop()` in the adjoint
    adjoint: list           # the adjoint block the pop stands in
    loop: object            # the innermost primal loop around it
    kind: str               # "run": for its own statements; "header": for the compound
    line: int
    tape: str

    def new_push(self):
        push = syntax.expr_stmt(syntax.call(syntax.attribute(syntax.name(self.tape), "append"),
                                            [syntax.tuple_([])]))
        anno.tag(push, line=self.line, role="primal", tape=True)
        self.pushes.append(push)
        return push


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


# helpers whose result is a new object that keeps no reference to their arguments
_FRESH = _helpers("snapshot", "matmul_grad_left", "matmul_grad_right", "dot_grad_left",
                  "dot_grad_right", "extremum_adjoint", "prod_adjoint", "zero_adjoint",
                  "stack_adjoint", "concatenate_adjoint", "array_adjoint",
                  "np.full_like", "np.zeros_like", "np.ones_like", "np.where")
# helpers that do not keep their arguments (pop_adjoint takes an item off a list)
_COPYING = _FRESH + _helpers("pop_adjoint")


def _same(a, b):
    return (a.set, a.owned, a.sparse, a.maybe) == (b.set, b.owned, b.sparse, b.maybe)


def function_name(unit, wrt):
    parts = "_".join("d" + w for w in wrt) if wrt else "dnothing"
    return f"d{unit.name}_{parts}" if len(wrt) <= 3 else f"grad_{unit.name}"


_SIMPLE = (gast.Assign, gast.Expr, gast.Assert, gast.Raise)


class Reverse:
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
        self._bind_runtime_references()

    # -- what may hold a container ------------------------------------------------------

    def _array_valued(self):
        """Names whose values are arrays or numbers (never dict/list/tuple), so their
        adjoints are too: defined by array rules, or parameters only used by them."""
        defs, uses = {}, {}
        for stmt in analysis.statements(self.unit.body):
            if not isinstance(stmt, (gast.Assign, gast.Expr)) or id(stmt) not in self.activity.ops:
                continue
            op = self.activity.op(stmt)
            target = analysis.target_of(stmt)
            array_rule = op.kind == "rule" and op.primal is not operator.getitem
            if target is not None and op.kind not in ("setitem", "append"):
                made = array_rule or _in(op.primal, _ARRAY_CONSTRUCTORS)
                defs.setdefault(target, []).append(("copy", op.operands[0])
                                                   if op.kind == "copy" else made)
            if op.kind in ("rule", "call", "literal", "unknown", "setitem", "append"):
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

    def _bind_runtime_references(self):
        """Names srcgrad put in the primal code for its own helpers get imported."""
        for stmt in analysis.statements(self.unit.body):
            for node in gast.walk(stmt):
                obj = anno.get(node, "object") if isinstance(node, gast.Name) else None
                if obj is not None:
                    node.id = self.imports.ref(node.id, obj).id

    # -- adjoint variables -----------------------------------------------------------------

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
                isinstance(node, gast.Call) and self.resolve_helper(node.func) in _COPYING)
            for child in gast.iter_child_nodes(node):
                visit(child, inside)

        visit(expr, False)

    def resolve_helper(self, func):
        if isinstance(func, gast.Name):
            return self.imports.objects.get(func.id)
        if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name):
            module = self.imports.objects.get(func.value.id) or self.unit.scope.lookup(
                func.value.id)
            return getattr(module, func.attr, None) if module is not None else None
        return None

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
            helper = self.resolve_helper(expr.func)
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
        target = stmt.targets[0].id
        residuals = self.namer.fresh(f"{target}_res")
        value = syntax.call(syntax.name(fwd), [syntax.clone(a) for a in stmt.value.args],
                            [(k.arg, syntax.clone(k.value)) for k in stmt.value.keywords])
        replacement = syntax.assign(syntax.tuple_([syntax.name(target, "store"),
                                                   syntax.name(residuals, "store")], "store"),
                                    value)
        anno.copy(stmt, replacement)
        self.replacements[id(stmt)] = replacement
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
        restore = syntax.assign(syntax.subscript(syntax.name(base), syntax.clone(target.slice),
                                                 "store"), syntax.name(saved))
        out.append(self.tag(restore))
        anno.set(restore, "restore_of", base)
        anno.set(restore, "saved", saved)
        return [save], out

    def append(self, stmt):
        """`lst.append(v)`: v gets the list adjoint's last entry; the list shrinks back."""
        base = stmt.value.func.value.id
        item = stmt.value.args[0]
        out = []
        if self.activity.active(base) and self.state(base).set and isinstance(item, gast.Name):
            name = self.names[base]
            if not self.states[name].owned:
                out.append(self.tag(syntax.assign(name, syntax.call(syntax.name("list"),
                                                                    [syntax.name(name)]))))
                self.states[name].owned = True
            out += self.contribute(item.id, syntax.call(self.helper("pop_adjoint"),
                                                        [syntax.name(name), syntax.clone(item)]))
        undo = syntax.expr_stmt(syntax.call(syntax.attribute(syntax.name(base), "pop"), []))
        out.append(self.tag(undo))
        anno.set(undo, "restore_of", base)
        return out

    # -- blocks and control flow ---------------------------------------------------------------

    def block(self, stmts, loop, exits=()):
        """(primal block, adjoint block) for a block inside `loop` (None at top level).

        A block is straight runs and compound statements (if, loops). Built last part
        first, so that the adjoint block comes out in execution order. Inside loops,
        each run pushes the values its adjoint reads at its end; each compound pushes
        the values its reverse needs first (an if's condition, a loop's range and
        trips) after it ends, or, on a path that leaves the loop, before the `break`
        (`exits`: the pairs of the ifs around this block, innermost last).
        """
        parts, run = [], []
        for stmt in stmts:
            if isinstance(stmt, (gast.If, gast.For, gast.While)):
                parts.append(("run", run))
                parts.append(("compound", stmt))
                run = []
            else:
                run.append(stmt)
        parts.append(("run", run))
        primal_parts, adjoint = [], []
        for kind, item in reversed(parts):
            if kind == "compound":
                header = self.tape_pair(loop, item, adjoint, kind="header")
                inner_exits = list(exits) + [header] if isinstance(item, gast.If) else []
                p, a = self.compound(item, loop, inner_exits)
                adjoint.extend(a)
                primal_parts.append([p] + ([header.new_push()] if header else []))
            else:
                primal_parts.append(self.segment(item, loop, adjoint, exits))
        primal = [s for part in reversed(primal_parts) for s in part]
        return primal, adjoint

    def tape_pair(self, loop, near, adjoint, kind):
        """A push/pop pair (filled in by tape.py); its pop goes into `adjoint` now."""
        if loop is None:
            return None
        pop = syntax.assign(syntax.tuple_([], "store"), syntax.call(
            syntax.attribute(syntax.name(self.tape), "pop"), []))
        line = anno.get(near, "line") if near is not None else anno.get(loop, "line")
        anno.tag(pop, line=line, role="adjoint", tape=True, impure=True)
        adjoint.append(pop)
        segment = Segment(pushes=[], pop=pop, adjoint=adjoint, loop=loop, kind=kind,
                          line=line, tape=self.tape)
        self.segments.append(segment)
        return segment

    def segment(self, stmts, loop, adjoint, exits):
        """A straight run: its primal (with its push inside loops) and its adjoint, which
        is appended to `adjoint`. A run that ends in `break` also pushes for `exits`."""
        carries = []
        while stmts and anno.get(stmts[-1], "carry"):
            carries.insert(0, stmts[-1])
            stmts = stmts[:-1]
        breaks = []
        if stmts and isinstance(stmts[-1], gast.Break):
            breaks, stmts = [stmts[-1]], stmts[:-1]
            while stmts and anno.get(stmts[-1], "carry"):
                carries.insert(0, stmts[-1])
                stmts = stmts[:-1]
        for stmt in reversed(carries):
            _, a = self.statement(stmt)
            adjoint.extend(a)
        own = self.tape_pair(loop, stmts[-1] if stmts else None, adjoint, kind="run")
        extras = {}
        for stmt in reversed(stmts):
            before, a = self.statement(stmt)
            extras[id(stmt)] = before
            adjoint.extend(a)
        primal = []
        for stmt in stmts:
            primal.extend(extras[id(stmt)])
            primal.append(self.replacements.get(id(stmt), stmt))
        if own is not None:
            primal.append(own.new_push())
        primal.extend(carries)
        if breaks:
            primal.extend(pair.new_push() for pair in reversed(exits) if pair is not None)
        return primal + breaks

    def snapshot_states(self):
        return ({k: copy.copy(v) for k, v in self.states.items()}, dict(self.names),
                set(self.namer.taken), len(self.segments),
                dict(self.imports.names), dict(self.imports.sources), dict(self.imports.objects))

    def restore_states(self, snap):
        """Undo a trial run of a loop body; adjoint names it chose stay chosen."""
        states, names, taken, nseg, inames, isources, iobjects = snap
        self.states = {k: copy.copy(v) for k, v in states.items()}
        self.namer.taken = set(taken) | set(self.names.values())
        del self.segments[nseg:]
        self.imports.names, self.imports.sources, self.imports.objects = \
            dict(inames), dict(isources), dict(iobjects)

    def compound(self, stmt, loop, exits):
        self.line = anno.get(stmt, "line")
        if isinstance(stmt, gast.If):
            return self.if_(stmt, loop, exits)
        return self.loop(stmt, loop)

    def if_(self, stmt, loop, exits):
        """`if c:` reverses to `if c:` over the reversed branches; paths agree on set adjoints."""
        start = {k: copy.copy(v) for k, v in self.states.items()}
        body_p, body_a = self.block(stmt.body, loop, exits)
        after_body = self.states
        self.states = {k: copy.copy(v) for k, v in start.items()}
        else_p, else_a = self.block(stmt.orelse, loop, exits)
        after_else = self.states
        self.line = anno.get(stmt, "line")
        defined = anno.get(stmt, "defined") or frozenset()
        merged = {}
        primal_of = {n: p for p, n in self.names.items()}
        for name in sorted(set(after_body) | set(after_else)):
            a, b = after_body.get(name, _Adj()), after_else.get(name, _Adj())
            if a.set != b.set:         # zero on the path that left it unset
                zero, state = self.zeros(primal_of[name], defined)
                (else_a if a.set else body_a).append(zero)
                a, b = (a, state) if a.set else (state, b)
            merged[name] = _Adj(set=a.set, owned=a.owned and b.owned,
                                sparse=a.sparse or b.sparse, maybe=a.maybe or b.maybe)
        self.states = merged
        primal = syntax.if_(stmt.test, body_p, else_p)
        anno.copy(stmt, primal)
        adjoint = syntax.if_(syntax.clone(stmt.test), body_a, else_a)
        anno.tag(adjoint, line=anno.get(stmt, "line"), role="adjoint", primal_node=primal)
        return primal, [adjoint]

    def loop(self, stmt, outer):
        """The loop, and its reverse: as many iterations, last first, adjoints carried around.

        The reversed body is generated until the state of every adjoint at its start
        is the same for each iteration (set, owned): an adjoint the body adds to is
        set to zero before the reversed loop, and one it consumes is reset after.
        """
        before = {k: copy.copy(v) for k, v in self.states.items()}
        defined = anno.get(stmt, "defined") or frozenset()
        owning = []        # set adjoints made private before the loop, to be added to in place
        for name, state in sorted(before.items()):
            if state.set and not state.owned and not state.maybe:
                owning.append(name)
                state.owned = True
        entry = {k: copy.copy(v) for k, v in before.items()}
        primal_of = {}
        for _ in range(8):
            snap = self.snapshot_states()
            self.states = {k: copy.copy(v) for k, v in entry.items()}
            body_p, body_a = self.block(stmt.body, stmt)
            end = self.states
            primal_of = {n: p for p, n in self.names.items()}
            new_entry = {}
            for name in set(entry) | set(end):
                # the state at the top of the reversed body: as before the loop (or zeroed
                # there), merged with the state the body leaves for the next iteration
                a, b = before.get(name, _Adj()), end.get(name, _Adj())
                if not (a.set or b.set or entry.get(name, _Adj()).set):
                    new_entry[name] = _Adj()
                    continue
                primal = primal_of[name]
                made = self.zeros(primal, defined)[1]
                a = a if a.set else made
                b = b if b.set else made
                new_entry[name] = _Adj(set=True, owned=a.owned and b.owned,
                                       sparse=a.sparse or b.sparse, maybe=a.maybe or b.maybe)
            if all(_same(new_entry[n], entry.get(n, _Adj())) for n in new_entry):
                break
            self.restore_states(snap)
            entry = new_entry
        self.line = anno.get(stmt, "line")
        adjoint = []
        for name, state in sorted(entry.items()):
            if state.set and not before.get(name, _Adj()).set:
                adjoint.append(self.zeros(primal_of[name], defined)[0])   # before the reverse
            if state.set and not end.get(name, _Adj()).set:
                body_a.append(self.zeros(primal_of[name], defined)[0])    # for the next iteration
        for name in owning:
            if entry[name].owned:     # the loop adds to it in place: work on a copy
                copy_stmt = syntax.assign(name, syntax.call(self.helper("own"),
                                                            [syntax.name(name)]))
                adjoint.insert(0, self.tag(copy_stmt))
        self.states = {k: copy.copy(v) for k, v in entry.items()}
        primal = self.primal_loop(stmt, body_p)
        anno.set(stmt, "generated", primal)
        reversed_loop = self.reversed_loop(stmt, body_a, primal)
        anno.set(stmt, "reversed", reversed_loop)
        return primal, adjoint + [reversed_loop]

    def primal_loop(self, stmt, body):
        if isinstance(stmt, gast.For):
            node = gast.For(target=stmt.target, iter=stmt.iter, body=body, orelse=[],
                            type_comment=None)
        else:
            node = gast.While(test=stmt.test, body=body, orelse=[])
        anno.copy(stmt, node)
        return node

    def reversed_loop(self, stmt, body, primal):
        trips = anno.get(stmt, "trips")
        builtins_range = syntax.name("range")
        if isinstance(stmt, gast.For):
            span = syntax.clone(stmt.iter)
            if trips is not None:
                span = syntax.subscript(span, gast.Slice(lower=None, upper=syntax.name(trips),
                                                         step=None))
            iterable = syntax.call(syntax.name("reversed"), [span])
            target = syntax.clone(stmt.target)
        else:
            iterable = syntax.call(builtins_range, [syntax.name(trips)])
            target = syntax.name(self.namer.fresh("_"), "store")     # the trips only count
        node = gast.For(target=target, iter=iterable, body=body or [gast.Pass()], orelse=[],
                        type_comment=None)
        anno.tag(node, line=anno.get(stmt, "line"), role="adjoint", primal_node=primal)
        return node

    # -- the whole function ----------------------------------------------------------------------

    def run(self):
        unit = self.unit
        body = list(unit.body)
        returned = body.pop()            # normal form ends with its return
        seed = self.namer.adjoint(unit.output) if unit.output else self.namer.fresh("dout")
        if unit.output:
            self.names[unit.output] = seed
            self.states[seed] = _Adj(set=True, owned=False)
        primal, adjoint = self.block(body, None)
        self.line = anno.get(returned, "line")
        grads = []
        for w in self.wrt:
            if w in self.names and self.states[self.names[w]].set:
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
