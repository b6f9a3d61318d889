"""The typed dicts of DBOS's schedule API: a stored schedule (what ``get_schedule`` and
``list_schedules`` return) and an ``apply_schedules`` entry, of DBOS and of ``DBOSClient``. Same keys as dbos
2.31."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any, TypedDict


class WorkflowSchedule(TypedDict):
    schedule_id: str
    schedule_name: str
    workflow_name: str
    workflow_class_name: str | None
    schedule: str
    status: str
    context: Any
    last_fired_at: str | None
    automatic_backfill: bool
    cron_timezone: str | None
    queue_name: str | None
    application_name: str | None


class ScheduleInput(TypedDict, total=False):
    schedule_name: str
    workflow_fn: Callable[[datetime, Any], None] | Callable[[datetime, Any], Coroutine[Any, Any, None]]
    schedule: str
    context: Any
    automatic_backfill: bool
    cron_timezone: str | None
    queue_name: str | None


class ClientScheduleInput(TypedDict, total=False):
    """An ``apply_schedules`` entry of ``DBOSClient``: the workflow by name. Same keys as dbos 2.31."""

    schedule_name: str
    workflow_name: str
    workflow_class_name: str | None
    schedule: str
    context: Any
    automatic_backfill: bool
    cron_timezone: str | None
    queue_name: str | None
    application_name: str | None
