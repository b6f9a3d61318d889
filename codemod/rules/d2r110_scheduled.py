"""D2R110 scheduled: a ``@DBOS.scheduled(cron)`` workflow runs on a Resonate schedule created where the program starts."""

from __future__ import annotations

from typing import Any

import libcst as cst

from codemod.rules._helpers import names_in
from codemod.rules._schedules import (
    ENSURE,
    FIRST_TIME,
    SCHEDULE_HELPERS,
    TICK_TIME,
    ServerSchedule,
    create_by_hand,
    create_statement,
    prelude,
)
from codemod.rules.base import Example, Rule
from codemod.todo import todo_comment
from codemod.transform import INSTANCE, RuleTransformer, with_comments

REASON = (
    "Resonate schedules are created at run time, not by a decorator: after resonate.start() call "
    "`await resonate.schedules.create(id, cron, promise_id, ...)` with a 5-field cron (DBOS allows a leading "
    "seconds field); the workflow no longer receives (scheduled_time, actual_time)"
)


def _to_resonate(expression: str) -> Any:
    """``shim.cron.to_resonate(expression)`` (the ``CronError`` for a cron DBOS rejects), or None without the
    converter (it is optional for the codemod, and imported only when a module has a schedule)."""
    try:
        from shim import cron
    except ImportError:
        return None
    try:
        return cron.to_resonate(expression)
    except cron.CronError as exc:
        return exc


def cron_verdict(expression: str) -> tuple[str, str]:
    """(code, reason) for a DBOS cron literal, from the shim's converter."""
    conversion = _to_resonate(expression)
    if conversion is None:
        return "D2R110", REASON
    from shim import cron

    if isinstance(conversion, cron.CronError):
        return "D2R208", f"DBOS would reject the cron {expression!r}: {conversion}"
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


SERVER_SCHEDULES_KEY = "dbos2resonate.server_schedules"  # the module's workflows now run on a server schedule
NEEDS_SERVER = (
    "this module's schedules fire only on a Resonate server (local mode never fires them, and keeps its state in "
    "memory only): pass the server's address, `Resonate(url=\"http://127.0.0.1:8001\", env={}, ...)` for "
    "`dbos2resonate serve`"
)


def _conversion(expression: str) -> tuple[str, int] | None:
    """(5-field cron, seconds offset) of a DBOS cron a Resonate schedule fires faithfully; None if none does."""
    conversion = _to_resonate(expression)
    if conversion is None:
        return None
    from shim import cron

    if isinstance(conversion, (cron.CronError, cron.NotExpressible)):
        return None
    return conversion.cron, int(cron.offset_delta(conversion).total_seconds())


def _literal_arg(call: cst.BaseExpression, keyword: str | None) -> str | None:
    args = call.args if isinstance(call, cst.Call) else ()
    for arg in args:
        if (arg.keyword.value if arg.keyword is not None else None) == keyword:
            return _literal(arg.value)
    return None


def _called(stmt: cst.BaseStatement) -> cst.Call | None:
    """The call an expression statement is made of (``f(...)`` on a line of its own)."""
    if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Expr):
        value = stmt.body[0].value
        return value if isinstance(value, cst.Call) else None
    return None


def _is_start(stmt: cst.BaseStatement) -> bool:
    """``resonate.start()``: what D2R102 made of ``DBOS.launch()``."""
    call = _called(stmt)
    return (
        call is not None and not call.args and isinstance(call.func, cst.Attribute)
        and call.func.attr.value == "start" and isinstance(call.func.value, cst.Name)
        and call.func.value.value == INSTANCE
    )


class Scheduled(RuleTransformer):
    CODE = "D2R110"
    TRIGGERS = ("scheduled", "create_schedule")
    DESCRIPTION = "Turn @DBOS.scheduled workflows into Resonate schedules created where the program starts."

    def start(self, module: cst.Module) -> None:
        self._by_function: dict[str, ServerSchedule] = {}  # by the workflow's function name
        for stmt in module.body:
            schedule = self._server_schedule(stmt)
            if schedule is not None:
                self._by_function[stmt.name.value] = schedule  # type: ignore[attr-defined]
        self._created: set[str] = set()
        if self._by_function:
            self.context.scratch[SERVER_SCHEDULES_KEY] = True

    def _scheduled_decorator(self, node: cst.Decorator) -> cst.BaseExpression | None:
        """The ``DBOS.scheduled(...)`` expression of a decorator, if it is one."""
        expr = node.decorator.func if isinstance(node.decorator, cst.Call) else node.decorator
        return node.decorator if self.facts.resolve(expr) == "DBOS.scheduled" else None

    def _server_schedule(self, stmt: cst.CSTNode) -> ServerSchedule | None:
        """How a module-level ``@DBOS.scheduled`` workflow runs on a Resonate schedule; None: it stays a TODO."""
        if not isinstance(stmt, cst.FunctionDef) or not self.enabled("D2R103") or not self.converts_durable_functions():
            return None
        facts = self.facts.workflow(stmt.name.value)
        decorators = [d for d in map(self._scheduled_decorator, stmt.decorators) if d is not None]
        if facts is None or facts.has_ctx_param or len(decorators) != 1:
            return None
        expression = _literal_arg(decorators[0], None) or _literal_arg(decorators[0], "cron")
        conversion = _conversion(expression) if expression is not None else None
        params = stmt.params
        plain = not (params.posonly_params or params.kwonly_params or params.star_kwarg
                     or params.star_arg is not cst.MaybeSentinel.DEFAULT)
        if conversion is None or not plain or len(params.params) != 2:
            return None
        name = self._registered_name(stmt)
        if name is None:
            return None  # the schedule must name the function it runs
        return ServerSchedule(name, conversion[0], conversion[1], *(p.name.value for p in params.params))

    def _registered_name(self, stmt: cst.FunctionDef) -> str | None:
        """The name ``@DBOS.workflow(name=...)`` registers the function under (its own by default); None: computed."""
        for dec in stmt.decorators:
            call = dec.decorator
            if isinstance(call, cst.Call) and self.facts.resolve(call.func) == "DBOS.workflow" and any(
                a.keyword is not None and a.keyword.value == "name" for a in call.args
            ):
                return _literal_arg(call, "name")
        return stmt.name.value

    def _rewritten(self) -> ServerSchedule | None:
        """The schedule of the module-level workflow being visited, if D2R110 rewrites it."""
        f = self.frame
        return self._by_function.get(f.name) if len(self._frames) == 1 and f is not None else None

    def visit_Decorator(self, node: cst.Decorator) -> None:
        decorator = self._scheduled_decorator(node)
        if decorator is None or self._rewritten() is not None:
            return
        literal = _literal_arg(decorator, None) or _literal_arg(decorator, "cron")
        code, reason = cron_verdict(literal) if literal is not None else ("D2R110", REASON)
        self.todo(code, reason)

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        schedule = self._rewritten()
        if schedule is None:
            return updated_node
        self.mark_applied()
        if schedule.offset_seconds:
            self.add_needed_import("datetime", "timedelta")
        used = names_in(original_node.body)
        needed = [h for p, h in ((schedule.scheduled_param, TICK_TIME), (schedule.actual_param, FIRST_TIME)) if p in used]
        SCHEDULE_HELPERS.need(self.context, *needed)
        ctx_param, *_ = updated_node.params.params  # D2R103 put ctx first; DBOS's two arguments follow
        params = updated_node.params.with_changes(params=(ctx_param.with_changes(comma=cst.MaybeSentinel.DEFAULT),))
        decorators = [d for d in updated_node.decorators if self._scheduled_decorator(d) is None]
        return updated_node.with_changes(
            decorators=decorators, params=params, body=_with_prelude(updated_node.body, prelude(schedule, used))
        )

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock) -> cst.IndentedBlock:
        f = self.frame
        if not self._by_function or f is None or f.kind != "function" or not f.is_async:
            return updated_node
        if not any((c := _called(s)) is not None and self.facts.resolve(c.func) == "DBOS.launch"
                   for s in original_node.body):
            return updated_node
        body: list[cst.BaseStatement] = []
        for stmt in updated_node.body:
            body.append(stmt)
            if _is_start(stmt):
                body.extend(create_statement(s) for s in self._by_function.values())
                self._created.update(self._by_function)
                SCHEDULE_HELPERS.need(self.context, ENSURE)
                self.mark_applied()
        return updated_node.with_changes(body=body)

    def visit_Call(self, node: cst.Call) -> None:
        api = self.facts.resolve(node.func)
        if api in SCHEDULE_CALLS:
            for code, reason in schedule_call_todos(node, api):
                self.todo(code, reason)

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        by_hand = {f: s for f, s in self._by_function.items() if f not in self._created}
        if by_hand:
            updated_node = updated_node.with_changes(body=[
                with_comments(stmt, [todo_comment(self.CODE, create_by_hand(by_hand[stmt.name.value]))])
                if isinstance(stmt, cst.FunctionDef) and stmt.name.value in by_hand else stmt
                for stmt in updated_node.body
            ])
        return SCHEDULE_HELPERS.insert(self, updated_node)


def _with_prelude(body: cst.BaseSuite, statements: list[cst.BaseStatement]) -> cst.BaseSuite:
    """``body`` with ``statements`` first (after its docstring)."""
    if not statements:
        return body
    if isinstance(body, cst.SimpleStatementSuite):
        body = cst.IndentedBlock([cst.SimpleStatementLine(body.body)])
    assert isinstance(body, cst.IndentedBlock)
    lines = list(body.body)
    first = lines[0] if lines else None
    docstring = (
        isinstance(first, cst.SimpleStatementLine) and isinstance(first.body[0], cst.Expr)
        and isinstance(first.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )
    at = 1 if docstring else 0
    return body.with_changes(body=[*lines[:at], *statements, *lines[at:]])


RULE = Rule(
    code="D2R110",
    name="scheduled",
    summary="Turn `@DBOS.scheduled(cron)` into a Resonate schedule, or a TODO",
    explanation=(
        "DBOS runs a `@DBOS.scheduled(cron)` workflow on every tick of its cron (5 fields, or 6 with seconds "
        "first) and passes it the tick (`scheduled_time`) and the time it started (`actual_time`). Resonate's "
        "counterpart is a schedule on the server: `resonate.schedule(id, cron, func_name)` makes the server "
        "create the promise `{id}-{tick in ms}` on every tick of a 5-field UTC cron, and a worker of the group "
        "runs the registered function for it.\n\n"
        "Where the cron has a 5-field form (`shim.cron` proves it: EXACT, or EXACT_WITH_OFFSET for a single "
        "seconds value), the rule rewrites the workflow:\n\n"
        "- the decorator goes and the function takes no arguments; the ones its body uses are recovered first "
        "thing: `scheduled_time = schedule_tick_time(ctx)` reads the tick from the promise id, "
        "`actual_time = await first_execution_time(ctx)` reads the clock in a step, so a replay sees the first "
        "execution's value as DBOS's recorded argument (helpers written once per module);\n"
        "- a seconds offset (DBOS ran `30 0 * * * *` 30 s after each hour) is waited durably, "
        "`await ctx.sleep(timedelta(seconds=30))`, and added to `scheduled_time`;\n"
        "- in the module that launches DBOS, `await ensure_schedule(resonate, name, cron)` follows "
        "`resonate.start()`: the schedule's id is the workflow's registered name, a restart finds it there (the "
        "server answers a second create with the stored schedule), and a schedule stored with another cron is "
        "replaced. The `Resonate(...)` instance gets one TODO: schedules fire only on a Resonate server (local "
        "mode never fires them), so pass `url=`. A module that does not launch DBOS gets a TODO on the workflow "
        "with the exact `await resonate.schedule(...)` to add where the program starts.\n\n"
        "What changes: Resonate's server fires a tick that fell while it was down when it comes back, and a tick "
        "waits for a worker, where DBOS skipped ticks that fell while it was not running; a tick's promise is "
        "named `{name}-{ms}`, not DBOS's `sched-{name}-{iso time}`; with an offset, a program started between a "
        "minute tick and its offset does not run that tick (DBOS would, a few seconds after starting).\n\n"
        "An expression with no 5-field form (every second, several seconds values, ...) keeps its decorator "
        "with D2R208's TODO; a cron that is not a literal, or a workflow D2R103 does not convert, keeps a TODO "
        "with the steps. The schedule management APIs (`create_schedule`, `apply_schedules`, ...) get a TODO "
        "too; on `create_schedule` it gives the 5-field cron and says what a `cron_timezone` (Resonate reads cron "
        "in UTC) and a `queue_name` (a schedule creates a promise, not a queue entry) need."
    ),
    examples=(
        Example(
            title='A 5-field cron in the module that launches DBOS: the schedule is created at start',
            before='''
            from datetime import datetime

            from dbos import DBOS

            DBOS(config={"name": "reports"})

            @DBOS.scheduled("0 9 * * 1-5")
            @DBOS.workflow()
            def weekday_report(scheduled_time: datetime, actual_time: datetime) -> None:
                """The day's report."""
                print(f"report for {scheduled_time:%Y-%m-%d}, started {actual_time - scheduled_time} late")

            def main() -> None:
                DBOS.launch()
                print("scheduled")

            if __name__ == "__main__":
                main()
            ''',
            after='''
            import asyncio
            import time
            from datetime import UTC, datetime

            from resonate.context import Context
            from resonate.resonate import Resonate
            from resonate.retry import Never

            # TODO(dbos2resonate): D2R110 this module's schedules fire only on a Resonate server (local mode never fires them, and keeps its state in memory only): pass the server's address, `Resonate(url="http://127.0.0.1:8001", env={}, ...)` for `dbos2resonate serve`. See docs/rules/D2R110.md
            resonate = Resonate(env={}, retry_policy=Never(), autostart=False)


            def schedule_tick_time(ctx: Context) -> datetime:
                """The cron tick this run of a schedule stands for: the server names the run's promise ``{schedule id}-{tick in ms}``."""
                return datetime.fromtimestamp(int(ctx.info.id.rsplit("-", 1)[1]) / 1000, UTC)


            def _epoch_seconds(ctx: Context) -> float:
                return time.time()


            async def first_execution_time(ctx: Context) -> datetime:
                """The time this run first executed: read in a step, so a replay gets the same value."""
                return datetime.fromtimestamp(await ctx.run(_epoch_seconds), UTC)


            async def ensure_schedule(resonate: Resonate, name: str, cron: str) -> None:
                """Run the registered function ``name`` on every tick of ``cron`` (UTC), from the schedule of the same id.

                Safe on every start: the server answers a create of an existing id with the stored schedule, so a restart
                adds no schedule and no tick; one stored with another cron (the code changed) is replaced.
                """
                await resonate.schedule(name, cron, name)
                if (await resonate.schedules.get(name)).cron != cron:
                    await resonate.schedules.delete(name)
                    await resonate.schedule(name, cron, name)

            @resonate.register
            async def weekday_report(ctx: Context) -> None:
                """The day's report."""
                scheduled_time = schedule_tick_time(ctx)
                actual_time = await first_execution_time(ctx)
                print(f"report for {scheduled_time:%Y-%m-%d}, started {actual_time - scheduled_time} late")

            async def main() -> None:
                resonate.start()
                await ensure_schedule(resonate, "weekday_report", "0 9 * * 1-5")
                print("scheduled")

            if __name__ == "__main__":
                asyncio.run(main())
            ''',
        ),
        Example(
            title='6-field crons: seconds 0, and an offset DBOS waited (created by hand, in another module)',
            before='''
            from dbos import DBOS

            @DBOS.scheduled("0 */5 * * * *")
            @DBOS.workflow()
            def sync_feeds(scheduled_time, actual_time) -> None:
                print("syncing for", scheduled_time)

            @DBOS.scheduled("30 0 * * * *")
            @DBOS.workflow()
            def hourly(scheduled_time, actual_time) -> None:
                print("hourly tick", scheduled_time)
            ''',
            after='''
            from datetime import UTC, datetime, timedelta

            from resonate.context import Context


            def schedule_tick_time(ctx: Context) -> datetime:
                """The cron tick this run of a schedule stands for: the server names the run's promise ``{schedule id}-{tick in ms}``."""
                return datetime.fromtimestamp(int(ctx.info.id.rsplit("-", 1)[1]) / 1000, UTC)

            # TODO(dbos2resonate): D2R103 this module registers workflows on `resonate` but does not create it: import the Resonate instance from the module that replaced DBOS(config=...). See docs/rules/D2R103.md
            # TODO(dbos2resonate): D2R110 create its schedule where the program starts Resonate, after `resonate.start()`: `await resonate.schedule("sync_feeds", "*/5 * * * *", "sync_feeds")` (a second create of that id keeps the stored schedule: delete it first to change the cron). See docs/rules/D2R110.md
            @resonate.register
            async def sync_feeds(ctx: Context) -> None:
                scheduled_time = schedule_tick_time(ctx)
                print("syncing for", scheduled_time)

            # TODO(dbos2resonate): D2R110 create its schedule where the program starts Resonate, after `resonate.start()`: `await resonate.schedule("hourly", "0 * * * *", "hourly")` (a second create of that id keeps the stored schedule: delete it first to change the cron). See docs/rules/D2R110.md
            @resonate.register
            async def hourly(ctx: Context) -> None:
                await ctx.sleep(timedelta(seconds=30))
                scheduled_time = schedule_tick_time(ctx) + timedelta(seconds=30)
                print("hourly tick", scheduled_time)
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
    todo_reason="a Resonate schedule is created at run time, where the program starts, and fires only on a server",
)
