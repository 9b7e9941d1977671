"""Stage 3a, desugar: control flow in a form that reverses statement by statement.

On the user's syntax tree, before normalization:

- `while c:` becomes `while True:` with `if not c: break` at the top;
- `break`, `continue`, `return` and `raise` are moved to the end of their block: the
  statements that follow an `if` that may jump go into its branches that
  fall through, so that whatever runs in an iteration is one path through
  nested `if`s;
  continue at the end of a loop body is dropped;
- a `return` inside a loop sets the result, sets a flag and breaks; after the
  loop, `if flag: return result`;
- the function ends with its only `return`, of one name.

    for x in xs:                      for x in xs:
        if x > 3:                         if x > 3:
            break              ->             break
        total = total + x                 else:
                                              total = total + x
"""

from __future__ import annotations

import copy

import gast

from . import syntax

_JUMPS = (gast.Break, gast.Continue, gast.Return, gast.Raise)


def _jumps_in(block, kinds):
    """Does `block` contain a jump of `kinds` that leaves it? (`break` and `continue`
    inside a nested loop belong to that loop; `return` leaves every loop.)"""
    for stmt in block:
        if isinstance(stmt, kinds):
            return True
        if isinstance(stmt, gast.If):
            if _jumps_in(stmt.body, kinds) or _jumps_in(stmt.orelse, kinds):
                return True
        elif isinstance(stmt, (gast.For, gast.While)) and gast.Return in kinds:
            if _jumps_in(stmt.body, (gast.Return,)):
                return True
    return False


def _always_jumps(block):
    """Does every path through `block` end in a jump?"""
    if not block:
        return False
    last = block[-1]
    if isinstance(last, _JUMPS):
        return True
    if isinstance(last, gast.If):
        return _always_jumps(last.body) and _always_jumps(last.orelse)
    return False


def _append_to_fallthrough(block, rest):
    """Append `rest` to every path through `block` that does not end in a jump."""
    if _always_jumps(block):
        return
    last = block[-1] if block else None
    if isinstance(last, gast.If) and (_jumps_in(last.body, _JUMPS)
                                      or _jumps_in(last.orelse, _JUMPS)):
        _append_to_fallthrough(last.body, rest)
        _append_to_fallthrough(last.orelse, copy.deepcopy(rest))
    else:
        block.extend(rest)


class Desugar:
    def __init__(self, namer, result_name):
        self.namer = namer
        self.result = result_name          # the name the function's value ends up in

    def block(self, stmts, in_loop):
        """The block with its jumps moved to the end of their branches."""
        out = []
        stmts = list(stmts)
        for i, stmt in enumerate(stmts):
            if isinstance(stmt, gast.While):
                stmt = self.while_true(stmt)
            if isinstance(stmt, _JUMPS):
                out.append(stmt)
                return out                   # what follows a jump never runs
            if isinstance(stmt, gast.If):
                stmt.body = self.block(stmt.body, in_loop)
                stmt.orelse = self.block(stmt.orelse, in_loop)
                rest = stmts[i + 1:]
                out.append(stmt)
                if rest and (_jumps_in(stmt.body, _JUMPS) or _jumps_in(stmt.orelse, _JUMPS)):
                    _append_to_fallthrough([stmt], rest)
                    stmt.body = self.block(stmt.body, in_loop)
                    stmt.orelse = self.block(stmt.orelse, in_loop)
                    return out
                continue
            if isinstance(stmt, (gast.For, gast.While)):
                loop, rest_taken = self.loop(stmt, stmts[i + 1:], in_loop)
                out.extend(loop)
                if rest_taken:
                    return out
                continue
            out.append(stmt)
        return out

    def while_true(self, stmt):
        """`while c: body` -> `while True: if not c: break; body`."""
        if isinstance(stmt.test, gast.Constant) and stmt.test.value is True:
            return stmt
        check = syntax.if_(gast.UnaryOp(op=gast.Not(), operand=stmt.test), [gast.Break()])
        gast.copy_location(check, stmt)
        gast.copy_location(check.body[0], stmt)
        stmt.test = syntax.const(True)
        stmt.body = [check] + stmt.body
        return stmt

    def loop(self, stmt, rest, in_loop):
        """The loop, with its body restructured; a return inside it leaves through a flag.

        Returns (statements, whether they took in `rest`, the statements after the loop).
        """
        flag = None
        if _jumps_in(stmt.body, (gast.Return,)):
            flag = self.namer.fresh("returned")
            self.replace_returns(stmt.body, flag)
        stmt.body = self.tidy_body(self.block(stmt.body, in_loop=True))
        if flag is None:
            return [stmt], False
        init = syntax.assign(flag, syntax.const(False))
        gast.copy_location(init, stmt)
        leave = gast.Return(value=syntax.name(self.result))
        gast.copy_location(leave, stmt)
        after = syntax.if_(syntax.name(flag), [leave], self.block(rest, in_loop))
        gast.copy_location(after, stmt)
        return [init, stmt, after], True

    def replace_returns(self, block, flag):
        """`return v` -> `result = v; flag = True; break` (in this loop and loops inside it)."""
        for i, stmt in enumerate(block):
            if isinstance(stmt, gast.Return):
                value = stmt.value if stmt.value is not None else syntax.const(None)
                parts = [syntax.assign(self.result, value), syntax.assign(flag, syntax.const(True)),
                         gast.Break()]
                for part in parts:
                    gast.copy_location(part, stmt)
                block[i:i + 1] = parts
                return self.replace_returns(block, flag)
            if isinstance(stmt, gast.If):
                self.replace_returns(stmt.body, flag)
                self.replace_returns(stmt.orelse, flag)
            elif isinstance(stmt, (gast.For, gast.While)) and _jumps_in(stmt.body, (gast.Return,)):
                # the inner loop sets the flag and breaks; this loop breaks after it
                self.replace_returns(stmt.body, flag)
                after = syntax.if_(syntax.name(flag), [gast.Break()])
                gast.copy_location(after, stmt)
                gast.copy_location(after.body[0], stmt)
                block.insert(i + 1, after)

    def tidy_body(self, body):
        """Drop `continue` at the end of the paths of a loop body (it ends the iteration)."""
        if not body:
            return body
        last = body[-1]
        if isinstance(last, gast.Continue):
            return body[:-1]
        if isinstance(last, gast.If):
            last.body = self.tidy_body(last.body)
            last.orelse = self.tidy_body(last.orelse)
        return body

    def function(self, body, last_line):
        """The function body, ending with its one `return <result>`."""
        body = self.block(body, in_loop=False)
        if not _always_jumps(body):
            end = gast.Return(value=None)
            end.lineno, end.col_offset = last_line, 0
            body.append(end)
        self.single_return(body)
        final = gast.Return(value=syntax.name(self.result))
        final.lineno = body[-1].lineno if body else last_line
        final.col_offset = 0
        return body + [final]

    def single_return(self, block):
        """Each `return v` at the end of a path becomes `result = v`."""
        for i, stmt in enumerate(block):
            if isinstance(stmt, gast.Return):
                if isinstance(stmt.value, gast.Name) and stmt.value.id == self.result:
                    del block[i]
                else:
                    value = stmt.value if stmt.value is not None else syntax.const(None)
                    block[i] = gast.copy_location(syntax.assign(self.result, value), stmt)
                return
            if isinstance(stmt, gast.If):
                self.single_return(stmt.body)
                self.single_return(stmt.orelse)


def desugar(tree, namer, result_name):
    """Restructure the FunctionDef `tree` in place; returns it."""
    last_line = tree.body[-1].end_lineno or tree.body[-1].lineno
    tree.body = Desugar(namer, result_name).function(tree.body, last_line)
    return tree
