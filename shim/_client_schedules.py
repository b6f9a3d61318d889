"""``DBOSClient``'s schedule API (DBOS 2.31): schedules named by workflow name, written to the same
schedule table the launched application's scheduler reads (``shim._schedule_table``).

A client borrowing the DBOS launched in its process shares that scheduler's table, which applies
a change at once; a client of a Resonate server writes the table on the server, and its workers
pick the change up at their next poll (every 30 s, as DBOS's ``scheduler_polling_interval_sec``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shim import _scheduler
from shim import _serialization as ser
from shim._handles import WorkflowHandle
from shim._schedule_clock import SystemClock, default_clock
from shim._schedule_store import ScheduleStore
from shim._schedule_table import ScheduleTable, check_timezone
from shim._schedule_types import ClientScheduleInput, WorkflowSchedule
from shim.cron import CronError, parse
from shim.errors import DBOSException

if TYPE_CHECKING:
    from shim._operations import Operations


class _BorrowedTable(ScheduleTable):
    """The launched DBOS's table seen by a client: the scheduler's store, told of every change."""

    def __init__(self, scheduler: _scheduler.Scheduler, app_name: str | None) -> None:
        super().__init__(scheduler.operations, scheduler.registry, app_name, scheduler.clock, scheduler.store,
                         scheduler._fired)
        self.changed = scheduler.changed  # type: ignore[method-assign]


class ClientSchedules:
    """The schedule methods of ``DBOSClient``; the class provides ``_ops`` and ``application_name``."""

    application_name: str | None
    _ops: Callable[[], Operations]
    _remote_table: ScheduleTable | None = None

    def _schedules(self) -> ScheduleTable:
        ops = self._ops()
        if getattr(self, "_remote", None) is None:
            return _BorrowedTable(_scheduler.active(), self.application_name)
        if self._remote_table is None or self._remote_table.operations is not ops:
            self._remote_table = ScheduleTable(ops, ops.engine.registry, self.application_name,
                                               default_clock() or SystemClock(), ScheduleStore(ops.engine.resonate))
        return self._remote_table

    def _client_row(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Validate one schedule as DBOS's client does (cron, then time zone) and build its row."""
        schedule = entry["schedule"]
        try:
            cron = parse(schedule)
        except CronError as exc:
            raise DBOSException(f"Invalid cron schedule: '{schedule}'") from exc
        check_timezone(entry.get("cron_timezone"))
        _scheduler._refuse_random(cron, "DBOSClient schedules")
        owner = entry.get("application_name")
        return {
            "schedule_id": str(uuid.uuid4()),
            "schedule_name": entry["schedule_name"],
            "workflow_name": entry["workflow_name"],
            "workflow_class_name": entry.get("workflow_class_name"),
            "schedule": schedule,
            "status": "ACTIVE",
            "context": ser.dumps(entry.get("context")),
            "last_fired_at": None,
            "automatic_backfill": bool(entry.get("automatic_backfill", False)),
            "cron_timezone": entry.get("cron_timezone"),
            "queue_name": entry.get("queue_name"),
            "application_name": owner if owner is not None else self.application_name,
        }

    def create_schedule(self, *, schedule_name: str, workflow_name: str, schedule: str, context: Any = None,
                        workflow_class_name: str | None = None, automatic_backfill: bool = False,
                        cron_timezone: str | None = None, queue_name: str | None = None,
                        application_name: str | None = None) -> None:
        row = self._client_row({
            "schedule_name": schedule_name, "workflow_name": workflow_name, "schedule": schedule,
            "context": context, "workflow_class_name": workflow_class_name,
            "automatic_backfill": automatic_backfill, "cron_timezone": cron_timezone,
            "queue_name": queue_name, "application_name": application_name,
        })
        self._schedules()._insert("DBOS.createSchedule", row)

    def apply_schedules(self, schedules: list[ClientScheduleInput]) -> None:
        rows: list[dict[str, Any]] = []
        for i, entry in enumerate(schedules):
            for required in ("schedule_name", "workflow_name", "schedule"):
                if required not in entry:
                    raise DBOSException(f"Schedule entry {i} is missing required field '{required}'")
            rows.append(self._client_row(dict(entry)))
        self._schedules()._upsert(rows)

    def list_schedules(self, *, status: str | list[str] | None = None,
                       workflow_name: str | list[str] | None = None,
                       schedule_name_prefix: str | list[str] | None = None,
                       application_name: str | list[str] | None = None) -> list[WorkflowSchedule]:
        return self._schedules().list_schedules(  # type: ignore[return-value]
            status=status, workflow_name=workflow_name, schedule_name_prefix=schedule_name_prefix,
            application_name=application_name)

    def get_schedule(self, name: str) -> WorkflowSchedule | None:
        return self._schedules().get_schedule(name)  # type: ignore[return-value]

    def delete_schedule(self, name: str) -> None:
        self._schedules().delete_schedule(name)

    def pause_schedule(self, name: str) -> None:
        self._schedules().pause_schedule(name)

    def resume_schedule(self, name: str) -> None:
        self._schedules().resume_schedule(name)

    def backfill_schedule(self, schedule_name: str, start: datetime, end: datetime) -> list[WorkflowHandle[None]]:
        return self._schedules().backfill_schedule(schedule_name, start, end)

    def trigger_schedule(self, schedule_name: str) -> WorkflowHandle[None]:
        return self._schedules().trigger_schedule(schedule_name)

    async def create_schedule_async(self, **definition: Any) -> None:
        await _scheduler.in_thread(self.create_schedule, **definition)

    async def apply_schedules_async(self, schedules: list[ClientScheduleInput]) -> None:
        await _scheduler.in_thread(self.apply_schedules, schedules)

    async def list_schedules_async(self, **filters: Any) -> list[WorkflowSchedule]:
        return await _scheduler.in_thread(self.list_schedules, **filters)

    async def get_schedule_async(self, name: str) -> WorkflowSchedule | None:
        return await _scheduler.in_thread(self.get_schedule, name)

    async def delete_schedule_async(self, name: str) -> None:
        await _scheduler.in_thread(self.delete_schedule, name)
