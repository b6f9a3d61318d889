"""``dbos2resonate check``: find every DBOS construct and migration TODO left in a tree, fast.

    from codemod.lint import check_paths, Selection
    result = check_paths(["src"], selection=Selection.of(["D2R2"], None))

``engine`` analyses one file (``ast`` + ``tokenize``, never libcst), ``files`` walks paths, ``formats`` prints
a result as text, JSON, GitHub workflow commands or SARIF. The CLI (``cli/check.py``) only wires them up.
"""

from __future__ import annotations

from codemod.lint.engine import check_source
from codemod.lint.model import CheckResult, ErrorKind, FileError, FileResult, Finding, Kind
from codemod.lint.runner import check_paths
from codemod.lint.selection import Selection, SelectorError

__all__ = [
    "CheckResult",
    "ErrorKind",
    "FileError",
    "FileResult",
    "Finding",
    "Kind",
    "Selection",
    "SelectorError",
    "check_paths",
    "check_source",
]
