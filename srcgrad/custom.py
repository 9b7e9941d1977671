"""`custom_vjp`: a function whose reverse-mode derivative the user writes, shaped as JAX's.

    @srcgrad.custom_vjp
    def clip_gradient(x):
        return x

    def clip_gradient_fwd(x):
        return x, None                      # (output, residuals)

    def clip_gradient_bwd(residuals, g):
        return (np.clip(g, -1.0, 1.0),)     # one cotangent per positional input

    clip_gradient.defvjp(clip_gradient_fwd, clip_gradient_bwd)

Called from a differentiated function, `y = clip_gradient(x)` becomes, in the
generated code, `y, y_res = clip_gradient.fwd(x)` in the primal sweep and
`dx, = clip_gradient.bwd(y_res, dy)` in the adjoint sweep: the user's own code,
called through the name the function already uses. Forward mode needs a
forward rule (`@srcgrad.tangent(clip_gradient)`), as in JAX, where a
custom_vjp function has no jvp.
"""

from __future__ import annotations

import functools


class custom_vjp:  # noqa: N801 - JAX's name
    def __init__(self, fun):
        self.fun = fun
        self.fwd = None
        self.bwd = None
        functools.update_wrapper(self, fun)

    def defvjp(self, fwd, bwd):
        """fwd(*args) -> (output, residuals); bwd(residuals, g) -> a tuple with one
        cotangent per positional parameter of the function (None for none)."""
        from . import templates
        self.fwd, self.bwd = fwd, bwd
        templates.registry().note_user_change(
            f"custom_vjp {self.fun.__module__}.{self.fun.__qualname__}: "
            f"{getattr(fwd, '__qualname__', fwd)}, {getattr(bwd, '__qualname__', bwd)}")
        return self

    def __call__(self, *args, **kwargs):
        return self.fun(*args, **kwargs)

    def __get__(self, obj, objtype=None):
        return self if obj is None else functools.partial(self, obj)

    def __repr__(self):
        return f"<srcgrad.custom_vjp {self.fun.__qualname__}>"


__all__ = ["custom_vjp"]
