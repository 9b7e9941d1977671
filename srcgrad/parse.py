"""Stage 1, parse: a Python function -> its gast tree and the objects its names denote.

Line numbers in the tree are those of the user's file, so that every later
stage can point at the user's own lines.
"""

from __future__ import annotations

import builtins
import dataclasses
import inspect
import linecache
import textwrap
import types

import gast

from .errors import Location, SourceUnavailableError

MISSING = object()


@dataclasses.dataclass
class SourceInfo:
    """Where a function's source lives."""

    file: str
    firstline: int
    name: str
    qualname: str
    module: str
    text: str  # the dedented source of the function
    lambda_node: object = None   # for a lambda: its node (already in file line numbers)

    def line_text(self, line):
        return linecache.getline(self.file, line).rstrip("\n")

    def location(self, line):
        return Location(self.file, line, self.line_text(line) if line else "")


class Scope:
    """Resolves the free names of a function: closure cells, then globals, then builtins."""

    def __init__(self, fun):
        self.globals = fun.__globals__
        code = fun.__code__
        cells = fun.__closure__ or ()
        self.closure = dict(zip(code.co_freevars, cells))

    def lookup(self, name):
        if name in self.closure:
            try:
                return self.closure[name].cell_contents
            except ValueError:  # an empty cell: the name is not bound yet
                return MISSING
        if name in self.globals:
            return self.globals[name]
        return getattr(builtins, name, MISSING)

    def resolve(self, node, local_names=()):
        """The object a Name or dotted Attribute chain denotes, or MISSING."""
        if isinstance(node, gast.Name):
            if node.id in local_names:
                return MISSING
            return self.lookup(node.id)
        if isinstance(node, gast.Attribute):
            base = self.resolve(node.value, local_names)
            if base is MISSING or not isinstance(base, (types.ModuleType, type)):
                return MISSING
            return getattr(base, node.attr, MISSING)
        return MISSING


@dataclasses.dataclass
class Parsed:
    fun: object
    info: SourceInfo
    tree: gast.FunctionDef
    scope: Scope


def definition_site(fun):
    code = getattr(fun, "__code__", None)
    if code is None:
        return None
    return Location(code.co_filename, code.co_firstlineno)


def require_function(fun):
    """Raise unless `fun` is a function written in Python (one srcgrad can read)."""
    if not isinstance(fun, types.FunctionType):
        name = getattr(fun, "__name__", repr(fun))
        raise SourceUnavailableError(
            f"{name} is not a Python function (it is a {type(fun).__name__}); srcgrad "
            "differentiates functions written in Python source files",
            hint="Wrap it in a `def` in a .py file, or register a rule for it with "
                 "@srcgrad.adjoint if it is a primitive.")


def get_source(fun):
    """(SourceInfo) for a Python function defined in a file."""
    require_function(fun)
    name = fun.__name__
    site = definition_site(fun)
    try:
        lines, firstline = inspect.getsourcelines(fun)
    except (OSError, TypeError) as err:
        raise SourceUnavailableError(
            f"cannot read the source of {name} (defined at {site}): {err}",
            hint="srcgrad reads a function's source; define it in a .py file "
                 "rather than with exec() or at the interactive prompt.") from None
    file = inspect.getsourcefile(fun) or fun.__code__.co_filename
    if fun.__name__ == "<lambda>":
        node = _find_lambda(fun, file)
        text = _unparse(node)
        return SourceInfo(file=file, firstline=node.lineno, name="lambda",
                          qualname=fun.__qualname__.replace("<lambda>", f"lambda@{node.lineno}"),
                          module=fun.__module__ or "", text=text, lambda_node=node)
    return SourceInfo(file=file, firstline=firstline, name=fun.__name__,
                      qualname=fun.__qualname__, module=fun.__module__ or "",
                      text=textwrap.dedent("".join(lines)))


def _unparse(node):
    from . import syntax
    return syntax.unparse(node)


def _find_lambda(fun, file):
    """The Lambda node of `fun` in its file: on its line, with its parameters (and, if
    several lambdas fit, the one whose body starts where its code does)."""
    code = fun.__code__
    linecache.checkcache(file)
    text = "".join(linecache.getlines(file))
    site = Location(file, code.co_firstlineno, linecache.getline(file, code.co_firstlineno))
    try:
        module = gast.parse(text)
    except SyntaxError:
        raise SourceUnavailableError(f"cannot parse {file} to find a lambda", site) from None
    params = list(code.co_varnames[:code.co_argcount + code.co_kwonlyargcount])
    found = [n for n in gast.walk(module) if isinstance(n, gast.Lambda)
             and n.lineno == code.co_firstlineno
             and [a.id for a in n.args.posonlyargs + n.args.args + n.args.kwonlyargs] == params]
    if len(found) > 1:
        columns = {p[2] for p in code.co_positions() if p[0] == code.co_firstlineno and p[2]}
        found = [n for n in found if n.body.col_offset in columns] or found[:0]
    if len(found) != 1:
        raise SourceUnavailableError(
            "cannot tell which lambda on this line is being differentiated", site,
            hint="Write it as a `def`, or put each lambda on a line of its own.")
    return found[0]


def _shift_lines(tree, offset):
    for node in gast.walk(tree):
        if hasattr(node, "lineno") and node.lineno is not None:
            node.lineno += offset
            if getattr(node, "end_lineno", None) is not None:
                node.end_lineno += offset


def parse_function(fun):
    """Parse `fun` into a `Parsed` unit: tree in file line numbers, plus its scope."""
    info = get_source(fun)
    if info.lambda_node is not None:
        node = info.lambda_node
        tree = gast.FunctionDef(name="lambda_", args=node.args,
                                body=[gast.Return(value=node.body)], decorator_list=[],
                                returns=None, type_comment=None, type_params=[])
        for part in (tree, tree.body[0]):
            gast.copy_location(part, node)
            part.end_lineno = node.end_lineno
        return Parsed(fun=fun, info=info, tree=tree, scope=Scope(fun))
    module = gast.parse(info.text)
    defs = [n for n in module.body if isinstance(n, (gast.FunctionDef, gast.AsyncFunctionDef))]
    if not defs:
        raise SourceUnavailableError(
            f"the source of {info.name} at {info.file}:{info.firstline} is not a `def` statement")
    tree = defs[0]
    _shift_lines(tree, info.firstline - 1)
    tree.decorator_list = []
    return Parsed(fun=fun, info=info, tree=tree, scope=Scope(fun))
