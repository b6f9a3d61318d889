"""Leave out of the libcst parse the top-level blocks no rule can act on, and put their text back afterwards.

libcst's parse and print are most of a migration's cost, and in a typical module most top-level functions and
classes never mention DBOS. The ``ast`` analysis already knows which statements are relevant, before libcst
parses anything. Each irrelevant top-level compound statement (a ``def``, a ``class``, an ``if`` block...) is
swapped for a one-line placeholder name, the smaller text is parsed, rewritten and printed, and every
placeholder line is then replaced by the statement's original lines, byte for byte.

Only the statement's own lines are swapped: the comments and blank lines between statements stay in the
parsed text, where libcst gives them to the same statements as before. A statement is left in place when the
swap could change what libcst sees around it: another statement on one of its lines, or an indented comment
or whitespace-only line after it (libcst would keep those in the block's footer). Everything else about the
output is unchanged; tests/codemod/test_elide.py migrates every fixture, rule example and generated program
both ways and compares.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from codemod.analysis import Relevance, first_line

_COMPOUND = (
    ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.For, ast.AsyncFor, ast.While,
    ast.With, ast.AsyncWith, ast.Try, ast.TryStar, ast.Match,
)
_GAP_LINE = re.compile(r"(?:#[^\n]*)?\r?\n?")  # between elided statements: blank, or a comment at column 0
_MIN_LINES = 3  # shorter blocks cost less to parse than their bookkeeping saves


@dataclass(frozen=True, slots=True)
class Elided:
    text: str  # the source with each elided statement's lines replaced by its placeholder line
    names: frozenset[str]  # the placeholders' names
    originals: dict[str, str]  # placeholder line (no line ending) -> the lines it stands for

    def restore(self, printed: str) -> str | None:
        """``printed`` (the rewritten ``text``) with the original lines back; None if a placeholder line is not
        there exactly once, as it was given (then the caller migrates the whole text instead)."""
        found: set[str] = set()
        out: list[str] = []
        for line in printed.splitlines(keepends=True):
            placeholder = line.rstrip("\r\n")
            original = self.originals.get(placeholder)
            if original is None:
                if any(name in line for name in self.names):
                    return None  # a rule moved or changed a placeholder
                out.append(line)
                continue
            if placeholder in found or line[len(placeholder):] != _ending(original):
                return None
            found.add(placeholder)
            out.append(original)
        return "".join(out) if len(found) == len(self.originals) else None


def _ending(text: str) -> str:
    return "\r\n" if text.endswith("\r\n") else "\n" if text.endswith("\n") else ""


def elide(source: str, tree: ast.Module, relevance: Relevance) -> Elided | None:
    """``source`` with its irrelevant top-level blocks left out, or None when there are none to leave out."""
    if "\r" in source.replace("\r\n", ""):
        return None  # a lone carriage return ends a line for Python but not for the line count used here
    starts = [0, *(m.end() for m in re.finditer("\n", source))]
    if starts[-1] != len(source):
        starts.append(len(source))  # the last line has no newline
    lines = len(starts) - 1

    def line_text(first: int, last: int) -> str:
        return source[starts[first - 1]:starts[last]]

    body = tree.body
    chosen: list[tuple[ast.stmt, int, int]] = []
    for i, stmt in enumerate(body):
        if not isinstance(stmt, _COMPOUND):
            continue
        first = first_line(stmt)
        last = stmt.end_lineno or stmt.lineno
        if last - first + 1 < _MIN_LINES or relevance.mentions(first, last):
            continue
        if i > 0 and (body[i - 1].end_lineno or body[i - 1].lineno) >= first:
            continue  # shares its first line with the statement before
        next_first = first_line(body[i + 1]) if i + 1 < len(body) else lines + 1
        if next_first <= last:
            continue  # shares its last line with the statement after
        if not all(_GAP_LINE.fullmatch(line_text(n, n)) for n in range(last + 1, next_first)):
            continue
        chosen.append((stmt, first, last))
    if not chosen:
        return None
    token = _unused_token(source)
    names: list[str] = []
    originals: dict[str, str] = {}
    pieces: list[str] = []
    position = 1  # the next line of the source not yet copied
    for n, (stmt, first, last) in enumerate(chosen):
        original = line_text(first, last)
        name = f"_{token}_{n}"
        placeholder = _placeholder(stmt, name)
        names.append(name)
        originals[placeholder] = original
        pieces.append(line_text(position, first - 1))
        pieces.append(placeholder + _ending(original))
        position = last + 1
    pieces.append(source[starts[position - 1]:])
    return Elided("".join(pieces), frozenset(names), originals)


def _placeholder(stmt: ast.stmt, name: str) -> str:
    """A line that parses as the same kind of definition, so that rules placing code before the first ``def`` or
    ``class`` (or after a given one) see the module's definitions where they are."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return f"def {name}(): pass"
    if isinstance(stmt, ast.ClassDef):
        return f"class {name}: pass"
    return name


def _unused_token(source: str) -> str:
    token = "d2r_elided"
    while token in source:
        token += "_"
    return token
