"""Keep the code in docs/guide.md equal to the fixtures it quotes.

The guide's prose is written by hand; its code is not. Each code block follows a marker naming a file
and the top-level definitions to show, in order:

    <!-- snippet fixtures/programs/recursion.py: factorial -->
    ```python
    (generated: the decorators, comments right above, and body of ``factorial``)
    ```

A name is a function or class, or the target of an assignment (``config``); ``imports`` means the
file's top-level imports; ``call:DBOS`` the top-level statement calling ``DBOS(...)``. A marker
``<!-- snippet PATH --to shim: NAMES -->`` quotes what ``dbos2resonate migrate --to shim`` makes of
the file instead of the file itself.

    python -m tests.ledger.guide            # exit 1 if a block is stale
    python -m tests.ledger.guide --write    # rewrite the blocks

tests/ledger/test_guide.py fails when a block differs from its fixture, so a fixture change (say, a
codemod rule that now writes different code into fixtures/migrated) shows up in the guide.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "guide.md"
MARKER = re.compile(
    r"(?P<marker><!-- snippet (?P<path>[^\s:]+)(?P<shim> --to shim)?: (?P<names>[^>]+?) -->\n)"
    r"```python\n(?P<code>.*?)```",
    re.DOTALL,
)


class SnippetError(LookupError):
    pass


def _matches(node: ast.stmt, name: str) -> bool:
    if name == "imports":
        return isinstance(node, (ast.Import, ast.ImportFrom))
    if name.startswith("call:"):
        called = name.removeprefix("call:")
        return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Name) and node.value.func.id == called)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return node.name == name
    if isinstance(node, ast.Assign):
        return any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
    if isinstance(node, ast.AnnAssign):
        return isinstance(node.target, ast.Name) and node.target.id == name
    return False


def _first_line(node: ast.stmt, lines: list[str]) -> int:
    """0-based first line of a statement, with its decorators and the comments right above it."""
    start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
    while start > 0 and lines[start - 1].lstrip().startswith("#"):
        start -= 1
    return start


def shim_form(source: str, path: str) -> str:
    """What ``dbos2resonate migrate --to shim`` makes of a file."""
    from codemod.engine import Options, migrate_source
    from codemod.rules.base import Target

    result = migrate_source(source, path, Options(target=Target.SHIM))
    if result.error:
        raise SnippetError(f"{path}: {result.error}")
    return result.after if result.changed and result.after is not None else source


def extract(path: str, names: list[str], *, to_shim: bool = False) -> str:
    source = (ROOT / path).read_text(encoding="utf-8")
    if to_shim:
        source = shim_form(source, path)
    lines = source.splitlines()
    tree = ast.parse(source)
    parts: list[str] = []
    for name in names:
        found = [node for node in tree.body if _matches(node, name)]
        if not found:
            raise SnippetError(f"{path} has no top-level {name!r}")
        if name == "imports":  # the lines from the first import to the last, blank lines kept
            parts.append("\n".join(lines[found[0].lineno - 1:found[-1].end_lineno]))
            continue
        node = found[0]
        assert node.end_lineno is not None
        parts.append("\n".join(lines[_first_line(node, lines):node.end_lineno]))
    joiner = "\n\n\n" if any(p.lstrip().startswith(("def ", "async def ", "class ", "@")) for p in parts) else "\n\n"
    return joiner.join(parts) + "\n"


def render(text: str) -> str:
    def block(match: re.Match[str]) -> str:
        names = match["names"].split()
        code = extract(match["path"], names, to_shim=bool(match["shim"]))
        return f"{match['marker']}```python\n{code}```"

    return MARKER.sub(block, text)


def snippets(text: str) -> list[tuple[str, list[str]]]:
    return [(m["path"], m["names"].split()) for m in MARKER.finditer(text)]


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.ledger.guide")
    parser.add_argument("--write", action="store_true", help="rewrite the code blocks of docs/guide.md")
    args = parser.parse_args(argv)
    text = GUIDE.read_text(encoding="utf-8")
    fresh = render(text)
    if args.write:
        GUIDE.write_text(fresh, encoding="utf-8")
        return 0
    if fresh != text:
        print("docs/guide.md is stale: run python -m tests.ledger.guide --write", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_main())
