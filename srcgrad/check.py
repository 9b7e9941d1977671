"""check_grads: compare derivatives with central finite differences.

Along a random direction `v` in the inputs and a random cotangent `u` on the
output, the reverse-mode number <vjp(u), v> and the forward-mode number
<u, jvp(v)> must each equal the finite difference
(<u, f(x + eps v)> - <u, f(x - eps v)>) / (2 eps). One direction checks every
input at once, as autograd's and JAX's `check_grads` do.

At order 2 the generated derivative code is differentiated again, along a
second direction `w`: forward mode over the generated jvp code (fwd) and
over the generated gradient code (rev), each against central differences
of the first derivative: u^T f''(x)[v, w].
"""

from __future__ import annotations

import numpy as np

from . import pytree
from .api import _unbind, forward_over, jvp, vjp
from .generated import instance
from .errors import SrcgradError
from .runtime import zero_tangent

_DEFAULTS = {  # dtype of the inputs -> (eps, rtol, atol)
    np.dtype(np.float64): (1e-6, 1e-5, 1e-7),
    np.dtype(np.float32): (1e-3, 2e-2, 1e-3),
    np.dtype(np.float16): (1e-2, 1e-1, 1e-2),
}


def _dtype_of(leaves):
    dtypes = [np.asarray(leaf).dtype for leaf in leaves]
    return min(dtypes, key=lambda d: d.itemsize) if dtypes else np.dtype(np.float64)


def _random_like(rng, leaf):
    if isinstance(leaf, float):
        return float(rng.standard_normal())
    array = np.asarray(leaf)
    return rng.standard_normal(array.shape).astype(array.dtype)


def _vdot(a_leaves, b_leaves):
    return sum(float(np.sum(np.asarray(a, dtype=np.float64) * np.asarray(b, dtype=np.float64)))
               for a, b in zip(a_leaves, b_leaves))


def _perturb(args, direction, step):
    moved = []
    for arg, v in zip(args, direction):
        if v is None:
            moved.append(arg)
            continue
        values = [leaf + step * dv if dv is not None else leaf
                  for leaf, dv in zip(pytree.leaves(arg), pytree.leaves_like(v, arg))]
        moved.append(pytree.rebuild(arg, values))
    return moved


def check_grads(fun, args, order=2, modes=("fwd", "rev"), eps=None, rtol=None, atol=None,
                seed=0):
    """Raise AssertionError if `fun`'s derivatives at `args` disagree with finite differences.

    args: a tuple of arguments (floats, arrays, or pytrees of them; integer
    leaves are held fixed). modes: "fwd" (forward mode, jvp) and/or "rev"
    (reverse mode, vjp). order: 1, or 2 (also the derivative of each mode's
    generated code, by forward mode over it).
    """
    modes = (modes,) if isinstance(modes, str) else tuple(modes)
    unknown = [m for m in modes if m not in ("rev", "fwd")]
    if unknown or order not in (1, 2):
        raise SrcgradError(f"check_grads(order={order}, modes={modes}): orders 1 and 2 in "
                           "modes 'fwd' and 'rev' are available")
    args = tuple(args)
    leaves = [leaf for arg in args for leaf in pytree.leaves(arg) if pytree.is_inexact(leaf)]
    if not leaves:
        raise SrcgradError("check_grads: none of the arguments holds a floating-point value")
    d_eps, d_rtol, d_atol = _DEFAULTS.get(_dtype_of(leaves), _DEFAULTS[np.dtype(np.float64)])
    eps, rtol, atol = eps or d_eps, rtol or d_rtol, atol or d_atol
    rng = np.random.default_rng(seed)

    direction = []
    for arg in args:
        values = [_random_like(rng, leaf) if pytree.is_inexact(leaf) else None
                  for leaf in pytree.leaves(arg)]
        direction.append(pytree.rebuild(arg, values) if any(v is not None for v in values)
                         else None)

    out = fun(*args)
    u = [_random_like(rng, leaf) for leaf in pytree.leaves(out)]
    plus = pytree.leaves(fun(*_perturb(args, direction, eps)))
    minus = pytree.leaves(fun(*_perturb(args, direction, -eps)))
    numeric = (_vdot(u, plus) - _vdot(u, minus)) / (2 * eps)
    for mode in modes:
        analytic = (_reverse if mode == "rev" else _forward)(fun, args, direction, u)
        what = "reverse" if mode == "rev" else "forward"
        _agree(analytic, numeric, rtol, atol,
               f"{what}-mode derivative of {getattr(fun, '__name__', fun)} disagrees with "
               f"finite differences along a random direction (eps={eps})")
    if order == 2:
        second = [_random_like(rng, leaf) if pytree.is_inexact(leaf) else None
                  for arg in args for leaf in pytree.leaves(arg)]
        w, k = [], 0
        for arg in args:
            n = len(pytree.leaves(arg))
            values = second[k:k + n]
            k += n
            w.append(pytree.rebuild(arg, values) if any(x is not None for x in values)
                     else None)
        first = _forward if "fwd" in modes else _reverse
        numeric = (first(fun, _perturb(args, w, eps), direction, u)
                   - first(fun, _perturb(args, w, -eps), direction, u)) / (2 * eps)
        for mode in modes:
            analytic = _second(fun, args, direction, w, u, mode)
            what = "forward over forward" if mode == "fwd" else "forward over reverse"
            _agree(analytic, numeric, rtol, atol,
                   f"second derivative ({what}) of {getattr(fun, '__name__', fun)} disagrees "
                   f"with finite differences of its first derivative (eps={eps})")


def _agree(analytic, numeric, rtol, atol, what):
    if not abs(analytic - numeric) <= atol + rtol * max(abs(analytic), abs(numeric)):
        raise AssertionError(f"{what}: {analytic!r} (srcgrad) vs {numeric!r} (central "
                             f"differences); rtol={rtol}, atol={atol}")


def _tangents(args, direction):
    """Tangents for every argument, zero where `direction` has none."""
    out = []
    for arg, v in zip(args, direction):
        if not pytree.has_inexact(arg):
            out.append(arg)         # no float leaves: ignored
            continue
        values = [dv if dv is not None else zero_tangent(leaf)
                  for leaf, dv in zip(pytree.leaves(arg), pytree.leaves_like(v, arg))]
        out.append(pytree.rebuild(arg, values))
    return out


def _second(fun, args, v, w, u, mode):
    """u^T f''[v, w]: forward mode along w over the generated code of `mode` (at v, u)."""
    impl, bound = _unbind(fun)
    argnums = tuple(i + len(bound) for i, a in enumerate(args) if pytree.has_inexact(a))
    full = bound + tuple(args)
    given_w = [_tangents(args, w)[i - len(bound)] for i in argnums]
    if mode == "fwd":
        first = instance(impl, argnums, mode="forward")
        given_v = [_tangents(args, v)[i - len(bound)] for i in argnums]
        positions = tuple(len(argnums) + i for i in argnums)
        _, t_out = forward_over(first.function(), given_v + list(full), positions, given_w)
        return _vdot(u, pytree.leaves_like(t_out[1], t_out[1]))
    first = instance(impl, argnums)
    cotangent = pytree.rebuild(fun(*args), u)
    seed = {first.generated.seed: cotangent}
    _, t_out = forward_over(first.function(), list(full), argnums, given_w, seed)
    dgrads = t_out[1] if len(argnums) > 1 else (t_out[1],)
    total = 0.0
    for g, i in zip(dgrads, argnums):
        arg, dv = full[i], v[i - len(bound)]
        g = pytree.densify(g, arg)
        pairs = [(a, b) for a, b in zip(pytree.leaves_like(g, arg), pytree.leaves_like(dv, arg))
                 if b is not None]
        total += _vdot([a for a, _ in pairs], [b for _, b in pairs])
    return total


def _forward(fun, args, direction, u):
    """<u, jvp(fun, args, direction)>."""
    _, t_out = jvp(fun, args, _tangents(args, direction))
    return _vdot(u, pytree.leaves_like(t_out, t_out))


def _reverse(fun, args, direction, u):
    """<vjp(fun, args)(u), direction>."""
    out, vjp_fn = vjp(fun, *args)
    cotangent = pytree.rebuild(out, u)
    analytic = 0.0
    for ct, v, arg in zip(vjp_fn(cotangent), direction, args):
        if v is None:
            continue
        pairs = [(c, dv) for c, dv in zip(pytree.leaves_like(ct, arg), pytree.leaves_like(v, arg))
                 if dv is not None]
        if any(c is None for c, _ in pairs):
            raise AssertionError(f"{getattr(fun, '__name__', fun)}: a floating-point argument "
                                 "got no cotangent")
        analytic += _vdot([c for c, _ in pairs], [dv for _, dv in pairs])
    return analytic
