"""The errors srcgrad raises at its users.

Every error a user can cause is a `SrcgradError`. Errors about the user's
code carry a `Location` (file, line, the line's text) and say what to do.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Location:
    """A line of a source file, as shown in error messages."""

    file: str
    line: int
    text: str = ""

    def __str__(self):
        return f"{self.file}:{self.line}"


class SrcgradError(Exception):
    """Base class of every error srcgrad raises about its input."""

    def __init__(self, message, location=None, hint=None):
        self.message = message
        self.location = location
        self.hint = hint
        super().__init__(self._render())

    def _render(self):
        text = self.message
        if self.location is not None:
            text = f"{self.location}: {text}"
            if self.location.text:
                text += "\n    " + self.location.text.strip()
        if self.hint:
            text += "\n" + self.hint
        return text


class SourceUnavailableError(SrcgradError):
    """The function's source code cannot be read (exec, REPL, C code)."""


class UnsupportedSyntaxError(SrcgradError):
    """The function uses a construct srcgrad does not differentiate."""


class NoRuleError(SrcgradError):
    """A differentiable value flows into a callable with no derivative rule."""


class ArgnumsError(SrcgradError):
    """`argnums` is out of range or points at a non-float argument."""


class NonScalarOutputError(SrcgradError):
    """`grad` of a function whose output is not a scalar."""


class ShapeMismatchError(SrcgradError):
    """A cotangent or tangent does not match its primal's structure, shape or dtype."""


class TemplateError(SrcgradError):
    """A derivative rule (template) is malformed; names the template's file and line."""


class CacheError(SrcgradError):
    """The on-disk cache cannot be used (reported only when asked for)."""
