"""D2R207 timeouts: `SetWorkflowTimeout` maps to `timeout=` options with different semantics."""

from __future__ import annotations

from codemod.rules.base import Rule

RULE = Rule(
    code='D2R207',
    name='timeouts',
    summary='`SetWorkflowTimeout` maps to `timeout=` options with different semantics',
    explanation=(
        "Resonate's `options(timeout=...)` times out the promise; DBOS cancels the workflow and its children. Each use needs a person."
    ),
    todo_reason="Resonate's options(timeout=...) times out the promise; DBOS cancels the workflow and its children",
    fixable=False,
)
