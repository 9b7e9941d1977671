"""Writes into arrays must not be seen through another name.

Part of the normalize stage (normalize.py): NumPy writes `y[i] = v`, `y += v`
and `lst.append(v)` in place, and every name that shares the memory sees the
change. The derivative treats each name as the value it was given, so a name
that shares memory with `y` and is read after a write into `y` would see
values the derivative attributes to the old ones. Such a read is refused.

Which names may share memory is followed along the normalized program, path
by path (through branches, and around loops until nothing changes): `v =
y[1:]`, `z = y`, a user function's result and a carry copy share memory with
what they read; `lst.append(y)` makes `lst` hold `y`; a new array (`y * 2`,
`np.exp(y)`, `y.copy()`) shares nothing, and assigning a name again ends
what it shared before. So `w = w * 0.5 + x; w[i] = s` in a loop that carries
`w` is fine, and

    v = y[1:]
    y[0] = 1.0
    total = np.sum(v)       # refused: `v` sees the write into `y`

is refused, naming both lines.
"""

from __future__ import annotations

import builtins

import gast
import numpy

from . import annotations as anno
from . import naming, runtime, syntax

# Callables whose result never shares memory with an argument, besides the ones
# normalize.py knows make new arrays.
_UNSHARED_CALLS = {builtins.len, builtins.int, builtins.float, builtins.bool, builtins.range,
                   builtins.abs, builtins.sum, builtins.round, numpy.shape, numpy.ndim,
                   numpy.size, numpy.argmax, numpy.argmin, numpy.outer, numpy.cumsum,
                   numpy.diff, numpy.sort, numpy.argsort, numpy.tile, numpy.repeat,
                   numpy.var, numpy.std, numpy.average, numpy.any, numpy.all, numpy.trace,
                   numpy.linalg.norm, numpy.allclose, runtime.own, runtime.sequence_length,
                   runtime.shape_of}
_NOT_VIEWS = {"shape", "ndim", "size", "dtype", "strides", "itemsize", "nbytes"}
# Callables that read only the shape (and dtype) of some arguments, which a write does not
# change: {callable: the positions of those arguments}.
_SHAPE_READS = {
    runtime.shape_of: (0,), numpy.shape: (0,), numpy.ndim: (0,), numpy.size: (0,),
    builtins.len: (0,), numpy.full_like: (0,), numpy.zeros_like: (0,), numpy.ones_like: (0,),
    numpy.empty_like: (0,), runtime.zero_adjoint: (0,), runtime.zero_tangent: (0,),
    runtime.unbroadcast: (1,), runtime.broadcast_like: (1,), runtime.unreduce: (1,),
    runtime.reduce_like: (1,), runtime.grad_at: (0,), runtime.filled: (1,),
    runtime.entry: (2,), runtime.pop_adjoint: (1,), runtime.matmul_grad_left: (1,),
    runtime.matmul_grad_right: (2,), runtime.dot_grad_left: (1,), runtime.dot_grad_right: (2,),
    runtime.astype_adjoint: (1, 2), runtime.stack_pieces: (1,),
    runtime.concatenate_pieces: (1,),
}


class _Sharing:
    """Which names may share memory at one point of the program, and which names a write
    through another name has changed since they were set."""

    def __init__(self):
        self.same = set()       # frozenset({a, b}): a and b may be the same object or views
        self.holds = set()      # (c, a): the container c may hold a's object
        self.stale = {}         # name -> (line of the write, the name written into)

    def copy(self):
        other = _Sharing()
        other.same, other.holds, other.stale = set(self.same), set(self.holds), dict(self.stale)
        return other

    def key(self):
        return self.same, self.holds, set(self.stale)

    def shared_with(self, name):
        return {n for pair in self.same if name in pair for n in pair} - {name}

    def containers_of(self, names):
        """The containers that hold any of `names`, or hold such a container, and so on."""
        found, todo = set(), set(names)
        while todo:
            held = todo.pop()
            for container, item in self.holds:
                if item == held and container not in found:
                    found.add(container)
                    todo.add(container)
        return found

    def forget(self, name):
        """`name` is assigned again: it shares nothing any more."""
        self.same = {pair for pair in self.same if name not in pair}
        self.holds = {pair for pair in self.holds if name not in pair}
        self.stale.pop(name, None)

    def share(self, name, source, taken_out_of=None):
        """`name` is now the object of `source` (or a view of it); `taken_out_of`: the list
        it was popped from, which holds it no more."""
        for other in self.shared_with(source) | {source}:
            if other != name:
                self.same.add(frozenset((name, other)))
        for container in self.containers_of([source]) - {taken_out_of}:
            self.holds.add((container, name))
        for container, item in list(self.holds):
            if container == source:
                self.holds.add((name, item))

    def hold(self, container, item):
        for other in self.shared_with(item) | {item}:
            self.holds.add((container, other))

    def write(self, base, line):
        """A write into `base`'s object: every other name that sees it is now stale."""
        seen = self.shared_with(base)
        for name in seen | self.containers_of(seen | {base}):
            if name != base:
                self.stale.setdefault(name, (line, base))


def _join(states):
    states = [s for s in states if s is not None]
    if not states:
        return None
    result = states[0].copy()
    for state in states[1:]:
        result.same |= state.same
        result.holds |= state.holds
        for name, where in state.stale.items():
            result.stale.setdefault(name, where)
    return result


class AliasCheck:
    """Normalizer methods (a mixin of normalize.Normalizer)."""

    def check_aliasing(self):
        """Refuse a read of a name that a write through another name has changed."""
        if not self.writes:
            return
        self._loop_exits = []
        self._alias_block(self.body, _Sharing())

    def _alias_block(self, block, state):
        for stmt in block:
            if state is None:           # after a `break`: not reached
                return None
            state = self._alias_statement(stmt, state)
        return state

    def _alias_statement(self, stmt, state):
        if isinstance(stmt, gast.If):
            self._alias_reads(stmt.test, state, stmt)
            return _join([self._alias_block(stmt.body, state.copy()),
                          self._alias_block(stmt.orelse, state.copy())])
        if isinstance(stmt, (gast.For, gast.While)):
            return self._alias_loop(stmt, state)
        if isinstance(stmt, gast.Break):
            self._loop_exits[-1].append(state)
            return None
        if anno.get(stmt, "gradient_tape"):     # the tape of gradient code (normalize.py)
            for name in syntax.names_in(stmt, "store"):
                state.forget(name)
            return state
        self._alias_reads(stmt, state, stmt)
        line = anno.get(stmt, "line")
        if isinstance(stmt, gast.Assign):
            target = stmt.targets[0]
            if isinstance(target, gast.Subscript):
                if not anno.get(stmt, "restore"):       # a restore gives back the old values
                    state.write(target.value.id, line)
                return state
            written = anno.get(stmt, "inplace_of")
            if written is not None:
                state.write(written, line)
            if anno.get(stmt, "pop"):
                state.write(anno.get(stmt, "pop"), line)
            sources = [written] if written is not None else self._alias_sources(stmt)
            if anno.get(stmt, "pop"):       # the item shares what the list's items share
                sources = sorted(item for c, item in state.holds if c == anno.get(stmt, "pop"))
            copied = list_copied(stmt.value)
            if copied is not None:          # `new = list(old)`: a new list, the same items
                for name in syntax.names_in(target, "store"):
                    state.forget(name)
                    for item in sorted(i for c, i in state.holds if c == copied):
                        state.hold(name, item)
                return state
            names = syntax.names_in(target, "store")
            for name in names:
                state.forget(name)
            for name in names:
                for source in sources:
                    state.share(name, source, anno.get(stmt, "pop"))
            return state
        if _is_append(stmt):
            base = stmt.value.func.value.id
            state.write(base, line)
            for item in syntax.names_in(stmt.value.args[0], "load"):
                state.hold(base, item)
        return state

    def _alias_loop(self, stmt, state):
        if isinstance(stmt, gast.For):
            self._alias_reads(stmt.iter, state, stmt)
        head = state
        while True:
            self._loop_exits.append([])
            entry = head.copy()
            if isinstance(stmt, gast.For):
                for name in syntax.names_in(stmt.target, "store"):
                    entry.forget(name)
            end = self._alias_block(stmt.body, entry)
            exits = self._loop_exits.pop()
            after = _join([head, end])
            if after.key() == head.key():
                break
            head = after
        # a `for` may run out at its head; a normalized `while True` leaves only by `break`
        return _join(([head] if isinstance(stmt, gast.For) else []) + exits)

    def _alias_sources(self, stmt):
        """The names whose memory the value assigned by `stmt` may share."""
        value = stmt.value
        if anno.get(stmt, "fresh") or self.makes_new_object(value):
            return []
        if isinstance(value, gast.Attribute) and value.attr in _NOT_VIEWS:
            return []
        if isinstance(value, gast.Subscript):      # a view of the base, never of the index
            return syntax.names_in(value.value, "load")
        if isinstance(value, gast.Call):
            try:
                if self._callee(value.func) in _UNSHARED_CALLS:
                    return []
            except TypeError:           # an unhashable callee
                pass
        return syntax.names_in(value, "load")

    def _callee(self, func):
        """The object a call's callee names (a runtime helper srcgrad put there, or the
        user's)."""
        found = anno.get(func, "object")
        if found is None:
            found = self.parsed.scope.resolve(func, self.user_locals | self.temps)
        return found

    def _value_reads(self, node):
        """Names whose values `node` reads (not those it asks only the shape of)."""
        skip = set()
        for call in gast.walk(node):
            if isinstance(call, gast.Call):
                try:
                    positions = _SHAPE_READS.get(self._callee(call.func), ())
                except TypeError:
                    positions = ()
                skip |= {id(call.args[k]) for k in positions
                         if k < len(call.args) and isinstance(call.args[k], gast.Name)}
        return [n.id for n in gast.walk(node) if isinstance(n, gast.Name)
                and isinstance(n.ctx, gast.Load) and id(n) not in skip]

    def _alias_reads(self, node, state, stmt):
        for name in self._value_reads(node):
            if name in state.stale:
                write_line, base = state.stale[name]
                self.line = write_line
                read = anno.get(stmt, "line")
                when = f"on line {read}" + (", in a later iteration of the loop"
                                            if read is not None and read <= write_line else "")
                raise self.error(
                    f"this writes into `{_user_name(base)}` in place, and `{_user_name(name)}` "
                    "refers to the same memory (a view, a copy of the name, or a list holding "
                    f"it) and is read after the write, {when}",
                    hint=f"Copy what `{_user_name(name)}` should keep (`.copy()`), or build a "
                         "new array instead of writing.")


def list_copied(value):
    """The name `list(name)` copies, or None."""
    if isinstance(value, gast.Call) and isinstance(value.func, gast.Name) \
            and value.func.id == "list" and len(value.args) == 1 and not value.keywords \
            and isinstance(value.args[0], gast.Name):
        return value.args[0].id
    return None


def _is_append(stmt):
    value = getattr(stmt, "value", None)
    return isinstance(stmt, gast.Expr) and isinstance(value, gast.Call) \
        and isinstance(value.func, gast.Attribute) and value.func.attr == "append" \
        and isinstance(value.func.value, gast.Name) and value.args


def _user_name(version):
    return naming.base_name(version)
