"""Which generator expressions a consumer reads to the end at once (codemod/comprehensions.py), and what the
migration makes of a step called in one."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from codemod.comprehensions import eagerly_consumed
from codemod.engine import migrate_source


@pytest.mark.parametrize("call, shadowed, eager", [
    ("sum(f(x) for x in xs)", set(), True),
    ("sorted((f(x) for x in xs), key=len, reverse=True)", set(), True),
    ("max((f(x) for x in xs), default=0)", set(), True),
    ("', '.join(f(x) for x in xs)", set(), True),
    ("max((f(x) for x in xs), key=len)", set(), False),  # the key runs between the items
    ("any(f(x) for x in xs)", set(), False),  # stops at the first true item
    ("next(f(x) for x in xs)", set(), False),
    ("sum(xs)", set(), False),
    ("sum(f(x) for x in xs)", {"sum"}, False),  # the module rebinds ``sum``
])
def test_eager_consumers(call: str, shadowed: set[str], eager: bool) -> None:
    node = cst.parse_expression(call)
    assert isinstance(node, cst.Call)
    assert (eagerly_consumed(node, shadowed) is not None) is eager


PROGRAM = '''\
from dbos import DBOS

{shadow}

@DBOS.step()
def price(item: str) -> int:
    return len(item)

@DBOS.workflow()
def total(items: list[str]) -> int:
    return sum(price(item) for item in items)
'''


def test_a_step_in_an_eagerly_read_generator_becomes_a_list_comprehension() -> None:
    after = migrate_source(PROGRAM.format(shadow=""), "m.py").after or ""
    assert "return sum([await ctx.run(price, item) for item in items])" in after


def test_a_rebound_consumer_is_read_lazily() -> None:
    shadow = textwrap.dedent("""
        def sum(values):
            return 0
    """)
    after = migrate_source(PROGRAM.format(shadow=shadow), "m.py").after or ""
    assert "return sum(price(item) for item in items)" in after
    assert "TODO(dbos2resonate): D2R104 `price` is called in a generator expression that is read lazily" in after


CHILD_IN_LAZY_GENERATOR = '''\
from dbos import DBOS

@DBOS.workflow()
def in_stock(item: str) -> bool:
    return bool(item)

@DBOS.workflow()
def any_in_stock(items: list[str]) -> bool:
    return any(in_stock(item) for item in items)

async def all_in_stock(items: list[str]) -> bool:
    return all(in_stock(item) for item in items)
'''


def test_a_child_workflow_in_a_lazily_read_generator_gets_the_form_of_where_it_is() -> None:
    after = migrate_source(CHILD_IN_LAZY_GENERATOR, "m.py").after or ""
    in_workflow, in_async = (line for line in after.splitlines() if "read lazily" in line)
    assert "where `await ctx.run(in_stock, ...)` cannot go: write it as a loop" in in_workflow
    assert "resonate.run" not in in_workflow
    assert "where `await resonate.run(id, in_stock, ...).result()` cannot go: write it as a loop" in in_async
    assert "return any(in_stock(item) for item in items)" in after
