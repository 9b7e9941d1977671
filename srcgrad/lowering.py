"""Expressions that normalize into statements, and nested functions written out in place.

Part of the normalize stage (normalize.py): `a if c else b` and `a and b` become
`if` statements (only the branch taken runs, and the value taken is the one
differentiated); a list comprehension becomes a loop with `append`; a call of a
nested function or lambda is written out where it is called, its parameters
and locals under names of their own, the names it does not assign being the
enclosing function's (a closure).
"""

from __future__ import annotations

import gast

from . import desugar, syntax
from .flow import stores_in


_BOOLEAN = (gast.Compare, gast.BoolOp, gast.Constant)


def walk_here(node):
    """The nodes of a function's own body: not inside nested functions or lambdas."""
    stack = list(gast.iter_child_nodes(node))
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, (gast.FunctionDef, gast.Lambda)):
            continue
        stack.extend(gast.iter_child_nodes(current))


def assigned_names(tree):
    names = {node.id for node in walk_here(tree)
             if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store)}
    names |= {node.name for node in walk_here(tree) if isinstance(node, gast.FunctionDef)}
    return names


class Lowering:
    """Normalizer methods (a mixin of normalize.Normalizer)."""

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
        own = set(params) | assigned_names(fdef)
        renames = {n: self.synthetic(n) for n in sorted(own)}
        for stmt in fdef.body:
            syntax.rename(stmt, renames)
        for nested in walk_here(fdef):
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
