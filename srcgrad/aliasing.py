"""Writes into arrays must not be seen through another name.

Part of the normalize stage (normalize.py): NumPy writes `y[i] = v`, `y += v`
and `lst.append(v)` in place, and every name that shares the memory sees the
change. srcgrad differentiates such code only where no other name that shares
the memory is read after a write could have changed it.
"""

from __future__ import annotations

import gast

from . import annotations as anno
from . import naming, syntax, walk


class AliasCheck:
    """Normalizer methods (a mixin of normalize.Normalizer)."""

    def check_aliasing(self):
        """An array or list written in place must not be seen through another name.

        A view or alias of it (`v = y[1:]`, `z = y`, `lst.append(y)`) must be a
        temporary that the very next statement consumes in a new array (as in
        `y[i] = y[i - 1] * 2`), so that no write can come between: a view read after
        the write would see values the derivative attributes to the old ones.
        """
        if not self.writes:
            return
        placed = {}             # id(stmt) -> (block, index)
        for block in walk.blocks(self.body):
            for i, stmt in enumerate(block):
                placed[id(stmt)] = (block, i)
        flat = [s for s in walk.statements(self.body)]
        for base, line in self.writes:
            family = {base}
            changed = True
            while changed:
                changed = False
                for stmt in flat:
                    target = self.alias_target(stmt, family)
                    if target is not None and target not in family:
                        family.add(target)
                        changed = True
            for member in sorted(family - {base}):
                if not self.consumed_at_once(member, flat, placed, family):
                    self.line = line
                    raise self.error(
                        f"this writes into `{_user_name(base)}` in place, and "
                        f"`{_user_name(member)}` refers to the same memory (a view, a copy of "
                        "the name, or a list holding it) and is read after the write could "
                        "change it",
                        hint=f"Copy what `{_user_name(member)}` should keep "
                             f"(`.copy()`), or build a new array instead of writing.")

    def alias_target(self, stmt, family):
        """The name `stmt` makes share memory with a name in `family`, if any."""
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name):
            value = stmt.value
            if self.makes_new_object(value):
                return None
            if isinstance(value, gast.Attribute) and value.attr in _NOT_VIEWS:
                return None
            if set(syntax.names_in(value, "load")) & family:
                return stmt.targets[0].id
        if isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call) \
                and isinstance(stmt.value.func, gast.Attribute) \
                and stmt.value.func.attr == "append" and stmt.value.args \
                and set(syntax.names_in(stmt.value.args[0], "load")) & family:
            return stmt.value.func.value.id
        return None

    def consumed_at_once(self, name, flat, placed, family):
        """Is every read of `name` before any write into `family` that could follow its
        definition? (Defined once; read later in the same block, nothing writing into
        the family in between; or never read.)"""
        defs = [s for s in flat if name in walk.stores(s)]
        uses = {id(s) for s in flat if name in syntax.names_in(s, "load")
                and not isinstance(s, (gast.If, gast.For, gast.While))
                and not anno.get(s, "carry")}     # a copy into a loop or join name: its own check
        if not uses:
            return True
        if len(defs) != 1 or id(defs[0]) not in placed:
            return False
        block, i = placed[id(defs[0])]
        for stmt in block[i + 1:]:
            inside = list(walk.statements([stmt]))
            found = uses & {id(s) for s in inside}
            writes = any(_writes_into(s, family) for s in inside)
            if found:
                if writes and isinstance(stmt, (gast.If, gast.For, gast.While)):
                    return False
                uses -= found
                if not uses:
                    return True
            elif writes:
                return False
        return False


_NOT_VIEWS = {"shape", "ndim", "size", "dtype", "strides", "itemsize", "nbytes"}


def _user_name(version):
    return naming.base_name(version)


def _writes_into(stmt, family):
    """Is `stmt` an in-place write (item assignment, append, `+=`) into a name of `family`?"""
    if anno.get(stmt, "inplace_of") in family:
        return True
    if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Subscript):
        return stmt.targets[0].value.id in family
    value = getattr(stmt, "value", None)
    if isinstance(stmt, gast.Expr) and isinstance(value, gast.Call) \
            and isinstance(value.func, gast.Attribute) and value.func.attr == "append":
        return isinstance(value.func.value, gast.Name) and value.func.value.id in family
    return False


