"""Loads derivative rules (templates) and the table of non-differentiable callables.

The rule files in `templates/` are data: this module parses them, checks
each rule against the conventions stated in their docstrings, and fails with
the template's file and line when one is broken. A `Rule` is later
instantiated for one call site by `Rule.instantiate`.
"""

from __future__ import annotations

import builtins
import functools
import hashlib
import importlib
import inspect
import pathlib
import textwrap
import types

import gast

from . import syntax
from .errors import Location, NoRuleError, TemplateError
from .rule import REQUIRED, Rule, signature_of, tangent_reads, terms


def templates_dir():
    """The templates folder: inside the installed package, or next to it in a checkout."""
    here = pathlib.Path(__file__).resolve().parent
    for candidate in (here / "_templates", here.parent / "templates"):
        if (candidate / "nondifferentiable.py").is_file():
            return candidate
    raise TemplateError(f"srcgrad's templates folder is missing (looked in {here / '_templates'} "
                        f"and {here.parent / 'templates'}); reinstall srcgrad")


# -- rules ----------------------------------------------------------------------


# -- loading ----------------------------------------------------------------------


class _FileLoader:
    """Reads one template file into rules and table entries."""

    def __init__(self, path, text=None, namespace=None, first_line=1, kind="adjoint"):
        self.kind = kind            # "adjoint" (reverse rules) or "tangent" (forward)
        self.path = str(path)
        self.text = text if text is not None else pathlib.Path(path).read_text()
        self.namespace = dict(namespace or {})
        self.first_line = first_line

    def error(self, message, node=None):
        line = (getattr(node, "lineno", None) or 1) + self.first_line - 1
        return TemplateError(message, Location(self.path, line))

    def load(self, registry):
        try:
            tree = gast.parse(self.text)
        except SyntaxError as err:
            raise TemplateError(f"syntax error in a rule file: {err.msg}",
                                Location(self.path, (err.lineno or 1) + self.first_line - 1))
        for stmt in tree.body:
            if isinstance(stmt, (gast.Import, gast.ImportFrom)):
                self.import_(stmt)
            elif isinstance(stmt, gast.FunctionDef):
                self.rule(stmt, registry)
            elif isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call):
                self.table(stmt.value, registry)
            elif isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Constant):
                continue  # docstring
            else:
                raise self.error("a template file holds imports, rules and tables only", stmt)

    def import_(self, stmt):
        if isinstance(stmt, gast.Import):
            for alias in stmt.names:
                module = importlib.import_module(alias.name)
                if alias.asname:
                    self.namespace[alias.asname] = module
                else:
                    top = alias.name.split(".")[0]
                    self.namespace[top] = importlib.import_module(top)
            return
        module = importlib.import_module(stmt.module)
        for alias in stmt.names:
            self.namespace[alias.asname or alias.name] = getattr(module, alias.name)

    def resolve(self, node):
        if isinstance(node, gast.Name):
            if node.id not in self.namespace:
                raise self.error(f"`{node.id}` is not imported in this template file", node)
            return self.namespace[node.id]
        if isinstance(node, gast.Attribute):
            base = self.resolve(node.value)
            if not hasattr(base, node.attr):
                raise self.error(f"`{syntax.unparse(node)}` does not exist "
                                 f"(in the installed version of {getattr(base, '__name__', base)})",
                                 node)
            return getattr(base, node.attr)
        raise self.error(f"expected a dotted name, got `{syntax.unparse(node)}`", node)

    def table(self, call, registry):
        kind = call.func.id if isinstance(call.func, gast.Name) else None
        if kind not in ("nondifferentiable", "mutating"):
            raise self.error("a call in a template file must be nondifferentiable(...) "
                             "or mutating(...)", call)
        objs = [self.resolve(arg) for arg in call.args]
        impure = any(k.arg == "impure" and k.value.value for k in call.keywords)
        if kind == "nondifferentiable":
            registry.add_nondifferentiable(objs, impure=impure)
        else:
            registry.add_mutating(objs)

    def rule(self, fdef, registry):
        primals = []
        kind = self.kind
        if not fdef.decorator_list:
            raise self.error(f"rule `{fdef.name}`: decorate it with @{kind}(primal)", fdef)
        for dec in fdef.decorator_list:
            if not (isinstance(dec, gast.Call) and isinstance(dec.func, (gast.Name, gast.Attribute))
                    and _dotted(dec.func).split(".")[-1] == kind and len(dec.args) == 1):
                raise self.error(f"rule `{fdef.name}`: decorate it with @{kind}(primal)", fdef)
            renames = {}
            for kw in dec.keywords:
                if not (isinstance(kw.value, gast.Constant) and isinstance(kw.value.value, str)):
                    raise self.error(f"rule `{fdef.name}`: @{kind}(primal, arg='primal_arg') "
                                     "renames take strings", dec)
                renames[kw.arg] = kw.value.value
            primals.append((self.resolve(dec.args[0]), renames))
        rule = self.make_rule(fdef)
        for primal, renames in primals:
            rule.primal_params[primal] = self.map_params(rule, primal, fdef, renames)
            registry.add_rule(primal, rule)
        return rule

    def make_rule(self, fdef):
        args = fdef.args
        if args.vararg or args.kwarg or args.kwonlyargs:
            raise self.error(f"rule `{fdef.name}`: list the primal's arguments by name "
                             "(no *args, **kwargs or keyword-only arguments)", fdef)
        names = [a.id for a in args.args]
        if len(names) < 2:
            raise self.error(f"rule `{fdef.name}` needs the result and at least one argument: "
                             f"def {fdef.name}(result, x)", fdef)
        defaults = [REQUIRED] * (len(names) - len(args.defaults)) + list(args.defaults)
        line = fdef.lineno + self.first_line - 1
        rule = Rule(name=fdef.name, result=names[0], params=list(zip(names[1:], defaults[1:])),
                    body=fdef.body, file=self.path, line=line, namespace=self.namespace,
                    kind=self.kind)
        if self.kind == "tangent":
            self.check_tangent_body(rule, fdef.body, set(names))
        else:
            self.check_body(rule, fdef.body, set(names), fdef)
        return rule

    def check_tangent_body(self, rule, body, known):
        """Temporaries from primal values, then `d[result] = ` a sum of terms, each
        reading the tangent of exactly one argument."""
        args = {p for p, _ in rule.params}
        assigned = False
        for stmt in body:
            if isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Constant):
                continue  # docstring
            if isinstance(stmt, gast.If):
                self.check_names(stmt.test, known | {"constant"}, rule, tangent=True)
                if tangent_reads(stmt.test):
                    raise self.error(f"rule `{rule.name}`: a condition may not read a tangent",
                                     stmt)
                self.check_tangent_body(rule, stmt.body, set(known))
                self.check_tangent_body(rule, stmt.orelse, set(known))
                assigned = True
                continue
            if not (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1):
                raise self.error(f"rule `{rule.name}`: only assignments and if statements "
                                 "are allowed in a rule", stmt)
            target = stmt.targets[0]
            self.check_names(stmt.value, known, rule, tangent=True)
            if isinstance(target, gast.Name):
                if tangent_reads(stmt.value):
                    raise self.error(f"rule `{rule.name}`: temporaries are computed from "
                                     "primal values; read tangents in `d[...] = ` only", stmt)
                known.add(target.id)
                continue
            if not (isinstance(target, gast.Subscript) and isinstance(target.value, gast.Name)
                    and target.value.id == "d" and isinstance(target.slice, gast.Name)
                    and target.slice.id == rule.result):
                raise self.error(f"rule `{rule.name}`: assign to a temporary or to "
                                 f"d[{rule.result}] (the tangent of the result)", stmt)
            for _, term in terms(stmt.value):
                read = tangent_reads(term)
                if not read:
                    raise self.error(
                        f"rule `{rule.name}`: each term of d[{rule.result}] must read an "
                        f"argument's tangent; `{syntax.unparse(term)}` reads none", stmt)
                for name in read:
                    if name not in args:
                        raise self.error(f"rule `{rule.name}`: d[{name}] is read, but "
                                         f"`{name}` is not one of the rule's arguments "
                                         f"{sorted(args)}", stmt)
            assigned = True
        if body and not assigned:
            raise self.error(f"rule `{rule.name}`: it never assigns d[{rule.result}]",
                             body[-1])
        body[:] = [s for s in body if not (isinstance(s, gast.Expr))]

    def check_body(self, rule, body, known, fdef):
        args = {p for p, _ in rule.params}
        for stmt in body:
            if isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Constant):
                continue  # docstring
            if isinstance(stmt, gast.If):
                self.check_names(stmt.test, known | {"constant"}, rule)
                self.check_body(rule, stmt.body, known, fdef)
                self.check_body(rule, stmt.orelse, known, fdef)
                continue
            if not (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1):
                raise self.error(f"rule `{rule.name}`: only assignments and if statements "
                                 "are allowed in a rule", stmt)
            self.check_names(stmt.value, known, rule)
            target = stmt.targets[0]
            if isinstance(target, gast.Name):
                known.add(target.id)
                continue
            inner = target.value if isinstance(target, gast.Subscript) else None
            if isinstance(inner, gast.Subscript):
                self.check_names(target.slice, known, rule)
                target = inner
            if not (isinstance(target, gast.Subscript) and isinstance(target.value, gast.Name)
                    and target.value.id == "d" and isinstance(target.slice, gast.Name)):
                raise self.error(f"rule `{rule.name}`: assign to a temporary or to d[arg]", stmt)
            if target.slice.id not in args:
                raise self.error(f"rule `{rule.name}`: d[{target.slice.id}] is assigned, but "
                                 f"`{target.slice.id}` is not one of the rule's arguments "
                                 f"{sorted(args)}", stmt)
        body[:] = [s for s in body if not (isinstance(s, gast.Expr))]

    def check_names(self, expr, known, rule, tangent=False):
        for node in gast.walk(expr):
            if isinstance(node, gast.Subscript) and isinstance(node.value, gast.Name) \
                    and node.value.id == "d":
                if tangent:
                    if not isinstance(node.slice, gast.Name) or node.slice.id == rule.result:
                        raise self.error(f"rule `{rule.name}`: d[{rule.result}] is assigned, "
                                         "never read; read the arguments' tangents", node)
                elif not (isinstance(node.slice, gast.Name) and node.slice.id == rule.result):
                    raise self.error(f"rule `{rule.name}`: only d[{rule.result}] (the adjoint "
                                     "of the result) may be read", node)
            elif isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load):
                if node.id not in known and node.id not in self.namespace \
                        and node.id != "d" and not hasattr(builtins, node.id):
                    raise self.error(f"rule `{rule.name}`: `{node.id}` is not defined (not an "
                                     "argument, a temporary, an import or a builtin)", node)

    def map_params(self, rule, primal, fdef, renames=None):
        """{rule param: primal param}: renamed explicitly, else by name, else (for the
        leading required arguments) by position."""
        renames = renames or {}
        signature = signature_of(primal)
        names = [p for p, _ in rule.params]
        unknown = set(renames) - set(names)
        if unknown:
            raise self.error(f"rule `{rule.name}`: renamed arguments {sorted(unknown)} are not "
                             "arguments of the rule", fdef)
        if signature is None:
            return {p: renames.get(p, p) for p in names}
        params = list(signature.parameters.values())
        primal_names = [p.name for p in params]
        has_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)
        mapping = {}
        for i, (pname, default) in enumerate(rule.params):
            if pname in renames:
                mapping[pname] = renames[pname]
            elif pname in primal_names:
                mapping[pname] = pname
            elif default is REQUIRED and i < len(params) and primal_names[i] not in names \
                    and (params[i].default is inspect.Parameter.empty
                         or params[i].kind is inspect.Parameter.POSITIONAL_ONLY) \
                    and params[i].kind not in (inspect.Parameter.VAR_POSITIONAL,
                                               inspect.Parameter.VAR_KEYWORD):
                mapping[pname] = primal_names[i]
            elif has_kwargs:
                mapping[pname] = pname
            else:
                raise self.error(f"rule `{rule.name}`: argument `{pname}` is not a parameter of "
                                 f"{_label(primal)}{signature}; rename it, or map it with "
                                 f"@adjoint(primal, {pname}='...')", fdef)
            if mapping[pname] not in primal_names and not has_kwargs:
                raise self.error(f"rule `{rule.name}`: `{mapping[pname]}` is not a parameter of "
                                 f"{_label(primal)}{signature}", fdef)
        return mapping


def _dotted(node):
    if isinstance(node, gast.Name):
        return node.id
    if isinstance(node, gast.Attribute):
        return _dotted(node.value) + "." + node.attr
    return "?"


def _label(obj):
    module = getattr(obj, "__module__", None) or ""
    qualname = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", repr(obj))
    if isinstance(obj, types.ModuleType):
        return obj.__name__
    return f"{module}.{qualname}" if module and module != "builtins" else qualname


# -- the registry -----------------------------------------------------------------------


class Registry:
    """Every rule and table entry, keyed by the primal callable."""

    def __init__(self):
        self.rules = {}            # primal -> reverse rule
        self.tangents = {}         # primal -> forward rule
        self.unread = []           # rule files read when first needed (the forward ones)
        self.nondiff = set()
        self.nondiff_modules = []
        self.impure = set()
        self.impure_modules = []
        self.mutating = set()
        self.user_sources = []     # the user's rules and tables (part of every cache key)
        self.user_generation = 0   # bumped by each registration from user code

    def add_rule(self, primal, rule):
        table = self.tangents if rule.kind == "tangent" else self.rules
        previous = table.get(primal)
        if previous is not None and getattr(previous, "user", False) \
                and not getattr(rule, "user", False):
            return                  # a shipped rule read late does not replace the user's
        if previous is not None and previous is not rule and previous.file == rule.file \
                and not getattr(rule, "user", False):
            raise TemplateError(f"two rules for {_label(primal)}: `{previous.name}` at "
                                f"{previous.file}:{previous.line} and `{rule.name}`",
                                rule.location)
        table[primal] = rule

    def add_nondifferentiable(self, objs, impure=False):
        for obj in objs:
            if isinstance(obj, types.ModuleType):
                self.nondiff_modules.append(obj.__name__)
                if impure:
                    self.impure_modules.append(obj.__name__)
            else:
                self.nondiff.add(obj)
                if impure:
                    self.impure.add(obj)

    def add_mutating(self, objs):
        self.mutating.update(obj for obj in objs)

    def add_user_rule(self, rule_fn, primals, kind="adjoint"):
        lines, first = inspect.getsourcelines(rule_fn)
        text = textwrap.dedent("".join(lines))
        path = inspect.getsourcefile(rule_fn)
        namespace = dict(rule_fn.__globals__)
        loader = _FileLoader(path, text, namespace, first_line=first, kind=kind)
        fdef = gast.parse(text).body[0]
        fdef.decorator_list = []
        rule = loader.make_rule(fdef)
        rule.user = True
        for primal in primals:
            rule.primal_params[primal] = loader.map_params(rule, primal, fdef)
            self.add_rule(primal, rule)
        self.note_user_change(text)

    def note_user_change(self, text):
        self.user_sources.append(text)
        self.user_generation += 1

    # queries -------------------------------------------------------------------

    def rule_for(self, obj, kind="adjoint"):
        try:
            if kind == "tangent":
                self.read_all()
                return self.tangents.get(obj)
            return self.rules.get(obj)
        except TypeError:          # an unhashable callable has no rule
            return None

    def read_all(self):
        """Read the rule files not read yet (forward mode's, on first use)."""
        while self.unread:
            path, kind = self.unread.pop(0)
            _FileLoader(path, path.read_text(), kind=kind).load(self)

    def has_tangent(self, obj):
        """Is there a forward rule for obj? (Reads the forward rule files only for srcgrad's
        own helpers: every other shipped forward rule has a reverse one.)"""
        try:
            if obj in self.tangents:
                return True
        except TypeError:
            return False
        if self.unread and getattr(obj, "__module__", None) == "srcgrad.runtime":
            return self.tangent_for(obj) is not None
        return False

    def tangent_for(self, obj):
        return self.rule_for(obj, "tangent")

    def _in_modules(self, obj, modules):
        owner = getattr(obj, "__self__", None)
        names = [getattr(obj, "__module__", None) or ""]
        if owner is not None and not isinstance(owner, types.ModuleType):
            names.append(type(owner).__module__)
        return any(n == m or n.startswith(m + ".") for n in names for m in modules)

    def _listed(self, obj, entries, modules=(), unhashable=False):
        try:
            if obj in entries:
                return True
        except TypeError:
            return unhashable
        return self._in_modules(obj, modules)

    def is_nondifferentiable(self, obj):
        return self._listed(obj, self.nondiff, self.nondiff_modules)

    def is_impure(self, obj):
        return self._listed(obj, self.impure, self.impure_modules, unhashable=True)

    def is_mutating(self, obj):
        return self._listed(obj, self.mutating)


def _builtin_files():
    """[(path, kind)]: the table, the reverse rules, the forward rules."""
    root = templates_dir()
    return [(root / "nondifferentiable.py", "adjoint")] \
        + [(p, "adjoint") for p in sorted((root / "reverse").glob("*.py"))] \
        + [(p, "tangent") for p in sorted((root / "forward").glob("*.py"))]


_REGISTRY = None


def registry():
    """Every rule: srcgrad's templates (read on first use), then the user's."""
    global _REGISTRY
    if _REGISTRY is None:
        reg = Registry()
        for path, kind in _builtin_files():
            if kind == "tangent":
                reg.unread.append((path, kind))
            else:
                _FileLoader(path, path.read_text(), kind=kind).load(reg)
        _REGISTRY = reg
    return _REGISTRY


@functools.cache
def _builtin_digest():
    h = hashlib.sha256()
    for path, _ in _builtin_files():
        h.update(path.read_bytes())
    return h.hexdigest()


def digest():
    """A hash of every rule's text: part of the key of every cached gradient."""
    h = hashlib.sha256(_builtin_digest().encode())
    for text in (_REGISTRY.user_sources if _REGISTRY is not None else ()):
        h.update(text.encode())
    return h.hexdigest()


def user_generation():
    """Changes whenever user code registers a rule or table entry."""
    return _REGISTRY.user_generation if _REGISTRY is not None else 0


def no_rule_error(label, location, hint=None):
    return NoRuleError(
        f"{label} has no derivative rule, and a value that carries a gradient flows into it",
        location,
        hint=hint or (f"Add a rule with @srcgrad.adjoint({label}) (see 'Adding rules' in the "
                      "README), or declare it srcgrad.nondifferentiable if its derivative is "
                      "zero."))


