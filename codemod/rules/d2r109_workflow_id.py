"""D2R109 workflow-id: Replace `DBOS.workflow_id` with `ctx.info.id` inside workflows."""

from __future__ import annotations

from codemod.rules.base import Rule

RULE = Rule(
    code='D2R109',
    name='workflow-id',
    summary='Replace `DBOS.workflow_id` with `ctx.info.id` inside workflows',
    explanation=(
        "The current durable id is `ctx.info.id` in resonate-sdk 0.8. Resonate's ids are hierarchical (`root.1.2`), not DBOS's `{parent}-{n}`, and steps have no separate step id; `DBOS.step_id` and `DBOS.step_status` get a TODO."
    ),
    fixable=True,
)
