"""Stage 2, fence: refuse what srcgrad does not differentiate, naming file:line.

The table `UNSUPPORTED` maps a node type to (construct, what to do). The
fence runs before any transformation, so that every refusal points at the
user's own line and construct.
"""

from __future__ import annotations

import inspect

import gast

from .errors import Location, UnsupportedSyntaxError

UNSUPPORTED = {
    gast.Try: ("try/except", "Move the try/except outside the differentiated function."),
    gast.With: ("a with statement", "Move the with block outside the differentiated function."),
    gast.AsyncWith: ("async with", "Differentiated functions cannot be async."),
    gast.AsyncFor: ("async for", "Differentiated functions cannot be async."),
    gast.AsyncFunctionDef: ("an async function", "Differentiated functions cannot be async."),
    gast.Await: ("await", "Differentiated functions cannot be async."),
    gast.Yield: ("yield (a generator)", "Return a value instead of yielding it."),
    gast.YieldFrom: ("yield from (a generator)", "Return a value instead of yielding it."),
    gast.Global: ("a global statement", "Pass the value in as an argument and return the new one."),
    gast.Nonlocal: ("a nonlocal statement",
                    "Pass the value in as an argument and return the new one."),
    gast.Delete: ("del", "Remove the del statement; names go out of scope on return."),
    gast.ClassDef: ("a class definition", "Define the class at module level."),
    gast.SetComp: ("a set comprehension", "Use NumPy operations on whole arrays instead."),
    gast.DictComp: ("a dict comprehension", "Build the dict from explicit entries."),
    gast.NamedExpr: ("an assignment expression (:=)", "Assign in a statement of its own."),
    gast.Starred: ("a starred expression (*x)", "Pass or unpack the items one by one."),
    gast.Import: ("an import inside the function", "Import at module level."),
    gast.ImportFrom: ("an import inside the function", "Import at module level."),
    gast.Match: ("a match statement", "Use if/else instead."),
}


class Fence(gast.NodeVisitor):
    """Raises UnsupportedSyntaxError at the first construct srcgrad refuses."""

    def __init__(self, info):
        self.info = info
        self.line = info.firstline

    def refuse(self, construct, hint, node=None):
        line = getattr(node, "lineno", None) or self.line
        raise UnsupportedSyntaxError(f"{construct} is not supported in a differentiated "
                                     f"function ({self.info.name})",
                                     self.info.location(line), hint=hint)

    def generic_visit(self, node):
        if getattr(node, "lineno", None):
            self.line = node.lineno
        entry = UNSUPPORTED.get(type(node))
        if entry:
            self.refuse(*entry, node=node)
        super().generic_visit(node)

    def visit_FunctionDef(self, node):
        """The function itself (or a nested one): check its signature, then its body."""
        self.line = node.lineno
        args = node.args
        if args.vararg or args.kwarg:
            self.refuse("*args / **kwargs parameters",
                        "List the parameters explicitly.", node)
        for stmt in node.body:
            self.visit(stmt)

    def visit_Assign(self, node):
        self.line = node.lineno
        for target in node.targets:
            self._check_target(target)
        self.visit(node.value)

    def visit_AugAssign(self, node):
        self.line = node.lineno
        self._check_target(node.target)
        self.visit(node.value)

    def visit_AnnAssign(self, node):
        self.line = node.lineno
        self._check_target(node.target)
        if node.value is not None:
            self.visit(node.value)

    def visit_While(self, node):
        if node.orelse:
            self.refuse("a `while` loop with an `else:` clause",
                        "Use a flag set before `break` instead.", node)
        self.generic_visit(node)

    def visit_Call(self, node):
        if any(kw.arg == "out" for kw in node.keywords):
            self.refuse("writing a result into an existing array with out=",
                        "Assign the result to a name instead: y = np.multiply(a, b).", node)
        self.generic_visit(node)

    def _check_target(self, target):
        if isinstance(target, (gast.Tuple, gast.List)):
            for elt in target.elts:
                self._check_target(elt)
        elif isinstance(target, gast.Attribute):
            self.refuse("assignment to an attribute (obj.a = ...)",
                        "Return the new value instead of storing it on an object.", target)
        elif isinstance(target, gast.Starred):
            self.refuse(*UNSUPPORTED[gast.Starred], node=target)


def check_signature(fun):
    """Refuse *args / **kwargs before anything else looks at the parameters."""
    code = fun.__code__
    if code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS):
        if hasattr(fun, "__wrapped__"):
            raise UnsupportedSyntaxError(
                f"{fun.__name__} is a wrapper made by a decorator (it takes *args / **kwargs), "
                "and srcgrad differentiates a function's own source",
                Location(code.co_filename, code.co_firstlineno),
                hint=f"If the decorator does not change what it computes, differentiate "
                     f"`{fun.__name__}.__wrapped__`; otherwise apply srcgrad.grad before the "
                     "decorator.")
        raise UnsupportedSyntaxError(
            f"*args / **kwargs parameters are not supported in a differentiated function "
            f"({fun.__name__})", Location(code.co_filename, code.co_firstlineno),
            hint="List the parameters explicitly.")


def check(parsed):
    """Run the fence over a parsed function; returns it unchanged."""
    Fence(parsed.info).visit(parsed.tree)
    return parsed
