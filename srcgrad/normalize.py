"""Stage 3b, normalize: one operation per statement, one definition per name per path.

    h = np.tanh(x @ W + b)            xW = x @ W
                              ->      z = xW + b
                                      h = np.tanh(z)

Every call, operator, attribute read, subscript and container literal gets a
statement of its own, assigned to a temporary named after what it holds
(naming.hint_for). Operands are atoms: local names, constants, or static
expressions that involve no local name (`np.pi`, `1 - 1e-7`, `CONFIG.lr`).

Names get versions so that a value the derivative needs is never
overwritten where no tape could restore it: a name assigned again gets a
new version (`h`, `h_2`). Where paths meet, one name stands for the
variable: after an `if`, a version both branches assign (or a copy at the
end of a branch, marked `carry`); in a loop, a loop name that the body
reads at its start and sets again at its end (and before each `break`).
Loops become `for i in <range>` or `while True` (desugar.py); a loop that
may stop early counts its trips. `a if c else b`, `a and b` and list
comprehensions become statements. Each statement is annotated with the
user's line it came from.
"""

from __future__ import annotations

import dataclasses

import gast
import numpy

from . import annotations as anno
from . import desugar, naming, runtime, syntax
from .aliasing import AliasCheck, list_copied
from .errors import UnsupportedSyntaxError
from .flow import ControlFlow, annotate_definedness, undefined_carry_sources
from .lowering import Lowering, assigned_names

# Callables that always return a new object (never a view of an argument).
_FRESH_CALLS = {numpy.sum, numpy.mean, numpy.prod, numpy.max, numpy.min, numpy.dot,
                numpy.matmul, numpy.concatenate, numpy.stack, numpy.array, numpy.copy,
                numpy.zeros, numpy.ones, numpy.full, numpy.zeros_like, numpy.ones_like,
                numpy.full_like, numpy.empty_like, numpy.empty, numpy.where, numpy.clip,
                numpy.eye, numpy.arange, numpy.linspace}
_FRESH_METHODS = {"sum", "mean", "prod", "max", "min", "copy", "dot", "astype", "clip"}
# srcgrad's runtime helpers (in generated code, differentiated again) that make new
# arrays (runtime.IN_PLACE_HELPERS update their first argument instead).
_FRESH_CALLS |= {runtime.grad_at, runtime.add_at, runtime.matmul_grad_left,
                 runtime.matmul_grad_right, runtime.dot_grad_left, runtime.dot_grad_right,
                 runtime.extremum_adjoint, runtime.prod_adjoint, runtime.zero_adjoint,
                 runtime.own, runtime.snapshot, runtime.zero_tangent, runtime.cast_like,
                 runtime.stack_adjoint, runtime.concatenate_adjoint, runtime.array_adjoint}



@dataclasses.dataclass
class Normalized:
    """A function in normal form."""

    parsed: object
    name: str
    params: list            # parameter names, positional first
    body: list              # gast statements in normal form
    output: object          # internal name of the differentiated output, or None
    namer: naming.Namer
    locals: set             # every internal name assigned in `body`
    has_aux: bool
    written_params: list    # parameters the function writes into (copied on entry)
    temporaries: set = dataclasses.field(default_factory=set)   # names normalize made up

    @property
    def info(self):
        return self.parsed.info

    @property
    def scope(self):
        return self.parsed.scope

    @property
    def arguments(self):
        return self.parsed.tree.args


class Normalizer(ControlFlow, Lowering, AliasCheck):
    """Statement by statement into normal form; control flow (flow.py), expressions that
    become statements (lowering.py) and the check of in-place writes (aliasing.py) are
    in mixins."""

    def __init__(self, parsed, has_aux=False):
        self.parsed = parsed
        self.tree = parsed.tree
        args = self.tree.args
        self.params = [a.id for a in args.posonlyargs + args.args + args.kwonlyargs]
        every_name = {n.id for n in gast.walk(self.tree) if isinstance(n, gast.Name)}
        self.namer = naming.Namer(every_name)
        self.result = self.tree.name if self.tree.name not in every_name else \
            self.namer.fresh("out")
        self.namer.reserve(self.result)
        desugar.desugar(self.tree, self.namer, self.result)
        self.user_locals = assigned_names(self.tree) | set(self.params)
        self.version = {p: p for p in self.params}
        self.fresh = set()        # versions that hold a new object no other name shares
        # loop names taken as new objects while their loop is normalized (their value on
        # entry is one): the lines that wrote into them in place, and those that turned
        # out to receive something else at the end of an iteration (flow.py)
        self.assumed_fresh = {}
        self.not_fresh = set()
        self.temps = set()        # every name this stage introduces
        self.anf_temps = set()    # temporaries holding one operation's result
        self.read_names = set()   # versions read so far
        self.written_params = []
        self.local_functions = {}  # name -> FunctionDef of a nested def or lambda
        self.constants = {}       # name -> the constant a nested function's parameter holds
        self.inlining = []        # names of the nested functions being inlined
        self.literals = {}        # name -> the tuple literal it was assigned (once)
        self.writes = []          # (name, line) of each in-place update
        # differentiating srcgrad's own gradient code: the list that is its tape, whose
        # pushes and pops the aliasing check leaves alone (what comes off it is what the
        # gradient needs, restores included: the reverse stage sees to that)
        self.tape = getattr(parsed.fun, "__srcgrad_tape__", None)
        self.loops = []
        self.body = []
        self.line = self.tree.lineno
        self.has_aux = has_aux
        self.output = None

    # -- helpers -------------------------------------------------------------------

    def error(self, message, hint=None):
        return UnsupportedSyntaxError(message, self.parsed.info.location(self.line), hint=hint)

    def emit(self, stmt, **notes):
        anno.tag(stmt, line=self.line, role="primal", **notes)
        self.body.append(stmt)
        return stmt

    def read(self, ident):
        if ident in self.constants and ident not in self.version:
            return syntax.clone(self.constants[ident])
        if ident in self.local_functions:
            raise self.error(f"the nested function `{ident}` is used as a value; srcgrad "
                             "differentiates calls to nested functions, not functions passed "
                             "around", hint="Call it directly, or define it at module level.")
        if ident in self.version:
            self.read_names.add(self.version[ident])
            return syntax.name(self.version[ident])
        if ident in self.user_locals:
            raise self.error(f"`{ident}` is used before it is assigned",
                             hint=f"Assign `{ident}` before this line (it is a local name "
                                  "because the function assigns it).")
        return syntax.name(ident)

    def write(self, ident):
        if ident not in self.version and ident not in self.params \
                and ident not in self.temps:
            new = ident          # the user's own name, kept for its first definition
        else:
            new = self.namer.fresh(ident)
        self.version[ident] = new
        self.temps.add(new)
        return new

    def is_static(self, node):
        """No local names, no calls: a value fixed before the function runs."""
        if isinstance(node, gast.Constant):
            return True
        if isinstance(node, gast.Name):
            return node.id not in self.user_locals and node.id not in self.temps
        if isinstance(node, gast.Attribute):
            return self.is_static(node.value)
        if isinstance(node, (gast.Tuple, gast.List)):
            return all(self.is_static(e) for e in node.elts)
        if isinstance(node, gast.BinOp):
            return self.is_static(node.left) and self.is_static(node.right)
        if isinstance(node, gast.UnaryOp):
            return self.is_static(node.operand)
        return False

    def sub_block(self, stmts, versions):
        """Normalize `stmts` into a new list, starting from `versions`; returns (list, versions)."""
        saved_body, saved_version = self.body, self.version
        self.body, self.version = [], dict(versions)
        try:
            for stmt in stmts:
                self.statement(stmt)
            return self.body, self.version
        finally:
            self.body, self.version = saved_body, saved_version

    # -- expressions -----------------------------------------------------------------

    def atom(self, node, hint=None):
        """An operand: a name, a constant or a static expression."""
        value = self.simple(node)
        if isinstance(value, (gast.Name, gast.Constant)) or self.is_static(value):
            return value
        return self._temp(value, hint)

    def _temp(self, value, hint=None):
        temp = self.namer.fresh(hint or naming.hint_for(value))
        self.define(temp, value)
        self.anf_temps.add(temp)
        return syntax.name(temp)

    def define(self, target, value):
        self.temps.add(target)
        if isinstance(value, gast.Tuple):
            self.literals[target] = value
        stmt = self.emit(syntax.assign(target, value))
        if self.makes_new_object(value):
            self.fresh.add(target)
            anno.set(stmt, "fresh", True)       # its value shares memory with nothing
        elif isinstance(value, gast.Name) and value.id in self.fresh:
            # `b = a`: one new object under two names. Either may be written into; a read
            # of the other after that is refused by the aliasing check (aliasing.py).
            self.fresh.add(target)
        else:
            self.fresh.discard(target)
        return stmt

    def updated_argument(self, value):
        """The argument a call updates in place and returns (add_into, zero_at), if any."""
        if not (isinstance(value, gast.Call) and value.args
                and isinstance(value.args[0], gast.Name)):
            return None
        obj = self.parsed.scope.resolve(value.func, self.user_locals | self.temps)
        if not _in(obj, runtime.IN_PLACE_HELPERS):
            return None
        copies = any(k.arg == "copy" and not (isinstance(k.value, gast.Constant)
                                              and k.value.value is False)
                     for k in value.keywords)
        return None if copies else value.args[0]

    def makes_new_object(self, value):
        if isinstance(value, (gast.BinOp, gast.UnaryOp, gast.Compare, gast.Constant)):
            return True
        if isinstance(value, gast.List) or _is_list_copy(value):
            return True             # a new list (a copy holds the same items: aliasing.py)
        if isinstance(value, gast.Subscript) and _is_fancy_index(value.slice):
            return True             # `w[[1, 0, 3, 2]]`: NumPy copies what it picks
        if isinstance(value, gast.Call):
            func = value.func
            if isinstance(func, gast.Attribute) and not self.is_static(func):
                return func.attr in _FRESH_METHODS
            obj = self.parsed.scope.resolve(func, self.user_locals | self.temps)
            if obj is runtime.unbroadcast and value.args:   # its argument, or a new array
                first = value.args[0]
                return isinstance(first, gast.Name) and first.id in self.fresh
            if _in(obj, runtime.IN_PLACE_HELPERS):           # with copy=True
                return self.updated_argument(value) is None
            return isinstance(obj, numpy.ufunc) or _in(obj, _FRESH_CALLS)
        return False

    def simple(self, node):
        """`node` as one operation whose operands are atoms (or an atom itself)."""
        method = getattr(self, "simple_" + type(node).__name__, None)
        if method is None:
            raise self.error(f"`{syntax.unparse(node)}` ({type(node).__name__}) is not supported")
        return method(node)

    def simple_Name(self, node):
        return self.read(node.id)

    def simple_Constant(self, node):
        return node

    def simple_BinOp(self, node):
        if self.is_static(node):
            return node
        return syntax.binop(self.atom(node.left), node.op, self.atom(node.right))

    def simple_UnaryOp(self, node):
        if self.is_static(node):
            return node
        return gast.UnaryOp(op=node.op, operand=self.atom(node.operand))

    def simple_Compare(self, node):
        left = self.atom(node.left)
        return gast.Compare(left=left, ops=node.ops,
                            comparators=[self.atom(c) for c in node.comparators])


    def simple_JoinedStr(self, node):
        return self.renamed(node)

    def renamed(self, node):
        node = syntax.clone(node)
        for sub in gast.walk(node):
            if isinstance(sub, gast.Name) and isinstance(sub.ctx, gast.Load):
                sub.id = self.read(sub.id).id
        return node

    def simple_Attribute(self, node):
        if self.is_static(node):
            return node
        return syntax.attribute(self.atom(node.value), node.attr)

    def simple_Subscript(self, node):
        return syntax.subscript(self.atom(node.value), self.index(node.slice))

    def index(self, node):
        if isinstance(node, gast.Slice):
            parts = [None if p is None else self.atom(p)
                     for p in (node.lower, node.upper, node.step)]
            return gast.Slice(lower=parts[0], upper=parts[1], step=parts[2])
        if isinstance(node, gast.Tuple):
            return syntax.tuple_([self.index(e) for e in node.elts])
        return self.atom(node)

    def simple_Call(self, node):
        func = node.func
        if isinstance(func, gast.Name) and func.id in self.local_functions:
            return self.inline(func.id, node)
        if isinstance(func, gast.Lambda):
            raise self.error("calling a lambda where it is written is not supported",
                             hint="Name it first: `f = lambda ...`, then call f.")
        if self.calls_helper(node, runtime.pop_adjoint, 2):
            return self.pop_adjoint(*node.args)
        if self.is_static(func):
            callee = func
        elif isinstance(func, gast.Attribute):
            callee = syntax.attribute(self.atom(func.value), func.attr)
        else:
            callee = self.atom(func)
        args = [self.atom(a) for a in node.args]
        keywords = []
        for kw in node.keywords:
            if kw.arg is None:
                raise self.error("`**kwargs` in a call is not supported",
                                 "Pass the keyword arguments by name.")
            keywords.append((kw.arg, self.atom(kw.value)))
        return syntax.call(callee, args, keywords)

    def simple_Tuple(self, node):
        if self.is_static(node):
            return node
        return syntax.tuple_([self.atom(e) for e in node.elts])

    def simple_List(self, node):
        return syntax.list_([self.atom(e) for e in node.elts])

    def simple_Dict(self, node):
        if any(k is None for k in node.keys):
            raise self.error("`**mapping` in a dict literal is not supported",
                             "Write the entries out.")
        keys = [self.atom(k) for k in node.keys]
        values = [self.atom(v) for v in node.values]
        return gast.Dict(keys=keys, values=values)

    # -- statements ----------------------------------------------------------------------

    def statement(self, stmt):
        saved = self.line
        self.line = getattr(stmt, "lineno", None) or self.line
        method = getattr(self, "visit_" + type(stmt).__name__, None)
        if method is None:
            raise self.error(f"the statement `{type(stmt).__name__}` is not supported")
        method(stmt)
        self.line = saved

    def visit_Assign(self, stmt):
        if len(stmt.targets) == 1:
            self.assign(stmt.targets[0], stmt.value)
            return
        value = self.atom(stmt.value)
        for target in stmt.targets:
            self.assign(target, value)

    def visit_AnnAssign(self, stmt):
        if stmt.value is not None:
            self.assign(stmt.target, stmt.value)

    def assign(self, target, value):
        if isinstance(target, gast.Name) and isinstance(value, gast.Lambda):
            fdef = gast.FunctionDef(name=target.id, args=value.args,
                                    body=[gast.Return(value=value.body)], decorator_list=[],
                                    returns=None, type_comment=None, type_params=[])
            for part in (fdef, fdef.body[0]):
                gast.copy_location(part, value)
                part.end_lineno = value.end_lineno
            self.visit_FunctionDef(fdef)
            return
        if _is_pop(value):
            base = self.local_object(value.func.value, "`.pop`")
            if base.id in self.params:
                raise self.error(f"`.pop` would change the caller's list `{base.id}`",
                                 hint=f"Build a new list: `{base.id} = list({base.id})` first.")
            call = syntax.call(syntax.attribute(base, "pop"), [])
            tape = value.func.value.id == self.tape
            if not isinstance(target, gast.Name):       # `a, b = lst.pop()`
                item = self.namer.fresh("item")
                self.temps.add(item)
                self.anf_temps.add(item)
                anno.tag(self.define(item, call), pop=base.id, impure=True, gradient_tape=tape)
                self.assign(target, syntax.name(item))
                return
            stmt = self.define(self.write(target.id), call)
            anno.tag(stmt, pop=base.id, impure=True, gradient_tape=tape)    # kept even when unused
            return
        if isinstance(target, gast.Name):
            updated = self.updated_argument(value)
            if updated is not None:         # `dx = add_into(dx, i, g)`: dx changes in place
                current = self.local_object(updated, "this call")
                simple = self.simple(value)
                stmt = self.define(self.write(target.id), simple)
                anno.set(stmt, "inplace_of", current.id)
                self.fresh.add(stmt.targets[0].id)     # the updated array: still unshared
                return
            simple = self.simple(value)         # reads the old version, before the write
            self.define(self.write(target.id), simple)
            return
        if isinstance(target, gast.Subscript):
            self.set_item(target, self.atom(value))
            return
        # tuple / list unpacking
        if isinstance(value, (gast.Tuple, gast.List)) and len(value.elts) == len(target.elts):
            if all(isinstance(sub, gast.Name) for sub in target.elts):
                # Every value is computed before any name is rebound (`a, b = b, a`);
                # their last operations are pure, so they may run in the binding order.
                values = [self.simple(e) for e in value.elts]
                if not any(isinstance(v, gast.Call) for v in values):
                    for sub, simple in zip(target.elts, values):
                        self.define(self.write(sub.id), simple)
                    return
                atoms = [v if self.is_static(v) else self._temp(v) for v in values]
            else:
                atoms = [self.atom(e) for e in value.elts]
            for sub, atom in zip(target.elts, atoms):
                self.assign(sub, atom)
            return
        whole = self.atom(value, hint="tup")
        for i, sub in enumerate(target.elts):
            self.assign(sub, syntax.subscript(whole, syntax.const(i)))

    def local_object(self, node, action):
        """The current version of the local array or list that `action` modifies."""
        if not isinstance(node, gast.Name) or node.id not in self.user_locals:
            raise self.error(f"{action} modifies `{syntax.unparse(node)}`, which is not a local "
                             "variable of this function",
                             hint="Work on a local copy and return it.")
        current = self.read(node.id)
        if current.id in self.params:
            if current.id not in self.written_params:
                self.written_params.append(current.id)
            return current
        if current.id not in self.fresh:
            raise self.not_a_new_object(node.id, action)
        self.writes.append((current.id, self.line))
        if current.id in self.assumed_fresh:
            self.assumed_fresh[current.id].append((node.id, action, self.line))
        return current

    def not_a_new_object(self, ident, action):
        return self.error(
            f"{action} would modify `{ident}` in place, and `{ident}` may share memory "
            "with another array or list (it is a view or a copy of another name)",
            hint=f"Make `{ident}` a new array first, e.g. `{ident} = {ident}.copy()`.")

    def set_item(self, target, value):
        """`y[i] = v`: a write into a local array (or list), in place."""
        base = self.local_object(target.value, "this assignment")
        index = self.index(target.slice)
        self.emit(gast.Assign(targets=[syntax.subscript(base, index, "store")], value=value,
                              type_comment=None))

    def visit_AugAssign(self, stmt):
        target = stmt.target
        if isinstance(target, gast.Subscript):
            current = self.atom(syntax.subscript(target.value, target.slice))
            value = self._temp(syntax.binop(current, stmt.op, self.atom(stmt.value)))
            self.set_item(target, value)
            return
        current = self.read(target.id)
        if current.id not in self.fresh:
            raise self.error(
                f"`{target.id} {_op_text(stmt.op)}= ...` would update `{target.id}` in place, "
                f"and `{target.id}` may share memory with another array (an argument, a view, "
                "or another name)",
                hint=f"Write `{target.id} = {target.id} {_op_text(stmt.op)} ...` instead.")
        self.writes.append((current.id, self.line))
        if current.id in self.assumed_fresh:
            action = f"`{target.id} {_op_text(stmt.op)}= ...`"
            self.assumed_fresh[current.id].append((target.id, action, self.line))
        value = syntax.binop(current, stmt.op, self.atom(stmt.value))
        update = self.define(self.write(target.id), value)
        anno.set(update, "inplace_of", current.id)     # NumPy would update it in place

    def visit_Expr(self, stmt):
        value = stmt.value
        if isinstance(value, gast.Constant):
            return  # docstring or bare constant
        if _is_pop(value):          # `lst.pop()` for its effect: the item goes to a temporary
            self.assign(syntax.name(self.namer.fresh("popped"), "store"), value)
            return
        if isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) \
                and value.func.attr == "append" and len(value.args) == 1 \
                and not value.keywords and isinstance(value.func.value, gast.Name):
            base = self.local_object(value.func.value, "`.append`")
            if base.id in self.params:
                raise self.error(f"`.append` would change the caller's list `{base.id}`",
                                 hint=f"Build a new list: `{base.id} = list({base.id})` first.")
            tape = value.func.value.id == self.tape
            start = len(self.body)
            item = self.atom(value.args[0])
            for stmt in self.body[start:] if tape else ():    # the tuple pushed, too
                anno.set(stmt, "gradient_tape", True)
            self.emit(syntax.expr_stmt(syntax.call(syntax.attribute(base, "append"), [item])),
                      append=True, gradient_tape=tape)
            return
        if self.calls_helper(value, runtime.restore, 3):
            self.restore(*value.args)
            return
        self.emit(syntax.expr_stmt(self.simple(value)))

    def calls_helper(self, value, helper, nargs):
        """Is `value` a call of the runtime helper `helper` (in gradient code being
        differentiated again) with `nargs` arguments, the first a local name?"""
        return isinstance(value, gast.Call) and len(value.args) == nargs \
            and not value.keywords and isinstance(value.args[0], gast.Name) \
            and value.args[0].id in self.user_locals \
            and self.parsed.scope.resolve(value.func, self.user_locals | self.temps) is helper

    def pop_adjoint(self, dlst, like):
        """`pop_adjoint(dlst, v)` in gradient code pops dlst: taken as `item = dlst.pop()`
        then `filled(item, v)`, so both modes treat it as the list pop it is."""
        item = self.namer.fresh("item")
        self.temps.add(item)
        self.assign(syntax.name(item, "store"), syntax.call(syntax.attribute(dlst, "pop"), []))
        filled = anno.tag(syntax.name("filled"), object=runtime.filled)
        return syntax.call(filled, [self.atom(syntax.name(item)), self.atom(like)])

    def restore(self, base, index, old):
        """`restore(y, i, y_old)` in generated gradient code: `y[i] = y_old`, which puts back
        what a write changed, so every name that shares y's memory holds again the values
        it was given. Not a new write: y need not be a new object, nothing goes stale."""
        base = self.read(base.id)
        stmt = self.emit(gast.Assign(
            targets=[syntax.subscript(base, self.atom(index), "store")], value=self.atom(old),
            type_comment=None))
        anno.set(stmt, "restore", True)

    def visit_Pass(self, stmt):
        pass

    def visit_Assert(self, stmt):
        test = self.atom(stmt.test)
        msg = None if stmt.msg is None else self.renamed(stmt.msg)
        self.emit(gast.Assert(test=test, msg=msg))

    def visit_Raise(self, stmt):
        exc = None if stmt.exc is None else self.atom(stmt.exc)
        self.emit(gast.Raise(exc=exc, cause=None))

    def visit_Return(self, stmt):
        value = stmt.value if stmt.value is not None else syntax.const(None)
        if self.has_aux and isinstance(value, gast.Name):
            result = self.read(value.id)
            literal = self.literals.get(result.id)
            if literal is not None and len(literal.elts) == 2:
                self.output = literal.elts[0]      # `return value, aux`: the value, directly
            else:
                self.output = self.atom(syntax.subscript(result, syntax.const(0)),
                                        hint=self.result)
        else:
            result = self.atom(value, hint=self.result)
            self.output = result
        self.emit(syntax.return_(result))

    # -- control flow ----------------------------------------------------------------------


    # -- the function ------------------------------------------------------------------------

    def run(self):
        for stmt in self.tree.body:
            self.statement(stmt)
        for param in reversed(self.written_params):
            # The function writes into this argument: it works on its own copy, so
            # that the caller's array is left as it was.
            mine = self.namer.fresh(param)
            for stmt in self.body:
                syntax.rename(stmt, {param: mine})
            helper = anno.tag(syntax.name("own"), object=runtime.own)
            copy = syntax.assign(mine, syntax.call(helper, [syntax.name(param)]))
            anno.tag(copy, line=self.tree.lineno, role="primal")
            self.body.insert(0, copy)
            if isinstance(self.output, gast.Name) and self.output.id == param:
                self.output = syntax.name(mine)
        for name in sorted(undefined_carry_sources(self.body, self.params), reverse=True):
            placeholder = syntax.assign(name, syntax.const(None))
            anno.tag(placeholder, line=self.tree.lineno, role="primal", placeholder=True)
            self.body.insert(0, placeholder)
        self.check_aliasing()
        annotate_definedness(self.body, self.params)
        output = self.output.id if isinstance(self.output, gast.Name) \
            and self.output.id in self.defined() else None
        return Normalized(parsed=self.parsed, name=self.tree.name, params=self.params,
                          body=self.body, output=output, namer=self.namer,
                          locals=self.defined(), has_aux=self.has_aux,
                          written_params=self.written_params, temporaries=self.anf_temps)


    def defined(self):
        names = set(self.params)
        for stmt in self.body:
            for node in gast.walk(stmt):
                if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
                    names.add(node.id)
        return names


def _in(obj, collection):
    try:
        return obj in collection
    except TypeError:
        return False


_OP_TEXT = {gast.Add: "+", gast.Sub: "-", gast.Mult: "*", gast.Div: "/", gast.Pow: "**",
            gast.MatMult: "@", gast.FloorDiv: "//", gast.Mod: "%"}


def _op_text(op):
    return _OP_TEXT.get(type(op), "?")


def normalize(parsed, has_aux=False):
    return Normalizer(parsed, has_aux=has_aux).run()


def _is_pop(value):
    """`lst.pop()` on a local name."""
    return isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) \
        and value.func.attr == "pop" and isinstance(value.func.value, gast.Name) \
        and not value.args and not value.keywords


def _is_list_copy(value):
    """`list()` or `list(name)`: a new list object."""
    empty = isinstance(value, gast.Call) and isinstance(value.func, gast.Name) \
        and value.func.id == "list" and not value.args and not value.keywords
    return empty or list_copied(value) is not None


def _is_fancy_index(index):
    """An index with a list literal in it: advanced indexing, which always copies."""
    parts = index.elts if isinstance(index, gast.Tuple) else [index]
    return any(isinstance(p, gast.List) for p in parts)
