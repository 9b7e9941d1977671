"""Nested dicts, lists, tuples and namedtuples of arrays ("pytrees").

A gradient has its argument's structure: `densify` turns the sparse adjoint
that generated code builds (entries that received no gradient are missing
or None) into a full tree of the argument's shape and dtype.
"""

from __future__ import annotations

import numbers

import numpy as np


def is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(x, "_fields")


def leaves(tree):
    """The leaves of `tree`, depth first (dict entries in key order)."""
    if isinstance(tree, dict):
        return [leaf for key in _keys(tree) for leaf in leaves(tree[key])]
    if isinstance(tree, (list, tuple)):
        return [leaf for item in tree for leaf in leaves(item)]
    if tree is None:
        return []
    return [tree]


def leaves_like(tree, like):
    """The entries of `tree` at the positions of `like`'s leaves (None where `tree` has none)."""
    if isinstance(like, dict):
        tree = tree if isinstance(tree, dict) else {}
        return [leaf for key in _keys(like) for leaf in leaves_like(tree.get(key), like[key])]
    if isinstance(like, (list, tuple)):
        items = list(tree) if isinstance(tree, (list, tuple)) else [None] * len(like)
        return [leaf for t, item in zip(items, like) for leaf in leaves_like(t, item)]
    if like is None:
        return []
    return [tree]


def _keys(mapping):
    try:
        return sorted(mapping)
    except TypeError:
        return list(mapping)


def rebuild(like, values):
    """A tree shaped like `like` whose leaves are taken in order from `values`."""
    it = iter(values)

    def build(node):
        if isinstance(node, dict):
            built = {key: build(node[key]) for key in _keys(node)}
            return {key: built[key] for key in node}
        if is_namedtuple(node):
            return type(node)(*[build(item) for item in node])
        if isinstance(node, (list, tuple)):
            return type(node)(build(item) for item in node)
        if node is None:
            return None
        return next(it)

    return build(like)


def structure(tree):
    """A description of the tree's containers (not its leaves), for comparing trees."""
    if isinstance(tree, dict):
        return ("dict", tuple((k, structure(tree[k])) for k in _keys(tree)))
    if is_namedtuple(tree):
        return (type(tree).__name__, tuple(structure(x) for x in tree))
    if isinstance(tree, (list, tuple)):
        return (type(tree).__name__, tuple(structure(x) for x in tree))
    if tree is None:
        return None
    return "*"


def has_inexact(tree):
    """Does `tree` hold a float (or complex) leaf, one that can have a gradient?"""
    if type(tree) is np.ndarray:
        return tree.dtype.kind in "fc"
    if type(tree) is float:
        return True
    if isinstance(tree, dict):
        return any(has_inexact(value) for value in tree.values())
    if isinstance(tree, (list, tuple)):
        return any(has_inexact(item) for item in tree)
    return tree is not None and is_inexact(tree)


def is_inexact(leaf):
    """A float (or complex) leaf: one that can have a gradient."""
    if type(leaf) is np.ndarray:
        return leaf.dtype.kind in "fc"
    if isinstance(leaf, (bool, np.bool_)):
        return False
    if isinstance(leaf, (float, complex, np.inexact)):
        return True
    if isinstance(leaf, numbers.Integral):
        return False
    dtype = getattr(leaf, "dtype", None)
    return dtype is not None and np.issubdtype(dtype, np.inexact)


def match_leaf(g, like):
    """The gradient `g` for the leaf `like`: its shape and dtype, owned by the caller."""
    if type(like) is np.ndarray and type(g) is np.ndarray and g.shape == like.shape \
            and g.dtype == like.dtype and like.dtype.kind in "fc":
        if g.flags.writeable and g is not like and not np.may_share_memory(g, like):
            return g
        return g.copy()
    if not is_inexact(like):
        return None
    if isinstance(like, float):
        return 0.0 if g is None else float(g)
    if isinstance(like, complex):
        return 0j if g is None else complex(g)
    if g is None:
        return np.zeros_like(like)
    if isinstance(like, np.generic):
        return like.dtype.type(g)
    g = np.asarray(g)
    if g.shape != like.shape:
        from .runtime import unbroadcast
        g = np.asarray(unbroadcast(g, like))
        if g.shape != like.shape:
            from .errors import SrcgradError
            raise SrcgradError(f"internal error: a gradient of shape {g.shape} was computed for "
                               f"an argument of shape {like.shape}; please report this with "
                               "the function")
    if g.dtype != like.dtype:
        g = g.astype(like.dtype)
    elif not g.flags.writeable or g is like or np.may_share_memory(g, like):
        g = g.copy()
    return g


def densify(g, like):
    """The full gradient tree for the argument `like`, from a possibly sparse `g`."""
    if isinstance(like, dict):
        g = g if isinstance(g, dict) else {}
        return {key: densify(g.get(key), value) for key, value in like.items()}
    if isinstance(like, (list, tuple)):
        items = list(g) if isinstance(g, (list, tuple)) else [None] * len(like)
        built = [densify(gi, li) for gi, li in zip(items, like)]
        if is_namedtuple(like):
            return type(like)(*built)
        return type(like)(built)
    if like is None:
        return None
    return match_leaf(g, like)
