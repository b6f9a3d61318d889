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


def cron_verdict(expression: str) -> tuple[str, str]:
    """(code, reason) for a DBOS cron literal, from the shim's converter (imported only when needed)."""
    try:
        from shim import cron
    except ImportError:  # the converter is optional for the codemod
        return "D2R110", REASON
    try:
        conversion = cron.to_resonate(expression)
    except cron.CronError as exc:
        return "D2R208", f"DBOS would reject the cron {expression!r}: {exc}"
    if isinstance(conversion, cron.NotExpressible):
        return "D2R208", f"the cron {expression!r} has no 5-field Resonate form: {conversion.reason}"
    if isinstance(conversion, cron.ExactWithOffset):
        return "D2R110", (
            f"{REASON}. Resonate cron: {conversion.cron!r}; DBOS fired {conversion.offset_seconds} s after "
            "each of its ticks (its seconds field), Resonate fires on the minute"
        )
    return "D2R110", f"{REASON}. Resonate cron: {conversion.cron!r} (fires at the same times)"


SCHEDULE_CALLS = frozenset({"DBOS.create_schedule", "DBOS.create_schedule_async"})
UTC_NAMES = frozenset({"UTC", "Etc/UTC"})
CREATE = "a DBOS schedule becomes resonate.schedules.create(...) at run time"


def _keyword(call: cst.Call, name: str) -> cst.BaseExpression | None:
    return next((arg.value for arg in call.args if arg.keyword is not None and arg.keyword.value == name), None)


def _literal(value: cst.BaseExpression | None) -> str | None:
    return value.evaluated_value if isinstance(value, cst.SimpleString) else None  # type: ignore[return-value]


def schedule_call_todos(call: cst.Call, api: str) -> list[tuple[str, str]]:
    """The TODOs of a ``create_schedule`` call: its cron's verdict, and what its zone and queue need."""
    cron = _literal(_keyword(call, "schedule"))
    code, reason = cron_verdict(cron) if cron is not None else ("D2R110", "")
    if code != "D2R110":
        return [(code, reason)]
    parts = [f"`{api}` is not converted: {CREATE}"]
    zone = _keyword(call, "cron_timezone")
    zoned = zone is not None and not (isinstance(zone, cst.Name) and zone.value == "None") \
        and _literal(zone) not in UTC_NAMES
    shown = (_literal(zone) or "a time zone") if zoned else "UTC"
    if cron is not None:
        parts.append(reason.removeprefix(REASON + ". ").replace(
            "(fires at the same times)", f"(the same times on {shown} clocks)"))
    if zoned:
        parts.append(f"cron_timezone {shown!r}: a Resonate server reads cron in UTC, so write the times in UTC (twice a "
                     "year where the zone has daylight saving) or keep this schedule on the shim, which reads the zone")
    queue = _keyword(call, "queue_name")
    if queue is not None and not (isinstance(queue, cst.Name) and queue.value == "None"):
        shown = _literal(queue) or "a queue"
        parts.append(f"queue_name {shown!r}: a Resonate schedule creates a promise, not a queue entry, so the "
                     "queue's limits do not apply; have the scheduled function enqueue the work itself")
    return [("D2R110", "; ".join(parts))]


class Scheduled(RuleTransformer):
    CODE = "D2R110"
    TRIGGERS = ("scheduled", "create_schedule")
    DESCRIPTION = "Mark @DBOS.scheduled workflows with what their Resonate schedule needs."

    def visit_Decorator(self, node: cst.Decorator) -> None:
        expr = node.decorator.func if isinstance(node.decorator, cst.Call) else node.decorator
        if self.facts.resolve(expr) != "DBOS.scheduled":
            return
        args = node.decorator.args if isinstance(node.decorator, cst.Call) else ()
        literal = args[0].value.evaluated_value if args and isinstance(args[0].value, cst.SimpleString) else None
        code, reason = cron_verdict(literal) if isinstance(literal, str) else ("D2R110", REASON)
        self.todo(code, reason)

    def visit_Call(self, node: cst.Call) -> None:
        api = self.facts.resolve(node.func)
        if api in SCHEDULE_CALLS:
            for code, reason in schedule_call_todos(node, api):
                self.todo(code, reason)


RULE = Rule(
    code="D2R110",
    name="scheduled",
    summary="Turn `@DBOS.scheduled(cron)` into a Resonate schedule, or a TODO",
    explanation=(
        "DBOS runs a decorated workflow on a cron (5 fields, or 6 with seconds first) and passes it the scheduled "
        "and actual fire times. Resonate schedules are created at run time with `resonate.schedules.create(...)` "
        "and accept 5-field cron; the server fires a promise (in local mode schedules never fire). The schedule "
        "is created at run time, so the decorator is kept with a TODO giving the steps and, for a literal "
        "expression, the 5-field cron `shim.cron` proves equivalent (with the seconds offset DBOS had, if any). "
        "An expression with no 5-field form (every second, several seconds values, ...) gets D2R208 instead. "
        "The schedule management APIs (`create_schedule`, `apply_schedules`, ...) get a TODO too; on "
        "`create_schedule` it gives the 5-field cron and says what a `cron_timezone` (Resonate reads cron in UTC) "
        "and a `queue_name` (a schedule creates a promise, not a queue entry) need."
    ),
    examples=(
        Example(
            title="A 6-field DBOS cron with a seconds offset",
            before='''
            from dbos import DBOS

            @DBOS.scheduled("30 0 * * * *")
            @DBOS.workflow()
            def hourly(scheduled_time, actual_time) -> None:
                pass
            ''',
            after='''
            from dbos import DBOS
            from resonate.context import Context

            # TODO(dbos2resonate): D2R103 this module registers workflows on `resonate` but does not create it: import the Resonate instance from the module that replaced DBOS(config=...). See docs/rules/D2R103.md
            # TODO(dbos2resonate): D2R110 Resonate schedules are created at run time, not by a decorator: after resonate.start() call `await resonate.schedules.create(id, cron, promise_id, ...)` with a 5-field cron (DBOS allows a leading seconds field); the workflow no longer receives (scheduled_time, actual_time). Resonate cron: '0 * * * *'; DBOS fired 30 s after each of its ticks (its seconds field), Resonate fires on the minute. See docs/rules/D2R110.md
            @DBOS.scheduled("30 0 * * * *")
            @resonate.register
            async def hourly(ctx: Context, scheduled_time, actual_time) -> None:
                pass
            ''',
        ),
        Example(
            title="Every second: no 5-field form (D2R208)",
            before='''
            from dbos import DBOS

            @DBOS.scheduled("* * * * * *")
            @DBOS.workflow()
            def tick(scheduled_time, actual_time) -> None:
                pass
            ''',
            after='''
            from dbos import DBOS
            from resonate.context import Context

            # TODO(dbos2resonate): D2R103 this module registers workflows on `resonate` but does not create it: import the Resonate instance from the module that replaced DBOS(config=...). See docs/rules/D2R103.md
            # TODO(dbos2resonate): D2R208 the cron '* * * * * *' has no 5-field Resonate form: fires 60 times a minute (every second); a 5-field cron fires at most once a minute. See docs/rules/D2R208.md
            @DBOS.scheduled("* * * * * *")
            @resonate.register
            async def tick(ctx: Context, scheduled_time, actual_time) -> None:
                pass
            ''',
        ),
        Example(
            title="create_schedule in a time zone, on a queue",
            before='''
            from dbos import DBOS


            def setup(nightly) -> None:
                DBOS.create_schedule(schedule_name="nightly", workflow_fn=nightly, schedule="0 0 2 * * *",
                                     cron_timezone="Europe/Paris", queue_name="reports")
            ''',
            after='''
            from dbos import DBOS


            def setup(nightly) -> None:
                # TODO(dbos2resonate): D2R110 `DBOS.create_schedule` is not converted: a DBOS schedule becomes resonate.schedules.create(...) at run time; Resonate cron: '0 2 * * *' (the same times on Europe/Paris clocks); cron_timezone 'Europe/Paris': a Resonate server reads cron in UTC, so write the times in UTC (twice a year where the zone has daylight saving) or keep this schedule on the shim, which reads the zone; queue_name 'reports': a Resonate schedule creates a promise, not a queue entry, so the queue's limits do not apply; have the scheduled function enqueue the work itself. See docs/rules/D2R110.md
                DBOS.create_schedule(schedule_name="nightly", workflow_fn=nightly, schedule="0 0 2 * * *",
                                     cron_timezone="Europe/Paris", queue_name="reports")
            ''',
        ),
    ),
    transformer=Scheduled,
    todo_reason="a DBOS schedule becomes resonate.schedules.create(...) at run time",
)
