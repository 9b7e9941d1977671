"""The public transformations: grad, value_and_grad, vjp, jvp, source.

Names and semantics follow JAX. `grad(f)` returns a callable that compiles
the gradient of `f` on first use (so that `f` may call functions defined
after it) and then calls the generated function directly.
"""

from __future__ import annotations

import functools
import inspect
import numbers

import numpy as np

from . import compiler, parse, pytree
from .custom import custom_vjp
from .errors import ArgnumsError, NonScalarOutputError, ShapeMismatchError
from .generated import (CustomRule, NestedGradient, instance,
                        refuse_reverse_over_tape)
from .parse import definition_site


_SCALAR_TYPES = (float, np.float64, np.float32, np.float16)


def _is_scalar(value):
    """A real number: a float, a NumPy scalar or a 0-d array (not None, not a string)."""
    if type(value) in _SCALAR_TYPES:
        return True
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.ndarray)):
        return False
    return np.ndim(value) == 0 and np.asarray(value).dtype.kind in "iuf"


def _check_args(fun, args, argnums):
    for i in argnums:
        if i >= len(args):
            raise ArgnumsError(f"argnums includes {i}, but {fun.__name__} was called with "
                               f"{len(args)} positional argument(s)",
                               hint="Pass the arguments you differentiate by position.")
        if not pytree.has_inexact(args[i]):
            raise ArgnumsError(
                f"argument {i} of {fun.__name__} is {_short_repr(args[i])}: gradients are taken "
                "with respect to floating-point values", definition_site(getattr(fun, "fun", fun)),
                hint="Pass a float (3.0 rather than 3) or a float array, or leave this "
                     "argument out of argnums.")


def _short_repr(value):
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype}"
    text = repr(value)
    return f"{type(value).__name__} {text[:40]}"


def _unbind(fun):
    """(function, leading arguments): a bound method is its function and its `self`."""
    if inspect.ismethod(fun):
        return fun.__func__, (fun.__self__,)
    return fun, ()


class GradFunction:
    """What `grad` and `value_and_grad` return: call it like the function it differentiates.

    `__srcgrad_source__` is the generated source and `__srcgrad_file__` the
    file it was compiled from; `__wrapped__` is the original function.
    """

    def __init__(self, fun, argnums, has_aux, with_value):
        impl, self._bound = _unbind(fun)
        self.has_aux = has_aux
        self.with_value = with_value
        self.__wrapped__ = fun
        if isinstance(impl, custom_vjp):
            self.argnums, self._single = compiler.check_argnums(impl.fun, argnums)
            self._generated = CustomRule(impl, self.argnums, has_aux)
        elif isinstance(impl, GradFunction):        # grad(grad(f)): reverse over reverse
            self.argnums, self._single = compiler.check_argnums(
                impl._generated.fun, argnums, len(impl._bound))
            self._bound = impl._bound
            self._generated = NestedGradient(impl, self.argnums, has_aux)
        else:
            self.argnums, self._single = compiler.check_argnums(impl, argnums, len(self._bound))
            self._generated = instance(impl, self.argnums, has_aux)
        functools.update_wrapper(self, fun, updated=())   # not fun's __dict__: its own state
        prefix = "value_and_grad" if with_value else "grad"
        self.__name__ = f"{prefix}({fun.__name__})"
        self.__qualname__ = self.__name__

    @property
    def __srcgrad_source__(self):
        return self._generated.generated.source

    @property
    def __srcgrad_file__(self):
        self._generated.generated
        return self._generated.entry.path

    def __call__(self, *args, **kwargs):
        fn = self._generated.function()
        if self._bound:
            args = self._bound + args
        _check_args(self._generated.fun, args, self.argnums)
        try:
            out, grads = fn(*args, **kwargs)
        except Exception:
            self._explain_failure(args, kwargs)
            raise
        if isinstance(self._generated, NestedGradient):
            out = out[1]            # ((value, gradient), its derivative): the gradient
        value = out[0] if self.has_aux else out
        if not _is_scalar(value):
            raise self._non_scalar(value)
        grads = self._dense(grads, args)
        if self.with_value:
            return out, grads
        return (grads, out[1]) if self.has_aux else grads

    def jvp(self, primals, tangents, has_aux=False):
        """Forward mode over the generated gradient code: (grads, their tangents), as `jvp`
        of this function would give (a Hessian-vector product when all arguments move)."""
        if has_aux:
            raise ArgnumsError("jvp(..., has_aux=True) of a gradient function: use "
                               "grad(f, has_aux=True) and jvp without has_aux")
        generated = self._generated.function()
        out, tangent_out = jvp(generated, self._bound + tuple(primals),
                               self._bound + tuple(tangents))
        value, grads = out
        dvalue, dgrads = tangent_out
        if isinstance(self._generated, NestedGradient):
            value, dvalue = value[1], dvalue[1]
        if not _is_scalar(value[0] if self.has_aux else value):
            raise self._non_scalar(value[0] if self.has_aux else value)
        args = self._bound + tuple(primals)
        grads, dgrads = self._dense(grads, args), self._dense(dgrads, args)
        if self.has_aux:
            value, aux = value
        if self.with_value:
            return (value, grads), (dvalue, dgrads)
        return grads, dgrads

    def _dense(self, grads, args):
        """The generated function's (sparse) gradients, shaped like the arguments."""
        if self._single:
            return pytree.densify(grads, args[self.argnums[0]])
        if len(self.argnums) == 1:          # the generated function returns it bare
            grads = (grads,)
        return tuple(pytree.densify(g, args[i]) for g, i in zip(grads, self.argnums))

    def vjp(self, *primals):
        """Reverse mode over the generated gradient code: (grads, vjp_fn), where vjp_fn
        takes a cotangent shaped like the gradient (a Hessian-vector product, in reverse)."""
        if self.has_aux or self.with_value:
            raise ArgnumsError("vjp of a function made by grad(..., has_aux=True) or "
                               "value_and_grad: use vjp(grad(f), ...)")
        refuse_reverse_over_tape(self)
        args = self._bound + tuple(primals)
        generated = self._generated.function()
        argnums = tuple(i for i, a in enumerate(args) if pytree.has_inexact(a))
        outer = instance(generated, argnums)
        grads = self(*primals)
        first = self._generated.first_zero() if isinstance(self._generated, NestedGradient) else 0.0

        def vjp_fn(cotangent):
            _check_cotangent(cotangent, grads)
            fn = outer.function()
            if not self._single and len(self.argnums) == 1:
                cotangent = cotangent[0]        # the generated code returns it bare
            _, cts = fn(*args, **{outer.generated.seed: (first, cotangent)})
            if len(argnums) == 1:
                cts = (cts,)
            result = [None] * len(args)
            for i, g in zip(argnums, cts):
                result[i] = pytree.densify(g, args[i])
            return tuple(result[len(self._bound):])

        return grads, vjp_fn

    def _non_scalar(self, value):
        gen = self._generated.generated
        if isinstance(value, np.ndarray) or isinstance(value, numbers.Number):
            what = f"a value of shape {np.shape(value)}"
        elif value is None:
            what = "None"
        else:
            what = f"{type(value).__name__} {value!r:.40}"
        location = parse.get_source(self._generated.fun).location(gen.return_line)
        return NonScalarOutputError(
            f"grad needs a function with a scalar output, but {self._generated.fun.__name__} "
            f"returned {what}", location,
            hint="Reduce it to a scalar (np.sum, np.mean), or use srcgrad.vjp(f, *args) for "
                 "the vector-Jacobian product of a non-scalar function.")

    def _explain_failure(self, args, kwargs):
        """The generated code raised: report a non-scalar output if that is the cause."""
        try:
            out = self._generated.fun(*args, **kwargs)
        except Exception:
            return
        value = out[0] if self.has_aux and isinstance(out, tuple) else out
        if not _is_scalar(value):
            raise self._non_scalar(value) from None

    def __get__(self, obj, objtype=None):
        return self if obj is None else functools.partial(self, obj)

    def __repr__(self):
        return f"<srcgrad {self.__name__}>"


def grad(fun=None, argnums=0, has_aux=False):
    """The gradient of `fun` with respect to its positional argument(s) `argnums`.

    Usable as `@srcgrad.grad` and `@srcgrad.grad(argnums=(0, 1))`. With a tuple
    `argnums` the result is a tuple of gradients; with `has_aux=True`, `fun`
    returns `(value, aux)` and the gradient function returns `(grads, aux)`.
    """
    if fun is None:
        return functools.partial(grad, argnums=argnums, has_aux=has_aux)
    return GradFunction(fun, argnums, has_aux, with_value=False)


def value_and_grad(fun=None, argnums=0, has_aux=False):
    """Like `grad`, but returns `(value, grads)` (`((value, aux), grads)` with has_aux)."""
    if fun is None:
        return functools.partial(value_and_grad, argnums=argnums, has_aux=has_aux)
    return GradFunction(fun, argnums, has_aux, with_value=True)


def _check_cotangent(ct, out):
    if pytree.structure(ct) != pytree.structure(out):
        raise ShapeMismatchError(f"the cotangent's structure {pytree.structure(ct)} does not "
                                 f"match the output's {pytree.structure(out)}")
    for c, o in zip(pytree.leaves(ct), pytree.leaves(out)):
        if np.shape(c) != np.shape(o):
            raise ShapeMismatchError(f"a cotangent of shape {np.shape(c)} was given for an "
                                     f"output of shape {np.shape(o)}")


def vjp(fun, *primals, has_aux=False):
    """`(out, vjp_fn)`: `vjp_fn(cotangent)` returns one cotangent per primal.

    The cotangent has the output's structure and shapes. Primals without
    floating-point values get `None`. With `has_aux=True`, returns
    `(out, vjp_fn, aux)`.
    """
    if isinstance(fun, GradFunction) and not has_aux:
        return fun.vjp(*primals)
    impl, bound = _unbind(fun)
    argnums = tuple(i + len(bound) for i, p in enumerate(primals) if pytree.has_inexact(p))
    generated = instance(impl, argnums, has_aux)
    result = fun(*primals)
    out, aux = result if has_aux else (result, None)

    def vjp_fn(cotangent):
        _check_cotangent(cotangent, out)
        fn = generated.function()
        _, grads = fn(*bound, *primals, **{generated.generated.seed: cotangent})
        if len(argnums) == 1:
            grads = (grads,)
        cotangents = [None] * len(primals)
        for i, g in zip(argnums, grads):
            cotangents[i - len(bound)] = pytree.densify(g, primals[i - len(bound)])
        return tuple(cotangents)

    if not argnums:
        raise ArgnumsError(f"vjp of {fun.__name__}: none of the primals holds a "
                           "floating-point value")
    return (out, vjp_fn, aux) if has_aux else (out, vjp_fn)


def _check_tangent(fun, i, primal, tangent):
    """A tangent must have its primal's structure, and each float leaf's shape and dtype."""
    where = definition_site(fun)
    name = getattr(fun, "__name__", "the function")
    if pytree.structure(tangent) != pytree.structure(primal):
        raise ShapeMismatchError(
            f"jvp of {name}: the tangent of argument {i} has the structure "
            f"{pytree.structure(tangent)}, its primal {pytree.structure(primal)}", where,
            hint="Give each argument a tangent of the same structure, shape and dtype.")
    for t, p in zip(pytree.leaves(tangent), pytree.leaves(primal)):
        if not pytree.is_inexact(p):
            continue
        if np.shape(t) != np.shape(p):
            raise ShapeMismatchError(
                f"jvp of {name}: argument {i} has a tangent of shape {np.shape(t)} for a value "
                f"of shape {np.shape(p)}", where,
                hint="Give each argument a tangent of the same structure, shape and dtype.")
        weak = type(t) in (float, int)        # a Python number takes its primal's dtype
        if not weak and np.result_type(t) != np.result_type(p):
            raise ShapeMismatchError(
                f"jvp of {name}: argument {i} has a tangent of dtype {np.result_type(t)} for a "
                f"value of dtype {np.result_type(p)}", where,
                hint=f"Cast the tangent: np.asarray(t, dtype={np.result_type(p)}).")


def _tangent_leaves(primal, tangent):
    """The tangent, with zeros at the primal's integer leaves (they carry none)."""
    from .runtime import zero_tangent
    values = [t if pytree.is_inexact(p) else zero_tangent(p)
              for t, p in zip(pytree.leaves(tangent), pytree.leaves(primal))]
    return pytree.rebuild(primal, values)


def forward_over(fn, args, argnums, tangents, kwargs=None, has_aux=False):
    """Forward mode over `fn` (the user's function, or generated code) at `args`, moving
    only `argnums` (their tangents in order): (fn's result, its tangent)."""
    forward = instance(fn, argnums, has_aux, mode="forward").function()
    return forward(*tangents, *args, **(kwargs or {}))


def jvp(fun, primals, tangents, has_aux=False):
    """`(out, tangent_out)`: `fun(*primals)` and its derivative along `tangents`.

    `tangents` has one entry per primal, of the same structure, shapes and
    dtypes (forward mode: the generated code carries each value's tangent next
    to it). With `has_aux=True`, `fun` returns `(out, aux)` and jvp returns
    `(out, tangent_out, aux)`.
    """
    primals, tangents = tuple(primals), tuple(tangents)
    if isinstance(fun, GradFunction):
        return fun.jvp(primals, tangents, has_aux)
    impl, bound = _unbind(fun)
    if len(primals) != len(tangents):
        raise ShapeMismatchError(f"jvp of {getattr(fun, '__name__', fun)}: {len(primals)} "
                                 f"primal(s) but {len(tangents)} tangent(s)", definition_site(impl))
    for i, (p, t) in enumerate(zip(primals, tangents)):
        _check_tangent(impl, i, p, t)
    inexact = [i for i, p in enumerate(primals) if pytree.has_inexact(p)]
    if not inexact:
        raise ArgnumsError(f"jvp of {fun.__name__}: none of the primals holds a "
                           "floating-point value")
    # an argument whose tangent is zero moves nothing: the generated code leaves it out
    # (hvp's zero tangents for the data would otherwise cost a matrix product each)
    moving = [i for i in inexact if any(np.any(leaf) for leaf in pytree.leaves(tangents[i]))]
    argnums = tuple(i + len(bound) for i in moving or inexact)
    given = [_tangent_leaves(primals[i - len(bound)], tangents[i - len(bound)])
             for i in argnums]
    out, tangent_out = forward_over(impl, bound + primals, argnums, given, has_aux=has_aux)
    if has_aux:
        return out[0], tangent_out, out[1]
    return out, tangent_out


def source(fun, argnums=0, mode="reverse", has_aux=False, stage="optimized"):
    """The generated source of `fun`'s derivative (or of an earlier stage) as text.

    mode: "reverse" (the gradient) or "forward" (the Jacobian-vector product)."""
    if mode not in compiler.MODES:
        raise ValueError(f"mode must be one of {compiler.MODES}, got {mode!r}")
    if isinstance(fun, GradFunction):
        nums, has_aux, fun = fun.argnums, fun.has_aux, fun._generated.fun
    else:
        fun, bound = _unbind(fun)
        nums, _ = compiler.check_argnums(fun, argnums, len(bound))
    if stage not in compiler.STAGES:
        raise ValueError(f"stage must be one of {compiler.STAGES}, got {stage!r}")
    if stage == "optimized":
        return compiler.compiled(fun, nums, has_aux, mode).generated.source
    return compiler.pipeline(fun, nums, has_aux, stop_after=stage, mode=mode)


__all__ = ["grad", "value_and_grad", "vjp", "jvp", "source", "GradFunction"]
