"""Where generated code lives on disk, and when it may be reused.

A generated module is a real `.py` file under the cache directory
(`SRCGRAD_CACHE_DIR`, else `$XDG_CACHE_HOME/srcgrad`, else `~/.cache/srcgrad`),
named after the module, function and options so a person can find it:

    model.loss.dloss_dW.3f2a9c1b0d4e.py

Its last line is a stamp: the key it was built for (a hash of the function's
source, what its names denote, the options, the rules and srcgrad's own code)
and a hash of the text above. A file whose stamp does not match is ignored
and rebuilt, never executed. Files are written atomically (a temporary file
in the same folder, then `os.replace`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import pathlib
import re
import tempfile
import types

from . import __version__

_STAMP = "# srcgrad-stamp: "


def cache_dir():
    env = os.environ.get("SRCGRAD_CACHE_DIR")
    if env:
        return pathlib.Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return pathlib.Path(base) / "srcgrad"


def _describe(obj):
    """What a global name denotes, as far as generated code depends on it."""
    if isinstance(obj, types.ModuleType):
        return "module:" + obj.__name__
    if callable(obj):
        module = getattr(obj, "__module__", None) or type(obj).__module__
        qualname = getattr(obj, "__qualname__", None) or type(obj).__qualname__
        return f"callable:{module}.{qualname}"
    return "value"


def _code_names(code):
    names = set(code.co_names) | set(code.co_freevars)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names


def resolution(fun, scope):
    """{name: description} for every global or closure name the function's code mentions."""
    from .parse import MISSING
    found = {}
    for name in sorted(_code_names(fun.__code__)):
        value = scope.lookup(name)
        if value is not MISSING:
            found[name] = _describe(value)
    return found


@functools.cache
def compiler_digest():
    """A hash of srcgrad's own code: a changed compiler never reuses old files."""
    h = hashlib.sha256(__version__.encode())
    for path in sorted(pathlib.Path(__file__).parent.glob("*.py")):
        h.update(path.read_bytes())
    return h.hexdigest()


def key(source_text, file, qualname, options, resolved, rules_digest):
    h = hashlib.sha256()
    for part in (compiler_digest(), rules_digest, file, qualname, source_text,
                 json.dumps(options, sort_keys=True, default=repr),
                 json.dumps(resolved, sort_keys=True)):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


def file_name(module, qualname, function, key_hex):
    def clean(text):
        return re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_") or "x"
    return f"{clean(module)}.{clean(qualname)}.{clean(function)}.{key_hex[:12]}.py"


def _digest(text):
    return hashlib.sha256(text.encode()).hexdigest()


def read(path, key_hex):
    """(source, meta) of a valid cached file built for `key_hex`, else None."""
    try:
        text = pathlib.Path(path).read_text()
    except (OSError, UnicodeDecodeError):
        return None
    body, sep, last = text.rstrip("\n").rpartition("\n")
    if not sep or not last.startswith(_STAMP):
        return None
    try:
        stamp = json.loads(last[len(_STAMP):])
        if stamp["key"] != key_hex or stamp["digest"] != _digest(body + "\n"):
            return None
        return body + "\n", stamp["meta"]
    except (ValueError, KeyError, TypeError):
        return None


def write(path, source, key_hex, meta):
    """Write atomically; returns False (and leaves no file) when the folder is not writable."""
    path = pathlib.Path(path)
    stamp = json.dumps({"key": key_hex, "digest": _digest(source), "meta": meta},
                       sort_keys=True)
    text = source + _STAMP + stamp + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".py")
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, path)
        return True
    except OSError:
        try:
            os.unlink(tmp)
        except (OSError, UnboundLocalError):
            pass
        return False
