"""What the files migrated together define: which of their top-level functions are workflows and steps.

A DBOS app often defines its steps in one module and calls them from workflows in another, and calls its
workflows from route modules that never import ``dbos``. Migrating a file alone, the codemod would leave
those calls as they are, while the functions they call become ``async def f(ctx, ...)`` in their own
module: broken calls, and steps that are no longer durable. ``scan`` reads every file once with ``ast``
(cheap next to a libcst parse) and records each module's workflows and steps, so the analysis of a file can
treat ``from .steps import fetch`` as the step it is.

    project = scan(paths)
    migrate_source(text, path, options, project)

The scan parses every file that mentions dbos; a ``ParsedTrees`` passed to it keeps those trees (up to a
budget of source text) so that migrating the same files in the same process does not parse them twice.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from codemod.analysis import FunctionFacts, defined_functions, parse_python


def module_name(path: Path) -> str:
    """``pkg.sub.mod`` for ``.../pkg/sub/mod.py`` (packages are directories with ``__init__.py``)."""
    path = path.resolve()
    parts = [] if path.stem == "__init__" else [path.stem]
    parent = path.parent
    while (parent / "__init__.py").is_file():
        parts.append(parent.name)
        parent = parent.parent
    return ".".join(reversed(parts))


@dataclass(frozen=True, slots=True)
class Project:
    # module -> its top-level workflows and steps, by name
    modules: dict[str, dict[str, FunctionFacts]] = field(default_factory=dict)
    # every workflow and step name, for the text check that decides whether a file needs parsing at all
    names: frozenset[str] = frozenset()

    def mentions(self, source: str) -> bool:
        """Whether ``source`` may import one of the project's workflows or steps."""
        if not self.names:
            return False
        return _pattern(self.names).search(source) is not None

    def imported(self, module: str, is_package: bool, imports: list[ast.ImportFrom]) -> dict[str, FunctionFacts]:
        """The project's workflows and steps bound by the module's ``from X import name`` statements, by local
        name (``module`` is the file's own dotted name; ``is_package``: the file is a package's __init__.py)."""
        found: dict[str, FunctionFacts] = {}
        for node in imports:
            source = node.module or ""
            if node.level:
                base = module.split(".") if module else []
                if not is_package:
                    base = base[:-1]
                if node.level > 1:
                    if node.level - 1 > len(base):
                        continue
                    base = base[: len(base) - (node.level - 1)]
                source = ".".join([*base, source] if source else base)
            functions = self.modules.get(source)
            if not functions:
                continue
            for alias in node.names:
                facts = functions.get(alias.name)
                if facts is not None:
                    found[alias.asname or alias.name] = facts
        return found


_PATTERNS: dict[frozenset[str], re.Pattern[str]] = {}


def _pattern(names: frozenset[str]) -> re.Pattern[str]:
    pattern = _PATTERNS.get(names)
    if pattern is None:
        pattern = _PATTERNS[names] = re.compile(r"\b(?:" + "|".join(sorted(map(re.escape, names))) + r")\b")
    return pattern


class ParsedTrees:
    """``ast`` trees the scan made, kept for the migration of the same files, within a budget of source text.

    A tree is handed out once, and only for the very text it was parsed from (a file edited since the scan
    is parsed again). The budget bounds memory: an ``ast`` tree takes some 30 times its text.
    """

    def __init__(self, budget_chars: int = 8_000_000) -> None:
        self._left = budget_chars
        self._trees: dict[str, tuple[str, ast.Module]] = {}

    def keep(self, path: str, text: str, tree: ast.Module) -> None:
        if len(text) <= self._left:
            self._left -= len(text)
            self._trees[path] = (text, tree)

    def take(self, path: str, text: str) -> ast.Module | None:
        kept = self._trees.pop(path, None)
        if kept is None:
            return None
        self._left += len(kept[0])
        return kept[1] if kept[0] == text else None


def scan(paths: Iterable[str | Path], trees: ParsedTrees | None = None) -> Project:
    """The workflows and steps defined by the files in ``paths`` (files that do not parse are skipped); ``trees``
    keeps the ``ast`` trees parsed on the way."""
    modules: dict[str, dict[str, FunctionFacts]] = {}
    names: set[str] = set()
    seen: dict[str, int] = {}
    for p in paths:
        path = Path(p)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if "dbos" not in text:
            continue
        tree = parse_python(text)
        if tree is None:
            continue
        if trees is not None:
            trees.keep(str(p), text, tree)
        functions = defined_functions(text, tree)
        if not functions:
            continue
        module = module_name(path)
        seen[module] = seen.get(module, 0) + 1
        modules[module] = functions
        names.update(functions)
    # two files that claim the same module name (scripts in different folders): nobody can import either
    for module, count in seen.items():
        if count > 1:
            del modules[module]
    return Project(modules, frozenset(names))
