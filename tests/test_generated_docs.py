"""Pages generated from the registries must match what is checked in."""

from __future__ import annotations

from pathlib import Path

from codemod.ledger import render_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_compatibility_ledger_is_up_to_date() -> None:
    page = (ROOT / "docs" / "compatibility.md").read_text(encoding="utf-8")
    assert page == render_markdown(), "run: python -m codemod.ledger > docs/compatibility.md"
