"""What ``check`` reports: findings, files it could not read, and the totals of a run.

Everything here is plain data (frozen, slotted); the engine makes it, the formats print it. The JSON
format (``codemod.lint.formats``) is the stable, documented view of these classes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    IMPORT = "import"  # an import from dbos
    API = "api"  # a use of a DBOS name: decorator, call, attribute read, class
    TODO = "todo"  # a TODO comment that ``migrate`` left for a person


class ErrorKind(StrEnum):
    IO = "io"  # the file could not be read
    ENCODING = "encoding"  # not UTF-8 (nor its declared PEP 263 encoding)
    SYNTAX = "syntax"  # does not parse with this Python's grammar
    INTERNAL = "internal"  # the engine failed on this file: a bug to report; the other files are still checked


@dataclass(frozen=True, slots=True)
class Finding:
    """One remaining DBOS construct (or migration TODO) at a position. Lines and columns are 1-based;
    columns count characters, like ruff's."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    code: str  # D2Rnnn, a key of codemod.rules.RULES
    name: str  # the API as written in codemod.apis ("DBOS.recv"), the module for imports, "TODO" for TODOs
    kind: Kind
    message: str
    fixable: bool  # True: ``dbos2resonate migrate`` rewrites it

    @property
    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.column, self.code)


@dataclass(frozen=True, slots=True)
class FileError:
    """A file that mentions dbos but could not be checked. It makes the run exit 2."""

    path: str
    line: int
    column: int
    kind: ErrorKind
    message: str


@dataclass(slots=True)
class FileResult:
    """The outcome for one file, before ``--select``/``--ignore`` are applied."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    error: FileError | None = None
    skipped: bool = False  # no ``dbos`` text at all: never parsed
    imports_dbos: bool = False  # has at least one import from dbos (it still depends on DBOS)
    lines: int = 0
    suppressed: int = 0  # findings silenced by ``# noqa``


@dataclass(slots=True)
class CheckResult:
    """A whole run: findings sorted by path, line, column; errors sorted by path."""

    findings: list[Finding] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    files_checked: int = 0  # files read (including the skipped ones that have no dbos text)
    files_depending: int = 0  # files that still import from dbos
    lines: int = 0  # lines of the files that were parsed
    suppressed: int = 0

    @property
    def files_with_findings(self) -> int:
        return len({f.path for f in self.findings})

    @property
    def fixable(self) -> int:
        return sum(1 for f in self.findings if f.fixable)

    def by_code(self) -> Counter[str]:
        return Counter(f.code for f in self.findings)

    def by_name(self) -> Counter[tuple[str, str]]:
        """(code, API name) -> count: how many of each construct remain."""
        return Counter((f.code, f.name) for f in self.findings)
