"""Node metadata in a side table (never patched onto the nodes' fields).

Keys used by the stages:
    line    the user's file line a generated statement comes from
    role    "primal" or "adjoint": which sweep the statement belongs to
    impure  the statement has side effects (keep it, in order, even if unused)
"""

from __future__ import annotations

import weakref

_TABLE = weakref.WeakKeyDictionary()


def get(node, key, default=None):
    return _TABLE.get(node, {}).get(key, default)


def set(node, key, value):  # noqa: A001 - mirrors get
    _TABLE.setdefault(node, {})[key] = value
    return node


def copy(source, target):
    """Give `target` the annotations of `source` (for a rewritten statement)."""
    if source in _TABLE:
        _TABLE.setdefault(target, {}).update(_TABLE[source])
    return target


def tag(node, **values):
    for key, value in values.items():
        set(node, key, value)
    return node
