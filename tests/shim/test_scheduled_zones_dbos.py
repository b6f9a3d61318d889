"""Schedules with ``cron_timezone`` and ``queue_name``, shim against real DBOS (same program, real clock).

What a program can observe: the stored row, the errors, the ids and arguments of a backfill in a zone
(a range without a daylight-saving change: around one DBOS's bundled croniter misfires, see
tests/cron/test_timezones.py), the queue each tick, trigger and backfill is enqueued on, and the
statuses of the workflows they start.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.differential.harness import assert_same_trace, run_both

PROGRAM = '''
import os
import threading
from datetime import datetime, timezone

from dbos import DBOS, Queue

DBOS(config={"name": "sched-zones-diff", "system_database_url": os.environ["D2R_DB_URL"]})
queue = Queue("sched-q")
first = {}
ticked = threading.Event()


@DBOS.scheduled("* * * * * *")
@DBOS.workflow()
def every_second(scheduled_time, actual_time):
    if not ticked.is_set():
        first["id"] = DBOS.workflow_id
        ticked.set()


@DBOS.workflow()
def nightly(scheduled_at, context):
    return [scheduled_at.isoformat(), repr(scheduled_at.tzinfo), context]


def error(call):
    try:
        call()
    except Exception as exc:
        return [type(exc).__name__, str(exc)]
    return None


def seen(workflow_id):
    status = DBOS.get_workflow_status(workflow_id)
    return {"queue_name": status.queue_name, "status": status.status, "schedule_name": status.schedule_name,
            "name": status.name}


def row(name):
    found = DBOS.get_schedule(name)
    return {k: v for k, v in found.items() if k != "schedule_id"}


def main():
    DBOS.launch()
    try:
        trace = {"fired": ticked.wait(10)}
        trace["decorated"] = {k: v for k, v in seen(first["id"]).items() if k != "status"}  # may still run
        DBOS.create_schedule(schedule_name="ny", workflow_fn=nightly, schedule="0 0 0 * * *", context="c",
                             cron_timezone="America/New_York", queue_name="sched-q")
        DBOS.create_schedule(schedule_name="plain", workflow_fn=nightly, schedule="0 30 * * * *")
        trace["rows"] = [row("ny"), row("plain")]
        trace["errors"] = [
            error(lambda: DBOS.create_schedule(schedule_name="x", workflow_fn=nightly, schedule="* * * * *",
                                               cron_timezone="Mars/Olympus")),
            error(lambda: DBOS.create_schedule(schedule_name="x", workflow_fn=nightly, schedule="* * * * *",
                                               queue_name="nowhere")),
            error(lambda: DBOS.apply_schedules([{"schedule_name": "x", "workflow_fn": nightly,
                                                 "schedule": "* * * * *", "queue_name": "nowhere"}])),
            error(lambda: DBOS.apply_schedules([{"schedule_name": "x", "workflow_fn": nightly,
                                                 "schedule": "* * * * *", "cron_timezone": "Nowhere/Land"}])),
        ]
        handles = DBOS.backfill_schedule("ny", datetime(2024, 1, 1, tzinfo=timezone.utc),
                                         datetime(2024, 1, 4, tzinfo=timezone.utc))
        trace["backfill"] = [[h.workflow_id, h.get_result()] for h in handles]
        trace["backfill_status"] = seen(handles[0].workflow_id)
        plain = DBOS.backfill_schedule("plain", datetime(2024, 1, 1), datetime(2024, 1, 1, 1))
        trace["plain_backfill"] = [[h.workflow_id, h.get_result()] for h in plain]
        trace["plain_status"] = seen(plain[0].workflow_id)
        trigger = DBOS.trigger_schedule("ny")
        result = trigger.get_result()
        trace["trigger"] = {"id_ends_with_its_time": trigger.workflow_id.endswith(result[0]),
                            "tz": result[1], "queue": seen(trigger.workflow_id)["queue_name"]}
        DBOS.apply_schedules([{"schedule_name": "ny", "workflow_fn": nightly, "schedule": "0 0 0 * * *",
                               "cron_timezone": "Asia/Kolkata"}])
        trace["applied"] = row("ny")
        again = DBOS.backfill_schedule("ny", datetime(2024, 1, 1), datetime(2024, 1, 2, 12))
        trace["applied_backfill"] = [[h.workflow_id, h.get_result()] for h in again]
        trace["applied_status"] = seen(again[0].workflow_id)
        return trace
    finally:
        DBOS.destroy()
'''


@pytest.fixture(scope="module")
def traces() -> tuple[Any, Any]:
    return run_both(PROGRAM)


def test_real_dbos_behaves_as_this_test_says(traces: tuple[Any, Any]) -> None:
    dbos, _ = traces
    assert dbos["decorated"]["queue_name"] == "_dbos_internal_queue"
    assert dbos["rows"][0]["cron_timezone"] == "America/New_York"
    assert dbos["rows"][0]["queue_name"] == "sched-q"
    assert dbos["backfill"] == [
        ["sched-ny-2024-01-01T00:00:00-05:00", ["2024-01-01T00:00:00-05:00", "zoneinfo.ZoneInfo(key='America/New_York')",
                                                "c"]],
        ["sched-ny-2024-01-02T00:00:00-05:00", ["2024-01-02T00:00:00-05:00", "zoneinfo.ZoneInfo(key='America/New_York')",
                                                "c"]],
        ["sched-ny-2024-01-03T00:00:00-05:00", ["2024-01-03T00:00:00-05:00", "zoneinfo.ZoneInfo(key='America/New_York')",
                                                "c"]],
    ]
    assert dbos["backfill_status"]["queue_name"] == "sched-q"
    assert dbos["plain_status"]["queue_name"] == "_dbos_internal_queue"
    assert dbos["trigger"] == {"id_ends_with_its_time": True, "tz": "datetime.timezone.utc", "queue": "sched-q"}
    assert dbos["applied"]["queue_name"] is None
    assert [wid for wid, _ in dbos["applied_backfill"]] == ["sched-ny-2024-01-02T00:00:00+05:30"]
    undeclared = "DBOS Error: Queue 'nowhere' is not declared. Please create the queue before using it in a schedule."
    assert dbos["errors"][1] == ["DBOSException", undeclared]


def test_the_shim_schedules_in_zones_and_on_queues_as_dbos_does(traces: tuple[Any, Any]) -> None:
    dbos, shim = traces
    assert_same_trace(dbos, shim)
