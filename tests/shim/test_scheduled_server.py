"""Schedules on a Resonate server: the server fires what a 5-field cron says, the shim the rest.

The server is the project's own (``dbos2resonate serve``'s ProtocolServer over HTTP, in this
process so that its clock can be moved by hand); the shim runs in server mode against it with a
ManualClock. Nothing here sleeps: a test waits for a workflow body to announce itself.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Self

import pytest

import shim._dbos as shim_dbos
from shim import DBOS, _scheduler
from shim._schedule_server import SCHEDULE_PREFIX, TICK_PREFIX
from shim._scheduler import ManualClock, use_clock
from shim.store._journaled import JournaledState
from shim.store.server import ProtocolServer, serve

T0 = datetime(2030, 1, 1, 0, 0, 0, 500_000, tzinfo=UTC)
WAIT = 30.0
fired: dict[str, threading.Event] = {}
arguments: dict[str, tuple[Any, Any]] = {}


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def at(seconds: float) -> datetime:
    return datetime(2030, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)


def announce(first: Any, second: Any) -> None:
    workflow_id = DBOS.workflow_id or ""
    arguments[workflow_id] = (first, second)
    fired.setdefault(workflow_id, threading.Event()).set()


def wait_for(workflow_id: str) -> tuple[Any, Any]:
    assert fired.setdefault(workflow_id, threading.Event()).wait(WAIT), f"{workflow_id} never ran"
    return arguments[workflow_id]


@DBOS.workflow()
def on_server_tick(scheduled_at: datetime, context: Any) -> None:
    announce(scheduled_at, context)


class ServedStore:
    """An in-memory ``dbos2resonate serve`` on a free port whose clock moves only by hand."""

    def __init__(self, start: datetime) -> None:
        self.now_ms = ms(start)
        self.url = ""
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._stopping: asyncio.Event | None = None
        self.store = JournaledState(None, compact_after=10_000, checkpoint_every=None)
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def main() -> None:
            self._stopping = asyncio.Event()
            server = ProtocolServer(self.store, clock=lambda: self.now_ms)
            await serve(server, "127.0.0.1", 0, self._stopping, self._announce)

        self._loop.run_until_complete(main())

    def _announce(self, url: str) -> None:
        self.url = url
        self._ready.set()

    def __enter__(self) -> Self:
        self._thread.start()
        assert self._ready.wait(WAIT), "the server did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        stopping = self._stopping
        if stopping is not None:
            self._loop.call_soon_threadsafe(stopping.set)
        self._thread.join(WAIT)
        self.store.close()

    def set(self, moment: datetime) -> None:
        self.now_ms = ms(moment)

    def schedule_ids(self) -> list[str]:
        return sorted(s for s in self.store.state.schedules if s.startswith(SCHEDULE_PREFIX))

    def tick_promises(self) -> list[str]:
        return sorted(p for p in self.store.state.promises if p.startswith(TICK_PREFIX))


@pytest.fixture
def served() -> Iterator[tuple[ServedStore, ManualClock]]:
    fired.clear()
    arguments.clear()
    registry = shim_dbos._registry
    decorated = list(_scheduler._decorated.get(registry, []))
    clock = ManualClock(T0)
    with ServedStore(T0) as server:
        with use_clock(clock):
            DBOS(config={"name": "sched-server", "resonate_url": server.url})
            DBOS.launch()
        clock.settle()
        try:
            yield server, clock
        finally:
            DBOS.destroy()
            _scheduler._decorated[registry] = decorated


def test_the_server_fires_a_minute_schedule_and_the_shim_a_sub_minute_one(
        served: tuple[ServedStore, ManualClock]) -> None:
    server, clock = served
    DBOS.create_schedule(schedule_name="minute", workflow_fn=on_server_tick, schedule="30 * * * * *", context="m")
    DBOS.create_schedule(schedule_name="fast", workflow_fn=on_server_tick, schedule="*/20 * * * * *", context="f")
    clock.settle()
    (registered,) = server.schedule_ids()  # one: "every 20 s" has no 5-field form
    assert server.store.state.schedules[registered].cron == "* * * * *"

    clock.set(at(90))  # the shim fires its own schedule; the server's minute has not come on its clock
    assert wait_for("sched-fast-2030-01-01T00:01:20+00:00") == (at(80), "f")
    assert server.tick_promises() == []
    assert "sched-minute-2030-01-01T00:00:30+00:00" not in fired  # the shim leaves it to the server

    server.set(at(60))  # the server's run of minute 1 reaches this worker: DBOS's tick is 30 s after it
    scheduled_at, context = wait_for("sched-minute-2030-01-01T00:01:30+00:00")
    assert (scheduled_at, context) == (at(90), "m")
    status = DBOS.get_workflow_status("sched-minute-2030-01-01T00:01:30+00:00")
    assert status is not None and (status.queue_name, status.schedule_name) == ("_dbos_internal_queue", "minute")
    assert server.tick_promises() == [f"{TICK_PREFIX}{registered}/{ms(at(60))}"]

    DBOS.pause_schedule("minute")  # the server stops firing it
    clock.settle()
    assert server.schedule_ids() == []


def test_the_server_fires_a_decorated_schedule_with_dbos_arguments(served: tuple[ServedStore, ManualClock]) -> None:
    server, clock = served

    @DBOS.scheduled("0 */2 * * * *")
    @DBOS.workflow()
    def every_two_minutes(scheduled_time: datetime, actual_time: datetime) -> None:
        announce(scheduled_time, actual_time)

    DBOS.destroy()  # decorated schedules start at launch
    with use_clock(clock):
        DBOS(config={"name": "sched-server", "resonate_url": server.url})
        DBOS.launch()
    clock.settle()
    (registered,) = server.schedule_ids()
    assert server.store.state.schedules[registered].cron == "*/2 * * * *"
    clock.set(at(125))
    server.set(at(120))
    workflow_id = f"sched-{every_two_minutes.__qualname__}-2030-01-01T00:02:00+00:00"
    scheduled_time, actual_time = wait_for(workflow_id)
    assert scheduled_time == at(120) and actual_time == at(125)  # actual: when this worker enqueued it
    status = DBOS.get_workflow_status(workflow_id)
    assert status is not None and (status.queue_name, status.schedule_name) == ("_dbos_internal_queue", None)


def test_a_tick_older_than_the_worker_is_skipped_as_dbos_skips_ticks_missed_while_down() -> None:
    from shim._schedule_server import ServerFiring

    firing = ServerFiring(None, None, "group", "app", lambda: None)  # type: ignore[arg-type]  # hand-over only
    firing.started_at = at(60)
    assert firing.hand("schedule/x", at(30)).result(0).startswith("skipped")
    pending = firing.hand("schedule/x", at(90))
    assert not pending.done() and firing.next_due() == at(90)
    assert firing.due(at(89)) == [] and [t for t, _, _ in firing.due(at(90))] == [at(90)]
