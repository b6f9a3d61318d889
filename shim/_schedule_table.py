"""DBOS's schedule API on the schedule table, shared by the scheduler of a launched DBOS
(``shim._scheduler``) and by ``DBOSClient`` (``shim._client_schedules``): list, get, pause, resume,
delete, trigger and backfill, and the writes behind create and apply (docs/scheduling.md)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from shim import _serialization as ser
from shim._handles import WorkflowHandle
from shim._plans import INTERNAL_QUEUE, StartOptions
from shim._schedule_clock import Clock
from shim._schedule_store import ScheduleStore
from shim._schedule_ticks import ticks_between, zone_of
from shim.cron import parse
from shim.errors import DBOSException, DBOSWorkflowFunctionNotFoundError

if TYPE_CHECKING:
    from shim._operations import Operations
    from shim._specs import Registry, WorkflowSpec

logger = logging.getLogger("dbos")

Table = dict[str, dict[str, Any]]


class ScheduleTable:
    """The schedule rows of one store, read and changed as DBOS's system database does, and the
    ticks ``trigger_schedule`` / ``backfill_schedule`` enqueue through ``operations``."""

    def __init__(self, operations: Operations, registry: Registry, app_name: str | None, clock: Clock,
                 store: ScheduleStore, fired: dict[str, tuple[str, datetime]] | None = None) -> None:
        self.operations = operations
        self.bridge = operations.bridge
        self.registry = registry
        self.app_name = app_name
        self.clock = clock
        self.store = store
        # last_fired_at seen by this process's scheduler: name -> (schedule_id, time); persisted lazily.
        self._fired: dict[str, tuple[str, datetime]] = {} if fired is None else fired

    # -- hooks the scheduler of a launched DBOS overrides -----------------------------------------

    def _in_workflow(self, name: str, produce: Callable[[], Awaitable[Any]]) -> Any:
        """Run a table operation; a client's calls are never recorded, even inside a workflow."""
        return self.bridge.call(produce())

    def _refuse_in_workflow(self, api: str) -> None:
        """DBOS refuses some calls inside a workflow; a client's calls are not the workflow's."""

    def changed(self) -> None:
        """The schedule table changed (the scheduler re-reads it at once)."""

    # -- writes ----------------------------------------------------------------------------------

    def _insert(self, op: str, row: dict[str, Any]) -> None:
        def create(table: Table) -> None:
            if row["schedule_name"] in table:
                raise DBOSException(f"Schedule '{row['schedule_name']}' already exists")
            table[row["schedule_name"]] = row

        self._in_workflow(op, lambda: self.store.update(create))
        self.changed()

    def _upsert(self, rows: list[dict[str, Any]]) -> None:
        def upsert(table: Table) -> None:
            for row in rows:  # an existing schedule keeps its id, status and last_fired_at
                existing = table.get(row["schedule_name"])
                if existing is not None:
                    row = {**row, "schedule_id": existing["schedule_id"], "status": existing["status"],
                           "last_fired_at": existing["last_fired_at"],
                           "application_name": existing["application_name"] or row["application_name"]}
                table[row["schedule_name"]] = row

        self.bridge.call(self.store.update(upsert))
        self.changed()

    # -- reads -----------------------------------------------------------------------------------

    def list_schedules(self, *, status: str | list[str] | None = None,
                       workflow_name: str | list[str] | None = None,
                       schedule_name_prefix: str | list[str] | None = None,
                       application_name: str | list[str] | None = None) -> list[dict[str, Any]]:
        owners = application_name if application_name is not None else self.app_name

        async def select() -> list[dict[str, Any]]:
            rows = list((await self.store.read()).values())
            return [dict(row) for row in rows if owned(row, owners)
                    and _matches(row["status"], status) and _matches(row["workflow_name"], workflow_name)
                    and (schedule_name_prefix is None or any(
                        row["schedule_name"].startswith(p) for p in _as_list(schedule_name_prefix)))]

        rows = self._in_workflow("DBOS.listSchedules", select)
        return [self._public(row) for row in rows]

    def get_schedule(self, name: str) -> dict[str, Any] | None:
        async def select() -> dict[str, Any] | None:
            row = (await self.store.read()).get(name)
            return None if row is None else dict(row)

        row = self._in_workflow("DBOS.getSchedule", select)
        return None if row is None else self._public(row)

    def _public(self, row: dict[str, Any]) -> dict[str, Any]:
        """A row as DBOS returns it: context deserialized, last_fired_at as this process knows it."""
        out = dict(row)
        last = self._last_fired(row)
        out["last_fired_at"] = last.isoformat() if last is not None else None
        try:
            out["context"] = ser.loads(row["context"])
        except Exception as exc:  # noqa: BLE001 - as DBOS: warn and return the stored text
            logger.warning("Warning: context object could not be deserialized for schedule %s, returning as "
                           "string: %s", row["schedule_name"], exc)
        return out

    def _last_fired(self, row: dict[str, Any]) -> datetime | None:
        stored = datetime.fromisoformat(row["last_fired_at"]) if row.get("last_fired_at") else None
        seen = self._fired.get(row["schedule_name"])
        mine = seen[1] if seen is not None and seen[0] == row["schedule_id"] else None
        candidates = [t for t in (stored, mine) if t is not None]
        return max(candidates) if candidates else None

    # -- status ----------------------------------------------------------------------------------

    def _set(self, op: str, name: str, change: Callable[[Table], None]) -> None:
        async def write() -> None:
            if name in await self.store.read():  # a missing name is a no-op, as in DBOS
                await self.store.update(change)

        self._in_workflow(op, write)
        self.changed()

    def delete_schedule(self, name: str) -> None:
        def delete(table: Table) -> None:
            table.pop(name, None)

        self._set("DBOS.deleteSchedule", name, delete)

    def pause_schedule(self, name: str) -> None:
        self._set("DBOS.pauseSchedule", name, lambda table: _set_status(table, name, "PAUSED"))

    def resume_schedule(self, name: str) -> None:
        self._set("DBOS.resumeSchedule", name, lambda table: _set_status(table, name, "ACTIVE"))

    # -- firing by hand --------------------------------------------------------------------------

    def _existing(self, name: str) -> dict[str, Any]:
        row = self.bridge.call(self.store.read()).get(name)
        if row is None:
            raise DBOSException(f"Schedule '{name}' does not exist")
        return row

    def trigger_schedule(self, schedule_name: str) -> WorkflowHandle[None]:
        self._refuse_in_workflow("DBOS.trigger_schedule")
        row = self._existing(schedule_name)
        now = self.clock.now().astimezone(UTC)
        workflow_id = self._enqueue(row, now, f"sched-{schedule_name}-trigger-{now.isoformat()}")
        return WorkflowHandle(workflow_id, self.operations)

    def backfill_schedule(self, schedule_name: str, start: datetime, end: datetime) -> list[WorkflowHandle[None]]:
        self._refuse_in_workflow("DBOS.backfill_schedule")
        row = self._existing(schedule_name)
        return [WorkflowHandle(wid, self.operations) for wid in self._backfill(row, start, end)]

    def _backfill(self, row: dict[str, Any], start: datetime, end: datetime) -> list[str]:
        cron = parse(row["schedule"])
        ids: list[str] = []
        for tick in ticks_between(cron, start, end, zone_of(row.get("cron_timezone"))):
            ids.append(self._enqueue(row, tick, f"sched-{row['schedule_name']}-{tick.isoformat()}"))
        return ids

    def _enqueue(self, row: dict[str, Any], scheduled_at: datetime, workflow_id: str) -> str:
        spec = self.registry.workflows.get(row["workflow_name"])
        if spec is None:
            raise DBOSWorkflowFunctionNotFoundError(
                workflow_id, f"{row['workflow_name']} (schedule '{row['schedule_name']}') is not registered"
            )
        return self._start(spec, workflow_id, (scheduled_at, ser.loads(row["context"])), row.get("queue_name"),
                           row["schedule_name"])

    def _start(self, spec: WorkflowSpec, workflow_id: str, args: tuple[Any, ...], queue: str | None,
               schedule_name: str | None = None) -> str:
        """Enqueue a tick's workflow as DBOS does: on ``queue`` (its internal queue when None), unless a
        workflow with this id exists already, so a tick fired again runs once."""
        ops = self.operations
        if ops.get_status(workflow_id) is None:
            options = StartOptions(queue=queue or INTERNAL_QUEUE, schedule_name=schedule_name)
            ops._block(ops.engine.start(spec, workflow_id, args, {}, None, options=options))
        return workflow_id


def check_timezone(cron_timezone: str | None) -> None:
    if cron_timezone is None:
        return
    try:
        ZoneInfo(cron_timezone)
    except Exception:  # noqa: BLE001 - DBOS turns every failure into the same message
        raise DBOSException(f"Invalid timezone: '{cron_timezone}'") from None


def owned(row: dict[str, Any], owners: str | list[str] | None) -> bool:
    """DBOS's ownership filter: rows of these applications plus unclaimed ones; none given, all."""
    if not owners:
        return True
    return row.get("application_name") is None or row["application_name"] in _as_list(owners)


def _set_status(table: Table, name: str, status: str) -> None:
    if name in table:
        table[name]["status"] = status


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _matches(value: Any, wanted: str | list[str] | None) -> bool:
    return wanted is None or value in _as_list(wanted)
