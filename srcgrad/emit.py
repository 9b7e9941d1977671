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
import types

import gast

from . import __version__
from . import annotations as anno
from . import syntax
from .parse import MISSING


@dataclasses.dataclass
class Generated:
    """A generated module: its text and what is needed to load it."""

    source: str
    function: str           # the gradient function's name
    functions: list         # per generated function: names, user_refs, parent, reach, kind
    header_names: list      # names the module's import lines bind
    linemap: dict           # generated line -> [user file, user line]
    primal_file: str
    primal_name: str
    seed: str               # the parameter that takes the output's adjoint
    return_line: int        # the user's line of the return statement
    uses_tape: bool = False  # some function in it keeps values on a tape (loops)

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
    if seed is None:
        return args
    if args.kwonlyargs:
        args.kwonlyargs.append(syntax.name(seed, "param"))
        args.kw_defaults.append(syntax.const(1.0))
    else:
        args.args.append(syntax.name(seed, "param"))
        args.defaults.append(syntax.const(1.0))
    return args


def _is_pass(body):
    return not body or all(isinstance(s, gast.Pass) for s in body)


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
                self.linemap[len(self.lines)] = [self.info.file, user_line]

    def function(self, name, args, body, def_line=None):
        def_text = syntax.unparse(syntax.function_def(name, args, [gast.Pass()]))
        self.add(def_text.splitlines()[0], def_line, 0)
        self.block = None
        self.statements(body, 1)

    def text(self):
        return "\n".join(self.lines) + "\n"

    def comment(self, stmt, indent):
        role, line = anno.get(stmt, "role"), anno.get(stmt, "line")
        if role == "tangent":           # forward mode: under its primal line's comment
            role = "primal"
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
        if _is_pass(stmt.body) and stmt.orelse:       # `if c: pass else: ...` -> `if not c:`
            stmt = syntax.if_(gast.UnaryOp(op=gast.Not(), operand=stmt.test), stmt.orelse, [])
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


def _user_refs(functions, header_names, scope):
    """Names the functions read from the user's module or closure (`np`, constants)."""
    refs = set()
    for function in functions:
        params = {a.id for a in gast.walk(function.args) if isinstance(a, gast.Name)}
        stores = {n.id for n in gast.walk(function) if isinstance(n, gast.Name)
                  and isinstance(n.ctx, gast.Store)}
        for node in gast.walk(function):
            if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load):
                name = node.id
                if name in params or name in stores or name in header_names:
                    continue
                if name in scope.closure or name in scope.globals:
                    refs.add(name)
    return sorted(refs)


def render_normalized(unit):
    """The normal form of a function, as source (for `srcgrad show --stage normalized`)."""
    printer = _Printer(unit.info)
    printer.function(unit.name, syntax.clone(unit.arguments), unit.body)
    return printer.text()


def _defs(entry):
    """The FunctionDef node(s) of one program function."""
    from .program import split
    if entry.kind == "split":
        return split(entry)
    derivative = entry.derivative
    if entry.kind == "jvp":
        args = _signature(derivative.unit, None)
        params = args.posonlyargs if args.posonlyargs else args.args
        params[:0] = [syntax.name(t, "param") for t in derivative.tangent_params]
    else:
        args = _signature(derivative.unit, derivative.seed)
    return [syntax.function_def(derivative.name, args, derivative.body)]


def emit(program, description):
    """The generated module of a program (the gradient, then the functions it calls)."""
    top = program.functions[0].derivative
    info = top.unit.info
    defs = [_defs(entry) for entry in program.functions]
    header = [f"# Generated by srcgrad {__version__} from {os.path.basename(info.file)}:"
              f"{top.unit.parsed.tree.lineno} ({info.qualname}), {description}.",
              "# Edit the function it comes from, not this file."]
    sources, header_names = {}, set()
    for entry, nodes in zip(program.functions, defs):
        used = {n.id for node in nodes for n in gast.walk(node) if isinstance(n, gast.Name)}
        for name, source in entry.derivative.imports.sources.items():
            if name in used:
                sources.setdefault(name, source)
        header_names |= set(entry.derivative.imports.objects) & used
    imports = imports_header(sources)
    printer = _Printer(info)
    for line in header + imports:
        printer.add(line, None, 0)
    functions = []
    for index, (entry, nodes) in enumerate(zip(program.functions, defs)):
        unit = entry.derivative.unit
        printer.info = unit.info
        printer.add("", None, 0)
        printer.add("", None, 0)
        if entry.kind == "split":
            where = f"{os.path.basename(unit.info.file)}:{unit.parsed.tree.lineno}"
            printer.add(f"# {unit.info.qualname} ({where}), differentiated with respect to "
                        f"{', '.join(entry.derivative.wrt)}: {nodes[0].name} runs it and keeps "
                        f"what {nodes[1].name} needs.", None, 0)
        for k, node in enumerate(nodes):
            if k:
                printer.add("", None, 0)
                printer.add("", None, 0)
            printer.function(node.name, node.args, node.body, unit.parsed.tree.lineno)
        functions.append({"names": list(entry.names), "kind": entry.kind,
                          "parent": entry.parent, "reach": entry.reach,
                          "user_refs": _user_refs(nodes, header_names, unit.scope),
                          "seed": entry.derivative.seed,
                          "tape": entry.derivative.tape if entry.derivative.segments else None})
    returned = top.body[-1]
    return Generated(source=printer.text(), function=top.name, functions=functions,
                     header_names=sorted(header_names), linemap=printer.linemap,
                     primal_file=info.file, primal_name=info.qualname, seed=top.seed,
                     return_line=anno.get(returned, "line"),
                     uses_tape=any(e.derivative.segments for e in program.functions))


def imports_header(sources):
    """Import lines for {name: (module, attribute or None)}: modules, then one line a module."""
    lines, grouped = [], {}
    for name in sorted(sources):
        module, attr = sources[name]
        if attr is None:
            lines.append(f"import {module}" + (f" as {name}" if name != module else ""))
        else:
            grouped.setdefault(module, []).append(attr if attr == name else f"{attr} as {name}")
    for module in sorted(grouped):
        lines.append(f"from {module} import {', '.join(grouped[module])}")
    return lines


def compile_module(generated, path):
    """Compile the generated text as the file `path` (registered in linecache)."""
    linecache.cache[path] = (len(generated.source), None, generated.source.splitlines(True), path)
    return compile(generated.source, path, "exec")


def _resolve(reach, scope):
    from .parse import MISSING as missing
    return scope.resolve(syntax.parse_expr(reach)) if reach else missing


def instantiate(code, generated, primal):
    """Run a compiled module; returns (gradient function, [(namespace, scope, refs)]).

    Each generated function gets a namespace of its own: the module's imports,
    the functions of the module, and the names it reads from its user
    function's module or closure (`np`, constants), looked up in that scope.
    """
    from .parse import Scope
    users = [primal]
    for meta in generated.functions[1:]:
        callee = _resolve(meta["reach"], Scope(users[meta["parent"]]))
        if callee is MISSING:
            from .errors import SrcgradError
            raise SrcgradError(f"cannot find `{meta['reach']}` called by "
                               f"{users[meta['parent']].__name__} any more")
        users.append(callee)
    scopes = [Scope(fun) for fun in users]
    base = {"__name__": "srcgrad.generated", "__builtins__": builtins}
    for meta, scope in zip(generated.functions, scopes):
        for name in meta["user_refs"]:
            value = scope.lookup(name)
            if value is not MISSING:
                base.setdefault(name, value)    # for default values, as the module runs
    exec(code, base)  # noqa: S102 - srcgrad's own generated code (cache.py checks files)
    made, spaces = {}, []
    for meta, scope, user in zip(generated.functions, scopes, users):
        namespace = {"__name__": "srcgrad.generated", "__builtins__": builtins}
        namespace.update({n: base[n] for n in generated.header_names if n in base})
        for name in meta["user_refs"]:
            value = scope.lookup(name)
            if value is not MISSING:
                namespace[name] = value
        for k, name in enumerate(meta["names"]):
            template = base[name]
            fn = types.FunctionType(template.__code__, namespace, name, template.__defaults__)
            fn.__kwdefaults__ = template.__kwdefaults__
            if meta["kind"] == "grad":
                _grad_defaults(fn, user, meta["seed"])
            elif k == 0:            # a callee's fwd, or a jvp: the primal's defaults
                fn.__defaults__, fn.__kwdefaults__ = user.__defaults__, user.__kwdefaults__
            fn.__srcgrad_tape__ = meta.get("tape")     # normalize.py, when it is differentiated
            made[name] = fn
        spaces.append((namespace, scope, meta["user_refs"]))
    for namespace, _, _ in spaces:
        namespace.update(made)
    top = made[generated.function]
    return top, spaces


def _grad_defaults(fn, primal, seed):
    primal_kw = primal.__kwdefaults__ or {}
    if fn.__kwdefaults__:          # the seed is keyword-only after the primal's own
        fn.__defaults__ = primal.__defaults__
        fn.__kwdefaults__ = {**primal_kw, seed: 1.0}
    else:
        fn.__defaults__ = (primal.__defaults__ or ()) + (1.0,)
