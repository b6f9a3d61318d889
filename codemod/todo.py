"""The one format of the TODO comments ``migrate`` leaves where it cannot convert faithfully.

    # TODO(dbos2resonate): D2R201 <one-line reason> See docs/rules/D2R201.md

``todo_comment`` writes it; ``TODO_PATTERN`` finds it again (``dbos2resonate check`` reports every
leftover TODO with its code). Both live here so the writer and the reader cannot drift apart.
"""

from __future__ import annotations

import re

__all__ = ["TODO_PATTERN", "TODO_TAG", "docs_path", "todo_comment"]

TODO_TAG = "TODO(dbos2resonate):"

_CODE = re.compile(r"D2R\d{3}")

# Groups: ``code`` (D2R201) and ``reason`` (the one-line text, without the docs pointer).
# The docs pointer must name the same code as the tag (``(?P=code)``).
TODO_PATTERN: re.Pattern[str] = re.compile(
    r"#\s*TODO\(dbos2resonate\):\s+(?P<code>D2R\d{3})\s+(?P<reason>.*?)\s*"
    r"See docs/rules/(?P=code)\.md"
)


def docs_path(code: str) -> str:
    """Where a rule's page lives, relative to the repository root: ``docs/rules/D2R201.md``."""
    return f"docs/rules/{code}.md"


def todo_comment(code: str, reason: str) -> str:
    """The comment text (with its leading ``#``) for ``code``; ``reason`` is folded to one line.

    The reason ends with a full stop so the docs pointer reads as its own sentence.
    """
    if not _CODE.fullmatch(code):
        raise ValueError(f"not a dbos2resonate rule code: {code!r}")
    text = " ".join(reason.split())
    if not text:
        raise ValueError("a TODO needs a reason")
    if text[-1] not in ".!?":
        text += "."
    return f"# {TODO_TAG} {code} {text} See {docs_path(code)}"
