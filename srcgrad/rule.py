"""A derivative rule, and its instantiation at one call site.

`Rule.bind` maps a call's arguments to the rule's parameters (through the
primal's own signature); `Rule.instantiate` substitutes them into the rule's
body, decides `if`s whose conditions are constant, and turns each
`d[arg] = ...` into a `Contribution` for the reverse stage to accumulate;
`Rule.instantiate_tangent` does the same for a forward rule, whose
`d[result] = ...` becomes the sum of the terms that have a tangent.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import warnings

import gast

from . import syntax
from .errors import Location
from .extend import _AdjointMarker, constant
from .runtime import broadcast_like, zero_tangent

REQUIRED = object()


@dataclasses.dataclass
class Contribution:
    """`d[target] = expr` (or `d[target][index] = expr`) in an instantiated rule."""

    target: str
    expr: object
    index: object = None


class BindError(Exception):
    """A call site's arguments do not fit a rule; the caller adds the location."""


@dataclasses.dataclass
class Rule:
    name: str
    result: str
    params: list          # [(name, default node or REQUIRED)]
    body: list            # gast statements
    file: str
    line: int
    namespace: dict       # the names the rule file imports
    primal_params: dict = dataclasses.field(default_factory=dict)  # primal -> {param: primal param}
    kind: str = "adjoint"  # or "tangent" (forward mode)

    @property
    def location(self):
        return Location(self.file, self.line)

    # binding ----------------------------------------------------------------

    def bind(self, primal, args, keywords):
        """Map a call's argument nodes to this rule's parameters: {param: node}."""
        signature = signature_of(primal)
        names = [p for p, _ in self.params]
        if signature is None:
            signature = inspect.Signature(
                [inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD) for p in names])
        try:
            bound = signature.bind(*args, **keywords)
        except TypeError as err:
            raise BindError(str(err)) from None
        given = {}
        for pname, value in bound.arguments.items():
            kind = signature.parameters[pname].kind
            if kind is inspect.Parameter.VAR_POSITIONAL:
                if value:
                    given[pname] = syntax.tuple_(value)
            elif kind is inspect.Parameter.VAR_KEYWORD:
                given.update(value)
            else:
                given[pname] = value
        mapping = self.primal_params.get(primal) or {p: p for p in names}
        result = {}
        for pname, default in self.params:
            node = given.pop(mapping[pname], None)
            if node is None:
                if default is REQUIRED:
                    raise BindError(f"the rule needs argument `{mapping[pname]}`")
                node = syntax.clone(default)
            result[pname] = node
        for pname, node in given.items():
            param = signature.parameters.get(pname)
            if param is not None and _is_default(node, param.default):
                continue
            raise BindError(f"argument `{pname}=` is not handled by srcgrad's rule "
                            f"({self.file}:{self.line})")
        return result

    # instantiation ----------------------------------------------------------

    def instantiate(self, bound, result, adjoint_of_result, fresh, global_ref):
        """The rule's statements for one call site.

        bound: {param: atom node}; result: the Name node of the primal result;
        adjoint_of_result: Name node; fresh(hint) -> new name;
        global_ref(name, obj) -> expression node naming `obj` in generated code.
        Returns gast statements and `Contribution`s.
        """
        mapping = self.mapping(bound, result, fresh, global_ref)
        return _Instantiator(mapping, adjoint_of_result, self.result).statements(self.body)

    def instantiate_tangent(self, bound, result, tangent_of_result, tangents, fresh,
                            global_ref):
        """A forward rule's statements for one call site: the last assigns
        `tangent_of_result` (a Name node). `tangents`: {param: Name node of its
        tangent}, for the arguments that have one; the terms of the others are dropped.
        """
        mapping = self.mapping(bound, result, fresh, global_ref)
        zero = syntax.call(global_ref("zero_tangent", zero_tangent), [syntax.clone(result)])
        return _TangentInstantiator(mapping, tangent_of_result, tangents, zero,
                                    self.namespace).statements(self.body)

    def mapping(self, bound, result, fresh, global_ref):
        """{name in the rule: node at the call site}: the arguments, the result, a fresh name
        for each temporary, and how generated code names the rule file's imports."""
        mapping = dict(bound)
        mapping[self.result] = result
        for stmt in self.body:
            for node in gast.walk(stmt):
                if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store) \
                        and node.id not in mapping:
                    mapping[node.id] = syntax.name(fresh(node.id))
        for ident in self.global_names():
            mapping[ident] = global_ref(ident, self.namespace[ident])
        return mapping

    @functools.cache
    def global_names(self):
        used = set()
        for stmt in self.body:
            used.update(syntax.names_in(stmt, "load"))
        markers = (constant,)
        return tuple(sorted(n for n in used if n in self.namespace
                            and not isinstance(self.namespace[n], _AdjointMarker)
                            and self.namespace[n] not in markers))

    __hash__ = object.__hash__


def signature_of(primal):
    try:
        return inspect.signature(primal)
    except (TypeError, ValueError):
        return None


def _is_default(node, default):
    if default is inspect.Parameter.empty or not syntax.is_constant_expr(node):
        return False
    value = syntax.constant_value(node)
    return value is default or (type(value) is type(default) and value == default)


class _Instantiator:
    """Substitutes a rule's names, decides static `if`s, and turns `d[...] =` into Contributions."""

    def __init__(self, mapping, adjoint_of_result, result):
        self.mapping = mapping
        self.adjoint_of_result = adjoint_of_result
        self.result = result

    def expr(self, node):
        node = syntax.clone(node)
        node = _ReplaceAdjointReads(self.adjoint_of_result, self.result).visit(node)
        return syntax.substitute(node, self.mapping)

    def statements(self, body):
        out = []
        for stmt in body:
            if isinstance(stmt, gast.If):
                out.extend(self.if_(stmt))
                continue
            target = stmt.targets[0]
            if isinstance(target, gast.Name):
                out.append(syntax.assign(self.mapping[target.id].id, self.expr(stmt.value)))
            else:
                out.extend(self.derivative(target, stmt.value))
        return out

    def derivative(self, target, value):
        """`d[arg] = value` (or `d[arg][index] = value`): a Contribution to arg's adjoint."""
        index = None
        if isinstance(target.value, gast.Subscript):     # d[x][index] = ...
            index = self.expr(target.slice)
            target = target.value
        arg = self.mapping[target.slice.id]
        if isinstance(arg, gast.Name):
            return [Contribution(arg.id, self.expr(value), index)]
        return []

    def if_(self, stmt):
        test = self.expr(stmt.test)
        decided = static_truth(test)
        if decided is True:
            return self.statements(stmt.body)
        if decided is False:
            return self.statements(stmt.orelse)
        return [syntax.if_(test, self.statements(stmt.body), self.statements(stmt.orelse))]


def terms(expr):
    """A sum as its terms: [(sign, node)] for `a + b - c`."""
    if isinstance(expr, gast.BinOp) and isinstance(expr.op, (gast.Add, gast.Sub)):
        right = terms(expr.right)
        if isinstance(expr.op, gast.Sub):
            right = [(-sign, node) for sign, node in right]
        return terms(expr.left) + right
    return [(1, expr)]


def tangent_reads(node):
    """The arguments whose tangent `d[arg]` the expression reads."""
    return [n.slice.id for n in gast.walk(node) if isinstance(n, gast.Subscript)
            and isinstance(n.value, gast.Name) and n.value.id == "d"
            and isinstance(n.slice, gast.Name)]


class _TangentInstantiator(_Instantiator):
    """`d[result] = t1 + t2` -> `dy = <the terms whose argument has a tangent>`."""

    def __init__(self, mapping, tangent_of_result, tangents, zero, namespace):
        super().__init__(mapping, tangent_of_result, None)
        self.namespace = namespace
        self.tangents = tangents
        self.zero = zero

    def derivative(self, target, value):
        """`d[result] = t1 + t2`: the sum of the terms whose argument has a tangent."""
        total = None
        parts = terms(value)
        kept = [(sign, term) for sign, term in parts
                if any(self.tangents.get(p) is not None for p in tangent_reads(term))]
        for sign, term in kept:
            if len(kept) == len(parts):     # together the terms have the result's shape
                term = self.unwrap_broadcast(term)
            # d[p] -> a placeholder that substitution leaves alone, then its tangent
            node = _ReplaceTangentReads(lambda p: syntax.name(_PLACEHOLDER + p)).visit(
                syntax.clone(term))
            node = syntax.substitute(node, self.mapping)
            node = syntax.substitute(node, {
                _PLACEHOLDER + p: self.tangent_or_zero(p) for p in tangent_reads(term)})
            if total is None:
                total = node if sign > 0 else syntax.neg(node)
            else:
                total = syntax.binop(total, "+" if sign > 0 else "-", node)
        return [syntax.assign(self.adjoint_of_result.id,
                              total if total is not None else syntax.clone(self.zero))]

    def unwrap_broadcast(self, term):
        if isinstance(term, gast.Call) and isinstance(term.func, gast.Name) \
                and isinstance(self.mapping.get(term.func.id), gast.Name) \
                and self.namespace.get(term.func.id) is broadcast_like:
            return term.args[0]
        return term

    def tangent_or_zero(self, param):
        """d[param] -> its tangent; in a term that reads several, a missing one is zero."""
        if self.tangents.get(param) is not None:
            return self.tangents[param]
        zero = syntax.clone(self.zero)
        zero.args = [syntax.clone(self.mapping[param])]
        return zero


_PLACEHOLDER = "__tangent_of_"     # not a valid name in a rule, so never substituted


class _ReplaceTangentReads(gast.NodeTransformer):
    def __init__(self, replacement):
        self.replacement = replacement

    def visit_Subscript(self, node):
        if isinstance(node.value, gast.Name) and node.value.id == "d" \
                and isinstance(node.slice, gast.Name):
            return self.replacement(node.slice.id)
        return self.generic_visit(node)


class _ReplaceAdjointReads(gast.NodeTransformer):
    def __init__(self, adjoint_of_result, result):
        self.adjoint_of_result = adjoint_of_result
        self.result = result

    def visit_Subscript(self, node):
        if isinstance(node.value, gast.Name) and node.value.id == "d":
            return syntax.clone(self.adjoint_of_result)
        return self.generic_visit(node)


_STATIC_NODES = (gast.Constant, gast.Tuple, gast.BinOp, gast.UnaryOp, gast.Compare, gast.BoolOp,
                 gast.Load, gast.operator, gast.unaryop, gast.cmpop, gast.boolop, gast.expr_context)


def static_truth(test):
    """True/False when `test` is decided by constants alone, else None.

    `constant(e)` in a rule's condition is True when the argument `e` is a
    literal (so `if constant(x) and x > 0:` picks a branch for `2.0 ** y`).
    """
    if isinstance(test, gast.BoolOp):
        values = [static_truth(v) for v in test.values]
        decisive = isinstance(test.op, gast.And) is False
        if decisive in values:
            return decisive
        return None if None in values else not decisive
    if isinstance(test, gast.UnaryOp) and isinstance(test.op, gast.Not):
        value = static_truth(test.operand)
        return None if value is None else not value
    if isinstance(test, gast.Call) and isinstance(test.func, gast.Name) \
            and test.func.id == "constant" and len(test.args) == 1:
        return syntax.is_constant_expr(test.args[0])
    if not all(isinstance(n, _STATIC_NODES) for n in gast.walk(test)):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)     # `1 is None` is intended
            code = compile(syntax.to_ast(gast.Expression(body=test)), "<rule>", "eval")
        return bool(eval(code, {"__builtins__": {}}))  # noqa: S307 - constants only
    except Exception:
        return None
