"""The generated functions behind grad, jvp and the rest, as api.py calls them.

`GeneratedFunction` compiles (or finds in the caches) the derivative of a function and
binds it to the user's live names; `NestedGradient` is reverse mode over such a
function (grad of grad); `CustomRule` is a custom_vjp's own fwd and bwd.
"""

from __future__ import annotations

import types
import weakref

import numpy as np

from . import compiler, emit, parse
from .errors import ArgnumsError, SourceUnavailableError, UnsupportedSyntaxError
from .parse import definition_site


def _structural(value):
    return callable(value) or isinstance(value, type(np))


_INSTANCES = weakref.WeakKeyDictionary()     # fun -> {(argnums, has_aux, mode): instance}


def instance(fun, argnums, has_aux=False, mode="reverse"):
    """The GeneratedFunction of `fun` for these options: one per function and options, so
    that a transformation built again at each call (`hvp` in a loop) loads its code once."""
    try:
        per_fun = _INSTANCES.setdefault(fun, {})
    except TypeError:           # not weakly referable: no sharing
        return GeneratedFunction(fun, argnums, has_aux, mode)
    key = (tuple(argnums), has_aux, mode)
    if key not in per_fun:
        per_fun[key] = GeneratedFunction(fun, tuple(argnums), has_aux, mode)
    return per_fun[key]


class GeneratedFunction:
    """One instance of a generated derivative module, bound to a function's live names."""

    def __init__(self, fun, argnums, has_aux, mode="reverse"):
        self.fun = fun
        self.argnums = argnums
        self.has_aux = has_aux
        self.mode = mode
        self.entry = None
        self.fn = None

    def load(self):
        self.entry = compiler.compiled(self.fun, self.argnums, self.has_aux, self.mode)
        self.fn, spaces = emit.instantiate(self.entry.code, self.entry.generated, self.fun)
        self.refs = [(namespace, scope, name, namespace.get(name, parse.MISSING))
                     for namespace, scope, names in spaces for name in names]
        return self.fn

    def function(self):
        """The generated function, after making its view of the user's names current."""
        if self.fn is None:
            return self.load()
        for i, (namespace, scope, name, seen) in enumerate(self.refs):
            value = scope.lookup(name)
            if value is not seen:
                if _structural(value) or _structural(seen):
                    return self.load()   # a callable was rebound: its rule may differ
                namespace[name] = value
                self.refs[i] = (namespace, scope, name, value)
        return self.fn

    @property
    def generated(self):
        if self.entry is None:
            self.load()
        return self.entry.generated


class NestedGradient:
    """`grad` of a `grad` function: reverse mode over its generated code, whose output is
    (value, gradient); the seed (0, 1) asks for the derivative of the gradient. The
    function it gives is generated code too (with that seed as its default), so that it
    can be differentiated again: its output is ((value, gradient), second derivative)."""

    def __init__(self, inner, argnums, has_aux):
        if has_aux or inner.has_aux or inner.with_value:
            raise ArgnumsError("grad of a function made by grad(..., has_aux=True) or "
                               "value_and_grad: use grad(grad(f))")
        self.inner = inner
        refuse_reverse_over_tape(inner)
        self.fun = inner._generated.fun
        self.argnums = argnums
        self.outer = None

    def first_zero(self):
        """A zero of the first part of the output: (value, gradient) at any depth."""
        inner = self.inner._generated
        return (inner.first_zero() if isinstance(inner, NestedGradient) else 0.0, 0.0)

    def function(self):
        generated = self.inner._generated.function()
        if self.outer is None or self.outer.fun is not generated:
            self.outer = instance(generated, self.argnums)
        outer = self.outer.function()
        inner = self.inner._generated
        seed = (inner.first_zero() if isinstance(inner, NestedGradient) else 0.0, 1.0)
        return _with_seed(outer, self.outer.generated.seed, seed)

    @property
    def generated(self):
        self.function()
        return self.outer.generated

    @property
    def entry(self):
        self.function()
        return self.outer.entry


def refuse_reverse_over_tape(grad_function):
    """Reverse mode over gradient code that keeps a tape (the gradient of a loop) is not
    checked well enough yet to be trusted: refuse it, and point to forward over reverse."""
    gen = grad_function._generated
    while isinstance(gen, NestedGradient):
        gen = gen.inner._generated
    if isinstance(gen, GeneratedFunction) and gen.generated.uses_tape:
        fun = gen.fun
        raise UnsupportedSyntaxError(
            f"reverse mode over the gradient of {fun.__name__}, whose code keeps a tape for "
            "its loops, is not supported yet", definition_site(fun),
            hint="Take second derivatives forward over reverse: srcgrad.hvp, "
                 "srcgrad.hessian, or srcgrad.jvp(srcgrad.grad(f), primals, tangents).")


def _with_seed(fn, name, value):
    """A copy of the generated function `fn` whose seed parameter `name` defaults to `value`."""
    code = fn.__code__
    kwdefaults = dict(fn.__kwdefaults__ or {})
    defaults = fn.__defaults__
    if name in kwdefaults:
        kwdefaults[name] = value
    else:
        names = code.co_varnames[:code.co_argcount]
        position = names.index(name) - (len(names) - len(defaults))
        defaults = defaults[:position] + (value,) + defaults[position + 1:]
    copy = types.FunctionType(code, fn.__globals__, fn.__name__, defaults, fn.__closure__)
    copy.__kwdefaults__ = kwdefaults or None
    return copy


class CustomRule:
    """`grad` of a custom_vjp function itself: its fwd, then its bwd (nothing generated)."""

    def __init__(self, fun, argnums, has_aux):
        if has_aux:
            raise ArgnumsError("has_aux=True is not supported for a custom_vjp function")
        self.fun = fun
        self.argnums = argnums

    def function(self):
        fun = self.fun
        if fun.fwd is None:
            raise ArgnumsError(f"{fun.__name__} is a custom_vjp with no rule yet",
                               definition_site(fun.fun), hint="Call its defvjp(fwd, bwd) first.")

        def fwd_then_bwd(*args, **kwargs):
            out, residuals = fun.fwd(*args, **kwargs)
            cotangents = fun.bwd(residuals, 1.0)
            grads = tuple(cotangents[i] for i in self.argnums)
            return out, grads[0] if len(grads) == 1 else grads

        return fwd_then_bwd

    @property
    def generated(self):
        raise SourceUnavailableError(f"{self.fun.__name__} is a custom_vjp: its gradient is "
                                     "its own bwd function, and no code is generated for it")
