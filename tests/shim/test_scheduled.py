"""Scheduled work on the shim, driven by a hand-moved clock: ``@DBOS.scheduled`` and the
``DBOS.create_schedule`` family. Every expectation here is what DBOS 2.31 does (its behaviour is
checked against the real package in test_scheduled_dbos.py); nothing here sleeps or times anything.

Time starts at T0 = 2030-01-01 00:00:00.5 UTC; ``at(s)`` is T0's minute plus s seconds.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import shim._dbos as shim_dbos
from shim import DBOS, _scheduler
from shim._scheduler import ManualClock, Scheduler, ScheduleStore, use_clock
from shim.cron import CronError
from shim.errors import DBOSException, DBOSWorkflowFunctionNotFoundError, ShimUnsupportedError

T0 = datetime(2030, 1, 1, 0, 0, 0, 500_000, tzinfo=UTC)
APP = "sched-tests"

runs: Counter[str] = Counter()  # workflow id -> times its body ran (survives DBOS.destroy)
calls: list[tuple[str | None, datetime, Any]] = []
calls_lock = threading.Lock()


def at(seconds: float) -> datetime:
    return datetime(2030, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)


def iso(seconds: float) -> str:
    return at(seconds).isoformat()


def record(first: datetime, second: Any) -> None:
    workflow_id = DBOS.workflow_id
    with calls_lock:
        runs[workflow_id or ""] += 1
        calls.append((workflow_id, first, second))


@DBOS.workflow()
def report(scheduled_at: datetime, context: Any) -> list[Any]:
    record(scheduled_at, context)
    return [scheduled_at, context]


@DBOS.workflow()
def other_report(scheduled_at: datetime, context: Any) -> None:
    record(scheduled_at, context)


@DBOS.step()
def a_step() -> int | None:
    return DBOS.step_id


def result(workflow_id: str) -> Any:
    return DBOS.retrieve_workflow(workflow_id).get_result()


def exists(workflow_id: str) -> bool:
    return DBOS.get_workflow_status(workflow_id) is not None


class Launcher:
    """Launches the shim with a ManualClock; decorated schedules a test declares end with the test."""

    def __init__(self) -> None:
        self.clock = ManualClock(T0)
        self.database_url = "sqlite:///:memory:"
        self.registry = shim_dbos._registry
        self._decorated = list(_scheduler._decorated.get(self.registry, []))

    def launch(self, clock: ManualClock | None = None) -> ManualClock:
        if clock is not None:
            self.clock = clock
        with use_clock(self.clock):
            DBOS(config={"name": APP, "system_database_url": self.database_url})
            DBOS.launch()
        self.clock.settle()  # the scheduler's first round (start-up backfill included) is done
        return self.clock

    def close(self) -> None:
        DBOS.destroy()
        _scheduler._decorated[self.registry] = self._decorated


@pytest.fixture
def sched() -> Iterator[Launcher]:
    runs.clear()
    calls.clear()
    launcher = Launcher()
    yield launcher
    launcher.close()


@pytest.fixture
def launched(sched: Launcher) -> ManualClock:
    return sched.launch()


def scheduler() -> Scheduler:
    assert shim_dbos._instance is not None and shim_dbos._instance.launched is not None
    return shim_dbos._instance.launched.scheduler


# -- @DBOS.scheduled --------------------------------------------------------------------------------


def test_decorated_schedule_fires_each_tick_with_its_scheduled_and_actual_time(sched: Launcher) -> None:
    @DBOS.scheduled("*/5 * * * * *")
    @DBOS.workflow()
    def every_five(scheduled_time: datetime, actual_time: datetime) -> None:
        record(scheduled_time, actual_time)

    clock = sched.launch()
    name = every_five.__qualname__
    assert calls == []

    clock.advance(4.5)  # now exactly 00:00:05: that tick is due
    assert result(f"sched-{name}-{iso(5)}") is None
    assert calls == [(f"sched-{name}-{iso(5)}", at(5), at(5))]
    scheduled_time, actual_time = calls[0][1], calls[0][2]
    assert scheduled_time.tzinfo is UTC and actual_time.tzinfo is UTC

    clock.advance(4.9)  # 00:00:09.9: nothing due
    assert len(calls) == 1

    clock.set(at(21))  # late: 10, 15 and 20 are each fired once, in order, at 21 (as DBOS catches up)
    for s in (10, 15, 20):
        result(f"sched-{name}-{iso(s)}")
    assert sorted(calls[1:]) == [(f"sched-{name}-{iso(s)}", at(s), at(21)) for s in (10, 15, 20)]
    assert all(count == 1 for count in runs.values())


def test_a_schedule_fires_nothing_before_its_first_tick_after_launch(sched: Launcher) -> None:
    @DBOS.scheduled("0 * * * * *")  # second 0 of every minute; T0 is half a second past one
    @DBOS.workflow()
    def every_minute(scheduled_time: datetime, actual_time: datetime) -> None:
        record(scheduled_time, actual_time)

    clock = sched.launch()
    clock.advance(59)
    assert calls == []
    clock.advance(1)
    assert result(f"sched-{every_minute.__qualname__}-{iso(60)}") is None
    assert [c[1] for c in calls] == [at(60)]


def test_a_tick_fired_twice_runs_once(sched: Launcher) -> None:
    """A second scheduler on the same store (a restart, another process) re-fires a tick: no re-run."""

    @DBOS.scheduled("*/10 * * * * *")
    @DBOS.workflow()
    def every_ten(scheduled_time: datetime, actual_time: datetime) -> None:
        record(scheduled_time, actual_time)

    clock = sched.launch()
    DBOS.create_schedule(schedule_name="ten", workflow_fn=report, schedule="*/10 * * * * *", context="c")
    clock.advance(9.5)
    decorated_id, dynamic_id = f"sched-{every_ten.__qualname__}-{iso(10)}", f"sched-ten-{iso(10)}"
    result(decorated_id), result(dynamic_id)

    first = scheduler()
    replica = Scheduler(first.operations, first.registry, APP, clock=ManualClock(T0))
    assert replica.step() == at(10)  # it starts where the first one started, and fires the same ticks
    replica.clock.set(at(10))  # type: ignore[attr-defined]
    replica.step()
    result(decorated_id), result(dynamic_id)
    assert runs == {decorated_id: 1, dynamic_id: 1}


def test_async_scheduled_workflows_fire_too(sched: Launcher) -> None:
    @DBOS.scheduled("*/10 * * * * *")
    @DBOS.workflow()
    async def async_ticker(scheduled_time: datetime, actual_time: datetime) -> str:
        await asyncio.sleep(0)
        record(scheduled_time, actual_time)
        return DBOS.workflow_id or ""

    clock = sched.launch()
    clock.advance(9.5)
    workflow_id = f"sched-{async_ticker.__qualname__}-{iso(10)}"
    assert result(workflow_id) == workflow_id
    assert calls == [(workflow_id, at(10), at(10))]


def test_invalid_cron_is_rejected_at_decoration_as_dbos_does() -> None:
    @DBOS.workflow()
    def nightly(scheduled_time: datetime, actual_time: datetime) -> None:
        pass

    def plain(scheduled_time: datetime, actual_time: datetime) -> None:
        pass

    with pytest.raises(CronError) as raised:
        DBOS.scheduled("61 * * * * *")(nightly)
    assert isinstance(raised.value, ValueError)
    assert str(raised.value).startswith(
        f'Invalid crontab "61 * * * * *" for scheduled function function {nightly.__qualname__}.'
    )
    assert raised.value.field == "second"
    # DBOS asks a plain function for its workflow name while reporting the crontab, and fails there
    with pytest.raises(DBOSWorkflowFunctionNotFoundError, match="plain is not a registered workflow function"):
        DBOS.scheduled("61 * * * * *")(plain)
    with pytest.raises(ShimUnsupportedError, match="'R'"):
        DBOS.scheduled("R 0 * * *")(nightly)


# -- restarts on the durable store ---------------------------------------------------------------


def test_schedules_and_their_ticks_survive_a_restart(sched: Launcher, tmp_path: Path) -> None:
    """Three lives of one app on one store file: schedules persist; ticks missed while down are
    skipped (DBOS's default) or backfilled (automatic_backfill=True); re-firing a tick never re-runs it."""
    sched.database_url = f"sqlite:///{tmp_path / 'app.sqlite'}"

    @DBOS.scheduled("*/10 * * * * *")
    @DBOS.workflow()
    def ticker(scheduled_time: datetime, actual_time: datetime) -> None:
        record(scheduled_time, actual_time)

    def restart(clock: ManualClock) -> ManualClock:
        DBOS.destroy()
        return sched.launch(clock)

    decorated = f"sched-{ticker.__qualname__}-"
    clock = sched.launch()
    DBOS.create_schedule(schedule_name="plain", workflow_fn=report, schedule="*/10 * * * * *", context=1)
    DBOS.create_schedule(schedule_name="catch-up", workflow_fn=report, schedule="*/10 * * * * *", context=2,
                         automatic_backfill=True)
    clock.advance(9.5)
    for prefix in (decorated, "sched-plain-", "sched-catch-up-"):
        result(prefix + iso(10))

    # Second life, 35 s later: 20, 30 and 40 fell while nothing ran.
    clock = restart(ManualClock(at(45.5)))
    assert sorted(s["schedule_name"] for s in DBOS.list_schedules()) == ["catch-up", "plain"]
    assert DBOS.get_schedule("plain")["last_fired_at"] == iso(10)  # type: ignore[index]
    for s in (20, 30, 40):
        assert result(f"sched-catch-up-{iso(s)}") == [at(s), 2]
        assert not exists(decorated + iso(s)) and not exists(f"sched-plain-{iso(s)}")
    clock.advance(4.5)
    for prefix in (decorated, "sched-plain-", "sched-catch-up-"):
        result(prefix + iso(50))

    # Third life, on a clock behind the store (a replica whose clock lags): 50 fires again.
    clock = restart(ManualClock(at(45.5)))
    clock.advance(4.5)
    for prefix in (decorated, "sched-plain-", "sched-catch-up-"):
        result(prefix + iso(50))
    assert set(runs.values()) == {1}
    assert len(runs) == 3 * 2 + 3  # 10 and 50 of each schedule, and 20-40 backfilled for one
    DBOS.destroy()


# -- the schedule API -------------------------------------------------------------------------------


def test_create_get_and_list_return_dbos_rows(launched: ManualClock) -> None:
    DBOS.create_schedule(schedule_name="daily-a", workflow_fn=report, schedule="0 0 * * *", context={"k": 1})
    DBOS.create_schedule(schedule_name="daily-b", workflow_fn=other_report, schedule="0 0 * * *")
    row = DBOS.get_schedule("daily-a")
    assert row is not None
    assert list(row) == ["schedule_id", "schedule_name", "workflow_name", "workflow_class_name", "schedule",
                         "status", "context", "last_fired_at", "automatic_backfill", "cron_timezone",
                         "queue_name", "application_name"]
    assert {k: v for k, v in row.items() if k != "schedule_id"} == {
        "schedule_name": "daily-a", "workflow_name": "report", "workflow_class_name": None,
        "schedule": "0 0 * * *", "status": "ACTIVE", "context": {"k": 1}, "last_fired_at": None,
        "automatic_backfill": False, "cron_timezone": None, "queue_name": None, "application_name": APP,
    }
    assert DBOS.get_schedule("nope") is None
    names = lambda rows: sorted(r["schedule_name"] for r in rows)  # noqa: E731
    assert names(DBOS.list_schedules()) == ["daily-a", "daily-b"]
    assert names(DBOS.list_schedules(workflow_name="other_report")) == ["daily-b"]
    assert names(DBOS.list_schedules(schedule_name_prefix=["daily-a", "x"])) == ["daily-a"]
    DBOS.pause_schedule("daily-b")
    assert names(DBOS.list_schedules(status="PAUSED")) == ["daily-b"]
    assert names(DBOS.list_schedules(status=["ACTIVE", "PAUSED"])) == ["daily-a", "daily-b"]
    assert names(DBOS.list_schedules(application_name="another-app")) == []
    assert names(DBOS.list_schedules(application_name=[])) == ["daily-a", "daily-b"]


def test_create_schedule_checks_as_dbos_does(launched: ManualClock) -> None:
    DBOS.create_schedule(schedule_name="s", workflow_fn=report, schedule="* * * * *")
    with pytest.raises(DBOSException, match=r"^DBOS Error: Schedule 's' already exists$"):
        DBOS.create_schedule(schedule_name="s", workflow_fn=report, schedule="* * * * *")
    with pytest.raises(DBOSException, match=r"^DBOS Error: Invalid cron schedule: '61 \* \* \* \* \*'$"):
        DBOS.create_schedule(schedule_name="t", workflow_fn=report, schedule="61 * * * * *")

    def not_a_workflow(scheduled_at: datetime, context: Any) -> None:
        pass

    with pytest.raises(DBOSWorkflowFunctionNotFoundError, match="not_a_workflow is not a registered workflow"):
        DBOS.create_schedule(schedule_name="t", workflow_fn=not_a_workflow, schedule="* * * * *")
    with pytest.raises(DBOSException, match="Invalid timezone: 'Mars/Olympus'"):
        DBOS.create_schedule(schedule_name="t", workflow_fn=report, schedule="* * * * *", cron_timezone="Mars/Olympus")
    with pytest.raises(DBOSException, match=r"Queue 'q' is not declared\. Please create the queue before using it"):
        DBOS.create_schedule(schedule_name="t", workflow_fn=report, schedule="* * * * *", queue_name="q")
    with pytest.raises(DBOSException, match=r"Queue 'q' is not declared"):
        DBOS.apply_schedules([{"schedule_name": "t", "workflow_fn": report, "schedule": "* * * * *", "queue_name": "q"}])
    DBOS.create_schedule(schedule_name="utc", workflow_fn=report, schedule="* * * * *", cron_timezone="UTC")
    with pytest.raises(DBOSException, match="Schedule entry 0 is missing required field 'workflow_fn'"):
        DBOS.apply_schedules([{"schedule_name": "x", "schedule": "* * * * *"}])  # type: ignore[list-item]
    with pytest.raises(DBOSException, match="Schedule 'nope' does not exist"):
        DBOS.trigger_schedule("nope")
    with pytest.raises(DBOSException, match="Schedule 'nope' does not exist"):
        DBOS.backfill_schedule("nope", at(0), at(10))
    DBOS.pause_schedule("nope"), DBOS.resume_schedule("nope"), DBOS.delete_schedule("nope")  # no-ops
    assert sorted(s["schedule_name"] for s in DBOS.list_schedules()) == ["s", "utc"]


def test_the_schedule_api_needs_a_launched_dbos() -> None:
    with pytest.raises(DBOSException, match="System database accessed before DBOS was launched"):
        DBOS.list_schedules()


def test_pause_resume_and_delete(launched: ManualClock) -> None:
    clock = launched
    DBOS.create_schedule(schedule_name="p", workflow_fn=report, schedule="*/10 * * * * *")
    DBOS.create_schedule(schedule_name="b", workflow_fn=report, schedule="*/10 * * * * *", automatic_backfill=True)
    clock.advance(9.5)
    result(f"sched-p-{iso(10)}"), result(f"sched-b-{iso(10)}")
    DBOS.pause_schedule("p")
    DBOS.pause_schedule("b")
    assert DBOS.get_schedule("p")["status"] == "PAUSED"  # type: ignore[index]
    clock.set(at(35))
    assert not exists(f"sched-p-{iso(20)}") and not exists(f"sched-b-{iso(20)}")
    DBOS.resume_schedule("p")  # no backfill: the ticks of the pause are skipped
    DBOS.resume_schedule("b")  # automatic_backfill: resuming fires them, as DBOS does
    clock.settle()
    assert not exists(f"sched-p-{iso(20)}") and not exists(f"sched-p-{iso(30)}")
    assert result(f"sched-b-{iso(20)}") == [at(20), None] and result(f"sched-b-{iso(30)}") == [at(30), None]
    clock.set(at(40))
    result(f"sched-p-{iso(40)}"), result(f"sched-b-{iso(40)}")
    DBOS.delete_schedule("p")
    assert DBOS.get_schedule("p") is None
    clock.set(at(50))
    result(f"sched-b-{iso(50)}")
    assert not exists(f"sched-p-{iso(50)}")
    assert set(runs.values()) == {1}


def test_apply_schedules_upserts_and_keeps_status_and_last_fired(launched: ManualClock) -> None:
    clock = launched
    DBOS.apply_schedules([
        {"schedule_name": "a", "workflow_fn": report, "schedule": "*/10 * * * * *", "context": "v1"},
        {"schedule_name": "b", "workflow_fn": report, "schedule": "*/10 * * * * *"},
    ])
    clock.advance(9.5)
    result(f"sched-a-{iso(10)}")
    before = DBOS.get_schedule("a")
    DBOS.pause_schedule("b")
    DBOS.apply_schedules([
        {"schedule_name": "a", "workflow_fn": other_report, "schedule": "*/15 * * * * *", "context": "v2"},
        {"schedule_name": "b", "workflow_fn": report, "schedule": "*/10 * * * * *", "context": "x"},
    ])
    after, paused = DBOS.get_schedule("a"), DBOS.get_schedule("b")
    assert after is not None and before is not None and paused is not None
    assert after["schedule_id"] == before["schedule_id"] and after["last_fired_at"] == iso(10)
    assert (after["workflow_name"], after["schedule"], after["context"]) == ("other_report", "*/15 * * * * *", "v2")
    assert paused["status"] == "PAUSED" and paused["context"] == "x"
    clock.set(at(30))  # the new definition runs from when it was applied: 15 and 30
    result(f"sched-a-{iso(15)}"), result(f"sched-a-{iso(30)}")
    assert not exists(f"sched-a-{iso(20)}") and not exists(f"sched-b-{iso(20)}")
    assert (f"sched-a-{iso(30)}", at(30), "v2") in calls


def test_trigger_and_backfill(launched: ManualClock) -> None:
    DBOS.create_schedule(schedule_name="h", workflow_fn=report, schedule="0 0 * * * *", context="ctx")
    handle = DBOS.trigger_schedule("h")
    assert handle.workflow_id == f"sched-h-trigger-{T0.isoformat()}"
    assert handle.get_result() == [T0, "ctx"]

    handles = DBOS.backfill_schedule("h", datetime(2029, 12, 31, 21), datetime(2030, 1, 1, 0))  # naive = UTC
    hour = lambda h: datetime(2029, 12, 31, h, tzinfo=UTC)  # noqa: E731
    assert [h.workflow_id for h in handles] == [f"sched-h-{hour(22).isoformat()}", f"sched-h-{hour(23).isoformat()}"]
    assert [h.get_result() for h in handles] == [[hour(22), "ctx"], [hour(23), "ctx"]]
    again = DBOS.backfill_schedule("h", datetime(2029, 12, 31, 21, tzinfo=UTC), datetime(2030, 1, 1, 0, 0, 1, tzinfo=UTC))
    assert [h.workflow_id for h in again] == [h.workflow_id for h in handles] + [f"sched-h-{iso(0)}"]
    again[-1].get_result()
    assert set(runs.values()) == {1} and len(runs) == 4
    DBOS.pause_schedule("h")  # a paused schedule can still be triggered and backfilled, as in DBOS
    assert DBOS.trigger_schedule("h").get_result() == [T0, "ctx"]


@DBOS.workflow()
def schedules_from_a_workflow() -> dict[str, Any]:
    DBOS.create_schedule(schedule_name="inner", workflow_fn=report, schedule="0 0 * * *")
    found = DBOS.get_schedule("inner")
    refused = {}
    for name, call in (("apply", lambda: DBOS.apply_schedules([])),
                       ("trigger", lambda: DBOS.trigger_schedule("inner")),
                       ("backfill", lambda: DBOS.backfill_schedule("inner", T0, T0))):
        try:
            call()
        except DBOSException as exc:
            refused[name] = str(exc)
    return {"found": found is not None, "next_step_id": a_step(), "refused": refused}


def test_schedule_calls_inside_a_workflow_are_steps_or_refused(launched: ManualClock) -> None:
    outcome = schedules_from_a_workflow()
    assert outcome == {
        "found": True,
        "next_step_id": 3,  # createSchedule and getSchedule each took a step id, as in DBOS
        "refused": {
            "apply": "DBOS Error: DBOS.apply_schedules cannot be called from within a workflow",
            "trigger": "DBOS Error: DBOS.trigger_schedule cannot be called from within a workflow",
            "backfill": "DBOS Error: DBOS.backfill_schedule cannot be called from within a workflow",
        },
    }


def test_async_forms(launched: ManualClock) -> None:
    async def scenario() -> list[str]:
        await DBOS.create_schedule_async(schedule_name="x", workflow_fn=report, schedule="0 0 * * *")
        await DBOS.apply_schedules_async([{"schedule_name": "y", "workflow_fn": report, "schedule": "0 0 * * *"}])
        assert (await DBOS.get_schedule_async("x")) is not None
        await DBOS.delete_schedule_async("x")
        return [s["schedule_name"] for s in await DBOS.list_schedules_async()]

    assert asyncio.run(scenario()) == ["y"]


# -- the stored table ---------------------------------------------------------------------------------


def test_ticks_do_not_rewrite_the_schedule_table_each_time(launched: ManualClock) -> None:
    clock, store = launched, scheduler().store
    DBOS.create_schedule(schedule_name="plain", workflow_fn=report, schedule="* * * * * *")
    DBOS.create_schedule(schedule_name="backfilled", workflow_fn=report, schedule="* * * * * *",
                         automatic_backfill=True)
    created = store.version
    for _ in range(5):
        clock.advance(30)
    result(f"sched-plain-{iso(150)}"), result(f"sched-backfilled-{iso(150)}")
    assert len(runs) == 2 * 150
    # last_fired_at of the automatic_backfill schedule is written at most once a minute
    assert created < store.version <= created + 3
    assert DBOS.get_schedule("plain")["last_fired_at"] == iso(150)  # type: ignore[index]


def test_concurrent_writers_of_the_schedule_table_lose_nothing(launched: ManualClock) -> None:
    first = scheduler()
    bridge, resonate = first.bridge, first.operations.engine.resonate
    a, b = ScheduleStore(resonate), ScheduleStore(resonate)

    def put(name: str) -> Callable[[dict[str, dict[str, Any]]], None]:
        # rows of another application: the running scheduler leaves them alone
        return lambda table: table.__setitem__(name, {"schedule_name": name, "application_name": "elsewhere"})

    bridge.call(a.read()), bridge.call(b.read())
    bridge.call(a.update(put("from-a")))
    bridge.call(b.update(put("from-b")))  # b's view is stale: its first try loses the race, then retries
    assert sorted(bridge.call(ScheduleStore(resonate).read())) == ["from-a", "from-b"]
    assert b.version == a.version + 1
