from __future__ import annotations

import re

import pytest

from codemod.apis import APIS
from codemod.rules import RULES, Rule, get
from codemod.todo import TODO_PATTERN, todo_comment


def test_every_api_code_has_a_rule() -> None:
    assert {api.code for api in APIS} <= set(RULES)


@pytest.mark.parametrize("rule", RULES.values(), ids=list(RULES))
def test_rule_is_described(rule: Rule) -> None:
    assert re.fullmatch(r"D2R[12]\d\d", rule.code)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.name)
    assert rule.summary and "\n" not in rule.summary and not rule.summary.endswith(".")
    assert rule.explanation
    if rule.needs_person:
        assert not rule.fixable and rule.transformer is None
    if rule.fixable:
        assert rule.transformer is not None


def test_get_is_case_insensitive_and_names_known_codes() -> None:
    assert get("d2r101") is RULES["D2R101"]
    with pytest.raises(KeyError, match="D2R101"):
        get("D2R999")


def test_todo_comment_format_round_trips() -> None:
    text = todo_comment("D2R201", "a transaction has no\nResonate counterpart")
    assert text == (
        "# TODO(dbos2resonate): D2R201 a transaction has no Resonate counterpart."
        " See docs/rules/D2R201.md"
    )
    m = TODO_PATTERN.search("    x = 1  " + text)
    assert m and m["code"] == "D2R201" and m["reason"] == "a transaction has no Resonate counterpart."


def test_todo_pattern_requires_matching_docs_code() -> None:
    assert not TODO_PATTERN.search("# TODO(dbos2resonate): D2R201 x. See docs/rules/D2R202.md")


def test_todo_comment_rejects_bad_codes() -> None:
    with pytest.raises(ValueError):
        todo_comment("BP001", "x")
