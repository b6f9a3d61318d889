"""Resonate schedules that fire: cron validation, next-run arithmetic, promise templating.

The SDK's local mode stores a schedule and never fires it. The Resonate server
(read from its timeout-processing loop, ``process_schedule_timeouts``) fires a
schedule whose ``nextRunAt`` has passed on every sweep:

* the promise id is the schedule's ``promiseId`` with ``{{.id}}`` replaced by the
  schedule id and ``{{.timestamp}}`` by the fire time in ms (nothing else is
  substituted);
* the promise gets the schedule's ``promiseParam``, ``timeoutAt = fire time +
  promiseTimeout`` (born timed out when the sweep is already past that), and the
  schedule's ``promiseTags`` plus ``resonate:schedule`` = the schedule id and
  ``resonate:origin/branch/parent/prefix`` = the promise id (those win over
  user tags of the same name);
* ``lastRunAt`` becomes the fire time and ``nextRunAt`` the next cron time after
  it -- after the fire time, not after now, so runs missed while the server was
  down are each fired, one per sweep, until the schedule has caught up.

Everything here is a pure function of its arguments (times in ms, cron read in
UTC), which keeps journal replay exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from croniter import croniter
from resonate.connections.local import I64_MAX, ScheduleStub, _get, _i64, require_str

__all__ = ["Schedule", "ScheduleFiring", "arm", "create_schedule", "fire_due"]

_TARGET = "resonate:target"
_CALL_GRAPH_TAGS = ("resonate:origin", "resonate:branch", "resonate:parent", "resonate:prefix")
_CRON_FIELDS = 5


class Schedule(ScheduleStub, kw_only=True):
    """A stored schedule with the run times the SDK's stub leaves at zero."""

    next_run_at: int = 0
    last_run_at: int | None = None

    def to_record(self) -> dict[str, Any]:
        record = super().to_record()
        record["nextRunAt"] = self.next_run_at
        record["lastRunAt"] = self.last_run_at
        return record


@dataclass(frozen=True, slots=True)
class ScheduleFiring:
    """The promise one run of a schedule creates."""

    fired_at: int
    promise_id: str
    timeout_at: int
    param: Any
    tags: dict[str, str]


def cron_error(cron: str) -> str | None:
    """Why ``cron`` is not a 5-field cron expression, or ``None`` when it is one."""
    if len(cron.split()) != _CRON_FIELDS:
        return f"invalid cron {cron!r}: expected 5 fields (minute hour day month weekday)"
    if not croniter.is_valid(cron):
        return f"invalid cron {cron!r}"
    return None


def next_fire(cron: str, after_ms: int) -> int:
    """The first time (ms) strictly after ``after_ms`` that ``cron`` matches, in UTC."""
    start = datetime.fromtimestamp(after_ms / 1000, tz=UTC)
    return int(croniter(cron, start).get_next(float) * 1000)


def arm(schedule: Schedule, now: int) -> None:
    """Set the first run of a schedule stored while schedules did not fire (never, if its cron is invalid)."""
    valid = cron_error(schedule.cron) is None
    schedule.next_run_at = next_fire(schedule.cron, now) if valid else I64_MAX


def create_schedule(
    schedules: dict[str, Schedule], now: int, corr_id: Any, req: Any, *, validate: bool
) -> dict[str, Any]:
    """Answer ``schedule.create``: the SDK's checks, plus cron validation and arming when ``validate``."""
    schedule_id = require_str(req, "id")
    cron = require_str(req, "cron")
    tags = _get(req, "promiseTags")
    error = None
    if not isinstance(tags, dict) or _TARGET not in tags:
        error = "promiseTags must include a resonate:target tag"
    elif validate:
        error = cron_error(cron)
    if error is not None:
        return {"kind": "schedule.create", "corrId": corr_id, "status": 400, "error": error}
    existing = schedules.get(schedule_id)
    if existing is not None:
        return _schedule_answer(corr_id, 200, existing)
    schedule = Schedule(
        id=schedule_id,
        cron=cron,
        promise_id=require_str(req, "promiseId"),
        promise_timeout=_i64(req, "promiseTimeout", 0),
        promise_param=_get(req, "promiseParam"),
        promise_tags=tags,
        created_at=now,
        next_run_at=next_fire(cron, now) if validate else 0,
    )
    schedules[schedule_id] = schedule
    return _schedule_answer(corr_id, 201, schedule)


def fire_due(schedules: dict[str, Schedule], now: int) -> list[ScheduleFiring]:
    """Advance every schedule due at ``now`` by one run and say what each run creates."""
    firings: list[ScheduleFiring] = []
    for schedule in schedules.values():
        if schedule.next_run_at > now:
            continue
        fired_at = schedule.next_run_at
        promise_id = schedule.promise_id.replace("{{.id}}", schedule.id).replace(
            "{{.timestamp}}", str(fired_at)
        )
        user_tags = schedule.promise_tags if isinstance(schedule.promise_tags, dict) else {}
        tags = {k: v for k, v in user_tags.items() if isinstance(v, str)}
        tags["resonate:schedule"] = schedule.id
        tags.update(dict.fromkeys(_CALL_GRAPH_TAGS, promise_id))
        firings.append(
            ScheduleFiring(
                fired_at=fired_at,
                promise_id=promise_id,
                timeout_at=fired_at + schedule.promise_timeout,
                param=schedule.promise_param,
                tags=tags,
            )
        )
        schedule.last_run_at = fired_at
        schedule.next_run_at = next_fire(schedule.cron, fired_at)
    return firings


def _schedule_answer(corr_id: Any, status: int, schedule: Schedule) -> dict[str, Any]:
    return {
        "kind": "schedule.create",
        "corrId": corr_id,
        "status": status,
        "schedule": schedule.to_record(),
    }
