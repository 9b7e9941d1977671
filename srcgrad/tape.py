"""What goes on the tape: only values that the adjoint reads and a loop overwrites.

Inside a loop, each straight run of primal statements ends with one push,
and its adjoint starts with the matching pop:

    for t in rng:                            for t in reversed(rng):
        ...                                      ...
        h_2 = np.tanh(z_2)                       h, xs_t, h_2 = tape.pop()
        tape.append((h, xs_t, h_2))              dz_2 = dh_2 * (1 - h_2 * h_2)
        h = h_2                                  ...

The values pushed are the names the adjoint reads from that pop until the
next one (inside reversed `if`s and loops too, for names those do not
restore themselves), that the loop assigns. A name read only for its shape
and dtype (`unbroadcast(g, z)`) is pushed as `shape_of(z)`, which keeps no
data. `plan` runs after optimization (and again until nothing changes): it
fills in pushes and pops, drops empty ones, and drops the saved copies of
array regions (`y_old = snapshot(y, i)`) and list pops that no adjoint needs.

After a reversed loop come the adjoints of what ran before the loop; where
one of them reads a name the loop rebinds (the output of `v = np.exp(x)`,
which `exp`'s adjoint reads, before `while ...: v = v * 0.5`), the name's
value before the loop is kept and set back once the loop is reversed:

    v_init = v                               for _ in range(trips):
    while ...:                                   ...
        ...                                  v = v_init
                                             dx = dv * v
"""

from __future__ import annotations

import gast
import numpy

from . import annotations as anno
from . import flow, runtime, syntax
from .walk import statements

# helper -> argument positions that it reads only for shape and dtype
META_ARGS = {
    runtime.unbroadcast: {1}, runtime.unreduce: {1}, numpy.full_like: {0},
    numpy.zeros_like: {0}, numpy.ones_like: {0}, numpy.empty_like: {0}, numpy.shape: {0},
    numpy.size: {0}, numpy.ndim: {0}, runtime.zero_adjoint: {0},
}


def _assigned(node):
    """Names a primal statement or block assigns (loop targets included)."""
    nodes = node if isinstance(node, list) else [node]
    return {n.id for stmt in nodes for n in gast.walk(stmt)
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}


class _Reads:
    """Names loaded by adjoint code, and whether each load wants more than shape and dtype."""

    def __init__(self, resolve, nested_own=True):
        self.resolve = resolve
        self.value = set()
        self.meta = set()
        self.local = set()              # names the adjoint code itself sets first
        self.nested_own = nested_own    # leave out what a nested loop or if restores itself

    def expr(self, node, meta=False):
        if isinstance(node, gast.Name):
            if isinstance(node.ctx, gast.Load) and node.id not in self.local:
                (self.meta if meta else self.value).add(node.id)
            return
        if isinstance(node, gast.Call):
            try:
                positions = META_ARGS.get(self.resolve(node.func), set())
            except TypeError:       # an unhashable callee
                positions = set()
            self.expr(node.func)
            for i, arg in enumerate(node.args):
                self.expr(arg, meta=i in positions)
            for kw in node.keywords:
                self.expr(kw.value)
            return
        for child in gast.iter_child_nodes(node):
            self.expr(child)

    def stmts(self, stmts, skip=lambda s: False):
        for stmt in stmts:
            if skip(stmt):
                continue
            if isinstance(stmt, (gast.If, gast.For, gast.While)):
                self.compound(stmt, skip)
            else:
                self.expr(stmt)
                if anno.get(stmt, "recomputed") or anno.get(stmt, "reset"):
                    self.local.update(syntax.names_in(stmt, "store"))

    def compound(self, node, skip):
        if isinstance(node, gast.If):
            self.expr(node.test)
        elif isinstance(node, gast.For):
            self.expr(node.iter)
        inner = _Reads(self.resolve, self.nested_own)
        inner.stmts(node.body, skip)
        inner.stmts(getattr(node, "orelse", []), skip)
        primal = anno.get(node, "primal_node") if self.nested_own else None
        own = _assigned(primal.body + primal.orelse) if primal is not None else set()
        if isinstance(primal, gast.For):
            own |= _assigned([primal.target])
        self.value |= inner.value - own
        self.meta |= inner.meta - own


def _definitions(block):
    found = {}
    for stmt in statements(block):
        for name in syntax.names_in(stmt, "store") if isinstance(stmt, gast.Assign) else []:
            found.setdefault(name, []).append(stmt)
    return found


def _recompute(normal_loop, name, loop):
    """Take `name` again at the top of each reversed iteration (once per loop)."""
    done = anno.get(normal_loop, "recomputed") or set()
    if name in done:
        return False
    anno.set(normal_loop, "recomputed", done | {name})
    recompute = syntax.clone(_definitions(loop.body)[name][0])
    anno.tag(recompute, role="adjoint", line=anno.get(_definitions(loop.body)[name][0], "line"),
             recomputed=True)
    anno.get(normal_loop, "reversed").body.insert(0, recompute)
    return True


def _written_in_place(block):
    """Names whose arrays or lists a block writes into (`y[i] = v`, `y += v`, append)."""
    found = set()
    for stmt in statements(block):
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Subscript) \
                and isinstance(stmt.targets[0].value, gast.Name):
            found.add(stmt.targets[0].value.id)
        elif anno.get(stmt, "inplace_of"):
            found.add(anno.get(stmt, "inplace_of"))
        elif isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call) \
                and isinstance(stmt.value.func, gast.Attribute) \
                and isinstance(stmt.value.func.value, gast.Name):
            found.add(stmt.value.func.value.id)
    return found


def _recomputable(names, loop, assigned):
    """Names cheaper to take again than to keep: `v = xs[t]`, a view of an array the loop
    neither assigns nor writes into, at the loop's index (which the reversed loop sets
    again)."""
    index = set(syntax.names_in(loop.target, "store")) if isinstance(loop, gast.For) else set()
    defs = _definitions(loop.body)
    found = []
    for name in names:
        stmts = defs.get(name, [])
        if len(stmts) != 1:
            continue
        value = stmts[0].value
        if isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name) \
                and value.value.id not in assigned \
                and set(syntax.names_in(value.slice, "load")) <= index | (
                    set(syntax.names_in(value.slice, "load")) - assigned):
            found.append(name)
    return found


def _stretch(segment, body):
    """The adjoint statements from a segment's pop to the next pop in the same block (of
    the tree as it is now: passes may have rebuilt the block the segment was made in)."""
    found = _position(body, segment.pop)
    block = found[0] if found is not None else segment.adjoint
    start = next(i for i, s in enumerate(block) if s is segment.pop) + 1
    end = next((i for i in range(start, len(block)) if anno.get(block[i], "tape")), len(block))
    return block[start:end]


def _set_tape(segment, names, meta, shape_of):
    """Rewrite a segment's pushes and pop to carry `names` (stand-ins for those in `meta`)."""
    def pushed(name):
        if name in meta:
            return syntax.call(syntax.name(shape_of), [syntax.name(name)])
        return syntax.name(name)

    for push in segment.pushes:
        values = [pushed(n) for n in names]
        push.value.args = [values[0] if len(values) == 1 else syntax.tuple_(values)]
    targets = [syntax.name(n, "store") for n in names]
    segment.pop.targets = [targets[0] if len(targets) == 1 else syntax.tuple_(targets, "store")]


def _remove(body, node):
    """Remove `node` from the statement tree `body`; returns whether it was found."""
    for i, stmt in enumerate(body):
        if stmt is node:
            del body[i]
            return True
        for field in ("body", "orelse"):
            if _remove(getattr(stmt, field, None) or [], node):
                return True
    return False


def _views(body, roots):
    """`roots` and the names that may share memory with them (views, aliases, lists)."""
    family = set(roots)
    changed = True
    while changed:
        changed = False
        for stmt in statements(body):
            if anno.get(stmt, "role") != "primal":
                continue
            if isinstance(stmt, gast.Assign) and not isinstance(stmt.targets[0], gast.Subscript) \
                    and not anno.get(stmt, "fresh") and not anno.get(stmt, "restore_of"):
                targets = set(syntax.names_in(stmt.targets[0], "store"))   # `a, res = f(w)` too
                value = stmt.value
                if isinstance(value, gast.Subscript):       # a view: of its base
                    value = value.value
                elif isinstance(value, gast.Call):          # what it is given, not the callee
                    value = syntax.tuple_([*value.args, *(k.value for k in value.keywords)])
                sources = set(syntax.names_in(value, "load"))
                if (targets & family or sources & family) and (targets | sources) - family:
                    family |= targets | sources         # sharing goes both ways
                    changed = True
            elif isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call) \
                    and isinstance(stmt.value.func, gast.Attribute) \
                    and stmt.value.func.attr == "append" and not anno.get(stmt, "tape"):
                # (what the tape keeps comes back off it under the same names)
                base = stmt.value.func.value
                if isinstance(base, gast.Name) and base.id not in family \
                        and set(syntax.names_in(stmt.value, "load")) & family:
                    family.add(base.id)
                    changed = True
    return family


def plan(derivative, resolve):
    """Fill in the tape; drop what no adjoint reads. Returns whether anything changed."""
    changed = False
    shape_of = None
    for segment in list(derivative.segments):
        reads = _Reads(resolve)
        reads.stmts(_stretch(segment, derivative.body))
        loop = anno.get(segment.loop, "generated") or segment.loop
        assigned = _assigned(loop.body) - (_assigned([loop.target])
                                           if isinstance(loop, gast.For) else set())
        assigned.discard(derivative.tape)
        names = sorted((reads.value | reads.meta) & assigned)
        meta = {n for n in names if n not in reads.value}
        changing = assigned | _views(derivative.body, _written_in_place(loop.body))
        for name in _recomputable(names, loop, changing):
            changed |= _recompute(segment.loop, name, loop)
            names.remove(name)
        old = (syntax.unparse(segment.pushes), syntax.unparse(segment.pop))
        if not names:
            for push in segment.pushes:
                _remove(derivative.body, push)
            _remove(derivative.body, segment.pop)
            derivative.segments.remove(segment)
            changed = True
            continue
        if meta and shape_of is None:
            shape_of = derivative.imports.ref("shape_of", runtime.shape_of).id
        _set_tape(segment, names, meta, shape_of)
        changed |= old != (syntax.unparse(segment.pushes), syntax.unparse(segment.pop))
    changed |= _drop_unneeded_restores(derivative, resolve)
    changed |= _reset_after_loops(derivative, resolve)
    if not derivative.segments:
        for stmt in list(derivative.body):
            if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) \
                    and stmt.targets[0].id == derivative.tape:
                derivative.body.remove(stmt)
                changed = True
    return changed


def _adjoint_order(derivative):
    """The adjoint statements in execution order: (statement, the reversed loops around it)."""
    order = []

    def walk(block, loops):
        for stmt in block:
            order.append((stmt, loops))
            if isinstance(stmt, (gast.If, gast.For, gast.While)):
                inner = loops + (stmt,) if isinstance(stmt, (gast.For, gast.While)) else loops
                walk(stmt.body, inner)
                walk(getattr(stmt, "orelse", []), inner)

    walk([s for s in derivative.body if anno.get(s, "role") == "adjoint"], ())
    return order


def _reads_after(order, k, resolve, nested=False, values_only=False):
    """What the adjoint statements that may run after `order[k]` read: later in the
    sweep, or anywhere in a reversed loop around it (its next iteration comes after).
    With `nested`, statements inside `order[k]` itself are left out; with `values_only`,
    reads of shape and dtype alone are too."""
    stmt, loops = order[k]
    inside = {id(s) for s in statements([stmt])} if nested else set()
    reads = _Reads(resolve, nested_own=False)
    for j, (later, around) in enumerate(order):
        if not (j > k or set(around) & set(loops)) or id(later) in inside \
                or anno.get(later, "restore_of") is not None:
            continue
        if isinstance(later, gast.If):
            reads.expr(later.test)
        elif isinstance(later, gast.For):
            reads.expr(later.iter)
        elif not isinstance(later, gast.While):
            reads.stmts([later])
    return reads.value if values_only else reads.value | reads.meta


def _drop_unneeded_restores(derivative, resolve):
    """Saved regions and list pops that no adjoint reads back are dropped.

    A restore is needed when an adjoint that runs after it reads the array (or a
    view of it). Restoring a region of an array changes no shape, so reads of shape
    and dtype alone do not need it; a list's length does change.
    """
    order = _adjoint_order(derivative)
    changed = False
    for k, (restore, _) in enumerate(order):
        base = anno.get(restore, "restore_of")
        if base is None or not _in_tree(derivative.body, restore):
            continue
        region = anno.get(restore, "saved") is not None
        reads = _reads_after(order, k, resolve, values_only=region)
        if not (_views(derivative.body, [base]) & reads):
            _remove(derivative.body, restore)
            changed = True
    return changed


def _reset_after_loops(derivative, resolve):
    """Names a loop rebinds that adjoints after its reverse read: keep their value from
    before the loop, and set them back to it once the loop is reversed."""
    order = _adjoint_order(derivative)
    changed = False
    for k, (reversed_loop, _) in enumerate(order):
        primal = anno.get(reversed_loop, "primal_node")
        if not isinstance(reversed_loop, gast.For) or not isinstance(primal, (gast.For,
                                                                              gast.While)):
            continue
        done = anno.get(reversed_loop, "resets") or set()
        rebound = _assigned(primal.body) | (_assigned([primal.target])
                                           if isinstance(primal, gast.For) else set())
        rebound -= done | {derivative.tape}
        needed = sorted(rebound & _reads_after(order, k, resolve, nested=True))
        if not needed:
            continue
        anno.set(reversed_loop, "resets", done | set(needed))
        flow.annotate_definedness(derivative.body, derivative.unit.params)
        surely = anno.get(primal, "defined") or set()
        for name in needed:             # a name only some paths set before the loop
            if name not in surely:
                placeholder = syntax.assign(name, syntax.const(None))
                anno.tag(placeholder, line=anno.get(primal, "line"), role="primal",
                         placeholder=True, impure=True)
                derivative.body.insert(0, placeholder)
        block, i = _position(derivative.body, primal)
        after, j = _position(derivative.body, reversed_loop)
        line = anno.get(primal, "line")
        for name in reversed(needed):       # the resets first: they come later in `body`
            kept = derivative.unit.namer.fresh(f"{name}_init")
            # impure: kept as written (they are copies that other passes must not merge)
            after.insert(j + 1, anno.tag(syntax.assign(name, syntax.name(kept)), line=line,
                                         role="adjoint", reset=True, impure=True))
            block.insert(i, anno.tag(syntax.assign(kept, syntax.name(name)), line=line,
                                     role="primal", impure=True))
        changed = True
    return changed


def _position(body, node):
    """(the block holding `node`, its index there)."""
    for i, stmt in enumerate(body):
        if stmt is node:
            return body, i
        for field in ("body", "orelse"):
            found = _position(getattr(stmt, field, None) or [], node)
            if found is not None:
                return found
    return None


def _in_tree(body, node):
    return any(s is node for s in statements(body))
