"""Schedules a Resonate server fires, when the shim runs on one (``RESONATE_URL``).

A schedule whose cron a 5-field cron says exactly (``shim.cron.to_resonate``: EXACT, or
EXACT_WITH_OFFSET, a fixed number of seconds after each minute tick) and that is read in UTC is
registered with ``resonate.schedules.create``. The server then decides which ticks happen, durably
and once each, whichever workers come and go. Each run creates the promise

    dbos2resonate-tick/{server schedule id}/{run time, ms since the epoch}

routed to the application's worker group. Its task runs ``dbos2resonate.schedule_tick`` on one
worker, which hands the tick (run time + offset) to that worker's scheduler: the scheduler enqueues
the tick's workflow at its second, under DBOS's workflow id, exactly as a tick it computed itself,
and only then is the task completed. A worker that dies before that leaves the task to another
worker once its lease lapses. A tick that reaches a worker started after it (no worker was up when
it fell) is skipped, as DBOS skips ticks that fell while nothing ran.

The shim keeps firing the rest itself: sub-minute crons (a 5-field cron fires at most once a minute),
schedules in a zone other than UTC (the server reads cron in UTC, and a zone with daylight saving has
no fixed UTC cron), and every schedule on the embedded store (local mode never fires schedules).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING
from urllib.parse import quote
from zoneinfo import ZoneInfo

from resonate.error import ResonateError
from resonate.types import Value

from shim._records import is_not_found
from shim.cron import CronSpec, NotExpressible, offset_delta, to_resonate

if TYPE_CHECKING:
    from resonate.context import Context
    from resonate.resonate import Resonate

    from shim._runtime import Bridge
    from shim._schedule_ticks import Source

logger = logging.getLogger("dbos")

TICK_FUNCTION = "dbos2resonate.schedule_tick"
SCHEDULE_PREFIX = "dbos2resonate-schedule/"
TICK_PREFIX = "dbos2resonate-tick/"
TICK_TAGS = {"dbos2resonate": "schedule-tick"}
# A tick no worker took within this time is dropped by the server; a worker would skip it anyway.
TICK_TIMEOUT_MS = 60 * 60 * 1000
_UTC_KEYS = frozenset({"UTC", "Etc/UTC", "Etc/Universal", "Universal", "Zulu", "Etc/Zulu"})


@dataclass(frozen=True, slots=True)
class ServerSchedule:
    """A schedule as the server keeps it: its id, 5-field cron and the delay DBOS adds to each run."""

    id: str
    key: str
    cron: str
    offset: timedelta


def reads_utc(zone: tzinfo) -> bool:
    return zone is UTC or (isinstance(zone, ZoneInfo) and zone.key in _UTC_KEYS)


def server_schedule(app: str, key: str, cron: CronSpec, zone: tzinfo) -> ServerSchedule | None:
    """How a server fires this schedule; None if it cannot (sub-minute, a year, a zone, ``R``).

    The id names the cron, so a changed cron is a new server schedule (the old one is deleted)."""
    if not reads_utc(zone):
        return None
    conversion = to_resonate(cron)
    if isinstance(conversion, NotExpressible):
        return None
    offset = offset_delta(conversion)
    digest = hashlib.sha256(f"{conversion.cron}|{offset.total_seconds()}".encode()).hexdigest()[:12]
    schedule_id = f"{SCHEDULE_PREFIX}{quote(app, safe='')}/{quote(key, safe='')}/{digest}"
    return ServerSchedule(schedule_id, key, conversion.cron, offset)


def tick_of(promise_id: str, offset: timedelta) -> datetime:
    """The DBOS tick a server run stands for: its run time (in the promise id) plus the offset."""
    run_ms = int(promise_id.rsplit("/", 1)[1])
    return datetime.fromtimestamp(run_ms // 1000, UTC) + offset


async def create(resonate: Resonate, schedule: ServerSchedule, group: str) -> None:
    """Register ``schedule`` on the server (an existing id is left as it is)."""
    param = {"func": TICK_FUNCTION, "args": [schedule.key, schedule.offset.total_seconds()], "kwargs": {},
             "version": 1}
    tags = {"resonate:target": f"poll://any@{group}", **TICK_TAGS}
    await resonate.schedules.create(schedule.id, schedule.cron, TICK_PREFIX + "{{.id}}/{{.timestamp}}",
                                    TICK_TIMEOUT_MS, Value(data=param), tags)


async def delete(resonate: Resonate, schedule_id: str) -> None:
    try:
        await resonate.schedules.delete(schedule_id)
    except ResonateError as exc:
        if not is_not_found(exc):
            raise


@dataclass(eq=False)
class _Handed:
    """A tick the server fired, waiting in this worker for its second to come."""

    at: datetime  # UTC
    key: str
    done: concurrent.futures.Future[str]


class ServerFiring:
    """The server half of one scheduler: the schedules it registered, and the ticks the server hands it.

    ``adopt`` registers a source's server schedule (the scheduler then stops computing its ticks);
    the registered function (``TICK_FUNCTION``) hands each fired tick over; ``due`` gives the
    scheduler the ticks whose time has come, and it completes each with the workflow id it enqueued.
    """

    def __init__(self, resonate: Resonate, bridge: Bridge, group: str, app: str, wake: Callable[[], None]) -> None:
        self.resonate, self.bridge, self.group, self.app, self.wake = resonate, bridge, group, app, wake
        self.sources: dict[str, Source] = {}  # by key
        self.ids: dict[str, str] = {}  # key -> server schedule id
        self.started_at: datetime | None = None
        self._handed: list[_Handed] = []
        self._lock = threading.Lock()

    def register(self) -> None:
        """Make this worker run the server's ticks (call once, before any ``adopt``)."""
        from shim._engine import NEVER

        async def schedule_tick(ctx: Context, key: str, offset_seconds: float) -> str:
            return await asyncio.wrap_future(self.hand(key, tick_of(ctx.info.id, timedelta(seconds=offset_seconds))))

        async def add() -> None:
            self.resonate.register(schedule_tick, name=TICK_FUNCTION, retry_policy=NEVER)

        self.bridge.call(add())

    def adopt(self, key: str, source: Source) -> bool:
        """Let the server fire ``source`` if it can; False if the scheduler must fire it itself."""
        schedule = server_schedule(self.app, key, source.cron, source.zone)
        if schedule is None:
            return False
        previous = self.ids.get(key)
        if previous is not None and previous != schedule.id:
            self.bridge.call(delete(self.resonate, previous))
        self.bridge.call(create(self.resonate, schedule, self.group))
        self.sources[key], self.ids[key] = source, schedule.id
        source.next_at = None
        return True

    def release(self, key: str) -> None:
        """The schedule stopped (deleted, paused): the server must not fire it any more."""
        self.sources.pop(key, None)
        schedule_id = self.ids.pop(key, None)
        if schedule_id is not None:
            self.bridge.call(delete(self.resonate, schedule_id))

    def hand(self, key: str, at: datetime) -> concurrent.futures.Future[str]:
        """A fired tick arrives (on Resonate's loop): queue it for the scheduler thread."""
        done: concurrent.futures.Future[str] = concurrent.futures.Future()
        if self.started_at is None or at <= self.started_at:
            done.set_result("skipped: the tick fell before this worker started")  # as DBOS: missed while down
            return done
        with self._lock:
            self._handed.append(_Handed(at, key, done))
        self.wake()
        return done

    def due(self, now: datetime) -> list[tuple[datetime, Source | None, concurrent.futures.Future[str]]]:
        """The handed ticks whose time has come, oldest first, with their source (None: unknown here)."""
        with self._lock:
            ready = sorted((h for h in self._handed if h.at <= now), key=lambda h: h.at)
            self._handed = [h for h in self._handed if h.at > now]
        return [(h.at, self.sources.get(h.key), h.done) for h in ready]

    def next_due(self) -> datetime | None:
        with self._lock:
            return min((h.at for h in self._handed), default=None)
