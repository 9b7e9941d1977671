"""Stage 7, emit: print the generated function as a file, and load it.

Printing uses `ast.unparse` statement by statement, adding a comment before
each block of statements that comes from one line of the user's function
(`# line 2: h = np.tanh(x @ W + b)` for the primal sweep, `# grad of line 2`
for the adjoint sweep) and recording which user line each generated line
comes from. Loading compiles the text under the file's real path and puts
it in `linecache`, so that tracebacks, pdb and IDE breakpoints land on real
lines of a real file.
"""

from __future__ import annotations

import builtins
import dataclasses
import linecache
import os

import gast

from . import __version__
from . import annotations as anno
from . import syntax
from .parse import MISSING


@dataclasses.dataclass
class Generated:
    """A generated module: its text and what is needed to load it."""

    source: str
    function: str           # the generated function's name
    linemap: dict           # generated line -> user line
    user_refs: list         # names the function reads from the user's module or closure
    primal_file: str
    primal_name: str
    seed: str               # the parameter that takes the output's adjoint
    return_line: int        # the user's line of the return statement

    def to_meta(self):
        meta = dataclasses.asdict(self)
        del meta["source"]
        meta["linemap"] = {str(k): v for k, v in self.linemap.items()}
        return meta

    @classmethod
    def from_meta(cls, source, meta):
        meta = dict(meta, linemap={int(k): v for k, v in meta["linemap"].items()})
        return cls(source=source, **meta)


def _signature(unit, seed):
    """The primal's parameters (defaults as written, annotations dropped) plus the seed."""
    args = syntax.clone(unit.arguments)
    for param in args.posonlyargs + args.args + args.kwonlyargs:
        param.annotation = None
        param.type_comment = None
    if args.kwonlyargs:
        args.kwonlyargs.append(syntax.name(seed, "param"))
        args.kw_defaults.append(syntax.const(1.0))
    else:
        args.args.append(syntax.name(seed, "param"))
        args.defaults.append(syntax.const(1.0))
    return args


class _Printer:
    def __init__(self, info):
        self.info = info
        self.lines = []
        self.linemap = {}
        self.block = None

    def add(self, text, user_line, indent):
        for part in text.splitlines() or [""]:
            self.lines.append("    " * indent + part)
            if user_line:
                self.linemap[len(self.lines)] = user_line

    def comment(self, stmt, indent):
        role, line = anno.get(stmt, "role"), anno.get(stmt, "line")
        if role == "return" or line is None or (role, line) == self.block:
            return
        self.block = (role, line)
        if role == "primal":
            text = self.info.line_text(line).strip()
            self.add(f"# line {line}: {text}", line, indent)
        else:
            self.add(f"# grad of line {line}", line, indent)

    def statements(self, body, indent):
        for stmt in body:
            self.comment(stmt, indent)
            line = anno.get(stmt, "line")
            if isinstance(stmt, gast.If):
                self.if_(stmt, indent, line)
            elif isinstance(stmt, gast.For):
                self.add(f"for {syntax.unparse(stmt.target)} in {syntax.unparse(stmt.iter)}:",
                         line, indent)
                self.block = None
                self.statements(stmt.body or [gast.Pass()], indent + 1)
                self.block = None
            elif isinstance(stmt, gast.While):
                self.add(f"while {syntax.unparse(stmt.test)}:", line, indent)
                self.block = None
                self.statements(stmt.body or [gast.Pass()], indent + 1)
                self.block = None
            elif isinstance(stmt, gast.Return) and isinstance(stmt.value, gast.Tuple) \
                    and len(stmt.value.elts) >= 2:
                self.add("return " + ", ".join(syntax.unparse(e) for e in stmt.value.elts),
                         line, indent)
            else:
                self.add(syntax.unparse(stmt), line, indent)

    def if_(self, stmt, indent, line, keyword="if"):
        self.add(f"{keyword} {syntax.unparse(stmt.test)}:", line, indent)
        self.block = None
        self.statements(stmt.body or [gast.Pass()], indent + 1)
        if len(stmt.orelse) == 1 and isinstance(stmt.orelse[0], gast.If) \
                and anno.get(stmt.orelse[0], "line") == line:
            self.block = None
            self.if_(stmt.orelse[0], indent, line, "elif")
        elif stmt.orelse:
            self.add("else:", line, indent)
            self.block = None
            self.statements(stmt.orelse, indent + 1)
        self.block = None


def _user_refs(function, header_names, scope):
    params = {a.id for a in gast.walk(function.args) if isinstance(a, gast.Name)}
    stores = {n.id for n in gast.walk(function) if isinstance(n, gast.Name)
              and isinstance(n.ctx, gast.Store)}
    refs = []
    for node in gast.walk(function):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load):
            name = node.id
            if name in params or name in stores or name in header_names or name in refs:
                continue
            if name in scope.closure or name in scope.globals:
                refs.append(name)
    return sorted(refs)


def _render(info, name, args, body, header):
    printer = _Printer(info)
    for line in header:
        printer.add(line, None, 0)
    def_text = syntax.unparse(syntax.function_def(name, args, [gast.Pass()]))
    printer.add(def_text.splitlines()[0], None, 0)
    printer.statements(body, 1)
    return "\n".join(printer.lines) + "\n", printer.linemap


def render_normalized(unit):
    """The normal form of a function, as source (for `srcgrad show --stage normalized`)."""
    args = syntax.clone(unit.arguments)
    text, _ = _render(unit.info, unit.name, args, unit.body, [])
    return text


def emit(derivative, description):
    """The generated module's text, with its line map."""
    unit = derivative.unit
    info = unit.info
    args = _signature(unit, derivative.seed)
    function = syntax.function_def(derivative.name, args, derivative.body)
    header = [f"# Generated by srcgrad {__version__} from {os.path.basename(info.file)}:"
              f"{unit.parsed.tree.lineno} ({info.qualname}), {description}.",
              "# Edit the function it comes from, not this file."]
    used = {n.id for n in gast.walk(function) if isinstance(n, gast.Name)}
    header += derivative.imports.header(used) + ["", ""]
    source, linemap = _render(info, derivative.name, args, derivative.body, header)
    linemap[len(header) + 1] = unit.parsed.tree.lineno
    returned = derivative.body[-1]
    return Generated(source=source, function=derivative.name, linemap=linemap,
                     user_refs=_user_refs(function, set(derivative.imports.objects), unit.scope),
                     primal_file=info.file, primal_name=info.qualname, seed=derivative.seed,
                     return_line=anno.get(returned, "line"))


def compile_module(generated, path):
    """Compile the generated text as the file `path` (registered in linecache)."""
    linecache.cache[path] = (len(generated.source), None, generated.source.splitlines(True), path)
    return compile(generated.source, path, "exec")


def instantiate(code, generated, scope, primal):
    """Run a compiled module in a fresh namespace; returns (function, namespace).

    The namespace holds the header's imports and the user's names the function
    reads (`np`, module constants, closure values), looked up in `scope`.
    """
    namespace = {"__name__": "srcgrad.generated", "__builtins__": builtins}
    for name in generated.user_refs:
        value = scope.lookup(name)
        if value is not MISSING:
            namespace[name] = value
    exec(code, namespace)  # noqa: S102 - srcgrad's own generated code (cache.py checks files)
    fn = namespace[generated.function]
    primal_kw = primal.__kwdefaults__ or {}
    if fn.__kwdefaults__:          # the seed is keyword-only after the primal's own
        fn.__defaults__ = primal.__defaults__
        fn.__kwdefaults__ = {**primal_kw, generated.seed: 1.0}
    else:
        fn.__defaults__ = (primal.__defaults__ or ()) + (1.0,)
    fn.__wrapped__ = primal
    return fn, namespace
