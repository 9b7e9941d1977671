"""Extending srcgrad: derivative rules written in the user's own module.

    from srcgrad import adjoint, d, tangent

    @adjoint(my_lib.softplus)
    def softplus(y, x):
        d[x] = d[y] / (1 + numpy.exp(-x))

    @tangent(my_lib.softplus)
    def softplus_tangent(y, x):
        d[y] = d[x] / (1 + numpy.exp(-x))

A rule has the format of the files in `templates/` (their docstrings give
it): srcgrad reads its source, it is never called. `d` exists so that the
rule is valid Python for linters.
"""

from __future__ import annotations


class _AdjointMarker:
    """`d[x]` in a rule: the adjoint (or tangent) of x. Only meaningful inside a rule."""

    def __getitem__(self, key):
        raise TypeError("`d[...]` only has a meaning inside a derivative rule, "
                        "which srcgrad reads but never runs")

    def __repr__(self):
        return "srcgrad.d"


d = _AdjointMarker()


def constant(value):
    """In a rule's `if` condition: whether the argument is a literal at the call site.

    Decided when the rule is used (`if constant(y): ...` picks a branch for
    `x ** 2`); srcgrad reads it, it is never called.
    """
    raise TypeError("`constant(...)` only has a meaning in a derivative rule's condition")


def stop_gradient(x):
    """`x`, through which no gradient flows (JAX's `lax.stop_gradient`).

    log_softmax, for instance: `z - stop_gradient(np.max(z, axis=1, keepdims=True))`
    is stable and its derivative skips the max, whose total contribution is zero.
    """
    return x


def adjoint(*primals):
    """Register the decorated function as the reverse-mode rule of `primals`."""
    def register(rule_fn):
        from . import templates
        templates.registry().add_user_rule(rule_fn, primals)
        return rule_fn
    return register


def tangent(*primals):
    """Register the decorated function as the forward-mode rule of `primals`:

        @tangent(my_lib.softplus)
        def softplus(y, x):
            d[y] = d[x] / (1 + numpy.exp(-x))
    """
    def register(rule_fn):
        from . import templates
        templates.registry().add_user_rule(rule_fn, primals, kind="tangent")
        return rule_fn
    return register


def nondifferentiable(*callables, impure=False):
    """Declare callables whose result has a zero derivative (indices, shapes, draws)."""
    from . import templates
    registry = templates.registry()
    registry.add_nondifferentiable(callables, impure=impure)
    registry.note_user_change(repr([_name(c) for c in callables] + [impure]))
    return callables[0] if len(callables) == 1 else None


def mutating(*callables):
    """Declare callables that write into an argument (refused on active values)."""
    from . import templates
    registry = templates.registry()
    registry.add_mutating(callables)
    registry.note_user_change(repr([_name(c) for c in callables]))


def _name(obj):
    return f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', repr(obj))}"
