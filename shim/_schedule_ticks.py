"""When a schedule fires: its ticks, read in the schedule's time zone as DBOS reads them.

DBOS evaluates a schedule's cron in ``cron_timezone`` (``ZoneInfo(name)``; UTC, as
``datetime.timezone.utc``, when there is none) and hands each tick to the workflow, and into its
workflow id, as a datetime in that zone: ``sched-nightly-2030-01-15T02:00:00-05:00``. A source keeps
its next tick as a UTC instant, because Python compares two datetimes of the same ``ZoneInfo`` by
wall time and ignores ``fold``, which would order the two 01:30s of a fall-back night wrongly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from shim.cron import CronSpec, next_fire_times

_BATCH = 256


def zone_of(cron_timezone: str | None) -> tzinfo:
    """The zone a schedule's cron is read in, as DBOS builds it."""
    return ZoneInfo(cron_timezone) if cron_timezone else UTC


def as_utc(moment: datetime) -> datetime:
    """An instant in UTC; a naive datetime is taken to be UTC, as DBOS does."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def first_tick(cron: CronSpec, after: datetime, zone: tzinfo = UTC) -> datetime | None:
    """The first tick strictly after ``after``, in ``zone``."""
    ticks = next_fire_times(cron, 1, after, zone)
    return ticks[0] if ticks else None


def ticks_between(cron: CronSpec, start: datetime, end: datetime, zone: tzinfo = UTC) -> list[datetime]:
    """Ticks strictly after ``start`` and strictly before ``end`` (naive: UTC), in ``zone``."""
    ticks: list[datetime] = []
    cursor, end = as_utc(start), as_utc(end)
    while True:
        batch = next_fire_times(cron, _BATCH, cursor, zone)
        for tick in batch:
            if as_utc(tick) >= end:
                return ticks
            ticks.append(tick)
        if len(batch) < _BATCH:
            return ticks
        cursor = as_utc(batch[-1])


@dataclass(eq=False)
class Source:
    """One schedule that fires: its cron, its zone and its next tick (a UTC instant, None: never)."""

    key: str
    cron: CronSpec
    zone: tzinfo
    next_at: datetime | None

    @classmethod
    def starting(cls, key: str, cron: CronSpec, zone: tzinfo, now: datetime, **more: Any) -> Source:
        """A source whose first tick is the first one strictly after ``now``, as a DBOS scheduler starts."""
        tick = first_tick(cron, now, zone)
        return cls(key, cron, zone, None if tick is None else as_utc(tick), **more)

    @property
    def local(self) -> datetime:
        """The next tick as DBOS passes it on: in the schedule's zone."""
        assert self.next_at is not None
        return self.next_at.astimezone(self.zone)

    def advance(self) -> None:
        assert self.next_at is not None
        following = first_tick(self.cron, self.next_at, self.zone)
        self.next_at = None if following is None else as_utc(following)


@dataclass(eq=False)
class DecoratedSource(Source):
    func: Callable[..., Any] = field(default=lambda: None)
    warned: bool = False


@dataclass(eq=False)
class DynamicSource(Source):
    row: dict[str, Any] = field(default_factory=dict)
    signature: tuple[Any, ...] = ()


def signature(row: dict[str, Any]) -> tuple[Any, ...]:
    """The fields whose change restarts a running schedule, as in DBOS."""
    return (row["workflow_name"], row["workflow_class_name"], row["schedule"], row["context"],
            row.get("cron_timezone"), row.get("queue_name"))
