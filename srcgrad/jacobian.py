"""Jacobians and Hessians, built from jvp and vjp: jacfwd, jacrev, hessian, hvp.

As in JAX: `jacfwd` pushes one tangent per input entry through the generated
forward-mode code, `jacrev` pulls one cotangent per output entry back through
the generated gradient code; a Jacobian has shape `out.shape + in.shape`.
`hessian(f)` is `jacfwd(grad(f))` and `hvp(f, primals, v)` is
`jvp(grad(f), primals, v)`: forward mode over the generated gradient's source
(forward-over-reverse), so one Hessian-vector product costs a few gradients.
"""

from __future__ import annotations

import functools

import numpy as np

from . import pytree
from .api import grad, jvp, vjp
from .errors import SrcgradError
from .runtime import zero_tangent


def _argnums(argnums):
    single = isinstance(argnums, int)
    return single, ((argnums,) if single else tuple(argnums))


def _zero_tangents(args):
    """Zero tangents for every argument (an argument with no float leaf stands for its own)."""
    return [pytree.rebuild(a, [zero_tangent(leaf) for leaf in pytree.leaves(a)])
            if pytree.has_inexact(a) else a for a in args]


def _basis(leaf):
    """The unit tangents of one float leaf, one per entry."""
    if isinstance(leaf, float):
        yield 1.0
        return
    array = np.asarray(leaf)
    for k in range(array.size):
        e = np.zeros_like(array)
        e.flat[k] = 1
        yield e


def _columns_to_jacobian(columns, out_leaf, in_leaf):
    """Stacked derivatives of `out_leaf` along each entry of `in_leaf` -> out.shape + in.shape."""
    stacked = np.stack([np.asarray(c) for c in columns])           # (in.size,) + out.shape
    moved = np.moveaxis(stacked, 0, -1) if np.ndim(out_leaf) else stacked
    return np.reshape(moved, np.shape(out_leaf) + np.shape(in_leaf))


def _require(fun, args, nums):
    for i in nums:
        if i >= len(args) or not pytree.has_inexact(args[i]):
            raise SrcgradError(f"argnums includes {i}, but argument {i} of "
                               f"{getattr(fun, '__name__', fun)} is not a float value")


def jacfwd(fun, argnums=0):
    """The Jacobian of `fun` by forward mode: one jvp per entry of the inputs."""
    single, nums = _argnums(argnums)

    @functools.wraps(fun)
    def jacobian(*args):
        _require(fun, args, nums)
        per_input = []
        out = None
        for i in nums:
            leaves = pytree.leaves(args[i])
            per_leaf = []
            for k, leaf in enumerate(leaves):
                if not pytree.is_inexact(leaf):
                    per_leaf.append(None)
                    continue
                columns = []
                for e in _basis(leaf):
                    tangents = _zero_tangents(args)
                    values = [zero_tangent(x) for x in leaves]
                    values[k] = e
                    tangents[i] = pytree.rebuild(args[i], values)
                    out, t_out = jvp(fun, args, tangents)
                    columns.append(pytree.leaves_like(t_out, out))
                per_leaf.append(columns)
            per_input.append(per_leaf)
        return _assemble(out, args, nums, per_input, single)

    return jacobian


def _assemble(out, args, nums, per_input, single):
    """{output leaf: {argnum: tree like the argument of out.shape + leaf.shape arrays}}."""
    out_leaves = pytree.leaves(out)
    results = []
    for o, out_leaf in enumerate(out_leaves):
        by_input = []
        for i, per_leaf in zip(nums, per_input):
            in_leaves = pytree.leaves(args[i])
            blocks = [None if cols is None else
                      _columns_to_jacobian([c[o] for c in cols], out_leaf, in_leaf)
                      for cols, in_leaf in zip(per_leaf, in_leaves)]
            by_input.append(pytree.rebuild(args[i], blocks))
        results.append(by_input[0] if single else tuple(by_input))
    return pytree.rebuild(out, results) if not _is_leaf(out) else results[0]


def _is_leaf(tree):
    return not isinstance(tree, (dict, list, tuple))


def jacrev(fun, argnums=0):
    """The Jacobian of `fun` by reverse mode: one vjp per entry of the output."""
    single, nums = _argnums(argnums)

    @functools.wraps(fun)
    def jacobian(*args):
        _require(fun, args, nums)
        out, vjp_fn = vjp(fun, *args)
        out_leaves = pytree.leaves(out)
        results = []
        for o, out_leaf in enumerate(out_leaves):
            rows = []
            for e in _basis(out_leaf):
                cotangent = [np.zeros_like(x) if not isinstance(x, float) else 0.0
                             for x in out_leaves]
                cotangent[o] = e
                rows.append(vjp_fn(pytree.rebuild(out, cotangent)))
            by_input = []
            for i in nums:
                in_leaves = pytree.leaves(args[i])
                blocks = []
                for k, in_leaf in enumerate(in_leaves):
                    if not pytree.is_inexact(in_leaf):
                        blocks.append(None)
                        continue
                    entries = [np.asarray(pytree.leaves_like(r[i], args[i])[k]) for r in rows]
                    blocks.append(np.reshape(np.stack(entries),
                                             np.shape(out_leaf) + np.shape(in_leaf)))
                by_input.append(pytree.rebuild(args[i], blocks))
            results.append(by_input[0] if single else tuple(by_input))
        return pytree.rebuild(out, results) if not _is_leaf(out) else results[0]

    return jacobian


def hessian(fun, argnums=0):
    """The Hessian of a scalar function: `jacfwd(grad(fun, argnums), argnums)`."""
    return jacfwd(grad(fun, argnums=argnums), argnums=argnums)


def hvp(fun, primals, vectors, argnums=0):
    """The Hessian-vector product: `jvp(grad(fun, argnums), primals, vectors)[1]`.

    Forward mode over the generated gradient code, so it costs a small multiple
    of one gradient, and no Hessian is formed.
    """
    return jvp(grad(fun, argnums=argnums), primals, vectors)[1]


__all__ = ["jacfwd", "jacrev", "hessian", "hvp"]
