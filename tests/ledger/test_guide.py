"""docs/guide.md quotes the fixtures as they are (tests/ledger/guide.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ledger.guide import GUIDE, ROOT, extract, render, snippets

TEXT = GUIDE.read_text(encoding="utf-8")


def test_guide_code_blocks_equal_the_fixtures() -> None:
    assert render(TEXT) == TEXT, "run: python -m tests.ledger.guide --write"


@pytest.mark.parametrize("path,names", snippets(TEXT), ids=lambda v: v if isinstance(v, str) else " ".join(v))
def test_every_snippet_names_code_that_exists(path: str, names: list[str]) -> None:
    assert (ROOT / path).is_file()
    assert extract(path, names)


def test_guide_follows_the_seed_sections() -> None:
    """The sections of Resonate's "Coming from DBOS" page, in its order."""
    seed = ["Durability", "Programming model", "Composing and recursing", "Zero-dependency development",
            "Fan-out / fan-in", "Durable sleep and scheduled work", "Human-in-the-loop", "Saga / compensation",
            "Distributed execution", "Where DBOS and Resonate differ"]
    headings = [line.removeprefix("## ") for line in TEXT.splitlines() if line.startswith("## ")]
    assert headings == seed


def test_every_relative_link_resolves() -> None:
    import re

    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", TEXT):
        assert (GUIDE.parent / target).exists(), target


def test_before_blocks_come_from_tested_programs() -> None:
    for path, _ in snippets(TEXT):
        assert path.startswith(("fixtures/programs/", "fixtures/migrated/")), path
        assert Path(ROOT / "fixtures" / "traces" / (Path(path).stem + ".json")).is_file(), path
