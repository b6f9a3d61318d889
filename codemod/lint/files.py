"""Which files a run reads: Python files under the given paths, less the excluded ones.

Directories are walked for ``*.py`` and ``*.pyi``; files named on the command line are read whatever their
suffix (pre-commit passes extension-less scripts too). A GLOB in ``exclude`` is matched with ``fnmatch``
against a path relative to the project root (``*`` also crosses ``/``) and against the bare file or
directory name, and applies to named files as well, so that a pre-commit run honours the project's
``exclude``. Virtual environments, caches and VCS directories are never entered.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from fnmatch import fnmatchcase
from pathlib import Path

__all__ = ["DEFAULT_EXCLUDE", "MissingPathError", "iter_python_files"]

# Directory names never walked into (ruff's defaults, less the editor ones that hold no code).
DEFAULT_EXCLUDE: frozenset[str] = frozenset(
    {
        ".bzr", ".direnv", ".eggs", ".git", ".hg", ".ipynb_checkpoints", ".mypy_cache", ".nox", ".pants.d",
        ".pyenv", ".pytest_cache", ".pytype", ".ruff_cache", ".svn", ".tox", ".venv", "__pycache__",
        "__pypackages__", "_build", "buck-out", "build", "dist", "node_modules", "site-packages", "venv",
    }
)  # fmt: skip

_SUFFIXES = (".py", ".pyi")


class MissingPathError(FileNotFoundError):
    """A path given to check does not exist."""


def _excluded(path: Path, root: Path, patterns: Sequence[str]) -> bool:
    if not patterns:
        return False
    name = path.name
    try:
        rel = path.resolve().relative_to(root).as_posix()
    except ValueError:
        rel = path.as_posix()
    return any(fnmatchcase(name, p) or fnmatchcase(rel, p) or fnmatchcase(rel, p.rstrip("/")) for p in patterns)


def iter_python_files(paths: Iterable[str | os.PathLike[str]], *, exclude: Sequence[str] = (), root: Path | None = None) -> Iterator[Path]:
    """Each file to check once, in a stable order: named files first as given, directories sorted.

    Raises ``MissingPathError`` before yielding anything if a path does not exist.
    """
    given = [Path(p) for p in paths]
    missing = [str(p) for p in given if not p.exists()]
    if missing:
        raise MissingPathError(", ".join(missing))
    root = (root or Path.cwd()).resolve()
    seen: set[Path] = set()
    for path in given:
        if _excluded(path, root, exclude):
            continue
        if not path.is_dir():
            key = path.resolve()
            if key not in seen:
                seen.add(key)
                yield path
            continue
        for dirpath, dirnames, filenames in os.walk(path):
            here = Path(dirpath)
            dirnames[:] = sorted(
                d for d in dirnames if d not in DEFAULT_EXCLUDE and not d.endswith(".egg-info")
                and not _excluded(here / d, root, exclude)
            )
            for name in sorted(filenames):
                if not name.endswith(_SUFFIXES):
                    continue
                file = here / name
                if _excluded(file, root, exclude):
                    continue
                key = file.resolve()
                if key not in seen:
                    seen.add(key)
                    yield file
