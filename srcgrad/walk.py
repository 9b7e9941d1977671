"""Walking statement trees: nested statements, blocks, and what a statement reads and sets.

A compound statement (if, for, while) reads and sets only its header here: its
test, or its loop target and iterable; its blocks are statements of their own.
"""

from __future__ import annotations

import numbers

import gast

from . import syntax

COMPOUND = (gast.If, gast.For, gast.While)


def statements(block):
    """Every statement in `block`, nested ones included, in order."""
    for stmt in block:
        yield stmt
        if isinstance(stmt, COMPOUND):
            yield from statements(stmt.body)
            yield from statements(stmt.orelse)


def blocks(body):
    """Every statement list in the tree: the body and each nested block."""
    yield body
    for stmt in body:
        if isinstance(stmt, COMPOUND):
            yield from blocks(stmt.body)
            yield from blocks(stmt.orelse)


def loads(stmt):
    """Names a statement reads (a compound statement: its header only)."""
    if isinstance(stmt, (gast.If, gast.While)):
        return syntax.names_in(stmt.test, "load")
    if isinstance(stmt, gast.For):
        return syntax.names_in(stmt.iter, "load")
    return syntax.names_in(stmt, "load")


def stores(stmt):
    """Names a statement assigns (a compound statement: its header only)."""
    if isinstance(stmt, gast.For):
        return syntax.names_in(stmt.target, "store")
    if isinstance(stmt, COMPOUND):
        return []
    return syntax.names_in(stmt, "store")


def deep_loads(block):
    return [n for s in statements(block) for n in loads(s)]


def deep_stores(block):
    return [n for s in statements(block) for n in stores(s)]


def is_number(node, value=None):
    """A numeric constant (not a bool), equal to `value` if given."""
    if not (isinstance(node, gast.Constant) and isinstance(node.value, numbers.Number)
            and not isinstance(node.value, bool)):
        return False
    return value is None or (node.value == value and type(node.value) is int)
