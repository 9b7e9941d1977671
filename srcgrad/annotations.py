"""Node metadata in a side table (never patched onto the nodes' fields).

Keys used by the stages:
    line         the user's file line a generated statement comes from
    role         "primal" or "adjoint": which sweep the statement belongs to
    impure       keep the statement, in order, as written (side effects; copies that
                 passes must not merge)
    object       (a Name) the Python object it stands for, where scope lookup cannot tell
normalize:
    fresh        the assigned value is a new object that shares memory with nothing
    carry        a copy into a loop or join name
    placeholder  `v = None` for a version a carry may read before it is defined
    inplace_of   the statement updates this name's array in place (`y += v`,
                 `dx = add_into(dx, i, g)`)
    append       the statement is `lst.append(v)`
    pop          (`v = lst.pop()`) the list's name
    trips        (a loop) the name counting its iterations, if it may stop early
    defined      (an if or loop) the names surely defined before it
reverse and tape:
    primal_node  (an adjoint statement) the primal statement or loop it reverses
    generated    (a normalized loop) the primal loop emitted for it
    reversed     (a normalized loop) its reversed loop
    tape         a push onto the tape
    restore_of   an adjoint statement writing back a saved region of this array
    recomputed   an adjoint statement taking a view again instead of popping it; on a
                 normalized loop, the names so taken
    resets       (a reversed loop) names set back to their value before the loop
    reset        the adjoint statement doing so
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
