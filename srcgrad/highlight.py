"""Terminal colours for Python source, with the standard library's tokenizer."""

from __future__ import annotations

import io
import keyword
import tokenize

_RESET = "\033[0m"
_STYLE = {
    "keyword": "\033[35m",     # magenta
    "comment": "\033[2;37m",   # dim
    "string": "\033[32m",      # green
    "number": "\033[36m",      # cyan
    "def": "\033[1;34m",       # bold blue: the function's name
}


def _kind(tok, previous):
    if tok.type == tokenize.COMMENT:
        return "comment"
    if tok.type == tokenize.STRING:
        return "string"
    if tok.type == tokenize.NUMBER:
        return "number"
    if tok.type == tokenize.NAME:
        if keyword.iskeyword(tok.string):
            return "keyword"
        if previous is not None and previous.string == "def":
            return "def"
    return None


def highlight(text):
    """`text` with ANSI colour codes; returned unchanged if it does not tokenize."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return text
    lines = text.splitlines(True)
    out = []
    row, col = 1, 0
    previous = None
    for tok in tokens:
        kind = _kind(tok, previous)
        if tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            previous = tok
        if kind is None:
            continue
        (srow, scol), (erow, ecol) = tok.start, tok.end
        out.append(_span(lines, (row, col), (srow, scol)))
        out.append(_STYLE[kind] + tok.string + _RESET)
        row, col = erow, ecol
    out.append(_span(lines, (row, col), (len(lines) + 1, 0)))
    return "".join(out)


def _span(lines, start, end):
    (srow, scol), (erow, ecol) = start, end
    if srow == erow:
        return lines[srow - 1][scol:ecol] if srow - 1 < len(lines) else ""
    parts = [lines[srow - 1][scol:]] if srow - 1 < len(lines) else []
    parts += lines[srow:erow - 1]
    if erow - 1 < len(lines):
        parts.append(lines[erow - 1][:ecol])
    return "".join(parts)
