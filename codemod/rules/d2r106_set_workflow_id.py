"""D2R106 set-workflow-id: Turn `with SetWorkflowID(id):` blocks into the id argument of `resonate.run`."""

from __future__ import annotations

from codemod.rules.base import Rule

RULE = Rule(
    code='D2R106',
    name='set-workflow-id',
    summary='Turn `with SetWorkflowID(id):` blocks into the id argument of `resonate.run`',
    explanation=(
        'DBOS makes the next workflow call idempotent through a context manager; Resonate takes the id as the first argument of `resonate.run(id, fn, ...)`. A block holding exactly one workflow call is unwrapped; anything else gets a TODO.'
    ),
    fixable=True,
)
