"""D2R110 scheduled: ``@DBOS.scheduled(cron)`` needs a Resonate schedule; marked with a precise TODO."""

from __future__ import annotations

import libcst as cst

from codemod.rules.base import Example, Rule
from codemod.transform import RuleTransformer

REASON = (
    "Resonate schedules are created at run time, not by a decorator: after resonate.start() call "
    "`await resonate.schedules.create(id, cron, promise_id, ...)` with a 5-field cron (DBOS allows a leading "
    "seconds field); the workflow no longer receives (scheduled_time, actual_time)"
)


class Scheduled(RuleTransformer):
    CODE = "D2R110"
    TRIGGERS = ("scheduled",)
    DESCRIPTION = "Mark @DBOS.scheduled workflows with what their Resonate schedule needs."

    def visit_Decorator(self, node: cst.Decorator) -> None:
        expr = node.decorator.func if isinstance(node.decorator, cst.Call) else node.decorator
        if self.facts.resolve(expr) == "DBOS.scheduled":
            self.todo(self.CODE, REASON)


RULE = Rule(
    code="D2R110",
    name="scheduled",
    summary="Turn `@DBOS.scheduled(cron)` into a Resonate schedule, or a TODO",
    explanation=(
        "DBOS runs a decorated workflow on a cron (5 fields, or 6 with seconds first) and passes it the scheduled "
        "and actual fire times. Resonate schedules are created at run time with `resonate.schedules.create(...)` "
        "and accept 5-field cron; the server fires a promise (in local mode schedules never fire). Until the cron "
        "converter can prove an expression equivalent, the decorator is kept with a TODO giving the steps; the "
        "schedule management APIs (`create_schedule`, `apply_schedules`, ...) get a TODO too."
    ),
    examples=(
        Example(
            before='''
            from dbos import DBOS

            @DBOS.scheduled("0 * * * *")
            @DBOS.workflow()
            def hourly(scheduled_time, actual_time) -> None:
                pass
            ''',
            after='''
            from dbos import DBOS
            from resonate.context import Context

            # TODO(dbos2resonate): D2R103 this module registers workflows on `resonate` but does not create it: import the Resonate instance from the module that replaced DBOS(config=...). See docs/rules/D2R103.md
            # TODO(dbos2resonate): D2R110 Resonate schedules are created at run time, not by a decorator: after resonate.start() call `await resonate.schedules.create(id, cron, promise_id, ...)` with a 5-field cron (DBOS allows a leading seconds field); the workflow no longer receives (scheduled_time, actual_time). See docs/rules/D2R110.md
            @DBOS.scheduled("0 * * * *")
            @resonate.register
            async def hourly(ctx: Context, scheduled_time, actual_time) -> None:
                pass
            ''',
        ),
    ),
    transformer=Scheduled,
    todo_reason="a DBOS schedule becomes resonate.schedules.create(...) at run time",
)
