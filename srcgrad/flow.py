"""Normalizing control flow: one name per variable where paths meet.

Part of the normalize stage (normalize.py): after an `if`, a version both
branches assign (or a copy at the end of a branch, marked `carry`); in a loop,
a loop name that the body reads at its start and sets again at the end of each
path that does not leave the loop (and before each `break`). A loop becomes
`for i in <range>` (over arrays, lists, tuples, enumerate and zip by index) or
`while True`; a loop that may stop early counts its trips.
"""

from __future__ import annotations

import dataclasses

import gast

from . import annotations as anno
from . import desugar, naming, runtime, syntax


def stores_in(block):
    """User names a block assigns (loop targets included), not entering nested functions."""
    found = set()
    for stmt in block:
        for node in gast.walk(stmt):
            if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
                found.add(node.id)
    return found


def _loads(node):
    found = {n.id for n in gast.walk(node) if isinstance(n, gast.Name)
             and isinstance(n.ctx, gast.Load)}
    if isinstance(node, gast.AugAssign) and isinstance(node.target, gast.Name):
        found.add(node.target.id)
    return found


def exposed_reads(body, assigned=frozenset()):
    """Names the block may read before assigning them on the same pass through it."""
    exposed, assigned = set(), set(assigned)
    for stmt in body:
        if isinstance(stmt, gast.If):
            exposed |= _loads(stmt.test) - assigned
            in_body = exposed_reads(stmt.body, assigned)
            in_else = exposed_reads(stmt.orelse, assigned)
            exposed |= in_body[0] | in_else[0]
            assigned |= in_body[1] & in_else[1]
        elif isinstance(stmt, (gast.For, gast.While)):
            header = stmt.iter if isinstance(stmt, gast.For) else stmt.test
            exposed |= _loads(header) - assigned
            inner = assigned | (stores_in([stmt.target]) if isinstance(stmt, gast.For) else set())
            exposed |= exposed_reads(stmt.body, inner)[0]
        else:
            exposed |= _loads(stmt) - assigned
            assigned |= stores_in([stmt])
    return exposed, assigned


def _path_to(block, node, owner=None):
    """[(block, index, the statement owning the block)] from `block` down to `node`."""
    for i, stmt in enumerate(block):
        if stmt is node:
            return [(block, i, owner)]
        for field in ("body", "orelse"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list) and isinstance(stmt, (gast.If, gast.For, gast.While)):
                found = _path_to(inner, node, stmt)
                if found is not None:
                    return [(block, i, owner)] + found
    return None


def loop_live_names(tree, loop):
    """User names whose value at the end of an iteration may still be read: in a later
    iteration before being assigned again, or after the loop before being assigned again
    (in the rest of each enclosing block, and each enclosing loop's next iteration). A name
    a nested function or lambda reads counts as read anywhere."""
    live = exposed_reads(loop.body)[0]
    for node in gast.walk(tree):
        if isinstance(node, (gast.FunctionDef, gast.Lambda)) and node is not tree:
            live |= _loads(node)
    assigned = set()
    for block, i, owner in reversed(_path_to(tree.body, loop) or []):
        rest = block[i + 1:]
        exposed, defined = exposed_reads(rest, assigned)
        live |= exposed
        if not desugar._jumps_in(rest, desugar._JUMPS):
            assigned |= defined
        if isinstance(owner, (gast.For, gast.While)):      # runs its body again
            header = owner.iter if isinstance(owner, gast.For) else owner.test
            live |= exposed_reads(owner.body)[0] | _loads(header)
    return live


@dataclasses.dataclass
class _Loop:
    names: dict             # user name -> loop name
    node: object = None


class ControlFlow:
    """Normalizer methods for if, for, while and break (a mixin of normalize.Normalizer)."""

    def visit_If(self, stmt):
        test = self.atom(stmt.test, hint="cond")
        before = dict(self.version)
        body, after_body = self.sub_block(stmt.body, before)
        orelse, after_else = self.sub_block(stmt.orelse, before)
        node = self.emit(syntax.if_(test, body, orelse))
        flows = [(block, versions) for block, versions in ((node.body, after_body),
                                                           (node.orelse, after_else))
                 if not desugar._always_jumps(block)]
        if len(flows) == 1:
            self.version = flows[0][1]
        elif len(flows) == 2:
            self.version = self.join(before, flows)
        return node

    def join(self, before, flows):
        """One name per variable after an `if` whose two branches both fall through."""
        result = dict(before)
        names = set(flows[0][1]) | set(flows[1][1])
        for ident in sorted(names):
            versions = [versions.get(ident) for _, versions in flows]
            if versions[0] == versions[1]:
                result[ident] = versions[0]
                continue
            if None in versions:            # defined on one path only: Python would fail too
                result[ident] = versions[0] or versions[1]
                continue
            old = before.get(ident)
            if old is not None and old not in self.read_names:
                target = old                # nothing reads the old value: reuse its name
            else:
                target = self.namer.fresh(ident)
            self.temps.add(target)
            for (block, _), version in zip(flows, versions):
                if version == target:
                    continue
                if version != old and version not in self.params:
                    for stmt in block:      # the branch's own version takes the joined name
                        syntax.rename(stmt, {version: target})
                else:
                    self.carry(block, target, version)
            fresh = all(v in self.fresh for v in versions)
            (self.fresh.add if fresh else self.fresh.discard)(target)
            if not fresh and target in self.assumed_fresh:
                self.not_fresh.add(target)
            result[ident] = target
        return result

    def carry(self, block, target, source):
        """`target = source` at the end of a path (before its `break`): a loop or join copy.
        Where the block ends with an `if` that may jump, the copy goes at the end of the
        branches that fall through, so that nothing follows a jump in its block (the
        reverse stage relies on that, desugar.py)."""
        self.read_names.add(source)
        if target in self.assumed_fresh and source not in self.fresh:
            self.not_fresh.add(target)
        for end in _fallthrough_blocks(block):
            copy = syntax.assign(target, syntax.name(source))
            anno.tag(copy, line=self.line, role="primal", carry=True)
            if end and isinstance(end[-1], gast.Break):
                end.insert(len(end) - 1, copy)
            else:
                end.append(copy)

    def loop_names(self, stmt, extra=()):
        """The loop name of every variable the loop assigns, with entry copies emitted."""
        names = {}
        live = loop_live_names(self.tree, stmt)
        for ident in sorted((stores_in(stmt.body) & live) | set(extra)):
            old = self.version.get(ident)
            if old is not None and old not in self.read_names:
                names[ident] = old          # nothing read the value before: reuse the name
            elif old is None and ident not in self.temps and ident not in self.params:
                names[ident] = ident
            else:
                names[ident] = self.namer.fresh(ident)
            self.temps.add(names[ident])
            if old is not None and names[ident] != old:
                copy = self.emit(syntax.assign(names[ident], syntax.name(old)))
                anno.set(copy, "carry", True)
                self.read_names.add(old)
                if old in self.fresh:       # a new object, as long as each iteration
                    self.fresh.add(names[ident])     # leaves one there too (loop_body checks)
                    self.assumed_fresh[names[ident]] = []
        return names

    def loop_body(self, stmt, names, prefix=()):
        """Normalize a loop body whose variables start as their loop names."""
        loop = _Loop(names=names)
        self.loops.append(loop)
        try:
            versions = dict(self.version)
            versions.update(names)
            body, after = self.sub_block(list(prefix) + list(stmt.body), versions)
        finally:
            self.loops.pop()
        if not desugar._always_jumps(body):
            for block in _fallthrough_blocks(body):
                self.carry_all(block, names, after)
        for name in names.values():
            uses = self.assumed_fresh.pop(name, [])
            if name in self.not_fresh:
                self.fresh.discard(name)
                if uses:        # an in-place write relied on it: refuse it after all
                    ident, action, line = uses[0]
                    self.line = line
                    raise self.not_a_new_object(ident, action)
        self.version.update(names)
        return body

    def carry_all(self, block, names, versions):
        for ident, loop_name in sorted(names.items()):
            current = versions.get(ident)
            if current is not None and current != loop_name:
                self.carry(block, loop_name, current)

    def visit_Break(self, stmt):
        loop = self.loops[-1]
        self.carry_all(self.body, loop.names, self.version)
        self.emit(gast.Break())

    def visit_Continue(self, stmt):
        raise self.error("`continue` in this position is not supported")  # desugar removes it

    def visit_While(self, stmt):
        trips = self.namer.fresh("trips")
        self.temps.add(trips)
        self.emit(syntax.assign(trips, syntax.const(0)))
        names = self.loop_names(stmt)
        count = syntax.assign(trips, syntax.binop(syntax.name(trips), "+", syntax.const(1)))
        anno.tag(count, line=self.line, role="primal")
        body = self.loop_body(stmt, names)
        body.insert(0, count)
        node = self.emit(gast.While(test=syntax.const(True), body=body, orelse=[]))
        anno.set(node, "trips", trips)

    def visit_For(self, stmt):
        if stmt.orelse:
            raise self.error("a `for` loop with an `else:` clause is not supported",
                             hint="Use a flag set before `break` instead.")
        rng, index, prefix = self.iteration(stmt)
        trips = None
        if desugar._jumps_in(stmt.body, (gast.Break,)):
            trips = self.namer.fresh("trips")
            self.temps.add(trips)
            self.emit(syntax.assign(trips, syntax.const(0)))
        names = self.loop_names(stmt, extra=[index])
        body = self.loop_body(stmt, names, prefix)
        if trips is not None:
            count = syntax.assign(trips, syntax.binop(syntax.name(trips), "+", syntax.const(1)))
            anno.tag(count, line=self.line, role="primal")
            body.insert(0, count)
        node = self.emit(gast.For(target=syntax.name(names[index], "store"), iter=rng,
                                  body=body, orelse=[], type_comment=None))
        anno.set(node, "trips", trips)

    def iteration(self, stmt):
        """(range expression, index variable, statements that bind the target per index)."""
        it, target = stmt.iter, stmt.target
        call = it.func if isinstance(it, gast.Call) else None
        resolved = self.parsed.scope.resolve(call, self.user_locals) if call is not None else None
        if resolved is range and not it.keywords:
            if not isinstance(target, gast.Name):
                raise self.error("a `range` loop needs a single loop variable")
            return self.atom(it, hint="rng"), target.id, []
        if resolved is enumerate and len(it.args) == 1 and not it.keywords \
                and isinstance(target, (gast.Tuple, gast.List)) and len(target.elts) == 2 \
                and isinstance(target.elts[0], gast.Name):
            sequences, items = self.sequences(it.args[0], target.elts[1])
            return self.index_range(sequences), target.elts[0].id, \
                self.bind_items(items, target.elts[0].id)
        if resolved is zip and it.args and not it.keywords:
            if not (isinstance(target, (gast.Tuple, gast.List))
                    and len(target.elts) == len(it.args)):
                raise self.error("a `zip` loop needs one loop variable per sequence")
            sequences, items = self.sequences(it, target)
            index = self.synthetic("i")
            return self.index_range(sequences), index, self.bind_items(items, index)
        if resolved is reversed and len(it.args) == 1 and not it.keywords:
            sequences, items = self.sequences(it.args[0], target)
            index = self.synthetic("i")
            return self.index_range(sequences, backwards=True), index, \
                self.bind_items(items, index)
        if isinstance(it, gast.Call) and resolved in (iter, map, filter, sorted):
            raise self.error(f"a loop over `{syntax.unparse(it.func)}(...)` is not supported",
                             hint="Loop over an array, list, tuple, range, enumerate or zip.")
        sequences, items = self.sequences(it, target)
        index = self.synthetic("i")
        return self.index_range(sequences), index, self.bind_items(items, index)

    def sequences(self, it, target):
        """Atoms for the sequences a loop walks through, and (target, sequence) pairs."""
        if isinstance(it, gast.Call) and self.parsed.scope.resolve(
                it.func, self.user_locals) is zip:
            pairs = [(t, self.atom(a, hint="seq")) for t, a in zip(target.elts, it.args)]
        else:
            pairs = [(target, self.atom(it, hint="seq"))]
        return [seq for _, seq in pairs], pairs

    def index_range(self, sequences, backwards=False):
        """range(len(seq)) (or of the shortest), with a check that each is a sequence;
        backwards: range(len(seq) - 1, -1, -1)."""
        lengths = []
        for seq in sequences:
            helper = anno.tag(syntax.name("sequence_length"), object=runtime.sequence_length)
            checked = syntax.call(helper, [seq])
            lengths.append(self._temp(checked, hint=f"n_{naming.base_name(seq.id)}"
                                      if isinstance(seq, gast.Name) else "n"))
        length = lengths[0] if len(lengths) == 1 else self._temp(
            syntax.call(syntax.name("min"), lengths), hint="n")
        if backwards:
            last = self._temp(syntax.binop(length, "-", syntax.const(1)), hint="last")
            bounds = [last, syntax.const(-1), syntax.const(-1)]
            return self._temp(syntax.call(syntax.name("range"), bounds), hint="rng")
        return self._temp(syntax.call(syntax.name("range"), [length]), hint="rng")

    def bind_items(self, pairs, index):
        """`x = seq[i]` statements (user syntax) binding each loop target per index."""
        binds = []
        for target, seq in pairs:
            value = syntax.subscript(syntax.clone(seq), syntax.name(index))
            bind = gast.Assign(targets=[target], value=value, type_comment=None)
            gast.copy_location(bind, target)
            for part in gast.walk(bind):
                if isinstance(part, (gast.expr, gast.stmt)):
                    gast.copy_location(part, target)
            binds.append(bind)
        return binds


def _fallthrough_blocks(block):
    """The blocks whose end is the end of `block` on paths that do not jump: `block`
    itself, unless it ends with an `if` that may jump (then the if's such branches)."""
    last = block[-1] if block else None
    if isinstance(last, gast.If) and (desugar._jumps_in(last.body, desugar._JUMPS)
                                      or desugar._jumps_in(last.orelse, desugar._JUMPS)):
        found = []
        for branch in (last.body, last.orelse):
            if not desugar._always_jumps(branch):
                found.extend(_fallthrough_blocks(branch))
        return found
    return [block]


def undefined_carry_sources(body, defined):
    """Versions that a carry copy may read on a path where Python has not defined them yet
    (a loop variable before its first iteration, a name set on one branch only). Each is
    set to None up front (`placeholder`), so that the copy does not fail; the program
    itself never reads them there, or Python would fail too."""
    found = set()

    def walk(block, defined):
        defined = set(defined)
        for stmt in block:
            if isinstance(stmt, gast.If):
                flows = [(walk(branch, defined), desugar._always_jumps(branch))
                         for branch in (stmt.body, stmt.orelse)]
                flows = [names for names, jumps in flows if not jumps]
                if flows:
                    defined = set.intersection(*flows)
            elif isinstance(stmt, (gast.For, gast.While)):
                walk(stmt.body, defined | set(syntax.names_in(
                    getattr(stmt, "target", syntax.const(0)), "store")))
            elif isinstance(stmt, gast.Assign):
                if anno.get(stmt, "carry") and isinstance(stmt.value, gast.Name) \
                        and stmt.value.id not in defined:
                    found.add(stmt.value.id)
                defined |= set(n for t in stmt.targets for n in syntax.names_in(t, "store"))
        return defined

    walk(body, defined)
    return found


def annotate_definedness(body, defined):
    """Mark each if and loop with the names defined on every path before it ('defined').
    Returns the names defined after `body` on paths that fall through. A placeholder
    (`v = None`, see undefined_carry_sources) does not count."""
    defined = set(defined)
    for stmt in body:
        if isinstance(stmt, (gast.If, gast.For, gast.While)):
            anno.set(stmt, "defined", frozenset(defined))
        if isinstance(stmt, gast.If):
            flows = [annotate_definedness(branch, defined) for branch in (stmt.body, stmt.orelse)
                     if not desugar._always_jumps(branch)]
            if flows:
                defined = set.intersection(*flows)
        elif isinstance(stmt, (gast.For, gast.While)):
            annotate_definedness(stmt.body, defined | set(syntax.names_in(
                getattr(stmt, "target", syntax.const(0)), "store")))
        elif isinstance(stmt, gast.Assign) and not anno.get(stmt, "placeholder"):
            defined |= set(n for t in stmt.targets for n in syntax.names_in(t, "store"))
    return defined
