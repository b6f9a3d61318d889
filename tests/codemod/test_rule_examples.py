"""Every example in the rule registry is a test: ``before`` migrates to exactly ``after``, and ``after`` is
left unchanged by a second run. The same examples are the rule docs (checked below to be up to date)."""

from __future__ import annotations

import pytest
from libcst.codemod import CodemodTest

from codemod import docs
from codemod.pipeline import Migrate
from codemod.rules import RULES, Example


class _Case(CodemodTest):
    TRANSFORM = Migrate

    def runTest(self) -> None:  # noqa: N802 (unittest API)
        pass


EXAMPLES = [(code, i, ex) for code, rule in RULES.items() for i, ex in enumerate(rule.examples, 1)]


@pytest.mark.parametrize(("code", "i", "example"), EXAMPLES, ids=[f"{c}-{i}" for c, i, _ in EXAMPLES])
def test_example(code: str, i: int, example: Example) -> None:
    _Case().assertCodemod(example.before, example.after, target=example.target)


@pytest.mark.parametrize(("code", "i", "example"), EXAMPLES, ids=[f"{c}-{i}" for c, i, _ in EXAMPLES])
def test_example_output_is_a_fixed_point(code: str, i: int, example: Example) -> None:
    _Case().assertCodemod(example.after, example.after, target=example.target)


def test_every_rule_with_a_transformer_has_an_example() -> None:
    assert [c for c, r in RULES.items() if r.transformer is not None and not r.examples] == []


def test_docs_are_up_to_date() -> None:
    assert docs.stale() == [], "run: python -m codemod.docs"
