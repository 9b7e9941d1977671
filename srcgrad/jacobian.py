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
        columns = {}            # (argnum, leaf) -> per unit tangent, the output's leaves
        out = None
        for i in nums:
            leaves = pytree.leaves(args[i])
            for k, leaf in enumerate(leaves):
                if not pytree.is_inexact(leaf):
                    continue
                columns[i, k] = []
                for e in _basis(leaf):
                    tangents = _zero_tangents(args)
                    values = [zero_tangent(x) for x in leaves]
                    values[k] = e
                    tangents[i] = pytree.rebuild(args[i], values)
                    out, t_out = jvp(fun, args, tangents)
                    columns[i, k].append(pytree.leaves_like(t_out, out))
        return _blocks(out, args, nums, single, lambda o, out_leaf, i, k, in_leaf: (
            _columns_to_jacobian([c[o] for c in columns[i, k]], out_leaf, in_leaf)))

    return jacobian


def jacrev(fun, argnums=0):
    """The Jacobian of `fun` by reverse mode: one vjp per entry of the output."""
    single, nums = _argnums(argnums)

    @functools.wraps(fun)
    def jacobian(*args):
        _require(fun, args, nums)
        out, vjp_fn = vjp(fun, *args)
        out_leaves = pytree.leaves(out)
        rows = []               # per output leaf, per unit cotangent: one cotangent per arg
        for o, out_leaf in enumerate(out_leaves):
            rows.append([])
            for e in _basis(out_leaf):
                cotangent = [zero_tangent(x) for x in out_leaves]
                cotangent[o] = e
                rows[o].append(vjp_fn(pytree.rebuild(out, cotangent)))
        return _blocks(out, args, nums, single, lambda o, out_leaf, i, k, in_leaf: np.reshape(
            np.stack([np.asarray(pytree.leaves_like(r[i], args[i])[k]) for r in rows[o]]),
            np.shape(out_leaf) + np.shape(in_leaf)))

    return jacobian


def _blocks(out, args, nums, single, block):
    """The Jacobian as trees: the output's structure outside, each argument's inside, with
    `block(o, out_leaf, i, k, in_leaf)` for output leaf o and leaf k of argument i (None
    for a leaf with no float)."""
    results = []
    for o, out_leaf in enumerate(pytree.leaves(out)):
        by_input = []
        for i in nums:
            by_input.append(pytree.rebuild(args[i], [
                block(o, out_leaf, i, k, in_leaf) if pytree.is_inexact(in_leaf) else None
                for k, in_leaf in enumerate(pytree.leaves(args[i]))]))
        results.append(by_input[0] if single else tuple(by_input))
    return results[0] if _is_leaf(out) else pytree.rebuild(out, results)


def _is_leaf(tree):
    return not isinstance(tree, (dict, list, tuple))


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
