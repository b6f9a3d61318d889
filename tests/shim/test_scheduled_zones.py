"""Schedules with ``cron_timezone`` and ``queue_name`` on the shim, driven by a hand-moved clock.

What DBOS 2.31 does (dbos/_scheduler.py, and checked against the real package in
test_scheduled_zones_dbos.py): a schedule's cron is read in its zone; each tick reaches the workflow,
its workflow id and ``last_fired_at`` as a datetime in that zone; every tick, trigger and backfill is
enqueued, on the schedule's queue or on DBOS's internal queue. Times across a daylight-saving change
are the croniter package's (tests/cron/test_timezones.py).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shim import DBOS
from shim._scheduler import ManualClock
from shim.errors import DBOSException
from tests.shim import test_scheduled as base
from tests.shim.test_scheduled import Launcher, calls, record, report, result, runs

sched = base.sched  # the fixture: a Launcher with a ManualClock, closed after the test

NEW_YORK = ZoneInfo("America/New_York")
INTERNAL_QUEUE = "_dbos_internal_queue"


def status_queue(workflow_id: str) -> str | None:
    status = DBOS.get_workflow_status(workflow_id)
    assert status is not None, workflow_id
    return status.queue_name


def test_a_zoned_schedule_fires_on_local_ticks_twice_in_a_repeated_hour(sched: Launcher) -> None:
    clock = sched.launch(ManualClock(datetime(2030, 11, 3, 4, 0, tzinfo=UTC)))  # 00:00 EDT, fall-back night
    DBOS.create_schedule(schedule_name="tz", workflow_fn=report, schedule="0 30 1 * * *", context="c",
                         cron_timezone="America/New_York")
    clock.set(datetime(2030, 11, 4, 12, tzinfo=UTC))
    fired = ["2030-11-03T01:30:00-04:00", "2030-11-03T01:30:00-05:00", "2030-11-04T01:30:00-05:00"]
    for local in fired:
        scheduled_at, context = result(f"sched-tz-{local}")
        assert (scheduled_at.isoformat(), context) == (local, "c")
        assert scheduled_at.tzinfo == NEW_YORK  # as DBOS passes it: in the schedule's zone
    assert sorted(runs) == sorted(f"sched-tz-{local}" for local in fired)
    assert DBOS.get_schedule("tz")["last_fired_at"] == fired[-1]  # type: ignore[index]
    assert status_queue(f"sched-tz-{fired[0]}") == INTERNAL_QUEUE


def test_a_zoned_schedule_skips_no_tick_and_fires_no_extra_one_in_spring(sched: Launcher) -> None:
    clock = sched.launch(ManualClock(datetime(2030, 3, 10, 5, 0, tzinfo=UTC)))  # 00:00 EST
    DBOS.create_schedule(schedule_name="spring", workflow_fn=report, schedule="0 0 2 * * *",
                         cron_timezone="America/New_York")
    clock.set(datetime(2030, 3, 12, 12, tzinfo=UTC))
    # 02:00 does not exist on 10 March: it fires once, at the jump; DBOS's croniter adds 01:00 on the 11th
    fired = ["2030-03-10T03:00:00-04:00", "2030-03-11T02:00:00-04:00", "2030-03-12T02:00:00-04:00"]
    for local in fired:
        result(f"sched-spring-{local}")
    assert sorted(runs) == sorted(f"sched-spring-{local}" for local in fired)


def test_backfill_and_trigger_of_a_zoned_schedule(sched: Launcher) -> None:
    sched.launch(ManualClock(datetime(2030, 6, 1, tzinfo=UTC)))
    DBOS.create_schedule(schedule_name="nightly", workflow_fn=report, schedule="0 0 * * *",
                         cron_timezone="America/New_York")
    handles = DBOS.backfill_schedule("nightly", datetime(2030, 3, 9, 12), datetime(2030, 3, 11, 12))  # naive: UTC
    assert [h.workflow_id for h in handles] == ["sched-nightly-2030-03-10T00:00:00-05:00",
                                                "sched-nightly-2030-03-11T00:00:00-04:00"]
    assert [h.get_result()[0].tzinfo for h in handles] == [NEW_YORK, NEW_YORK]
    trigger = DBOS.trigger_schedule("nightly")  # DBOS triggers at the current time in UTC, whatever the zone
    assert trigger.workflow_id == "sched-nightly-trigger-2030-06-01T00:00:00+00:00"
    assert trigger.get_result()[0].tzinfo is UTC
    assert DBOS.get_workflow_status(trigger.workflow_id).schedule_name == "nightly"  # type: ignore[union-attr]
    started = sorted(s.workflow_id for s in DBOS.list_workflows(schedule_name="nightly"))
    assert started == sorted([trigger.workflow_id, *(h.workflow_id for h in handles)])


def test_cron_timezone_utc_is_a_zone_too(sched: Launcher) -> None:
    clock = sched.launch()
    DBOS.create_schedule(schedule_name="u", workflow_fn=report, schedule="*/10 * * * * *", cron_timezone="UTC")
    clock.advance(10)
    scheduled_at, _ = result("sched-u-2030-01-01T00:00:10+00:00")
    assert scheduled_at.tzinfo == ZoneInfo("UTC")  # DBOS: ZoneInfo(name) whenever a name is given


def test_changing_the_zone_restarts_the_schedule(sched: Launcher) -> None:
    clock = sched.launch(ManualClock(datetime(2030, 1, 1, 0, 0, 30, tzinfo=UTC)))
    DBOS.create_schedule(schedule_name="m", workflow_fn=report, schedule="0 0 * * * *")
    DBOS.apply_schedules([{"schedule_name": "m", "workflow_fn": report, "schedule": "0 0 * * * *",
                           "cron_timezone": "Asia/Kolkata"}])  # +05:30: the hour ticks move by 30 minutes
    clock.set(datetime(2030, 1, 1, 1, 0, 30, tzinfo=UTC))
    assert sorted(runs) == ["sched-m-2030-01-01T06:00:00+05:30"]


# -- queues ------------------------------------------------------------------------------------------


tick_gate = threading.Event()


@DBOS.workflow()
def gated_tick(scheduled_at: datetime, context: Any) -> str:
    record(scheduled_at, context)
    tick_gate.wait(30)
    return scheduled_at.isoformat()


def test_ticks_go_through_the_named_queue_and_its_limits(sched: Launcher) -> None:
    tick_gate.clear()
    clock = sched.launch()
    DBOS.register_queue("sched-one-at-a-time", worker_concurrency=1)
    DBOS.create_schedule(schedule_name="q", workflow_fn=gated_tick, schedule="*/10 * * * * *",
                         queue_name="sched-one-at-a-time")
    assert DBOS.get_schedule("q")["queue_name"] == "sched-one-at-a-time"  # type: ignore[index]
    clock.advance(20)
    first, second = "sched-q-2030-01-01T00:00:10+00:00", "sched-q-2030-01-01T00:00:20+00:00"
    assert status_queue(first) == status_queue(second) == "sched-one-at-a-time"
    handle = DBOS.retrieve_workflow(first)
    while DBOS.get_workflow_status(first).status != "PENDING":  # type: ignore[union-attr]
        handle.get_status()  # the first is dispatched at once
    assert DBOS.get_workflow_status(second).status == "ENQUEUED"  # type: ignore[union-attr]
    trigger = DBOS.trigger_schedule("q")
    assert status_queue(trigger.workflow_id) == "sched-one-at-a-time"
    tick_gate.set()
    assert result(second) == "2030-01-01T00:00:20+00:00"
    assert trigger.get_result() is not None


def test_ticks_without_a_queue_name_go_through_dbos_internal_queue(sched: Launcher) -> None:
    @DBOS.scheduled("*/10 * * * * *")
    @DBOS.workflow()
    def decorated(scheduled_time: datetime, actual_time: datetime) -> None:
        record(scheduled_time, actual_time)

    clock = sched.launch()
    DBOS.create_schedule(schedule_name="plain", workflow_fn=report, schedule="*/10 * * * * *")
    clock.advance(10)
    tick = "2030-01-01T00:00:10+00:00"
    result(f"sched-{decorated.__qualname__}-{tick}")
    result(f"sched-plain-{tick}")
    assert status_queue(f"sched-{decorated.__qualname__}-{tick}") == INTERNAL_QUEUE
    assert status_queue(f"sched-plain-{tick}") == INTERNAL_QUEUE
    assert status_queue(DBOS.backfill_schedule("plain", datetime(2029, 12, 31, 23, 59, 55),
                                               datetime(2030, 1, 1, 0, 0, 1))[0].workflow_id) == INTERNAL_QUEUE


def test_a_schedule_needs_a_declared_queue_and_a_real_zone(sched: Launcher) -> None:
    sched.launch()
    with pytest.raises(DBOSException, match=r"^DBOS Error: Invalid timezone: ''$"):  # DBOS: ZoneInfo("") fails
        DBOS.create_schedule(schedule_name="x", workflow_fn=report, schedule="* * * * *", cron_timezone="")
    with pytest.raises(DBOSException, match=r"^DBOS Error: Queue 'nowhere' is not declared\. Please create the "
                                            r"queue before using it in a schedule\.$"):
        DBOS.create_schedule(schedule_name="x", workflow_fn=report, schedule="* * * * *", queue_name="nowhere")
    assert DBOS.list_schedules() == []
    assert calls == []
