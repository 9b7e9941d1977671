"""The `srcgrad` command (also `python -m srcgrad`).

    srcgrad show model.py:loss --argnums 0,1 [--mode reverse|forward]
                 [--stage parsed|normalized|raw|optimized]

prints the generated derivative source, highlighted on a terminal and plain
when piped (or with NO_COLOR set, or --color never).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import pathlib
import sys

from . import __version__
from .api import source
from .compiler import MODES, STAGES
from .errors import SrcgradError
from .highlight import highlight


class UsageError(Exception):
    pass


def load_function(target):
    """`path/to/file.py:name` (or `file.py:Class.method`) -> the function object."""
    path_text, sep, qualname = target.rpartition(":")
    if not sep or not path_text or not qualname:
        raise UsageError(f"expected FILE.py:FUNCTION, got {target!r}")
    path = pathlib.Path(path_text)
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    module_name = path.stem
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.resolve().parent))
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    obj = module
    for part in qualname.split("."):
        if not hasattr(obj, part):
            raise UsageError(f"{path} has no function {qualname!r}")
        obj = getattr(obj, part)
    return getattr(obj, "__wrapped__", obj)


def parse_argnums(text):
    try:
        nums = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise UsageError(f"--argnums takes integers separated by commas, got {text!r}") from None
    if not nums:
        raise UsageError("--argnums is empty")
    return nums[0] if len(nums) == 1 else nums


def _use_color(choice, stream):
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    return stream.isatty()


def build_parser():
    parser = argparse.ArgumentParser(
        prog="srcgrad", description="Source-to-source automatic differentiation for NumPy.")
    parser.add_argument("--version", action="version", version=f"srcgrad {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    show = commands.add_parser("show", help="print the generated derivative of a function")
    show.add_argument("target", metavar="FILE.py:FUNC")
    show.add_argument("--argnums", default="0", help="argument positions, e.g. 0 or 0,1")
    show.add_argument("--stage", choices=STAGES, default="optimized",
                      help="print the source after this stage (default: optimized)")
    show.add_argument("--mode", choices=MODES, default="reverse",
                      help="reverse (the gradient, default) or forward (the Jacobian-vector "
                           "product)")
    show.add_argument("--has-aux", action="store_true",
                      help="the function returns (value, aux); differentiate the value")
    show.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        fun = load_function(args.target)
        text = source(fun, argnums=parse_argnums(args.argnums), mode=args.mode,
                      has_aux=args.has_aux, stage=args.stage)
    except UsageError as err:
        print(f"srcgrad: {err}", file=sys.stderr)
        return 2
    except SrcgradError as err:
        print(f"srcgrad: {err}", file=sys.stderr)
        return 1
    if _use_color(args.color, sys.stdout):
        text = highlight(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
