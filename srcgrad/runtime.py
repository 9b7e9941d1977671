"""Helpers that generated derivative code calls.

Each helper is a small, self-contained function of NumPy values (it uses
only `numpy` and the helpers above it), so that an exported gradient can
carry the ones it uses. A gradient keeps its input's dtype: helpers build
arrays with `*_like` and `x.dtype`, never from a bare shape.

Containers: the adjoint of a dict / list / tuple argument is built sparsely
(`grad_at`, `add_at`): entries that received no gradient are left out (dict)
or None (list, tuple), and the caller fills them with zeros at the end.
"""

from __future__ import annotations

import numpy as np

# Helpers whose result may be a container rather than an array.
CONTAINER_HELPERS = frozenset({"grad_at", "add_at", "add_grad", "concatenate_adjoint",
                               "stack_adjoint", "array_adjoint", "pop_adjoint", "zero_adjoint",
                               "entry", "filled"})


def _shape(x):
    try:
        return x.shape
    except AttributeError:
        return np.shape(x)


def _ndim(x):
    try:
        return x.ndim
    except AttributeError:
        return np.ndim(x)


def unbroadcast(g, like):
    """Sum `g` down to the shape of `like`: undoes NumPy broadcasting."""
    shape = _shape(like)
    if _shape(g) == shape:
        return g
    g = np.asarray(g)
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    if g.shape != shape:
        g = np.broadcast_to(g, shape)
    return g


def _axes(axis, ndim):
    axis = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    return tuple(a % ndim if ndim else 0 for a in axis)


def _expand(g, x, axis, keepdims):
    """A reduction's result (or adjoint) with the reduced axes put back as length 1."""
    if axis is None or keepdims:
        return g
    shape = _shape(x)
    axes = _axes(axis, len(shape))
    return np.reshape(g, tuple(1 if i in axes else n for i, n in enumerate(shape)))


def unreduce(g, x, axis=None, keepdims=False):
    """Broadcast the adjoint `g` of a reduction of `x` back to `x`'s shape."""
    g = _expand(g, x, axis, keepdims)
    dtype = np.result_type(g, x)            # a Python float seed takes x's dtype
    if np.size(x) > 1 << 16:
        return np.broadcast_to(np.asarray(g, dtype=dtype), _shape(x))   # no copy
    out = np.empty(_shape(x), dtype=dtype)
    out[...] = g
    return out


def extremum_adjoint(g, x, y, axis=None, keepdims=False):
    """Adjoint of max/min: `g` shared equally among the entries that attain the extremum."""
    x = np.asarray(x)
    mask = x == _expand(y, x, axis, keepdims)
    count = np.sum(mask, axis=axis, keepdims=True).astype(x.dtype)
    return np.where(mask, _expand(g, x, axis, keepdims) / count, 0)


def _reduced_last(x, axis):
    """x with the reduced axes moved last and flattened into one; and how to undo that."""
    x = np.asarray(x)
    axes = tuple(range(x.ndim)) if axis is None else _axes(axis, x.ndim)
    kept = [a for a in range(x.ndim) if a not in axes]
    moved = np.transpose(x, kept + list(axes))
    flat = moved.reshape(moved.shape[:len(kept)] + (-1,))
    return flat, (moved.shape, np.argsort(kept + list(axes)))


def _restored(flat, how):
    shape, order = how
    return np.transpose(flat.reshape(shape), order)


def _products_beside(flat):
    """For each entry along the last axis: the product of those before it, and after it."""
    ones = np.ones_like(flat[..., :1])
    left = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    right = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return left, right


def prod_others(x, axis=None):
    """For each entry of x: the product of the other entries of its reduction (zeros allowed)."""
    flat, how = _reduced_last(x, axis)
    left, right = _products_beside(flat)
    return _restored(left * right, how)


def prod_others_tangent(t, x, axis=None):
    """The derivative of prod_others(x, axis) along t, without dividing by x."""
    flat, how = _reduced_last(x, axis)
    tflat, _ = _reduced_last(np.broadcast_to(t, np.shape(x)), axis)
    left, right = _products_beside(flat)
    dleft = np.zeros(left.shape, np.result_type(flat, tflat))
    dright = np.zeros(right.shape, dleft.dtype)
    n = flat.shape[-1]
    for i in range(1, n):       # left[i] = left[i-1] * x[i-1], right[j] = right[j+1] * x[j+1]
        dleft[..., i] = dleft[..., i - 1] * flat[..., i - 1] + left[..., i - 1] * tflat[..., i - 1]
        j = n - 1 - i
        dright[..., j] = dright[..., j + 1] * flat[..., j + 1] \
            + right[..., j + 1] * tflat[..., j + 1]
    return _restored(dleft * right + left * dright, how)


def prod_adjoint(g, x, axis=None, keepdims=False):
    """Adjoint of prod: each entry gets `g` times the product of the others (zeros allowed)."""
    return unreduce(g, x, axis, keepdims) * prod_others(x, axis)


def _mT(a):
    return np.swapaxes(a, -1, -2)


def matmul_grad_left(g, a, b):
    """Adjoint of `a` in `a @ b`: `g @ b.T` for matrices (vectors and stacks handled)."""
    a_nd, b_nd = _ndim(a), _ndim(b)
    if a_nd == 2 and b_nd == 2:
        return g @ b.T
    if a_nd == 1 and b_nd == 1:
        return g * b
    if b_nd == 1:                       # (..., k, n) @ (n,) -> (..., k)
        return unbroadcast(np.expand_dims(g, -1) * b, a)
    if a_nd == 1:                       # (n,) @ (..., n, m) -> (..., m)
        return unbroadcast((b @ np.expand_dims(g, -1))[..., 0], a)
    return unbroadcast(g @ _mT(b), a)


def matmul_grad_right(g, a, b):
    """Adjoint of `b` in `a @ b`: `a.T @ g` for matrices (vectors and stacks handled)."""
    a_nd, b_nd = _ndim(a), _ndim(b)
    if a_nd == 2 and b_nd == 2:
        return a.T @ g
    if a_nd == 1 and b_nd == 1:
        return g * a
    if a_nd == 1:                       # (n,) @ (..., n, m) -> (..., m)
        return unbroadcast(np.expand_dims(a, -1) * np.expand_dims(g, -2), b)
    if b_nd == 1:                       # (..., k, n) @ (n,) -> (..., k)
        return unbroadcast((_mT(a) @ np.expand_dims(g, -1))[..., 0], b)
    return unbroadcast(_mT(a) @ g, b)


def dot_grad_left(g, a, b):
    """Adjoint of `a` in `np.dot(a, b)`."""
    a_nd, b_nd = np.ndim(a), np.ndim(b)
    if a_nd == 0 or b_nd == 0:
        return unbroadcast(g * b, a)
    if a_nd <= 2 and b_nd <= 2:
        return matmul_grad_left(g, a, b)
    # dot(a, b)[i..., j..., m] = sum_n a[i..., n] * b[j..., n, m]
    g_nd = np.ndim(g)
    g_axes = list(range(a_nd - 1, g_nd))
    b_axes = list(range(b_nd - 2)) + [b_nd - 1]
    return np.tensordot(g, b, axes=(g_axes, b_axes))


def dot_grad_right(g, a, b):
    """Adjoint of `b` in `np.dot(a, b)`."""
    a_nd, b_nd = np.ndim(a), np.ndim(b)
    if a_nd == 0 or b_nd == 0:
        return unbroadcast(g * a, b)
    if a_nd <= 2 and b_nd <= 2:
        return matmul_grad_right(g, a, b)
    lead = list(range(a_nd - 1))
    return np.moveaxis(np.tensordot(a, g, axes=(lead, lead)), 0, b_nd - 2)


def transpose_adjoint(g, axes):
    """Adjoint of np.transpose(x, axes) / x.transpose(*axes)."""
    if axes is None or len(axes) == 0:
        return np.transpose(g)
    if len(axes) == 1 and np.ndim(axes[0]) == 1:     # x.transpose((1, 0))
        axes = axes[0]
    return np.transpose(g, np.argsort(axes))


def concatenate_adjoint(g, arrays, axis=0):
    """Adjoint of np.concatenate(arrays, axis): one piece of `g` per array."""
    if axis is None:
        sizes = np.cumsum([np.size(a) for a in arrays])[:-1]
        return [np.reshape(piece, np.shape(a))
                for piece, a in zip(np.split(np.ravel(g), sizes), arrays)]
    ndim = np.ndim(g)
    axis = axis % ndim
    sizes = np.cumsum([np.shape(a)[axis] for a in arrays])[:-1]
    return np.split(g, sizes, axis=axis)


def stack_adjoint(g, axis=0):
    """Adjoint of np.stack(arrays, axis): the slices of `g` along `axis`."""
    return list(np.moveaxis(g, axis, 0))


def reduce_like(g, like, axis=None, keepdims=False):
    """The adjoint of unreduce: `g` summed over the reduced axes, at the shape of `like`."""
    return np.reshape(np.sum(g, axis=axis, keepdims=keepdims), _shape(like))


def transpose_axes(g, axes):
    """np.transpose(g, axes) for `axes` as np.transpose and x.transpose() take them."""
    if axes is None or len(axes) == 0:
        return np.transpose(g)
    if len(axes) == 1 and np.ndim(axes[0]) == 1:     # x.transpose((1, 0))
        axes = axes[0]
    return np.transpose(g, axes)


def concatenate_pieces(pieces, arrays, axis=0):
    """The adjoint of concatenate_adjoint: the pieces (None for zero) joined again."""
    filled = [np.zeros(np.shape(a)) if p is None else p for p, a in zip(pieces, arrays)]
    if axis is None:
        return np.concatenate([np.ravel(p) for p in filled])
    return np.concatenate(filled, axis)


def stack_pieces(pieces, like, axis=0):
    """The adjoint of stack_adjoint: the slices (None for zero) stacked again like `like`."""
    slices = list(np.moveaxis(np.zeros_like(like), axis, 0))
    return np.stack([s if p is None else p for p, s in zip(pieces, slices)], axis)


def array_pieces(pieces, like):
    """The adjoint of array_adjoint: the entries (None for zero) as one array like `like`."""
    if isinstance(pieces, list):
        zero = np.zeros_like(like[0]) if len(like) else None
        return np.array([zero if p is None else p for p in pieces])
    return pieces


def array_adjoint(g, x):
    """Adjoint of np.array(x): per element when x is a list or tuple of values (always a
    new list or array: the adjoint of a list is popped from)."""
    if isinstance(x, (list, tuple)):
        return list(g)
    return np.array(g)


def astype_adjoint(g, x, y):
    """Adjoint of x.astype(dtype): back to x's dtype; zero through an integer cast."""
    x_dtype = np.asarray(x).dtype
    if not np.issubdtype(np.asarray(y).dtype, np.inexact):
        return np.zeros_like(x, dtype=x_dtype if np.issubdtype(x_dtype, np.inexact) else float)
    return np.asarray(g).astype(x_dtype, copy=False)


def sequence_length(seq):
    """len(seq) for a loop over an array, list or tuple (what `for x in seq` walks)."""
    if isinstance(seq, (np.ndarray, list, tuple, range)):
        return len(seq)
    from srcgrad.errors import SrcgradError
    raise SrcgradError(f"srcgrad differentiates loops over arrays, lists, tuples, ranges, "
                       f"enumerate and zip; this loop walks a {type(seq).__name__}",
                       hint="Loop over list(...) of it, or over an array.")


def own(x):
    """A copy of an argument that the function writes into (the caller's stays as it was)."""
    if isinstance(x, np.ndarray):
        return x.copy()
    if isinstance(x, (list, dict)):
        return type(x)(x)
    return x


_STAND_INS = {}


def shape_of(x):
    """A stand-in for x with its shape and dtype and no data, for a tape that needs only
    those (one shared read-only object per shape and dtype)."""
    if isinstance(x, np.ndarray):
        key = (x.shape, x.dtype)
        stand_in = _STAND_INS.get(key)
        if stand_in is None:
            if len(_STAND_INS) > 4096:
                _STAND_INS.clear()
            stand_in = _STAND_INS[key] = np.broadcast_to(np.zeros((), x.dtype), x.shape)
        return stand_in
    return x


def snapshot(x, index):
    """The values at x[index], kept to restore them (a copy for arrays)."""
    value = x[index]
    return value.copy() if isinstance(value, np.ndarray) else value


def restore(x, index, old):
    """Put back the values `snapshot(x, index)` kept, in place: every view of x sees them."""
    x[index] = old


def _is_advanced(index):
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(p, (list, np.ndarray)) and np.asarray(p).dtype != bool
               for p in parts)


def _add_into(out, index, g):
    if _is_advanced(index):
        np.add.at(out, index, g)
    else:
        out[index] += g
    return out


def _container_set(x, index, g):
    """A sparse container like `x` holding only `g` at `index`."""
    if isinstance(x, dict):
        return {index: g}
    if isinstance(x, tuple) and hasattr(x, "_fields"):   # namedtuple
        if isinstance(index, str):
            index = x._fields.index(index)
        items = [None] * len(x)
        items[index] = g
        return type(x)(*items)
    items = [None] * len(x)                 # a list also for a tuple: adjoints are mutable
    items[index] = g
    return items


def grad_at(x, index, g):
    """The adjoint of `x` when only `x[index]` (or field `index`) received the gradient `g`."""
    if isinstance(x, (dict, list, tuple)):
        return _container_set(x, index, g)
    out = np.zeros_like(x)
    return _add_into(out, index, g)


def add_at(dx, index, g):
    """`dx` plus the gradient `g` at `index`; `dx` itself is left unchanged."""
    if isinstance(dx, dict):
        out = dict(dx)
        out[index] = add_grad(out.get(index), g)
        return out
    if isinstance(dx, (list, tuple)):
        fields = getattr(dx, "_fields", None)
        if fields is not None and isinstance(index, str):
            index = fields.index(index)
        items = list(dx)
        items[index] = add_grad(items[index], g)
        if fields is not None:
            return type(dx)(*items)
        return items
    return _add_into(np.array(dx, copy=True), index, g)


def add_into(dx, index, g):
    """`dx[index] += g` in place (dx is an adjoint srcgrad owns); returns dx."""
    if isinstance(dx, (dict, list)):
        dx[index] = add_grad(dx.get(index) if isinstance(dx, dict) else dx[index], g)
        return dx
    if isinstance(dx, tuple):
        return add_at(dx, index, g)
    return _add_into(dx, index, g)


def zero_adjoint(x):
    """A zero adjoint for x: zeros for arrays and numbers, empty for containers."""
    if isinstance(x, dict):
        return {}
    if isinstance(x, (list, tuple)):
        return [None] * len(x)
    if isinstance(x, float):
        return 0.0
    return np.zeros_like(x)


def zero_at(dx, index, copy=False):
    """`dx` with no gradient at `index` (the value there was overwritten)."""
    if copy:
        dx = dx.copy() if isinstance(dx, np.ndarray) else list(dx)
    if isinstance(dx, np.ndarray):
        dx[index] = 0
    else:
        dx[index] = None
    return dx


def filled(dx, like):
    """The adjoint dx, or zeros like `like` where it is None (no gradient reached it)."""
    return zero_adjoint(like) if dx is None else dx


def entry(dx, key, like):
    """dx[key] of a container adjoint, or a zero like `like` where it has none."""
    try:
        g = getattr(dx, key) if isinstance(key, str) and hasattr(dx, "_fields") else dx[key]
    except (KeyError, IndexError, AttributeError, TypeError):
        g = None
    return zero_adjoint(like) if g is None else g


def pop_adjoint(dlst, like):
    """The adjoint of the item last appended to a list, taken off the list's adjoint."""
    g = dlst.pop()
    return zero_adjoint(like) if g is None else g


def add_grad(a, b):
    """Sum of two adjoints that may be containers, with None meaning zero."""
    if a is None:
        return b
    if b is None:
        return a
    if isinstance(a, dict):
        out = dict(a)
        for key, value in b.items():
            out[key] = add_grad(out.get(key), value)
        return out
    if isinstance(a, (list, tuple)):
        items = [add_grad(u, v) for u, v in zip(a, b)]
        if hasattr(a, "_fields"):
            return type(a)(*items)
        return items
    return a + b


# -- forward mode ----------------------------------------------------------------


def broadcast_like(t, like):
    """The tangent `t` of a broadcast operand, at the shape of the result `like`."""
    shape = _shape(like)
    if _shape(t) == shape:
        return t
    return np.broadcast_to(t, shape)


def zero_tangent(x):
    """A zero tangent for x: zeros of x's shape, or containers of them."""
    if x is None or isinstance(x, (str, bytes, range, slice)):
        return None
    if isinstance(x, dict):
        return {k: zero_tangent(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        items = [zero_tangent(v) for v in x]
        if hasattr(x, "_fields"):
            return type(x)(*items)
        return type(x)(items)
    if isinstance(x, (bool, int, float)) and not isinstance(x, np.generic):
        return 0.0
    x = np.asarray(x) if not isinstance(x, (np.ndarray, np.generic)) else x
    if np.issubdtype(x.dtype, np.inexact):
        return np.zeros_like(x)
    return np.zeros_like(x, dtype=float)


def cast_like(t, y):
    """The tangent `t`, as a new object of the type and dtype of the primal result `y`."""
    if isinstance(y, np.ndarray):
        return np.array(t, dtype=y.dtype if np.issubdtype(y.dtype, np.inexact) else float)
    if isinstance(y, np.generic):
        return type(y)(t) if np.issubdtype(type(y), np.inexact) else t
    if isinstance(t, np.ndarray):
        return t.copy()
    return t


def extremum_tangent(t, x, y, axis=None, keepdims=False):
    """Tangent of max/min: the mean of `t` over the entries that attain the extremum."""
    x = np.asarray(x)
    mask = x == _expand(y, x, axis, keepdims)
    count = np.sum(mask, axis=axis, keepdims=keepdims)
    return np.sum(np.where(mask, t, 0), axis=axis, keepdims=keepdims) / count


def prod_tangent(t, x, y, axis=None, keepdims=False):
    """Tangent of prod: each entry's tangent times the product of the others, summed."""
    return np.sum(t * prod_others(x, axis), axis=axis, keepdims=keepdims)


def astype_tangent(t, y):
    """Tangent of x.astype(dtype): in y's dtype; zero through an integer cast."""
    dtype = np.asarray(y).dtype
    if not np.issubdtype(dtype, np.inexact):
        return np.zeros_like(y, dtype=float)
    return np.asarray(t).astype(dtype)


# Helpers that update their first argument in place and return it (zero_at unless copy=True).
IN_PLACE_HELPERS = (add_into, zero_at)
