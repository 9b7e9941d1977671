"""The pipeline, and the caches in front of it.

`pipeline` runs the stages in order and can stop after any of them
(`srcgrad show --stage`). `compiled` returns the generated module for a
function and options: from memory, else from the disk cache, else by running
the pipeline and writing the file.
"""

from __future__ import annotations

import dataclasses
import pathlib

from . import (analysis, cache, emit, fence, forward, normalize, optimize, parse, program,
               reverse, syntax, templates)
from .errors import ArgnumsError, Location

STAGES = ("parsed", "normalized", "raw", "optimized")


MODES = ("reverse", "forward")


def describe_options(argnums, wrt, has_aux, mode="reverse"):
    text = f"argnums={argnums[0] if len(argnums) == 1 else argnums}"
    what = "the gradient" if mode == "reverse" else "forward mode, the tangent"
    text += f" ({what} with respect to " + ", ".join(wrt) + ")" if wrt else ""
    return text + (", has_aux=True" if has_aux else "")


def pipeline(fun, argnums, has_aux=False, stop_after="optimized", mode="reverse"):
    """fun -> generated module (emit.Generated), or the source text after `stop_after`."""
    parsed = fence.check(parse.parse_function(fun))
    if stop_after == "parsed":
        return syntax.unparse(parsed.tree) + "\n"
    unit = normalize.normalize(parsed, has_aux)
    if stop_after == "normalized":
        return emit.render_normalized(unit)
    wrt = [unit.params[i] for i in argnums]
    activity = analysis.analyze(unit, wrt)
    calls = program.Program()
    calls.functions.append(None)           # the derivative itself comes first
    if mode == "forward":
        derivative = forward.Forward(unit, activity, wrt, program=calls, index=0).run()
        kind = "jvp"
    else:
        derivative = reverse.Reverse(unit, activity, wrt, program=calls, index=0).run()
        kind = "grad"
    calls.functions[0] = program.Function(fun=fun, derivative=derivative, kind=kind,
                                          names=(derivative.name,))
    calls.taken.add(derivative.name)
    description = describe_options(argnums, wrt, has_aux, mode)
    if stop_after != "raw":
        optimize.optimize(derivative)
    calls.drain()
    generated = emit.emit(calls, description)
    return generated.source if stop_after == "raw" else generated


def check_argnums(fun, argnums, skip=0):
    """`argnums` as a tuple of non-negative ints, checked against fun's parameters.

    `skip` leading parameters are not the caller's (a bound method's `self`);
    the result counts them, the caller's `argnums` does not.
    """
    parse.require_function(fun)
    fence.check_signature(fun)
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)
    code = fun.__code__
    count = code.co_argcount - skip
    result = []
    for n in nums:
        if not isinstance(n, int) or isinstance(n, bool):
            raise ArgnumsError(f"argnums must be an int or a tuple of ints, got {argnums!r}")
        if not -count <= n < count:
            site = Location(code.co_filename, code.co_firstlineno)
            names = code.co_varnames[skip:skip + count]
            raise ArgnumsError(f"argnums={argnums!r} is out of range: {fun.__name__} has "
                               f"{count} positional parameter(s) {names}", site,
                               hint=f"Use an index from 0 to {count - 1}.")
        result.append(n % count + skip)
    if len(set(result)) != len(result):
        raise ArgnumsError(f"argnums={argnums!r} names an argument twice")
    return tuple(result), single


@dataclasses.dataclass
class Entry:
    """A compiled gradient module: shared by every wrapper of the same function and options."""

    generated: emit.Generated
    path: str
    code: object
    origin: str          # "built" or "disk" (for tests and `srcgrad show`)


_MEMORY = {}


def compiled(fun, argnums, has_aux=False, mode="reverse"):
    """The Entry for `fun` differentiated by `argnums` (a tuple), in `mode`."""
    parse.require_function(fun)
    fence.check_signature(fun)
    scope = parse.Scope(fun)
    resolved = cache.resolution(fun, scope)
    memory_key = (fun.__code__, argnums, has_aux, mode, templates.user_generation(),
                  tuple(sorted(resolved.items())))
    entry = _MEMORY.get(memory_key)
    if entry is not None:
        return entry
    info = parse.get_source(fun)
    options = {"argnums": list(argnums), "has_aux": has_aux, "mode": mode}
    key_hex = cache.key(info.text, info.file, info.qualname, options, resolved,
                        templates.digest())
    path = None
    found = None
    directory = cache.cache_dir()
    for candidate in sorted(directory.glob(f"*.{key_hex[:12]}.py")) if directory.is_dir() else ():
        found = cache.read(candidate, key_hex)
        if found is not None:
            path = str(candidate)
            break
    if found is not None:
        generated = emit.Generated.from_meta(*found)
        origin = "disk"
    else:
        generated = pipeline(fun, argnums, has_aux, mode=mode)
        origin = "built"
        path = str(directory / cache.file_name(info.module, info.qualname, generated.function,
                                               key_hex))
        if not cache.write(path, generated.source, key_hex, generated.to_meta()):
            path = str(pathlib.Path("<srcgrad>") / pathlib.Path(path).name)
    code = emit.compile_module(generated, path)
    entry = Entry(generated=generated, path=path, code=code, origin=origin)
    _MEMORY[memory_key] = entry
    return entry
