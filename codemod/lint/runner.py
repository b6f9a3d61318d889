"""One run of ``check``: read each file, analyse it, apply ``--select``/``--ignore``, total up."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from codemod.lint.engine import check_source
from codemod.lint.files import iter_python_files
from codemod.lint.model import CheckResult, ErrorKind, FileError, FileResult
from codemod.lint.selection import Selection

__all__ = ["check_paths", "check_file", "display_path"]


def display_path(path: Path, cwd: Path | None = None) -> str:
    """How a path is printed: relative to the current directory when under it, always with ``/``."""
    cwd = cwd or Path.cwd()
    if path.is_absolute():
        try:
            return path.relative_to(cwd).as_posix()
        except ValueError:
            return path.as_posix()
    return path.as_posix()


def check_file(path: Path, shown: str) -> FileResult:
    """One file's result; never raises for a problem with that file, so one file cannot stop a run."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return FileResult(shown, error=FileError(shown, 1, 1, ErrorKind.IO, f"cannot read: {exc.strerror or exc}"))
    try:
        return check_source(data, shown)
    except Exception as exc:  # a bug in the engine: report it against this file and go on
        message = f"internal error, please report: {type(exc).__name__}: {exc}"
        return FileResult(shown, error=FileError(shown, 1, 1, ErrorKind.INTERNAL, message))


def check_paths(
    paths: Iterable[str | os.PathLike[str]],
    *,
    selection: Selection | None = None,
    exclude: Sequence[str] = (),
    root: Path | None = None,
) -> CheckResult:
    """Check every Python file under ``paths``. ``MissingPathError`` if one does not exist."""
    selection = selection or Selection()
    cwd = Path.cwd()
    result = CheckResult()
    for path in iter_python_files(paths, exclude=exclude, root=root):
        file = check_file(path, display_path(path, cwd))
        result.files_checked += 1
        result.lines += file.lines
        result.suppressed += file.suppressed
        if file.imports_dbos:
            result.files_depending += 1
        if file.error is not None:
            result.errors.append(file.error)
        result.findings.extend(f for f in file.findings if f.code in selection)
    result.findings.sort(key=lambda f: f.sort_key)
    result.errors.sort(key=lambda e: e.path)
    return result
