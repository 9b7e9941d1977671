"""Every syntax-tree node srcgrad builds is built here.

srcgrad works on `gast` trees (a version-independent AST) and prints them
with the standard library's `ast.unparse`. Keeping all node construction in
this one module means a change in `gast` or `ast` touches one file.
"""

from __future__ import annotations

import ast
import math
import copy

import gast

_CTX = {"load": gast.Load, "store": gast.Store, "param": gast.Param, "del": gast.Del}

_BINOPS = {
    "+": gast.Add, "-": gast.Sub, "*": gast.Mult, "/": gast.Div, "//": gast.FloorDiv,
    "%": gast.Mod, "**": gast.Pow, "@": gast.MatMult,
}


def name(identifier, ctx="load"):
    return gast.Name(id=identifier, ctx=_CTX[ctx](), annotation=None, type_comment=None)


def const(value):
    return gast.Constant(value=value, kind=None)


def attribute(value, attr):
    return gast.Attribute(value=value, attr=attr, ctx=gast.Load())


def subscript(value, index, ctx="load"):
    return gast.Subscript(value=value, slice=index, ctx=_CTX[ctx]())


def call(func, args=(), keywords=()):
    kws = [gast.keyword(arg=k, value=v) for k, v in keywords]
    return gast.Call(func=func, args=list(args), keywords=kws)


def binop(left, op, right):
    op_node = _BINOPS[op]() if isinstance(op, str) else op
    return gast.BinOp(left=left, op=op_node, right=right)


def neg(operand):
    return gast.UnaryOp(op=gast.USub(), operand=operand)


def tuple_(elts, ctx="load"):
    return gast.Tuple(elts=list(elts), ctx=_CTX[ctx]())


def list_(elts):
    return gast.List(elts=list(elts), ctx=gast.Load())


def assign(target, value):
    if isinstance(target, str):
        target = name(target, "store")
    return gast.Assign(targets=[target], value=value, type_comment=None)


def expr_stmt(value):
    return gast.Expr(value=value)


def return_(value):
    return gast.Return(value=value)


def if_(test, body, orelse=()):
    return gast.If(test=test, body=list(body), orelse=list(orelse))


def arguments(params, defaults=(), kwonly=(), kw_defaults=()):
    return gast.arguments(
        args=[name(p, "param") for p in params], posonlyargs=[], vararg=None,
        kwonlyargs=[name(p, "param") for p in kwonly], kw_defaults=list(kw_defaults),
        kwarg=None, defaults=list(defaults))


def function_def(fname, args, body):
    return gast.FunctionDef(name=fname, args=args, body=list(body), decorator_list=[],
                            returns=None, type_comment=None, type_params=[])


def module(body):
    return gast.Module(body=list(body), type_ignores=[])


def clone(node):
    return copy.deepcopy(node)


def as_store(node):
    """A copy of a Name/Tuple/Subscript node in store context."""
    node = clone(node)
    node.ctx = gast.Store()
    return node


def as_load(node):
    node = clone(node)
    if hasattr(node, "ctx"):
        node.ctx = gast.Load()
    return node


def parse(source):
    return gast.parse(source)


def parse_expr(source):
    return gast.parse(source, mode="eval").body


def unparse(node):
    """Python source for a gast node (statement list, statement or expression)."""
    if isinstance(node, list):
        return "\n".join(unparse(n) for n in node)
    return ast.unparse(to_ast(node))


class _SignedConstants(ast.NodeTransformer):
    """A negative number as `-(number)`, so that printing parenthesizes it where it binds
    less tightly than its context: `(-1.4) ** 2`, not `-1.4 ** 2`."""

    def visit_Constant(self, node):
        value = node.value
        if isinstance(value, (int, float)) and not isinstance(value, bool) and (
                value < 0 or (value == 0 and math.copysign(1.0, value) < 0)):
            return ast.copy_location(ast.UnaryOp(op=ast.USub(), operand=ast.Constant(-value)),
                                     node)
        return node


def to_ast(node):
    tree = _SignedConstants().visit(gast.gast_to_ast(node))
    return ast.fix_missing_locations(tree)


def names_in(node, ctx=None):
    """The identifiers of the Name nodes below `node` (optionally: only loads/stores)."""
    found = []
    for sub in gast.walk(node):
        if isinstance(sub, gast.Name):
            if ctx is None or isinstance(sub.ctx, _CTX[ctx]):
                found.append(sub.id)
    return found


def rename(node, mapping):
    """Rename Name nodes below `node` in place, by `mapping` {old: new}."""
    for sub in gast.walk(node):
        if isinstance(sub, gast.Name) and sub.id in mapping:
            sub.id = mapping[sub.id]
    return node


class Substitute(gast.NodeTransformer):
    """Replace Name loads by copies of expressions, by `mapping` {name: node}."""

    def __init__(self, mapping):
        self.mapping = mapping

    def visit_Name(self, node):
        if isinstance(node.ctx, gast.Load) and node.id in self.mapping:
            return clone(self.mapping[node.id])
        return node


def substitute(node, mapping):
    return Substitute(mapping).visit(node)


def is_constant_expr(node):
    """True for constants and tuples/lists of them (no names, no calls)."""
    if isinstance(node, gast.Constant):
        return True
    if isinstance(node, (gast.Tuple, gast.List)):
        return all(is_constant_expr(e) for e in node.elts)
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.USub, gast.UAdd)):
        return isinstance(node.operand, gast.Constant)
    return False


def constant_value(node):
    """The Python value of a node for which `is_constant_expr` holds."""
    return ast.literal_eval(to_ast(gast.Expression(body=node)))
