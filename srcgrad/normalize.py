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
from .errors import UnsupportedSyntaxError

# Callables that always return a new object (never a view of an argument).
_FRESH_CALLS = {numpy.sum, numpy.mean, numpy.prod, numpy.max, numpy.min, numpy.dot,
                numpy.matmul, numpy.concatenate, numpy.stack, numpy.array, numpy.copy,
                numpy.zeros, numpy.ones, numpy.full, numpy.zeros_like, numpy.ones_like,
                numpy.full_like, numpy.empty_like, numpy.empty, numpy.where, numpy.clip,
                numpy.eye, numpy.arange, numpy.linspace}
_FRESH_METHODS = {"sum", "mean", "prod", "max", "min", "copy", "dot", "astype", "clip"}
_BOOLEAN = (gast.Compare, gast.BoolOp, gast.Constant)


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


def _walk_here(node):
    """The nodes of a function's own body: not inside nested functions or lambdas."""
    stack = list(gast.iter_child_nodes(node))
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, (gast.FunctionDef, gast.Lambda)):
            continue
        stack.extend(gast.iter_child_nodes(current))


def _assigned_names(tree):
    names = {node.id for node in _walk_here(tree)
             if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store)}
    names |= {node.name for node in _walk_here(tree) if isinstance(node, gast.FunctionDef)}
    return names


def stores_in(block):
    """User names a block assigns (loop targets included), not entering nested functions."""
    found = set()
    for stmt in block:
        for node in gast.walk(stmt):
            if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
                found.add(node.id)
    return found


@dataclasses.dataclass
class _Loop:
    names: dict             # user name -> loop name
    node: object = None


class Normalizer:
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
        self.user_locals = _assigned_names(self.tree) | set(self.params)
        self.version = {p: p for p in self.params}
        self.fresh = set()        # versions that hold a new object no other name shares
        self.temps = set()        # every name this stage introduces
        self.anf_temps = set()    # temporaries holding one operation's result
        self.read_names = set()   # versions read so far
        self.written_params = []
        self.local_functions = {}  # name -> FunctionDef of a nested def or lambda
        self.constants = {}       # name -> the constant a nested function's parameter holds
        self.inlining = []        # names of the nested functions being inlined
        self.literals = {}        # name -> the tuple literal it was assigned (once)
        self.writes = []          # (name, line) of each in-place update
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
        else:
            self.fresh.discard(target)
        return stmt

    def makes_new_object(self, value):
        if isinstance(value, (gast.BinOp, gast.UnaryOp, gast.Compare, gast.Constant)):
            return True
        if isinstance(value, gast.List) or (isinstance(value, gast.Call)
                                            and isinstance(value.func, gast.Name)
                                            and value.func.id == "list" and not value.args):
            return True
        if isinstance(value, gast.Call):
            func = value.func
            if isinstance(func, gast.Attribute) and not self.is_static(func):
                return func.attr in _FRESH_METHODS
            obj = self.parsed.scope.resolve(func, self.user_locals | self.temps)
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

    def simple_BoolOp(self, node):
        if all(isinstance(v, _BOOLEAN) or (isinstance(v, gast.UnaryOp)
                                            and isinstance(v.op, gast.Not))
               for v in node.values):
            return self.renamed(node)      # a condition: kept whole, it still short-circuits
        # `a and b` -> t = a; if t: t = b  (`or`: if not t), so that the value taken
        # is the one differentiated.
        var = self.synthetic("and_or")
        result = gast.Assign(targets=[syntax.name(var, "store")], value=node.values[0],
                             type_comment=None)
        gast.copy_location(result, node)
        self.statement(result)
        for value in node.values[1:]:
            again = gast.Assign(targets=[syntax.name(var, "store")], value=value,
                                type_comment=None)
            gast.copy_location(again, node)
            test = syntax.name(var)
            if isinstance(node.op, gast.Or):
                stmt = syntax.if_(test, [], [again])
            else:
                stmt = syntax.if_(test, [again], [])
            gast.copy_location(stmt, node)
            self.statement(stmt)
        return self.read(var)

    def simple_IfExp(self, node):
        """`a if c else b` -> if c: t = a / else: t = b (only the branch taken runs)."""
        var = self.synthetic("choice")
        stmt = syntax.if_(node.test, [syntax.assign(syntax.name(var, "store"), node.body)],
                          [syntax.assign(syntax.name(var, "store"), node.orelse)])
        for part in (stmt, stmt.body[0], stmt.orelse[0]):
            gast.copy_location(part, node)
        self.statement(stmt)
        return self.read(var)

    def simple_ListComp(self, node):
        """[e for x in xs if c] -> lst = []; for x in xs: if c: lst.append(e)."""
        if len(node.generators) != 1 or node.generators[0].is_async:
            raise self.error("a comprehension with more than one `for` is not supported",
                             hint="Write the loops out.")
        gen = node.generators[0]
        var = self.synthetic("lst")
        renames = {n: self.synthetic(n) for n in stores_in([gast.Assign(
            targets=[gen.target], value=syntax.const(None), type_comment=None)])}
        target = syntax.rename(syntax.clone(gen.target), renames)
        elt = syntax.rename(syntax.clone(node.elt), renames)
        conds = [syntax.rename(syntax.clone(c), renames) for c in gen.ifs]
        append = gast.Expr(value=syntax.call(syntax.attribute(syntax.name(var), "append"), [elt]))
        inner = [append]
        for cond in reversed(conds):
            inner = [syntax.if_(cond, inner)]
        loop = gast.For(target=target, iter=gen.iter, body=inner, orelse=[], type_comment=None)
        init = syntax.assign(syntax.name(var, "store"), syntax.list_([]))
        for part in gast.walk(syntax.module([init, loop])):
            if isinstance(part, (gast.stmt, gast.expr)):
                gast.copy_location(part, node)
        self.user_locals |= set(renames.values()) | {var}
        self.statement(init)
        self.statement(loop)
        return self.read(var)

    def inline(self, name, call):
        """A call of a nested function, written out in place: its parameters and locals get
        names of their own; names it does not assign are the enclosing function's."""
        fdef = self.local_functions[name]
        if name in self.inlining:
            raise self.error(f"the nested function `{name}` calls itself",
                             hint="Define a recursive function at module level.")
        fdef = syntax.clone(fdef)
        params = [a.id for a in fdef.args.args]
        own = set(params) | _assigned_names(fdef)
        renames = {n: self.synthetic(n) for n in sorted(own)}
        for stmt in fdef.body:
            syntax.rename(stmt, renames)
        for nested in _walk_here(fdef):
            if isinstance(nested, gast.FunctionDef) and nested.name in renames:
                nested.name = renames[nested.name]
        defaults = dict(zip(params[len(params) - len(fdef.args.defaults):], fdef.args.defaults))
        given = dict(zip(params, call.args))
        for kw in call.keywords:
            if kw.arg not in params or kw.arg in given:
                raise self.error(f"`{name}()` got an unexpected argument `{kw.arg}`")
            given[kw.arg] = kw.value
        if len(call.args) > len(params):
            raise self.error(f"`{name}()` takes {len(params)} arguments, "
                             f"{len(call.args)} were given")
        values = []
        for param in params:
            if param not in given and param not in defaults:
                raise self.error(f"`{name}()` is missing its argument `{param}`")
            values.append(self.atom(given.get(param, defaults.get(param))))
        for param, value in zip(params, values):
            if syntax.is_constant_expr(value):
                self.constants[renames[param]] = value      # read as the constant itself
            else:
                self.define(self.write(renames[param]), value)
        result = self.synthetic(name)
        last = fdef.body[-1].end_lineno or fdef.body[-1].lineno
        body = desugar.Desugar(self.namer, result).function(fdef.body, last)
        self.inlining.append(name)
        try:
            for stmt in body[:-1]:
                self.statement(stmt)
        finally:
            self.inlining.pop()
        return self.read(result)

    def visit_FunctionDef(self, stmt):
        """A nested def: written out where it is called (see `inline`)."""
        args = stmt.args
        if stmt.decorator_list or args.vararg or args.kwarg or args.kwonlyargs \
                or args.posonlyargs:
            raise self.error(f"the nested function `{stmt.name}` has decorators, *args, "
                             "**kwargs or keyword-only parameters",
                             hint="Give it plain parameters, or define it at module level.")
        if any(not syntax.is_constant_expr(d) for d in args.defaults):
            raise self.error(f"the nested function `{stmt.name}` has a default value that is "
                             "not a constant", hint="Pass the value at each call instead.")
        self.local_functions[stmt.name] = stmt
        self.version.pop(stmt.name, None)

    def simple_GeneratorExp(self, node):
        return self.simple_ListComp(node)

    def synthetic(self, hint):
        """A fresh variable that behaves like one of the user's (versions, joins)."""
        name = self.namer.fresh(hint)
        self.user_locals.add(name)
        return name

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
        if isinstance(target, gast.Name):
            simple = self.simple(value)
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
            raise self.error(
                f"{action} would modify `{node.id}` in place, and `{node.id}` may share memory "
                "with another array or list (it is a view or a copy of another name)",
                hint=f"Make `{node.id}` a new array first, e.g. `{node.id} = {node.id}.copy()`.")
        self.writes.append((current.id, self.line))
        return current

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
        value = syntax.binop(current, stmt.op, self.atom(stmt.value))
        update = self.define(self.write(target.id), value)
        anno.set(update, "inplace_of", current.id)     # NumPy would update it in place

    def visit_Expr(self, stmt):
        value = stmt.value
        if isinstance(value, gast.Constant):
            return  # docstring or bare constant
        if isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) \
                and value.func.attr == "append" and len(value.args) == 1 \
                and not value.keywords and isinstance(value.func.value, gast.Name):
            base = self.local_object(value.func.value, "`.append`")
            if base.id in self.params:
                raise self.error(f"`.append` would change the caller's list `{base.id}`",
                                 hint=f"Build a new list: `{base.id} = list({base.id})` first.")
            item = self.atom(value.args[0])
            self.emit(syntax.expr_stmt(syntax.call(syntax.attribute(base, "append"), [item])),
                      append=True)
            return
        self.emit(syntax.expr_stmt(self.simple(value)))

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

    def visit_If(self, stmt):
        test = self.atom(stmt.test, hint="cond")
        before = dict(self.version)
        body, after_body = self.sub_block(stmt.body, before)
        orelse, after_else = self.sub_block(stmt.orelse, before)
        node = self.emit(syntax.if_(test, body, orelse))
        flows = [(block, versions) for block, versions in ((node.body, after_body),
                                                           (node.orelse, after_else))
                 if not desugar._always_jumps(block)]
        if len(flows) == 1:
            self.version = flows[0][1]
        elif len(flows) == 2:
            self.version = self.join(before, flows)
        return node

    def join(self, before, flows):
        """One name per variable after an `if` whose two branches both fall through."""
        result = dict(before)
        names = set(flows[0][1]) | set(flows[1][1])
        for ident in sorted(names):
            versions = [versions.get(ident) for _, versions in flows]
            if versions[0] == versions[1]:
                result[ident] = versions[0]
                continue
            if None in versions:            # defined on one path only: Python would fail too
                result[ident] = versions[0] or versions[1]
                continue
            old = before.get(ident)
            if old is not None and old not in self.read_names:
                target = old                # nothing reads the old value: reuse its name
            else:
                target = self.namer.fresh(ident)
            self.temps.add(target)
            for (block, _), version in zip(flows, versions):
                if version == target:
                    continue
                if version != old and version not in self.params:
                    for stmt in block:      # the branch's own version takes the joined name
                        syntax.rename(stmt, {version: target})
                else:
                    self.carry(block, target, version)
            fresh = all(v in self.fresh for v in versions)
            (self.fresh.add if fresh else self.fresh.discard)(target)
            result[ident] = target
        return result

    def carry(self, block, target, source):
        """`target = source` at the end of a path (before its `break`): a loop or join copy."""
        copy = syntax.assign(target, syntax.name(source))
        anno.tag(copy, line=self.line, role="primal", carry=True)
        self.read_names.add(source)
        if block and isinstance(block[-1], gast.Break):
            block.insert(len(block) - 1, copy)
        else:
            block.append(copy)

    def loop_names(self, stmt, extra=()):
        """The loop name of every variable the loop assigns, with entry copies emitted."""
        names = {}
        for ident in sorted(stores_in(stmt.body) | set(extra)):
            old = self.version.get(ident)
            if old is not None and old not in self.read_names:
                names[ident] = old          # nothing read the value before: reuse the name
            elif old is None and ident not in self.temps and ident not in self.params:
                names[ident] = ident
            else:
                names[ident] = self.namer.fresh(ident)
            self.temps.add(names[ident])
            if old is not None and names[ident] != old:
                copy = self.emit(syntax.assign(names[ident], syntax.name(old)))
                anno.set(copy, "carry", True)
                self.read_names.add(old)
        return names

    def loop_body(self, stmt, names, prefix=()):
        """Normalize a loop body whose variables start as their loop names."""
        loop = _Loop(names=names)
        self.loops.append(loop)
        try:
            versions = dict(self.version)
            versions.update(names)
            body, after = self.sub_block(list(prefix) + list(stmt.body), versions)
        finally:
            self.loops.pop()
        if not desugar._always_jumps(body):
            for block in _fallthrough_blocks(body):
                self.carry_all(block, names, after)
        self.version.update(names)
        return body

    def carry_all(self, block, names, versions):
        for ident, loop_name in sorted(names.items()):
            current = versions.get(ident)
            if current is not None and current != loop_name:
                self.carry(block, loop_name, current)

    def visit_Break(self, stmt):
        loop = self.loops[-1]
        self.carry_all(self.body, loop.names, self.version)
        self.emit(gast.Break())

    def visit_Continue(self, stmt):
        raise self.error("`continue` in this position is not supported")  # desugar removes it

    def visit_While(self, stmt):
        trips = self.namer.fresh("trips")
        self.temps.add(trips)
        self.emit(syntax.assign(trips, syntax.const(0)))
        names = self.loop_names(stmt)
        count = syntax.assign(trips, syntax.binop(syntax.name(trips), "+", syntax.const(1)))
        anno.tag(count, line=self.line, role="primal")
        body = self.loop_body(stmt, names)
        body.insert(0, count)
        node = self.emit(gast.While(test=syntax.const(True), body=body, orelse=[]))
        anno.set(node, "trips", trips)

    def visit_For(self, stmt):
        if stmt.orelse:
            raise self.error("a `for` loop with an `else:` clause is not supported",
                             hint="Use a flag set before `break` instead.")
        rng, index, prefix = self.iteration(stmt)
        trips = None
        if desugar._jumps_in(stmt.body, (gast.Break,)):
            trips = self.namer.fresh("trips")
            self.temps.add(trips)
            self.emit(syntax.assign(trips, syntax.const(0)))
        names = self.loop_names(stmt, extra=[index])
        body = self.loop_body(stmt, names, prefix)
        if trips is not None:
            count = syntax.assign(trips, syntax.binop(syntax.name(trips), "+", syntax.const(1)))
            anno.tag(count, line=self.line, role="primal")
            body.insert(0, count)
        node = self.emit(gast.For(target=syntax.name(names[index], "store"), iter=rng,
                                  body=body, orelse=[], type_comment=None))
        anno.set(node, "trips", trips)

    def iteration(self, stmt):
        """(range expression, index variable, statements that bind the target per index)."""
        it, target = stmt.iter, stmt.target
        call = it.func if isinstance(it, gast.Call) else None
        resolved = self.parsed.scope.resolve(call, self.user_locals) if call is not None else None
        if resolved is range and not it.keywords:
            if not isinstance(target, gast.Name):
                raise self.error("a `range` loop needs a single loop variable")
            return self.atom(it, hint="rng"), target.id, []
        if resolved is enumerate and len(it.args) == 1 and not it.keywords \
                and isinstance(target, (gast.Tuple, gast.List)) and len(target.elts) == 2 \
                and isinstance(target.elts[0], gast.Name):
            sequences, items = self.sequences(it.args[0], target.elts[1])
            return self.index_range(sequences), target.elts[0].id, \
                self.bind_items(items, target.elts[0].id)
        if resolved is zip and it.args and not it.keywords:
            if not (isinstance(target, (gast.Tuple, gast.List))
                    and len(target.elts) == len(it.args)):
                raise self.error("a `zip` loop needs one loop variable per sequence")
            sequences, items = self.sequences(it, target)
            index = self.synthetic("i")
            return self.index_range(sequences), index, self.bind_items(items, index)
        if isinstance(it, gast.Call) and resolved in (iter, map, filter, reversed, sorted):
            raise self.error(f"a loop over `{syntax.unparse(it.func)}(...)` is not supported",
                             hint="Loop over an array, list, tuple, range, enumerate or zip.")
        sequences, items = self.sequences(it, target)
        index = self.synthetic("i")
        return self.index_range(sequences), index, self.bind_items(items, index)

    def sequences(self, it, target):
        """Atoms for the sequences a loop walks through, and (target, sequence) pairs."""
        if isinstance(it, gast.Call) and self.parsed.scope.resolve(
                it.func, self.user_locals) is zip:
            pairs = [(t, self.atom(a, hint="seq")) for t, a in zip(target.elts, it.args)]
        else:
            pairs = [(target, self.atom(it, hint="seq"))]
        return [seq for _, seq in pairs], pairs

    def index_range(self, sequences):
        """range(len(seq)) (or of the shortest), with a check that each is a sequence."""
        lengths = []
        for seq in sequences:
            helper = anno.tag(syntax.name("sequence_length"), object=runtime.sequence_length)
            checked = syntax.call(helper, [seq])
            lengths.append(self._temp(checked, hint=f"n_{naming.base_name(seq.id)}"
                                      if isinstance(seq, gast.Name) else "n"))
        length = lengths[0] if len(lengths) == 1 else self._temp(
            syntax.call(syntax.name("min"), lengths), hint="n")
        return self._temp(syntax.call(syntax.name("range"), [length]), hint="rng")

    def bind_items(self, pairs, index):
        """`x = seq[i]` statements (user syntax) binding each loop target per index."""
        binds = []
        for target, seq in pairs:
            value = syntax.subscript(syntax.clone(seq), syntax.name(index))
            bind = gast.Assign(targets=[target], value=value, type_comment=None)
            gast.copy_location(bind, target)
            for part in gast.walk(bind):
                if isinstance(part, (gast.expr, gast.stmt)):
                    gast.copy_location(part, target)
            binds.append(bind)
        return binds

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
        self.check_aliasing()
        annotate_definedness(self.body, self.params)
        output = self.output.id if isinstance(self.output, gast.Name) \
            and self.output.id in self.defined() else None
        return Normalized(parsed=self.parsed, name=self.tree.name, params=self.params,
                          body=self.body, output=output, namer=self.namer,
                          locals=self.defined(), has_aux=self.has_aux,
                          written_params=self.written_params, temporaries=self.anf_temps)

    def check_aliasing(self):
        """An array or list written in place must not be seen through another name.

        A view or alias of it (`v = y[1:]`, `z = y`, `lst.append(y)`) must be a
        temporary that the very next statement consumes in a new array (as in
        `y[i] = y[i - 1] * 2`), so that no write can come between: a view read after
        the write would see values the derivative attributes to the old ones.
        """
        if not self.writes:
            return
        placed = {}             # id(stmt) -> (block, index)
        for block in _blocks(self.body):
            for i, stmt in enumerate(block):
                placed[id(stmt)] = (block, i)
        flat = [s for s in _statements(self.body)]
        for base, line in self.writes:
            family = {base}
            changed = True
            while changed:
                changed = False
                for stmt in flat:
                    target = self.alias_target(stmt, family)
                    if target is not None and target not in family:
                        family.add(target)
                        changed = True
            for member in sorted(family - {base}):
                if not self.consumed_at_once(member, flat, placed, family):
                    self.line = line
                    raise self.error(
                        f"this writes into `{_user_name(base)}` in place, and "
                        f"`{_user_name(member)}` refers to the same memory (a view, a copy of "
                        "the name, or a list holding it) and is read after the write could "
                        "change it",
                        hint=f"Copy what `{_user_name(member)}` should keep "
                             f"(`.copy()`), or build a new array instead of writing.")

    def alias_target(self, stmt, family):
        """The name `stmt` makes share memory with a name in `family`, if any."""
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name):
            value = stmt.value
            if self.makes_new_object(value):
                return None
            if isinstance(value, gast.Attribute) and value.attr in _NOT_VIEWS:
                return None
            if set(syntax.names_in(value, "load")) & family:
                return stmt.targets[0].id
        if isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call) \
                and isinstance(stmt.value.func, gast.Attribute) \
                and stmt.value.func.attr == "append" and stmt.value.args \
                and set(syntax.names_in(stmt.value.args[0], "load")) & family:
            return stmt.value.func.value.id
        return None

    def consumed_at_once(self, name, flat, placed, family):
        """Is every read of `name` before any write into `family` that could follow its
        definition? (Defined once; read later in the same block, nothing writing into
        the family in between; or never read.)"""
        defs = [s for s in flat if name in _stores_of(s)]
        uses = {id(s) for s in flat if name in syntax.names_in(s, "load")
                and not isinstance(s, (gast.If, gast.For, gast.While))
                and not anno.get(s, "carry")}     # a copy into a loop or join name: its own check
        if not uses:
            return True
        if len(defs) != 1 or id(defs[0]) not in placed:
            return False
        block, i = placed[id(defs[0])]
        for stmt in block[i + 1:]:
            inside = list(_statements([stmt]))
            found = uses & {id(s) for s in inside}
            writes = any(_writes_into(s, family) for s in inside)
            if found:
                if writes and isinstance(stmt, (gast.If, gast.For, gast.While)):
                    return False
                uses -= found
                if not uses:
                    return True
            elif writes:
                return False
        return False

    def defined(self):
        names = set(self.params)
        for stmt in self.body:
            for node in gast.walk(stmt):
                if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
                    names.add(node.id)
        return names


_NOT_VIEWS = {"shape", "ndim", "size", "dtype", "strides", "itemsize", "nbytes"}


def _user_name(version):
    return naming.base_name(version)


def _blocks(body):
    yield body
    for stmt in body:
        for field in ("body", "orelse"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list) and isinstance(stmt, (gast.If, gast.For, gast.While)):
                yield from _blocks(inner)


def _statements(body):
    for stmt in body:
        yield stmt
        if isinstance(stmt, (gast.If, gast.For, gast.While)):
            yield from _statements(stmt.body)
            yield from _statements(stmt.orelse)


def _writes_into(stmt, family):
    """Is `stmt` an in-place write (item assignment, append, `+=`) into a name of `family`?"""
    if anno.get(stmt, "inplace_of") in family:
        return True
    if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Subscript):
        return stmt.targets[0].value.id in family
    value = getattr(stmt, "value", None)
    if isinstance(stmt, gast.Expr) and isinstance(value, gast.Call) \
            and isinstance(value.func, gast.Attribute) and value.func.attr == "append":
        return isinstance(value.func.value, gast.Name) and value.func.value.id in family
    return False


def _stores_of(stmt):
    if isinstance(stmt, gast.For):
        return syntax.names_in(stmt.target, "store")
    if isinstance(stmt, (gast.If, gast.While)):
        return []
    return syntax.names_in(stmt, "store")


def _fallthrough_blocks(block):
    """The blocks whose end is the end of `block` on paths that do not jump: `block`
    itself, unless it ends with an `if` that may jump (then the if's such branches)."""
    last = block[-1] if block else None
    if isinstance(last, gast.If) and (desugar._jumps_in(last.body, desugar._JUMPS)
                                      or desugar._jumps_in(last.orelse, desugar._JUMPS)):
        found = []
        for branch in (last.body, last.orelse):
            if not desugar._always_jumps(branch):
                found.extend(_fallthrough_blocks(branch))
        return found
    return [block]


def annotate_definedness(body, defined):
    """Mark each if and loop with the names defined on every path before it ('defined').
    Returns the names defined after `body` on paths that fall through."""
    defined = set(defined)
    for stmt in body:
        if isinstance(stmt, (gast.If, gast.For, gast.While)):
            anno.set(stmt, "defined", frozenset(defined))
        if isinstance(stmt, gast.If):
            flows = [annotate_definedness(branch, defined) for branch in (stmt.body, stmt.orelse)
                     if not desugar._always_jumps(branch)]
            if flows:
                defined = set.intersection(*flows)
        elif isinstance(stmt, (gast.For, gast.While)):
            annotate_definedness(stmt.body, defined | set(syntax.names_in(
                getattr(stmt, "target", syntax.const(0)), "store")))
        elif isinstance(stmt, gast.Assign):
            defined |= set(n for t in stmt.targets for n in syntax.names_in(t, "store"))
    return defined


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
