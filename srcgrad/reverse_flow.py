"""Reversing blocks, branches and loops, with the tape.

Part of the reverse stage (reverse.py). A block is straight runs and compound
statements; it reverses last part first. `if c:` reverses to `if c:` over the
reversed branches, and paths agree on which adjoints are set (zeroing one where
a path left it unset). A loop reverses to a loop over the same range backwards
(or as many times as it ran), generated until the adjoints' state at the top
of the reversed body is the same for every iteration. Inside loops, each run
pushes on the tape what its adjoint reads, and each compound what its reverse
needs first; tape.py fills them in.
"""

from __future__ import annotations

import copy
import dataclasses

import gast

from . import annotations as anno
from . import syntax
from .accumulate import _Adj


@dataclasses.dataclass
class Segment:
    """A push/pop pair inside a loop: for a straight run, or for a compound's header."""

    pushes: list            # the Expr statements `tape.append(...)` (one per path)
    pop: object             # the statement `... = tape.pop()` in the adjoint
    adjoint: list           # the adjoint block the pop stands in
    loop: object            # the innermost primal loop around it
    kind: str               # "run": for its own statements; "header": for the compound
    line: int
    tape: str

    def new_push(self):
        push = syntax.expr_stmt(syntax.call(syntax.attribute(syntax.name(self.tape), "append"),
                                            [syntax.tuple_([])]))
        anno.tag(push, line=self.line, role="primal", tape=True)
        self.pushes.append(push)
        return push


def _same(a, b):
    return (a.set, a.owned, a.sparse, a.maybe) == (b.set, b.owned, b.sparse, b.maybe)


class ReverseFlow:
    """Reverse methods for blocks and control flow (a mixin of reverse.Reverse)."""

    def block(self, stmts, loop, exits=()):
        """(primal block, adjoint block) for a block inside `loop` (None at top level).

        A block is straight runs and compound statements (if, loops). Built last part
        first, so that the adjoint block comes out in execution order. Inside loops,
        each run pushes the values its adjoint reads at its end; each compound pushes
        the values its reverse needs first (an if's condition, a loop's range and
        trips) after it ends, or, on a path that leaves the loop, before the `break`
        (`exits`: the pairs of the ifs around this block, innermost last).
        """
        parts, run = [], []
        for stmt in stmts:
            if isinstance(stmt, (gast.If, gast.For, gast.While)):
                parts.append(("run", run))
                parts.append(("compound", stmt))
                run = []
            else:
                run.append(stmt)
        parts.append(("run", run))
        primal_parts, adjoint = [], []
        for kind, item in reversed(parts):
            if kind == "compound":
                header = self.tape_pair(loop, item, adjoint, kind="header")
                inner_exits = list(exits) + [header] if isinstance(item, gast.If) else []
                p, a = self.compound(item, loop, inner_exits)
                adjoint.extend(a)
                primal_parts.append([p] + ([header.new_push()] if header else []))
            else:
                primal_parts.append(self.segment(item, loop, adjoint, exits))
        primal = [s for part in reversed(primal_parts) for s in part]
        return primal, adjoint

    def tape_pair(self, loop, near, adjoint, kind):
        """A push/pop pair (filled in by tape.py); its pop goes into `adjoint` now."""
        if loop is None:
            return None
        pop = syntax.assign(syntax.tuple_([], "store"), syntax.call(
            syntax.attribute(syntax.name(self.tape), "pop"), []))
        line = anno.get(near, "line") if near is not None else anno.get(loop, "line")
        anno.tag(pop, line=line, role="adjoint", tape=True, impure=True)
        adjoint.append(pop)
        segment = Segment(pushes=[], pop=pop, adjoint=adjoint, loop=loop, kind=kind,
                          line=line, tape=self.tape)
        self.segments.append(segment)
        return segment

    def segment(self, stmts, loop, adjoint, exits):
        """A straight run: its primal (with its push inside loops) and its adjoint, which
        is appended to `adjoint`. A run that ends in `break` also pushes for `exits`."""
        carries = []
        while stmts and anno.get(stmts[-1], "carry"):
            carries.insert(0, stmts[-1])
            stmts = stmts[:-1]
        breaks = []
        if stmts and isinstance(stmts[-1], gast.Break):
            breaks, stmts = [stmts[-1]], stmts[:-1]
            while stmts and anno.get(stmts[-1], "carry"):
                carries.insert(0, stmts[-1])
                stmts = stmts[:-1]
        for stmt in reversed(carries):
            _, a = self.statement(stmt)
            adjoint.extend(a)
        own = self.tape_pair(loop, stmts[-1] if stmts else None, adjoint, kind="run")
        extras = {}
        for stmt in reversed(stmts):
            before, a = self.statement(stmt)
            extras[id(stmt)] = before
            adjoint.extend(a)
        primal = []
        for stmt in stmts:
            primal.extend(extras[id(stmt)])
            primal.append(self.replacements.get(id(stmt), stmt))
        if own is not None:
            primal.append(own.new_push())
        primal.extend(carries)
        if breaks:
            primal.extend(pair.new_push() for pair in reversed(exits) if pair is not None)
        return primal + breaks

    def snapshot_states(self):
        return ({k: copy.copy(v) for k, v in self.states.items()}, dict(self.names),
                set(self.namer.taken), len(self.segments),
                dict(self.imports.names), dict(self.imports.sources), dict(self.imports.objects))

    def restore_states(self, snap):
        """Undo a trial run of a loop body; adjoint names it chose stay chosen."""
        states, names, taken, nseg, inames, isources, iobjects = snap
        self.states = {k: copy.copy(v) for k, v in states.items()}
        self.namer.taken = set(taken) | set(self.names.values())
        del self.segments[nseg:]
        self.imports.names, self.imports.sources, self.imports.objects = \
            dict(inames), dict(isources), dict(iobjects)

    def compound(self, stmt, loop, exits):
        self.line = anno.get(stmt, "line")
        if isinstance(stmt, gast.If):
            return self.if_(stmt, loop, exits)
        return self.loop(stmt, loop)

    def if_(self, stmt, loop, exits):
        """`if c:` reverses to `if c:` over the reversed branches; paths agree on set adjoints."""
        start = {k: copy.copy(v) for k, v in self.states.items()}
        body_p, body_a = self.block(stmt.body, loop, exits)
        after_body = self.states
        self.states = {k: copy.copy(v) for k, v in start.items()}
        else_p, else_a = self.block(stmt.orelse, loop, exits)
        after_else = self.states
        self.line = anno.get(stmt, "line")
        defined = anno.get(stmt, "defined") or frozenset()
        merged = {}
        primal_of = {n: p for p, n in self.names.items()}
        for name in sorted(set(after_body) | set(after_else)):
            a, b = after_body.get(name, _Adj()), after_else.get(name, _Adj())
            if a.set != b.set:         # zero on the path that left it unset
                zero, state = self.zeros(primal_of[name], defined)
                (else_a if a.set else body_a).append(zero)
                a, b = (a, state) if a.set else (state, b)
            merged[name] = _Adj(set=a.set, owned=a.owned and b.owned,
                                sparse=a.sparse or b.sparse, maybe=a.maybe or b.maybe)
        self.states = merged
        primal = syntax.if_(stmt.test, body_p, else_p)
        anno.copy(stmt, primal)
        adjoint = syntax.if_(syntax.clone(stmt.test), body_a, else_a)
        anno.tag(adjoint, line=anno.get(stmt, "line"), role="adjoint", primal_node=primal)
        return primal, [adjoint]

    def loop(self, stmt, outer):
        """The loop, and its reverse: as many iterations, last first, adjoints carried around.

        The reversed body is generated until the state of every adjoint at its start
        is the same for each iteration (set, owned): an adjoint the body adds to is
        set to zero before the reversed loop, and one it consumes is reset after.
        """
        before = {k: copy.copy(v) for k, v in self.states.items()}
        defined = anno.get(stmt, "defined") or frozenset()
        owning = []        # set adjoints made private before the loop, to be added to in place
        for name, state in sorted(before.items()):
            if state.set and not state.owned and not state.maybe:
                owning.append(name)
                state.owned = True
        entry = {k: copy.copy(v) for k, v in before.items()}
        primal_of = {}
        for _ in range(8):
            snap = self.snapshot_states()
            self.states = {k: copy.copy(v) for k, v in entry.items()}
            body_p, body_a = self.block(stmt.body, stmt)
            end = self.states
            primal_of = {n: p for p, n in self.names.items()}
            new_entry = {}
            for name in set(entry) | set(end):
                # the state at the top of the reversed body: as before the loop (or zeroed
                # there), merged with the state the body leaves for the next iteration
                a, b = before.get(name, _Adj()), end.get(name, _Adj())
                if not (a.set or b.set or entry.get(name, _Adj()).set):
                    new_entry[name] = _Adj()
                    continue
                primal = primal_of[name]
                made = self.zeros(primal, defined)[1]
                a = a if a.set else made
                b = b if b.set else made
                new_entry[name] = _Adj(set=True, owned=a.owned and b.owned,
                                       sparse=a.sparse or b.sparse, maybe=a.maybe or b.maybe)
            if all(_same(new_entry[n], entry.get(n, _Adj())) for n in new_entry):
                break
            self.restore_states(snap)
            entry = new_entry
        self.line = anno.get(stmt, "line")
        adjoint = []
        for name, state in sorted(entry.items()):
            if state.set and not before.get(name, _Adj()).set:
                adjoint.append(self.zeros(primal_of[name], defined)[0])   # before the reverse
            if state.set and not end.get(name, _Adj()).set:
                body_a.append(self.zeros(primal_of[name], defined)[0])    # for the next iteration
        for name in owning:
            if entry[name].owned:     # the loop adds to it in place: work on a copy
                copy_stmt = syntax.assign(name, syntax.call(self.helper("own"),
                                                            [syntax.name(name)]))
                adjoint.insert(0, self.tag(copy_stmt))
        self.states = {k: copy.copy(v) for k, v in entry.items()}
        primal = self.primal_loop(stmt, body_p)
        anno.set(stmt, "generated", primal)
        reversed_loop = self.reversed_loop(stmt, body_a, primal)
        anno.set(stmt, "reversed", reversed_loop)
        return primal, adjoint + [reversed_loop]

    def primal_loop(self, stmt, body):
        if isinstance(stmt, gast.For):
            node = gast.For(target=stmt.target, iter=stmt.iter, body=body, orelse=[],
                            type_comment=None)
        else:
            node = gast.While(test=stmt.test, body=body, orelse=[])
        anno.copy(stmt, node)
        return node

    def reversed_loop(self, stmt, body, primal):
        trips = anno.get(stmt, "trips")
        builtins_range = syntax.name("range")
        if isinstance(stmt, gast.For):
            span = syntax.clone(stmt.iter)
            if trips is not None:
                span = syntax.subscript(span, gast.Slice(lower=None, upper=syntax.name(trips),
                                                         step=None))
            iterable = syntax.call(syntax.name("reversed"), [span])
            target = syntax.clone(stmt.target)
        else:
            iterable = syntax.call(builtins_range, [syntax.name(trips)])
            target = syntax.name(self.namer.fresh("_"), "store")     # the trips only count
        node = gast.For(target=target, iter=iterable, body=body or [gast.Pass()], orelse=[],
                        type_comment=None)
        anno.tag(node, line=anno.get(stmt, "line"), role="adjoint", primal_node=primal)
        return node
