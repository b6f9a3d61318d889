"""Rule pages, generated from the registry: ``docs/rules/<CODE>.md`` (and ``docs/rules/README.md``).

    python -m codemod.docs          # rewrite docs/rules from codemod.rules
    python -m codemod.docs --check  # exit 1 if the checked-in pages are out of date

The examples on each page are the rule's tests, so the docs cannot show a rewrite the code does not do.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

from codemod.apis import APIS
from codemod.rules import RULES, Rule

DOCS_DIR = Path(__file__).resolve().parent.parent / "docs" / "rules"


def _code_block(source: str) -> str:
    return "```python\n" + textwrap.dedent(source).strip("\n") + "\n```"


def render(rule: Rule) -> str:
    lines = [f"# {rule.code} {rule.name}", "", f"{rule.summary}.", ""]
    fix = "yes: `dbos2resonate migrate` rewrites it" if rule.fixable else (
        "no: a person decides; `dbos2resonate migrate` leaves a coded TODO at each use"
    )
    lines += [f"- Fixable: {fix}", f"- Targets: {', '.join(t.value for t in rule.targets)}", ""]
    lines += ["## What it does", "", rule.explanation.strip(), ""]
    apis = [a for a in APIS if a.code == rule.code]
    if apis:
        # names only: the shim's support status lives in the ledger, which changes on its own schedule
        lines += ["## DBOS APIs", "", ", ".join(f"`{a.name}`" for a in apis)]
        lines += [""]
    if rule.todo_reason:
        lines += ["## When it leaves a TODO", "", f"`# TODO(dbos2resonate): {rule.code} ...`: {rule.todo_reason}.", ""]
    for i, ex in enumerate(rule.examples, 1):
        title = ex.title or f"Example {i}"
        lines += [f"## {title}", ""]
        if ex.target.value != "native":
            lines += [f"With `--to {ex.target.value}`.", ""]
        lines += ["Before:", "", _code_block(ex.before), "", "After:", "", _code_block(ex.after), ""]
    return "\n".join(lines).rstrip() + "\n"


def render_index() -> str:
    lines = ["# Rules", "", "Generated from `codemod/rules` by `python -m codemod.docs`; do not edit by hand.", "",
             "| Code | Name | Fixable | Summary |", "| --- | --- | --- | --- |"]
    for rule in RULES.values():
        lines.append(f"| [{rule.code}]({rule.code}.md) | {rule.name} | {'yes' if rule.fixable else 'no'} | "
                     f"{rule.summary} |")
    return "\n".join(lines) + "\n"


def pages() -> dict[str, str]:
    out = {f"{code}.md": render(rule) for code, rule in RULES.items()}
    out["README.md"] = render_index()
    return out


def stale(directory: Path = DOCS_DIR) -> list[str]:
    """Pages whose checked-in text differs from what the registry renders."""
    return [
        name for name, text in pages().items()
        if not (directory / name).exists() or (directory / name).read_text(encoding="utf-8") != text
    ]


def write(directory: Path = DOCS_DIR) -> list[str]:
    directory.mkdir(parents=True, exist_ok=True)
    changed = stale(directory)
    for name, text in pages().items():
        if name in changed:
            (directory / name).write_text(text, encoding="utf-8")
    return changed


if __name__ == "__main__":
    if "--check" in sys.argv[1:]:
        out_of_date = stale()
        for name in out_of_date:
            print(f"out of date: docs/rules/{name}")
        sys.exit(1 if out_of_date else 0)
    for name in write():
        print(f"wrote docs/rules/{name}")
