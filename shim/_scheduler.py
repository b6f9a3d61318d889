"""Scheduled work: ``@DBOS.scheduled`` and the ``DBOS.create_schedule`` family, run by the shim.

Resonate's local mode never fires schedules, and DBOS cron is precise to the second, so the shim
fires them itself: one scheduler thread per launched DBOS walks every schedule's ticks (in the
schedule's ``cron_timezone``, see ``shim._schedule_ticks``) and enqueues each tick's workflow, as
DBOS does, on the schedule's ``queue_name`` or DBOS's internal queue, under the id DBOS gives it:

    sched-{workflow name}-{scheduled time, ISO 8601 in UTC}     @DBOS.scheduled
    sched-{schedule name}-{scheduled time, ISO 8601 in its zone} DBOS.create_schedule / apply_schedules
    sched-{schedule name}-trigger-{now, ISO 8601 in UTC}         DBOS.trigger_schedule

A tick whose workflow exists already is not enqueued again, so a tick runs once however many times
it is fired (a restart, a second scheduler on the same store, a backfill over fired ticks).

Missed ticks follow DBOS 2.31: a scheduler starts from the first tick after its start time, so ticks
that fell while nothing ran are skipped; while it runs, a late tick is still fired (the scheduler
catches up tick by tick). Only a schedule created with ``automatic_backfill=True`` backfills, on
scheduler start (and on resume), the ticks since its ``last_fired_at``.

Schedule definitions live in the Resonate store next to the workflows (``shim._schedule_store``),
so they survive a restart whenever the store does.

Time comes from a ``Clock`` (``shim._schedule_clock``): ``SystemClock`` is the real one;
``ManualClock`` lets tests move time by hand and wait until the scheduler has caught up.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
import uuid
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from shim import _serialization as ser
from shim._handles import WorkflowHandle
from shim._operations import active_frame
from shim._plans import INTERNAL_QUEUE
from shim._queues import registered as registered_queue
from shim._schedule_clock import (
    Clock,
    ManualClock,
    SystemClock,
    default_clock,
    use_clock,
)
from shim._schedule_server import ServerFiring
from shim._schedule_store import STORE_PREFIX, STORE_TAGS, ScheduleStore
from shim._schedule_table import ScheduleTable, check_timezone, owned
from shim._schedule_ticks import (
    DecoratedSource,
    DynamicSource,
    signature,
    zone_of,
)
from shim.cron import CronError, CronSpec, parse
from shim.errors import (
    DBOSException,
    DBOSWorkflowFunctionNotFoundError,
    ShimUnsupportedError,
)

if TYPE_CHECKING:
    from shim._operations import Operations
    from shim._specs import Registry, WorkflowSpec

logger = logging.getLogger("dbos")

# Tests and docs reach the clocks and the store through this module.
__all__ = [
    "STORE_PREFIX",
    "STORE_TAGS",
    "Clock",
    "ManualClock",
    "ScheduleStore",
    "Scheduler",
    "SystemClock",
    "use_clock",
]

#: DBOS's default ``scheduler_polling_interval_sec``: how often other writers' changes are picked up.
DEFAULT_POLL_INTERVAL = 30.0
#: How often, at most, ``last_fired_at`` of an ``automatic_backfill`` schedule is written to the store.
CHECKPOINT_INTERVAL = 60.0
#: Seconds ``stop`` waits for the scheduler thread.
STOP_TIMEOUT = 10.0
_NOT_LAUNCHED = "System database accessed before DBOS was launched"


# -- @DBOS.scheduled -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Decorated:
    func: Callable[..., Any]
    cron: CronSpec


# Decorated schedules belong to the registry they were declared in, as DBOS's pollers do.
_decorated: weakref.WeakKeyDictionary[Registry, list[Decorated]] = weakref.WeakKeyDictionary()


def workflow_spec(registry: Registry, func: Any) -> WorkflowSpec | None:
    """The workflow ``func`` is (its wrapper or its function). The registry maps by ``id()``, which a
    collected function can pass on to a new one, so the answer is checked against ``func``."""
    spec = registry.workflow_for(func)
    if spec is None:
        return None
    if spec.fn is func or getattr(func, "__wrapped__", None) is spec.fn:
        return spec
    return None


def scheduled(registry: Registry, cron: str) -> Callable[[Any], Any]:
    """``@DBOS.scheduled(cron)``: validate now (as DBOS does, a ``ValueError``), fire while launched."""

    def decorator(func: Any) -> Any:
        spec = workflow_spec(registry, func)
        name = spec.name if spec is not None else ""
        try:
            parsed = parse(cron)
        except CronError as exc:
            if spec is None:  # DBOS asks the function for its workflow name while reporting the crontab
                raise DBOSWorkflowFunctionNotFoundError(
                    "<NONE>", f"{getattr(func, '__name__', func)} is not a registered workflow function"
                ) from exc
            raise CronError(
                f'Invalid crontab "{cron}" for scheduled function function {name}. {exc}',
                field=exc.field, position=exc.position, text=exc.text,
            ) from exc
        _refuse_random(parsed, "@DBOS.scheduled")
        _decorated.setdefault(registry, []).append(Decorated(func, parsed))
        return func

    return decorator


def _refuse_random(spec: CronSpec, feature: str) -> None:
    random = [f.name for f in spec.fields if f.random]
    if random:
        raise ShimUnsupportedError(
            f"{feature} with 'R' in the {', '.join(random)} field of {spec.expression!r}",
            "a random field has no fixed fire times; write the value you want.",
        )


# -- the scheduler -------------------------------------------------------------------------------

_current: Scheduler | None = None


class Scheduler(ScheduleTable):
    """Fires every schedule of one launched DBOS. ``start`` runs it in a thread; ``step`` runs one
    round by hand (fire everything due now, return when to come back)."""

    def __init__(self, operations: Operations, registry: Registry, app_name: str | None, *,
                 clock: Clock | None = None, poll_interval: float = DEFAULT_POLL_INTERVAL,
                 checkpoint_interval: float = CHECKPOINT_INTERVAL) -> None:
        super().__init__(operations, registry, app_name, clock or default_clock() or SystemClock(),
                         ScheduleStore(operations.engine.resonate))
        self.poll_interval = timedelta(seconds=poll_interval)
        self.checkpoint_interval = timedelta(seconds=checkpoint_interval)
        self._woken = threading.Event()
        self._started = threading.Event()  # set once the first round has read its start time
        self._dirty = True
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._begun = False
        self._decorated_sources: list[DecoratedSource] = []
        self._dynamic: dict[str, DynamicSource] = {}  # by schedule_id
        self._next_poll: datetime | None = None
        self._unsaved: set[str] = set()  # fired since last written
        self._unsaved_backfill: set[str] = set()  # the automatic_backfill ones among them
        self._last_checkpoint: datetime | None = None
        # On a Resonate server (the engine routes work to a worker group), the server fires what it can.
        route: str | None = getattr(operations.engine, "route", None)
        self.remote = None if route is None else ServerFiring(
            operations.engine.resonate, self.bridge, route, app_name or "", self._woken.set)

    # -- life cycle ------------------------------------------------------------------------------

    @classmethod
    def launch(cls, operations: Operations, registry: Registry, app_name: str | None) -> Scheduler:
        """Start the scheduler of a freshly launched DBOS; DBOS's schedule API then acts on it."""
        global _current
        scheduler = cls(operations, registry, app_name).start()
        _current = scheduler
        return scheduler

    def start(self) -> Scheduler:
        if self.remote is not None:
            self.remote.register()
        self.clock.attach()
        self._thread = threading.Thread(target=self._serve, name="dbos2resonate-scheduler", daemon=True)
        self._thread.start()
        # Ticks count from the start time: fix it before launch returns, so that time moving on right
        # after launch (a test's clock, a slow machine) cannot skip the first tick.
        self._started.wait(STOP_TIMEOUT)
        return self

    def stop(self) -> None:
        """Stop firing; record ``last_fired_at`` of every schedule that fired. Call before Resonate stops."""
        global _current
        if _current is self:
            _current = None
        self._stopping = True
        self._woken.set()
        if self._thread is not None:
            self._thread.join(timeout=STOP_TIMEOUT)
            if self._thread.is_alive():
                logger.warning("The scheduler thread did not stop within %s s", STOP_TIMEOUT)
            self._thread = None
        try:
            self._checkpoint(everything=True)
        except Exception:  # noqa: BLE001 - best effort on the way out
            logger.debug("Could not record last_fired_at on shutdown", exc_info=True)

    def changed(self) -> None:
        """The schedule table changed: re-read it now rather than at the next poll."""
        self._dirty = True
        self._woken.set()

    def _serve(self) -> None:
        try:
            while not self._stopping:
                self._woken.clear()
                if self._stopping:
                    break
                try:
                    wake_at = self.step()
                except Exception:  # noqa: BLE001 - the scheduler must outlive any one failure
                    logger.warning("Exception in the scheduler thread", exc_info=True)
                    wake_at = self.clock.now() + timedelta(seconds=1)
                if self._stopping:
                    break
                self.clock.wait(wake_at, self._woken)
        finally:
            self._started.set()
            self.clock.detach()

    # -- one round -------------------------------------------------------------------------------

    def step(self) -> datetime | None:
        """Fire every tick that is due; return the time of the next tick or poll."""
        now = self.clock.now()
        if not self._begun:
            self._begun = True
            if self.remote is not None:
                self.remote.started_at = now
            for item in _decorated.get(self.registry, []):
                source = DecoratedSource.starting(f"decorated:{id(item.func)}", item.cron, UTC, now, func=item.func)
                spec = workflow_spec(self.registry, item.func)
                if spec is not None:
                    self._offload(f"workflow/{spec.name}", source)
                self._decorated_sources.append(source)
            self._started.set()
        if self._dirty or self._next_poll is None or now >= self._next_poll:
            self._dirty = False
            self._sync(now)
            self._next_poll = now + self.poll_interval
        for source in [*self._decorated_sources, *self._dynamic.values()]:
            while source.next_at is not None and source.next_at <= now and not self._stopping:
                tick = source.local
                try:
                    self._fire(source, tick)
                except Exception:  # noqa: BLE001 - as DBOS: log, and go on with the next tick
                    logger.warning("Exception in scheduled tick %s of %s", tick.isoformat(), source.key,
                                   exc_info=True)
                source.advance()
        self._fire_handed(now)
        if self._unsaved_backfill and (self._last_checkpoint is None
                                       or now - self._last_checkpoint >= self.checkpoint_interval):
            self._checkpoint(everything=False)
            self._last_checkpoint = now
        times = [s.next_at for s in [*self._decorated_sources, *self._dynamic.values()] if s.next_at is not None]
        handed = self.remote.next_due() if self.remote is not None else None
        return min([*times, *([handed] if handed is not None else []), self._next_poll])

    def _sync(self, now: datetime) -> None:
        """Start, restart and stop dynamic schedules to match the table (DBOS's polling loop)."""
        table = self.bridge.call(self.store.read())
        rows = {row["schedule_id"]: row for row in table.values() if owned(row, self.app_name)}
        for schedule_id in list(self._dynamic):
            if schedule_id not in rows or rows[schedule_id]["status"] != "ACTIVE":
                del self._dynamic[schedule_id]
                if self.remote is not None:
                    self.remote.release(f"schedule/{schedule_id}")
        for schedule_id, row in rows.items():
            if row["status"] != "ACTIVE":
                continue
            running = self._dynamic.get(schedule_id)
            if running is not None:
                if running.signature != signature(row):  # changed definition: restart, no backfill
                    self._dynamic[schedule_id] = self._dynamic_source(row, now)
                else:
                    running.row = row
                continue
            last_fired = self._last_fired(row)
            if row.get("automatic_backfill") and last_fired is not None and last_fired < now:
                try:
                    self._backfill(row, last_fired, now)
                except Exception:  # noqa: BLE001 - as DBOS: log and start the schedule anyway
                    logger.warning("Exception during automatic backfill for schedule '%s'",
                                   row["schedule_name"], exc_info=True)
            self._dynamic[schedule_id] = self._dynamic_source(row, now)

    def _dynamic_source(self, row: dict[str, Any], now: datetime) -> DynamicSource:
        source = DynamicSource.starting(row["schedule_id"], parse(row["schedule"]), zone_of(row.get("cron_timezone")),
                                        now, row=row, signature=signature(row))
        self._offload(f"schedule/{row['schedule_id']}", source)
        return source

    def _offload(self, key: str, source: DecoratedSource | DynamicSource) -> None:
        """On a server, let the server fire ``source`` if a 5-field cron says it; else fire it here."""
        if self.remote is None:
            return
        try:
            adopted = self.remote.adopt(key, source)
        except Exception:  # noqa: BLE001 - the shim can always fire the schedule itself
            logger.warning("Could not register schedule %s on the Resonate server; firing it here", key,
                           exc_info=True)
            return
        if not adopted:
            self.remote.release(key)  # a changed schedule the server fired before

    def _fire_handed(self, now: datetime) -> None:
        """Fire the ticks the server fired whose second has come, as ticks computed here are fired."""
        if self.remote is None:
            return
        for at, source, done in self.remote.due(now):
            if source is None:
                done.set_result("unknown: no such schedule in this worker")
                continue
            tick = at.astimezone(source.zone)
            try:
                workflow_id = self._fire(source, tick)  # type: ignore[arg-type]
            except Exception as exc:  # noqa: BLE001 - as DBOS: log; the tick's task fails with it
                logger.warning("Exception in scheduled tick %s of %s", tick.isoformat(), source.key, exc_info=True)
                done.set_exception(exc)
                continue
            done.set_result(workflow_id or "not a workflow")

    # -- firing ----------------------------------------------------------------------------------

    def _fire(self, source: DecoratedSource | DynamicSource, tick: datetime) -> str | None:
        """Enqueue one tick's workflow; its id (None: a decorated function that is no workflow)."""
        if isinstance(source, DecoratedSource):
            return self._fire_decorated(source, tick)
        return self._fire_dynamic(source, tick)

    def _fire_decorated(self, source: DecoratedSource, tick: datetime) -> str | None:
        spec = workflow_spec(self.registry, source.func)
        if spec is None:
            if not source.warned:
                source.warned = True
                name = getattr(source.func, "__qualname__", repr(source.func))
                logger.warning("Scheduled function %s is not a registered workflow function; not firing it", name)
            return None
        return self._start(spec, f"sched-{spec.name}-{tick.isoformat()}", (tick, self.clock.now()), None)

    def _fire_dynamic(self, source: DynamicSource, tick: datetime) -> str:
        row = source.row
        workflow_id = self._enqueue(row, tick, f"sched-{row['schedule_name']}-{tick.isoformat()}")
        self._fired[row["schedule_name"]] = (row["schedule_id"], tick)
        self._unsaved.add(row["schedule_name"])
        if row.get("automatic_backfill"):
            self._unsaved_backfill.add(row["schedule_name"])
        return workflow_id

    def _checkpoint(self, *, everything: bool) -> None:
        """Write ``last_fired_at``: of ``automatic_backfill`` schedules (the only ones that read it
        back) at most once per ``checkpoint_interval``, of every schedule on ``stop``."""
        names = self._unsaved if everything else self._unsaved_backfill
        if not names:
            return
        pending = {name: self._fired[name] for name in names}

        def record(table: dict[str, dict[str, Any]]) -> set[str]:
            written: set[str] = set()
            for name, (schedule_id, fired) in pending.items():
                row = table.get(name)
                if row is None or row["schedule_id"] != schedule_id:
                    written.add(name)  # deleted or replaced since: nothing to record
                    continue
                if not everything and not row.get("automatic_backfill"):
                    continue
                stored = row.get("last_fired_at")
                if stored is None or datetime.fromisoformat(stored) < fired:
                    row["last_fired_at"] = fired.isoformat()
                written.add(name)
            return written

        written = self.bridge.call(self.store.update(record))
        self._unsaved -= written
        self._unsaved_backfill -= set(pending)

    # -- the DBOS schedule API -------------------------------------------------------------------

    def _in_workflow(self, name: str, produce: Callable[[], Awaitable[Any]]) -> Any:
        """Run a table operation as DBOS does: a recorded step inside a workflow, a plain call outside."""
        frame = active_frame()
        if frame is None:
            return self.bridge.call(produce())
        frame.next_function_id()
        return self.bridge.call(self.operations.engine.record(frame, name, produce))

    def _refuse_in_workflow(self, api: str) -> None:
        if active_frame() is not None:
            raise DBOSException(f"{api} cannot be called from within a workflow")

    def _row(self, *, schedule_name: str, workflow_fn: Any, schedule: str, context: Any,
             automatic_backfill: bool, cron_timezone: str | None, queue_name: str | None,
             api: str) -> dict[str, Any]:
        """Validate one schedule as DBOS does (same checks, order and messages) and build its row."""
        try:
            cron = parse(schedule)
        except CronError as exc:
            raise DBOSException(f"Invalid cron schedule: '{schedule}'") from exc
        # DBOS checks the queue second in create_schedule, the time zone second in apply_schedules.
        first, last = (_check_queue, check_timezone) if api == "DBOS.create_schedule" else (
            check_timezone, _check_queue)
        first(queue_name if first is _check_queue else cron_timezone)
        spec = workflow_spec(self.registry, workflow_fn)
        if spec is None:
            raise DBOSWorkflowFunctionNotFoundError(
                "<NONE>", f"{getattr(workflow_fn, '__name__', workflow_fn)} is not a registered workflow function"
            )
        if inspect.ismethod(workflow_fn) and not inspect.isclass(workflow_fn.__self__):
            raise DBOSException("Configured instance methods cannot be used as scheduled workflows")
        last(queue_name if last is _check_queue else cron_timezone)
        _refuse_random(cron, api)
        return {
            "schedule_id": str(uuid.uuid4()),
            "schedule_name": schedule_name,
            "workflow_name": spec.name,
            "workflow_class_name": None,
            "schedule": schedule,
            "status": "ACTIVE",
            "context": ser.dumps(context),
            "last_fired_at": None,
            "automatic_backfill": bool(automatic_backfill),
            "cron_timezone": cron_timezone,
            "queue_name": queue_name,
            "application_name": self.app_name,
        }

    def create_schedule(self, **definition: Any) -> None:
        row = self._row(**definition, api="DBOS.create_schedule")
        self._insert("DBOS.createSchedule", row)

    def apply_schedules(self, schedules: list[dict[str, Any]]) -> None:
        self._refuse_in_workflow("DBOS.apply_schedules")
        rows: list[dict[str, Any]] = []
        for i, entry in enumerate(schedules):
            for required in ("schedule_name", "workflow_fn", "schedule"):
                if required not in entry:
                    raise DBOSException(f"Schedule entry {i} is missing required field '{required}'")
            rows.append(self._row(
                schedule_name=entry["schedule_name"], workflow_fn=entry["workflow_fn"],
                schedule=entry["schedule"], context=entry.get("context"),
                automatic_backfill=entry.get("automatic_backfill", False),
                cron_timezone=entry.get("cron_timezone"), queue_name=entry.get("queue_name"),
                api="DBOS.apply_schedules",
            ))

        self._upsert(rows)


def _check_queue(queue_name: str | None) -> None:
    if queue_name is not None and queue_name != INTERNAL_QUEUE and registered_queue(queue_name) is None:
        raise DBOSException(
            f"Queue '{queue_name}' is not declared. Please create the queue before using it in a schedule.")


# -- what the DBOS class delegates to ------------------------------------------------------------


def active() -> Scheduler:
    if _current is None:
        raise DBOSException(_NOT_LAUNCHED)
    return _current


def create_schedule(*, schedule_name: str, workflow_fn: Any, schedule: str, context: Any = None,
                    automatic_backfill: bool = False, cron_timezone: str | None = None,
                    queue_name: str | None = None) -> None:
    active().create_schedule(schedule_name=schedule_name, workflow_fn=workflow_fn, schedule=schedule,
                             context=context, automatic_backfill=automatic_backfill,
                             cron_timezone=cron_timezone, queue_name=queue_name)


def apply_schedules(schedules: list[Any]) -> None:
    active().apply_schedules(schedules)


def list_schedules(**filters: Any) -> list[dict[str, Any]]:
    return active().list_schedules(**filters)


def get_schedule(name: str) -> dict[str, Any] | None:
    return active().get_schedule(name)


def delete_schedule(name: str) -> None:
    active().delete_schedule(name)


def pause_schedule(name: str) -> None:
    active().pause_schedule(name)


def resume_schedule(name: str) -> None:
    active().resume_schedule(name)


def trigger_schedule(schedule_name: str) -> WorkflowHandle[None]:
    return active().trigger_schedule(schedule_name)


def backfill_schedule(schedule_name: str, start: datetime, end: datetime) -> list[WorkflowHandle[None]]:
    return active().backfill_schedule(schedule_name, start, end)


async def in_thread(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """The ``*_async`` forms: the sync call in a worker thread, as DBOS runs them."""
    return await asyncio.to_thread(fn, *args, **kwargs)
