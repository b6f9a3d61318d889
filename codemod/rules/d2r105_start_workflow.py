"""D2R105 start-workflow: Turn `DBOS.start_workflow(fn, ...)` into a `ctx.run` future inside workflows or `resonate.run(id, fn, ...)` outside."""

from __future__ import annotations

from codemod.rules.base import Rule

RULE = Rule(
    code='D2R105',
    name='start-workflow',
    summary='Turn `DBOS.start_workflow(fn, ...)` into a `ctx.run` future inside workflows or `resonate.run(id, fn, ...)` outside',
    explanation=(
        'Inside a workflow, starting a child workflow is `ctx.run(fn, ...)` without `await`: the future is awaited where DBOS called `handle.get_result()`. Outside a workflow, `resonate.run(id, fn, ...)` needs an id (DBOS generates one); where no `SetWorkflowID` supplies it, a TODO asks for one. Handles are different objects: `get_result()` becomes `await handle.result()`.'
    ),
    fixable=True,
)
