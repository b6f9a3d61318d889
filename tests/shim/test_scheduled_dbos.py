"""Scheduled work, shim against real DBOS: the same program under both, on the real clock.

One short program (a few seconds under DBOS, event-driven: it waits for the first tick of a
``"* * * * * *"`` schedule, never for a fixed time) checks what a user can observe: the workflow id
DBOS gives a tick, the types of ``(scheduled_time, actual_time)``, the errors and rows of the schedule
API, and the ids and arguments of a backfill and a trigger.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.differential.harness import assert_same_trace, run_both

PROGRAM = '''
import os
import re
import threading
from datetime import datetime, timezone

from dbos import DBOS
from dbos._error import DBOSException

DBOS(config={"name": "sched-diff", "system_database_url": os.environ["D2R_DB_URL"]})
first = {}
ticked = threading.Event()


@DBOS.scheduled("* * * * * *")
@DBOS.workflow()
def every_second(scheduled_time, actual_time):
    if not ticked.is_set():
        first.update(id=DBOS.workflow_id, scheduled=scheduled_time, actual=actual_time)
        ticked.set()


@DBOS.workflow()
def hourly(scheduled_at, context):
    return [scheduled_at.isoformat(), context]


def bad(scheduled_time, actual_time):
    pass


@DBOS.workflow()
def bad_workflow(scheduled_time, actual_time):
    pass


def error(call):
    try:
        call()
    except Exception as exc:
        return [type(exc).__name__, isinstance(exc, DBOSException), isinstance(exc, ValueError), str(exc)]
    return None


def main():
    decoration = error(lambda: DBOS.scheduled("61 * * * * *")(bad_workflow))
    # the shim raises shim.cron.CronError, a ValueError naming the bad field after DBOS's message
    trace = {"decoration": decoration[1:3] + [decoration[3].startswith(
        'Invalid crontab "61 * * * * *" for scheduled function function bad_workflow.')],
        "decorating_a_plain_function": error(lambda: DBOS.scheduled("61 * * * * *")(bad))}
    DBOS.launch()
    try:
        trace["fired"] = ticked.wait(10)
        s, a = first["scheduled"], first["actual"]
        trace["tick"] = {
            "id": first["id"].replace(s.isoformat(), "<scheduled>"),
            "types": [type(s).__name__, type(a).__name__],
            "timezones": [repr(s.tzinfo), repr(a.tzinfo)],
            "whole_second": s.microsecond == 0,
            "in_order": s <= a,
        }
        DBOS.create_schedule(schedule_name="h", workflow_fn=hourly, schedule="0 0 * * * *", context={"k": 1})
        row = DBOS.get_schedule("h")
        trace["row"] = {k: v for k, v in row.items() if k != "schedule_id"}
        trace["errors"] = [
            error(lambda: DBOS.create_schedule(schedule_name="h", workflow_fn=hourly, schedule="* * * * *")),
            error(lambda: DBOS.create_schedule(schedule_name="x", workflow_fn=hourly, schedule="61 * * * * *")),
            error(lambda: DBOS.create_schedule(schedule_name="x", workflow_fn=bad, schedule="* * * * *")),
            error(lambda: DBOS.trigger_schedule("nope")),
            error(lambda: DBOS.get_schedule("nope")),
        ]
        handles = DBOS.backfill_schedule(
            "h", datetime(2024, 1, 1, 0, tzinfo=timezone.utc), datetime(2024, 1, 1, 3, tzinfo=timezone.utc))
        trace["backfill"] = [[h.workflow_id, h.get_result()] for h in handles]
        trigger = DBOS.trigger_schedule("h")
        result = trigger.get_result()
        trace["trigger"] = [re.sub(r"\\d{4}-\\d\\d-\\d\\dT[\\d:.]+\\+00:00", "<now>", trigger.workflow_id),
                            result[1], trigger.workflow_id.endswith(result[0])]
        DBOS.pause_schedule("h")
        DBOS.apply_schedules([{"schedule_name": "h", "workflow_fn": hourly, "schedule": "0 30 * * * *"}])
        row = DBOS.get_schedule("h")
        trace["applied"] = [row["status"], row["schedule"], row["context"]]
        DBOS.delete_schedule("h")
        trace["after_delete"] = DBOS.list_schedules()
        return trace
    finally:
        DBOS.destroy()
'''


@pytest.fixture(scope="module")
def traces() -> tuple[Any, Any]:
    return run_both(PROGRAM)


def test_real_dbos_behaves_as_this_test_says(traces: tuple[Any, Any]) -> None:
    dbos, _ = traces
    assert dbos["decoration"] == [False, True, True]
    assert dbos["decorating_a_plain_function"] == [
        "DBOSWorkflowFunctionNotFoundError", True, False,
        "DBOS Error 4: Could not execute workflow <NONE>: bad is not a registered workflow function"]
    assert dbos["fired"] is True
    assert dbos["tick"] == {
        "id": "sched-every_second-<scheduled>",
        "types": ["datetime", "datetime"],
        "timezones": ["datetime.timezone.utc", "datetime.timezone.utc"],
        "whole_second": True,
        "in_order": True,
    }
    assert dbos["backfill"] == [
        ["sched-h-2024-01-01T01:00:00+00:00", ["2024-01-01T01:00:00+00:00", {"k": 1}]],
        ["sched-h-2024-01-01T02:00:00+00:00", ["2024-01-01T02:00:00+00:00", {"k": 1}]],
    ]
    assert dbos["trigger"] == ["sched-h-trigger-<now>", {"k": 1}, True]


def test_the_shim_schedules_as_dbos_does(traces: tuple[Any, Any]) -> None:
    dbos, shim = traces
    assert_same_trace(dbos, shim)


SCHEDULE_API = ["scheduled", "create_schedule", "create_schedule_async", "apply_schedules", "apply_schedules_async",
                "list_schedules", "list_schedules_async", "get_schedule", "get_schedule_async", "delete_schedule",
                "delete_schedule_async", "pause_schedule", "resume_schedule", "trigger_schedule", "backfill_schedule"]


@pytest.mark.parametrize("name", SCHEDULE_API)
def test_signatures_are_dbos_signatures(name: str) -> None:
    import inspect

    real = pytest.importorskip("dbos").DBOS
    from shim import DBOS

    def shape(fn: Any) -> list[tuple[str, Any, Any]]:
        return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]

    assert shape(getattr(DBOS, name)) == shape(getattr(real, name))
    assert inspect.iscoroutinefunction(getattr(DBOS, name)) == inspect.iscoroutinefunction(getattr(real, name))


@pytest.mark.parametrize("name", ["WorkflowSchedule", "ScheduleInput"])
def test_schedule_types_have_dbos_keys(name: str) -> None:
    import dbos

    import shim

    ours, theirs = getattr(shim, name), getattr(dbos, name)
    assert list(ours.__annotations__) == list(theirs.__annotations__)
    assert ours.__total__ == theirs.__total__
