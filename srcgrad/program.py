"""The functions one generated module holds: the gradient, and the functions it calls.

A call `y = helper(x, w)` to a Python function, with an argument that carries
a gradient, becomes in the primal sweep

    y, y_res = helper_fwd(x, w)         # runs helper, keeps what its adjoint needs

and in the adjoint sweep

    dx, dw = helper_bwd(y_res, dy)

`helper_fwd` and `helper_bwd` are helper's own primal and adjoint sweeps,
generated in the same module (once per set of arguments that carry a
gradient), so that a recursive function calls its own generated pair.
"""

from __future__ import annotations

import dataclasses
import inspect

from . import analysis
from . import annotations as anno
from . import fence, forward, naming, normalize, optimize, parse, reverse, syntax
from .errors import UnsupportedSyntaxError
from .walk import statements


@dataclasses.dataclass
class Function:
    """One generated function: the gradient itself, or a callee's fwd/bwd pair."""

    fun: object                 # the user's function
    derivative: object          # reverse.Derivative, optimized
    kind: str                   # "grad", "split" (a callee's fwd/bwd pair) or "jvp"
    names: tuple                # (name,) or (fwd name, bwd name)
    parent: int = None          # index of the function whose code calls this one
    reach: str = ""             # the expression that names `fun` in the parent's scope
    defs: list = None           # the FunctionDef node(s) to print


class Program:
    def __init__(self):
        self.functions = []
        self.requests = {}          # (code, active params) -> index in functions
        self.queue = []
        self.taken = set()          # module-level names in use

    def module_name(self, hint):
        name = naming.Namer(self.taken).fresh(hint)
        self.taken.add(name)
        return name

    def request(self, callee, active, caller_index, reach, location):
        """(fwd name, bwd name) for `callee` with the parameters `active` carrying a
        gradient; compiled later (or now being compiled: recursion)."""
        key = (callee.__code__, tuple(active), id(getattr(callee, "__closure__", None)))
        if key not in self.requests:
            base = naming.sanitize(callee.__name__)
            names = (self.module_name(base + "_fwd"), self.module_name(base + "_bwd"))
            self.requests[key] = len(self.functions)
            self.functions.append(Function(fun=callee, derivative=None, kind="split",
                                           names=names, parent=caller_index, reach=reach))
            self.queue.append((len(self.functions) - 1, tuple(active), location))
        return self.functions[self.requests[key]].names

    def request_jvp(self, callee, active, caller_index, reach, location):
        """The name of `callee`'s forward-mode function with the parameters `active`
        carrying a tangent: `helper_jvp(d<active>..., <helper's own parameters>)`."""
        key = ("jvp", callee.__code__, tuple(active), id(getattr(callee, "__closure__", None)))
        if key not in self.requests:
            name = self.module_name(naming.sanitize(callee.__name__) + "_jvp")
            self.requests[key] = len(self.functions)
            self.functions.append(Function(fun=callee, derivative=None, kind="jvp",
                                           names=(name,), parent=caller_index, reach=reach))
            self.queue.append((len(self.functions) - 1, tuple(active), location))
        return self.functions[self.requests[key]].names[0]

    def drain(self):
        """Compile every requested callee (and what they request in turn)."""
        while self.queue:
            index, active, location = self.queue.pop(0)
            entry = self.functions[index]
            entry.derivative = self.compile_callee(entry, active, index, location)

    def compile_callee(self, entry, active, index, location):
        fun = entry.fun
        parsed = fence.check(parse.parse_function(fun))
        unit = normalize.normalize(parsed)
        if unit.written_params:
            raise UnsupportedSyntaxError(
                f"{fun.__name__} writes into its argument `{unit.written_params[0]}` "
                f"(defined at {parsed.info.file}:{parsed.info.firstline}), and the caller "
                "would not see that change in the derivative's code", location,
                hint=f"Make {fun.__name__} return the new value instead of writing into "
                     "its argument.")
        activity = analysis.analyze(unit, list(active))
        if entry.kind == "jvp":
            derivative = forward.Forward(unit, activity, list(active), program=self,
                                         index=index).run()
            derivative.name = entry.names[0]
        else:
            derivative = reverse.Reverse(unit, activity, list(active), program=self,
                                         index=index).run()
        optimize.optimize(derivative)
        return derivative


def split(entry):
    """The fwd and bwd FunctionDefs of a callee's optimized derivative."""
    derivative = entry.derivative
    unit = derivative.unit
    body = list(derivative.body)
    returned = body.pop()
    cut = next((i for i, s in enumerate(body) if anno.get(s, "role") == "adjoint"), len(body))
    primal, adjoint = body[:cut], body[cut:]
    primal_names = set(unit.params)
    for stmt in statements(primal):
        primal_names.update(syntax.names_in(stmt, "store"))
    loaded = set()
    for stmt in statements(adjoint):
        loaded.update(syntax.names_in(stmt, "load"))
    loaded.update(syntax.names_in(returned.value.elts[1], "load"))
    residuals = sorted(loaded & primal_names)
    out = returned.value.elts[0]
    surely = normalize.annotate_definedness(primal, unit.params)
    maybe = [r for r in residuals if r not in surely]
    if maybe:       # kept on some paths only: None on the others
        init = syntax.assign(syntax.tuple_([syntax.name(r, "store") for r in maybe], "store")
                             if len(maybe) > 1 else maybe[0],
                             syntax.tuple_([syntax.const(None)] * len(maybe))
                             if len(maybe) > 1 else syntax.const(None))
        anno.tag(init, role="return", line=anno.get(returned, "line"))
        primal = [init] + primal
    fwd_args = syntax.clone(unit.arguments)
    for param in fwd_args.posonlyargs + fwd_args.args + fwd_args.kwonlyargs:
        param.annotation = None
    fwd_return = syntax.return_(syntax.tuple_([out, syntax.tuple_(
        [syntax.name(r) for r in residuals])]))
    anno.tag(fwd_return, role="return", line=anno.get(returned, "line"))
    fwd = syntax.function_def(entry.names[0], fwd_args, primal + [fwd_return])
    pack = unit.namer.fresh("residuals")
    unpack = []
    if residuals:
        target = syntax.tuple_([syntax.name(r, "store") for r in residuals], "store")
        unpack = [anno.tag(syntax.assign(target, syntax.name(pack)), role="return",
                           line=anno.get(returned, "line"))]
    bwd_return = syntax.return_(returned.value.elts[1])
    anno.tag(bwd_return, role="return", line=anno.get(returned, "line"))
    bwd_args = syntax.arguments([pack, derivative.seed])
    bwd = syntax.function_def(entry.names[1], bwd_args, unpack + adjoint + [bwd_return])
    return [fwd, bwd]


def call_site(callee, op):
    """{param name: argument node} for a call of `callee` with op's arguments."""
    try:
        bound = inspect.signature(callee).bind(*op.args, **op.keywords)
    except TypeError:
        return None
    return dict(bound.arguments)


def signature_params(fun):
    """The names of fun's positional parameters, in order."""
    return [name for name, p in inspect.signature(fun).parameters.items()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def reach_text(func):
    """The source text of a callee expression (`helper`, `layers.dense`)."""
    return syntax.unparse(func)

