"""Leaving irrelevant blocks out of the parse (codemod.elide) never changes what migrate writes.

Every fixture program, every rule example and generated programs are migrated twice, with and without
elision, and the results must be equal. The unit tests pin down which blocks are left out and that a
placeholder a rule moved or duplicated makes the engine migrate the whole text instead.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codemod.analysis import analyse_source
from codemod.elide import Elided, elide
from codemod.engine import FileResult, Options, migrate_source
from codemod.rules import RULES, Target
from tests.codemod.test_fuzz import FUZZ, dbos_programs

PROGRAMS = Path(__file__).resolve().parents[2] / "fixtures" / "programs"


def _observable(result: FileResult) -> tuple:
    return result.changed, result.after, result.rules, result.todos, result.error, result.skipped


def assert_same_both_ways(source: str, target: Target = Target.NATIVE) -> FileResult:
    options = Options(target=target)
    elided = migrate_source(source, "app.py", options)
    whole = migrate_source(source, "app.py", options, elision=False)
    assert _observable(elided) == _observable(whole), (elided.after, whole.after)
    return elided


def _elided(source: str) -> Elided | None:
    analysis = analyse_source(source)
    assert analysis is not None and analysis.relevance is not None
    return elide(source, analysis.tree, analysis.relevance)


# ── the output is the same ────────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize("target", list(Target))
@pytest.mark.parametrize("name", sorted(p.stem for p in PROGRAMS.glob("*.py") if not p.name.startswith("_")))
def test_fixture_programs_migrate_the_same_both_ways(name: str, target: Target) -> None:
    assert_same_both_ways((PROGRAMS / f"{name}.py").read_text(encoding="utf-8"), target)


EXAMPLES = [(code, i, ex) for code, rule in RULES.items() for i, ex in enumerate(rule.examples, 1)]


@pytest.mark.parametrize(("code", "i", "example"), EXAMPLES, ids=[f"{c}-{i}" for c, i, _ in EXAMPLES])
def test_rule_examples_migrate_the_same_both_ways(code: str, i: int, example) -> None:  # type: ignore[no-untyped-def]
    assert_same_both_ways(example.before, example.target)


HEADERS = st.sampled_from([
    "def f{n}(a):", "async def f{n}(a):", "@functools.cache\ndef f{n}(a):", "@functools.cache  # why\n# between\nclass C{n}:",
    "class C{n}(Base):", "if flag:", "for i in range(2):", "while flag:", "with open(p) as fh:", "try:",
])
BODY = st.sampled_from([
    "x = 1", "return a", "pass", "y = (1,\n         2)", "s = \"\"\"text\n  more\n\"\"\"", "z = 1 + \\\n    2",
    "# a comment", "        # deeper comment", "", "    ", "x = 1  # trailing", "if a:\n        b = 1", "c = 1; d = 2",
])
GAPS = st.sampled_from(["", "\n", "\n\n", "# col-0 comment\n", "    # indented comment\n", "   \n", "\n# c\n\n"])


@st.composite
def unrelated_blocks(draw: st.DrawFn) -> str:
    n = draw(st.integers(0, 999))
    header = draw(HEADERS).format(n=n)
    lines = [header, *("    " + line if line.strip() else line for line in draw(st.lists(BODY, min_size=1, max_size=5)))]
    if not any(line.strip() and not line.strip().startswith("#") for line in lines[1:]):
        lines.append("    pass")
    if header == "try:":
        lines.append("except OSError:\n    pass")
    return "\n".join(lines) + "\n" + draw(GAPS)


@st.composite
def programs_with_unrelated_blocks(draw: st.DrawFn) -> str:
    program = draw(dbos_programs()).split("\n\n")
    for _ in range(draw(st.integers(1, 4))):
        program.insert(draw(st.integers(1, len(program))), draw(unrelated_blocks()))
    text = "import functools\n\n" + "\n\n".join(program)
    return text.replace("\n", "\r\n") if draw(st.booleans()) else text


@FUZZ
@given(programs_with_unrelated_blocks())
def test_generated_programs_migrate_the_same_both_ways(source: str) -> None:
    result = assert_same_both_ways(source)
    assert result.error is None, result.error


@FUZZ
@given(programs_with_unrelated_blocks())
def test_generated_programs_migrate_the_same_both_ways_to_the_shim(source: str) -> None:
    assert_same_both_ways(source, Target.SHIM)


# ── what is left out ──────────────────────────────────────────────────────────────────────────────────

APP = '''\
"""An app."""
from dbos import DBOS


def unrelated(a):
    b = a + 1
    return b


@DBOS.step()
def fetch():
    return 1
'''


def test_a_block_without_dbos_is_left_out_and_comes_back_byte_for_byte() -> None:
    elided = _elided(APP)
    assert elided is not None
    assert "def unrelated" not in elided.text and "@DBOS.step()" in elided.text
    assert list(elided.originals.values()) == ["def unrelated(a):\n    b = a + 1\n    return b\n"]
    assert elided.restore(elided.text) == APP


@pytest.mark.parametrize("after", [
    "    # an indented comment libcst keeps in the block's footer\n",
    "    \n",  # whitespace-only: attributed by indentation too
])
def test_a_block_followed_by_indented_lines_stays(after: str) -> None:
    assert _elided(APP.replace("    return b\n", "    return b\n" + after)) is None


def test_a_lone_carriage_return_disables_elision() -> None:
    assert _elided(APP.replace("b = a + 1\n", "b = a + 1\r")) is None


def test_a_moved_or_repeated_placeholder_is_refused() -> None:
    elided = _elided(APP)
    assert elided is not None
    (line,) = elided.originals
    assert elided.restore(elided.text.replace(line, f"{line}\n{line}")) is None
    assert elided.restore(elided.text.replace(line, f"    {line}")) is None
    assert elided.restore(elided.text.replace(line + "\n", "")) is None


def test_the_engine_migrates_the_whole_text_when_restoring_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = migrate_source(APP, "app.py", elision=False)
    monkeypatch.setattr(Elided, "restore", lambda self, printed: None)
    assert _observable(migrate_source(APP, "app.py")) == _observable(expected)
    assert ast.parse(expected.after or "")
