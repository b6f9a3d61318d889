"""A workflow's life beyond running its body: where it came from, whether it waits on a queue,
when it times out, whether it was cancelled, resumed or forked. The engine calls in at five points
(``start``, ``_execute``, ``record``, ``status``, ``result_payload``); everything here runs on
Resonate's loop unless it says otherwise.

Durable state, all Resonate promises with deterministic ids (``P`` is a workflow run's root promise
id, ``W`` its DBOS workflow id):

    P                      the run's root; its ``dbos2resonate:*`` tags (shim/_records.py) are its
                           plan: queue, priority, parent, timeout or deadline, fork/resume base
    P:dispatch             a queued run's permit: pending while ENQUEUED, resolved with
                           ``{"at": ms}`` when the dispatcher lets it run, rejected if cancelled
    P:cancelled            exists (resolved) once the run was cancelled
    W%r<k>                 run k of a resumed workflow (k = 1, 2, ...): ``to_promise_id`` never
                           writes ``%r``, so these ids are nobody else's
    dbos2resonate:dedup/<queue>/<id>/<k>   the k-th holder of a queue's deduplication id

A Resonate promise settles once, so cancelling never settles the root from outside (Resonate would
refuse the body's own later writes): the marker makes the status CANCELLED at once, the body stops
at its next durable operation with ``DBOSWorkflowCancelledError`` (as in DBOS), and its root then
settles with that error. Resuming starts a new run ``W%r<k>`` whose operations are copied from the
cancelled run's as the body replays, which is also how a fork copies its first steps.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from resonate.error import ResonateError
from resonate.types import PromiseRecord, Value

from shim import _attributes as attributes
from shim import _records as rec
from shim import _serialization as ser
from shim._context import current_step, current_workflow
from shim._plans import (
    _FOREVER_MS,
    _UNSET,
    INTERNAL_QUEUE,
    EnqueueRequest,
    Plan,
    Scoped,
    SetWorkflowTimeout,
    StartOptions,
    app_version_stamp_id,
    cancel_marker_id,
    dedup_slot_id,
    delay_update_id,
    deleted_marker_id,
    enqueue_options,
    fork_marker_id,
    generation_id,
    here,
    now_ms,
    permit_id,
    scoped,
    split_generation,
    start_options,
    workflow_timeout,
)
from shim._status import WorkflowStatus, status_from_record
from shim.errors import (
    DBOSAwaitedWorkflowCancelledError,
    DBOSException,
    DBOSNonExistentWorkflowError,
    DBOSQueueDeduplicatedError,
    DBOSWorkflowCancelledError,
)

if TYPE_CHECKING:
    from shim._dispatch import Dispatcher
    from shim._engine import Engine

logger = logging.getLogger("dbos")



@dataclass(eq=False)
class Run:
    """One execution of a run in this process, from ``_execute`` until its body returns."""

    plan: Plan
    cancelled: bool = False
    woken: asyncio.Event = field(default_factory=asyncio.Event)
    timer: asyncio.TimerHandle | None = None
    dispatched_ms: int | None = None
    debounced: bool = False  # set by the dispatcher from the permit
    payload: str | None = None  # a debounced run's latest inputs, which replace its own


class HeldBy(Exception):  # noqa: N818 - an outcome, not a failure
    """A deduplicated enqueue under ``duplication_policy="return-existing"``: the id's holder."""

    def __init__(self, workflow_id: str) -> None:
        super().__init__(workflow_id)
        self.workflow_id = workflow_id


def cancelled_error(workflow_id: str) -> DBOSWorkflowCancelledError:
    return DBOSWorkflowCancelledError(f"Workflow {workflow_id} is cancelled. Aborting function.")


def is_cancel_error(error: BaseException | None) -> bool:
    return isinstance(error, DBOSWorkflowCancelledError)


# -- the per-engine part ------------------------------------------------------------------------


class Lifecycle:
    def __init__(self, engine: Engine) -> None:
        from shim._dispatch import Dispatcher
        from shim._shared import SharedDispatcher

        self.engine = engine
        self.resonate = engine.resonate
        self._plans: dict[str, Plan] = {}  # set by start, taken by the run's first execution
        self.runs: dict[str, Run] = {}
        self.cancelled: set[str] = set()  # root promise ids cancelled by this process
        # on a Resonate server queue limits hold across every worker (shim/_shared.py), else in this process
        self.dispatcher: Dispatcher = SharedDispatcher(self) if engine.shared else Dispatcher(self)
        self._dedup_hints: dict[tuple[str, str], int] = {}
        # workflow id -> the run number a new start of a deleted workflow's id gets
        self.after_deletion: dict[str, int] = {}
        self.deleted: set[str] = set()  # root promise ids deleted by this process

    async def launch(self) -> None:
        """At launch: find earlier processes' queued work, follow queues declared from now on."""
        from shim import _queues

        loop = asyncio.get_running_loop()

        def declared(name: str) -> None:
            loop.call_soon_threadsafe(self.dispatcher.queue_registered, name)

        self._listener = declared
        _queues._listeners.append(declared)
        for marker in await self.search({rec.TAG_KIND: "deleted"}):
            self._note_deleted(marker.id.removesuffix(":deleted"))
        await self.dispatcher.load()
        from shim._messaging import finish_interrupted_bulk_sends

        await finish_interrupted_bulk_sends(self.engine)

    def close(self) -> None:
        """At destroy (from any thread)."""
        from shim import _queues

        listener = getattr(self, "_listener", None)
        if listener in _queues._listeners:
            _queues._listeners.remove(listener)
        self.engine.bridge.loop.call_soon_threadsafe(self.dispatcher.stop)

    # -- promise helpers --------------------------------------------------------------------

    async def get(self, promise_id: str) -> PromiseRecord | None:
        return await rec.get_record(self.resonate, promise_id)

    async def create(self, promise_id: str, param: Any, tags: dict[str, str]) -> PromiseRecord:
        return await self.resonate.promises.create(promise_id, now_ms() + _FOREVER_MS, Value(data=param), tags)

    async def settle(self, promise_id: str, value: Any, *, reject: bool = False) -> PromiseRecord | None:
        try:
            if reject:
                return await self.resonate.promises.reject(promise_id, Value(data=value))
            return await self.resonate.promises.resolve(promise_id, Value(data=value))
        except ResonateError:
            return await self.get(promise_id)  # settled by someone else first

    async def search(self, tags: dict[str, str], state: str | None = None) -> list[PromiseRecord]:
        found: list[PromiseRecord] = []
        cursor: str | None = None
        while True:
            page = await self.resonate.promises.search(state, tags, 1000, cursor)
            found.extend(page.promises)
            cursor = page.cursor
            if not cursor:
                return found

    # -- starting ---------------------------------------------------------------------------

    def plan(self, name: str, workflow_id: str, context: contextvars.Context | None,
             options: StartOptions | None) -> Plan:
        """The plan of a run about to be created, from the caller's context and ``options``."""
        options = options or scoped(start_options, context) or StartOptions()
        requested = scoped(enqueue_options, context)
        if options.queue is None and requested is not None and requested.any_set():
            raise DBOSException(
                f"Enqueue option(s) {', '.join(requested.any_set())} set on a workflow that is not being enqueued. "
                "These options are only supported when enqueueing a workflow onto a queue.")
        parent_run: Run | None = None
        parent: str | None = options.parent
        if context is not None and context.get(current_step) is None:
            frame = context.get(current_workflow)
            if frame is not None:
                parent = frame.workflow_id
                parent_run = self.runs.get(frame.ctx.info.id)
        explicit = scoped(workflow_timeout, context, _UNSET)
        if options.timeout_ms is not _UNSET:
            explicit = options.timeout_ms
        timeout_ms: int | None = None
        deadline_ms: int | None = None
        if explicit is not _UNSET and explicit:
            timeout_ms = explicit
            if options.queue is None:
                deadline_ms = now_ms() + explicit  # a queued run's deadline starts at dispatch
        elif explicit is _UNSET and parent_run is not None:
            deadline_ms = parent_run.plan.deadline_ms or _dispatch_deadline(parent_run)
        return Plan(
            workflow_id=workflow_id, name=name,
            promise_id=options.promise_id or generation_id(workflow_id, self.after_deletion.get(workflow_id, 0)),
            parent=parent, queue=options.queue, priority=options.priority or 0, dedup=options.dedup,
            partition=options.partition, timeout_ms=timeout_ms, deadline_ms=deadline_ms, base=options.base,
            base_workflow_id=options.base_workflow_id, copy_until=options.copy_until,
            forked_from=options.forked_from, created_ms=options.created_ms, app_version=_recorded_app_version(options),
            delay_until_ms=options.delay_until_ms, duplication_policy=options.duplication_policy,
            debounce_deadline_ms=options.debounce_deadline_ms, debounced=options.debounced,
            schedule_name=options.schedule_name,
        )

    async def before_create(self, plan: Plan) -> None:
        """Claim the deduplication id and write the permit, before the root exists."""
        rec.note_ref(plan.workflow_id)
        if plan.queue is None:
            self._plans[plan.promise_id] = plan
            return
        if plan.dedup is not None:
            plan.dedup_slot = await self._claim_dedup(plan)
        created = now_ms()
        tags = {rec.TAG_KIND: "permit", rec.TAG_QUEUE: plan.queue, rec.TAG_ID: plan.workflow_id}
        if plan.partition is not None:
            tags[rec.TAG_PARTITION] = plan.partition
        param: dict[str, Any] = {"priority": plan.priority, "created": created}
        if plan.delay_until_ms is not None:
            param["delay_until"] = plan.delay_until_ms
        if plan.debounced:
            param["debounced"] = True
            param["deadline"] = plan.debounce_deadline_ms
        permit = await self.create(permit_id(plan.promise_id), param, tags)
        self._plans[plan.promise_id] = plan
        if permit.state == "pending":
            self.dispatcher.add(plan, permit.created_at or created, await self.delay_until(permit))

    async def _claim_dedup(self, plan: Plan) -> int:
        assert plan.queue is not None and plan.dedup is not None
        key = (plan.queue, plan.dedup)
        k = self._dedup_hints.get(key, 0)
        while True:
            slot = await self.create(dedup_slot_id(plan.queue, plan.dedup, k), {"holder": plan.workflow_id},
                                     {rec.TAG_KIND: "dedup", rec.TAG_QUEUE: plan.queue})
            holder = slot.param.data.get("holder") if isinstance(slot.param.data, dict) else None
            if slot.state == "pending":
                if holder == plan.workflow_id:
                    self._dedup_hints[key] = k
                    return k
                status = await self.status(holder) if holder else None
                if holder and status is not None and status.status in ("DELAYED", "ENQUEUED", "PENDING"):
                    if plan.duplication_policy == "return-existing":
                        raise HeldBy(holder)
                    raise DBOSQueueDeduplicatedError(plan.workflow_id, plan.queue, plan.dedup)
                await self.settle(slot.id, {"released": True})  # its holder is done: free it
            k += 1

    # -- delays -----------------------------------------------------------------------------

    async def delay_until(self, permit: PromiseRecord) -> int | None:
        """A pending permit's delay (epoch ms): the enqueue's own, or the latest
        ``set_workflow_delay``'s; None if it was never delayed."""
        data = permit.param.data if isinstance(permit.param.data, dict) else {}
        until = data.get("delay_until")
        if until is None:
            return None
        promise_id = permit.id.removesuffix(":dispatch")
        n = 1
        while (update := await self.get(delay_update_id(promise_id, n))) is not None:
            until = update.param.data["until"]
            n += 1
        return int(until)

    async def latest_inputs(self, promise_id: str) -> str | None:
        """A debounced run's inputs as its latest debounce gave them (None: its own)."""
        inputs = None
        n = 1
        while (update := await self.get(delay_update_id(promise_id, n))) is not None:
            inputs = update.param.data.get("inputs", inputs)
            n += 1
        return inputs

    async def set_delay(self, workflow_id: str, until_ms: int, inputs: str | None = None) -> bool:
        """DBOS's ``set_workflow_delay``: only a DELAYED workflow's delay moves (and, for a
        debounce, its inputs). False if the workflow was not DELAYED."""
        found = await self.current(workflow_id)
        if found is None or found[1].status != "DELAYED":
            return False
        promise_id = found[0].id
        n = 1
        while await self.get(delay_update_id(promise_id, n)) is not None:
            n += 1
        update: dict[str, Any] = {"until": until_ms}
        if inputs is not None:
            update["inputs"] = inputs
        record = await self.create(delay_update_id(promise_id, n), update,
                                   {rec.TAG_KIND: "delay", rec.TAG_ID: workflow_id})
        await self.settle(record.id, None)
        self.dispatcher.redelay(promise_id, until_ms)
        return True

    # -- debouncing (shim/_debouncer.py) ---------------------------------------------------------

    async def dedup_holder(self, queue: str, dedup: str) -> str | None:
        """The workflow holding a queue's deduplication id, if one does."""
        k = self._dedup_hints.get((queue, dedup), 0)
        while (slot := await self.get(dedup_slot_id(queue, dedup, k))) is not None:
            if slot.state == "pending":
                holder = slot.param.data.get("holder") if isinstance(slot.param.data, dict) else None
                status = await self.status(holder) if holder else None
                if holder and status is not None and status.status in ("DELAYED", "ENQUEUED", "PENDING"):
                    return holder
            k += 1
        return None

    async def bounce(self, holder: str, name: str, delay_until_ms: int, inputs: str) -> bool:
        """Push a debounced DELAYED ``holder`` of workflow ``name`` back to ``delay_until_ms``
        (never past its debounce deadline) with new inputs; False if it cannot be bounced."""
        found = await self.current(holder)
        if found is None or found[1].status != "DELAYED" or found[1].name != name:
            return False
        permit = await self.get(permit_id(found[0].id))
        data = permit.param.data if permit is not None and isinstance(permit.param.data, dict) else {}
        if not data.get("debounced"):
            return False
        deadline = data.get("deadline")
        until = delay_until_ms if deadline is None else min(delay_until_ms, int(deadline))
        return await self.set_delay(holder, until, inputs)

    async def debounce_ended(self, promise_id: str) -> None:
        """A debounced run left DELAYED: its debounce key is free for a new workflow, as in DBOS."""
        permit = await self.get(permit_id(promise_id))
        if permit is None or not (isinstance(permit.param.data, dict) and permit.param.data.get("debounced")):
            return
        root = await self.get(promise_id)
        if root is not None:
            await self.release_dedup(Plan.from_record(root))

    async def release_dedup(self, plan: Plan) -> None:
        if plan.queue is not None and plan.dedup is not None and plan.dedup_slot is not None:
            await self.settle(dedup_slot_id(plan.queue, plan.dedup, plan.dedup_slot), {"released": True})

    # -- executing --------------------------------------------------------------------------

    async def prepare(self, promise_id: str) -> Run:
        """Before a run's body: wait for its permit if queued, arm its deadline. Raises the
        (storable) cancellation if the run was cancelled."""
        plan = self._plans.pop(promise_id, None)
        if plan is None:  # not started by this process (recovery): the root's tags hold the plan
            root = await self.get(promise_id)
            assert root is not None
            plan = Plan.from_record(root)
            if await self.get(cancel_marker_id(promise_id)) is not None:
                self.cancelled.add(promise_id)
        run = Run(plan, cancelled=promise_id in self.cancelled)
        self.runs[promise_id] = run
        try:
            if run.cancelled:
                raise cancelled_error(plan.workflow_id)
            if plan.deadline_ms is not None:
                self._arm(run, plan.deadline_ms)
            if plan.queue is not None:
                run.dispatched_ms = await self.dispatcher.admit(run)
                if plan.app_version is None:
                    await self.stamp_app_version(promise_id)
                if run.debounced:
                    run.payload = await self.latest_inputs(promise_id)
                if plan.timeout_ms is not None and plan.deadline_ms is None:
                    self._arm(run, run.dispatched_ms + plan.timeout_ms)
            if run.cancelled:
                raise cancelled_error(plan.workflow_id)
        except DBOSWorkflowCancelledError as exc:
            await self.finished(run)
            raise ser.to_storable(exc) from None
        return run

    async def stamp_app_version(self, promise_id: str) -> None:
        """DBOS's dequeue writes the worker's version on a run enqueued without one; the first
        worker to dequeue it wins (a redelivery finds the stamp there)."""
        version = _running_app_version()
        if version is not None:
            await self.create(app_version_stamp_id(promise_id), version, {})

    def _arm(self, run: Run, deadline_ms: int) -> None:
        delay = max(0.0, (deadline_ms - now_ms()) / 1000)
        loop = asyncio.get_running_loop()
        run.timer = loop.call_later(delay, lambda: loop.create_task(self._time_out(run)))

    async def _time_out(self, run: Run) -> None:
        if self.runs.get(run.plan.promise_id) is run:
            try:
                await self.cancel_run(run.plan.promise_id)
            except Exception:  # noqa: BLE001 - a timer has no caller to tell
                logger.warning("Could not time out workflow %s", run.plan.workflow_id, exc_info=True)

    async def finished(self, run: Run) -> None:
        """After a run's body returned or raised (or it never started)."""
        if self.runs.get(run.plan.promise_id) is run:
            del self.runs[run.plan.promise_id]
        if run.timer is not None:
            run.timer.cancel()
        self.dispatcher.finished(run)
        await self.release_dedup(run.plan)

    def check_cancelled(self, root_promise_id: str, workflow_id: str) -> None:
        """At each durable operation: a cancelled run stops (DBOS checks at the same points)."""
        if root_promise_id in self.cancelled:
            raise cancelled_error(workflow_id)

    async def copied(self, root_promise_id: str, child_id: str) -> PromiseRecord | None:
        """A forked or resumed run's operation, as its base run recorded it (None: run it)."""
        run = self.runs.get(root_promise_id)
        if run is None or run.plan.base is None:
            return None
        index = int(child_id.rsplit(":", 1)[1])
        if run.plan.copy_until is not None and index >= run.plan.copy_until:
            return None
        record = await self.get(f"{run.plan.base}:{index}")
        if record is None or record.state == "pending":
            return None
        # A copied child start names the original's child, which the fork then waits for, as in DBOS.
        return record

    # -- cancelling -------------------------------------------------------------------------

    async def cancel_run(self, promise_id: str) -> None:
        """Mark run ``promise_id`` cancelled; wake whatever it waits on; free its queue slot."""
        workflow_id, _ = split_generation(promise_id)
        marker = await self.create(cancel_marker_id(promise_id), None,
                                   {rec.TAG_KIND: "cancel", rec.TAG_ID: workflow_id})
        if marker.state == "pending":
            await self.settle(marker.id, {"at": now_ms()})
        self.cancelled.add(promise_id)
        permit = await self.get(permit_id(promise_id))
        if permit is not None and permit.state == "pending":
            await self.settle(permit.id, {"cancelled": True}, reject=True)
        self.dispatcher.cancelled(promise_id)
        run = self.runs.get(promise_id)
        if run is not None:
            run.cancelled = True
            run.woken.set()
        plan = run.plan if run is not None else None
        if plan is None:
            root = await self.get(promise_id)
            plan = Plan.from_record(root) if root is not None else None
        if plan is not None:
            await self.release_dedup(plan)

    # -- deleting ---------------------------------------------------------------------------

    def _note_deleted(self, promise_id: str) -> None:
        workflow_id, k = split_generation(promise_id)
        self.deleted.add(promise_id)
        self.after_deletion[workflow_id] = max(self.after_deletion.get(workflow_id, 0), k + 1)

    async def delete_run(self, promise_id: str) -> None:
        """DBOS's ``delete_workflows`` for one run: it stops being found (status, listings,
        steps); a run still queued or running is cancelled first, so its body stops at its next
        durable operation (DBOS's body fails there too). Its id can be started again, as a new
        run ``W%r<k>``. Promises are never removed: Resonate has no delete."""
        workflow_id, _ = split_generation(promise_id)
        root = await self.get(promise_id)
        if root is not None and root.state == "pending":
            await self.cancel_run(promise_id)
        marker = await self.create(deleted_marker_id(promise_id), None, {rec.TAG_KIND: "deleted",
                                                                         rec.TAG_ID: workflow_id})
        if marker.state == "pending":
            await self.settle(marker.id, {"at": now_ms()})
        self._note_deleted(promise_id)
        run = self.runs.get(promise_id)
        if run is not None:
            run.woken.set()

    async def is_deleted(self, promise_id: str) -> bool:
        return promise_id in self.deleted or await self.get(deleted_marker_id(promise_id)) is not None

    # -- finding a workflow's current run ---------------------------------------------------

    async def current(self, workflow_id: str) -> tuple[PromiseRecord, WorkflowStatus] | None:
        """The workflow's latest run (a resumed workflow has several) and its status; None for a
        workflow that does not exist or whose latest run was deleted."""
        k = 0
        record = await self.get(generation_id(workflow_id, 0))
        if record is None:
            return None
        created = record.created_at
        while True:
            deleted = await self.is_deleted(record.id)
            status = await self.refine(workflow_id, record)
            if not deleted and status.status not in ("CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED"):
                break
            later = await self.get(generation_id(workflow_id, k + 1))
            if later is None:
                if deleted:
                    return None
                break
            if deleted:
                created = later.created_at  # a new workflow under a deleted one's id
            k, record = k + 1, later
        status.created_at = created or status.created_at
        return record, status

    async def refine(self, workflow_id: str, record: PromiseRecord,
                     cancelled: Iterable[str] | None = None,
                     permits: dict[str, PromiseRecord] | None = None) -> WorkflowStatus:
        """A run's status: its root, plus the markers a root cannot show (ENQUEUED, CANCELLED).
        ``cancelled``/``permits`` are what searches already found (for listing many at once)."""
        status = status_from_record(workflow_id, record)
        status.executor_id = "local"
        status.application_name = _app_name()
        permit: PromiseRecord | None = None
        if status.status == "ERROR" and is_cancel_error(status.error):
            status.status, status.error = "CANCELLED", None
        if status.status in ("PENDING", "ERROR"):
            # cancelled: its body may still be running, or have failed since (say, on a child
            # cancelled with it); either way DBOS keeps the status CANCELLED
            if cancelled is not None:
                is_cancelled = record.id in cancelled
            else:
                is_cancelled = record.id in self.cancelled or await self.get(cancel_marker_id(record.id)) is not None
            if is_cancelled:
                status.status, status.error = "CANCELLED", None
            elif status.status == "PENDING" and status.queue_name is not None:
                if permits is not None:
                    permit = permits.get(record.id)
                else:
                    permit = await self.get(permit_id(record.id))
                if permit is None or permit.state == "pending":
                    status.status = "ENQUEUED"
                    until = await self.delay_until(permit) if permit is not None else None
                    if until is not None:
                        status.delay_until_epoch_ms = until
                        if until > now_ms():
                            status.status = "DELAYED"
        if status.queue_name is not None and status.status not in ("ENQUEUED", "DELAYED"):
            permit = permits.get(record.id) if permits is not None else await self.get(permit_id(record.id))
            if permit is not None and permit.state == "resolved" and isinstance(permit.value.data, dict):
                status.dequeued_at = permit.value.data.get("at")
            if status.app_version is None and (stamp := await self.get(app_version_stamp_id(record.id))):
                status.app_version = stamp.param.data
        if permit is not None and isinstance(permit.param.data, dict) and permit.param.data.get("debounced"):
            await self._debounced_view(status, record.id)
        if status.status == "CANCELLED":
            status.queue_name = None
        if status.status not in ("DELAYED", "ENQUEUED", "PENDING"):
            status.deduplication_id = None  # DBOS frees the id when the workflow leaves the queue
        return status

    async def _debounced_view(self, status: WorkflowStatus, promise_id: str) -> None:
        """A debounced workflow shows its latest inputs; its debounce key only while DELAYED."""
        inputs = await self.latest_inputs(promise_id)
        if inputs is not None:
            args, kwargs, _ = ser.loads(inputs)
            status.input = {"args": tuple(args), "kwargs": dict(kwargs)}
        if status.status != "DELAYED":
            status.deduplication_id = None

    async def status(self, workflow_id: str) -> WorkflowStatus | None:
        found = await self.current(workflow_id)
        if found is None:
            return None
        record, status = found
        status.was_forked_from = await self.get(fork_marker_id(workflow_id)) is not None
        status.recovery_attempts = await self._executions(record.id)
        status.attributes = await attributes.current(self, record)
        return status

    async def _executions(self, promise_id: str) -> int:
        """How many times the body has started: the engine's execution markers (see ``Engine._execute``)."""
        count = 0
        while await self.get(f"{promise_id}:attempt.{count + 1}") is not None:
            count += 1
        return count

    async def wait_result(self, workflow_id: str) -> str:
        """The workflow's result payload, waiting through ENQUEUED and PENDING; a cancelled
        workflow raises ``DBOSAwaitedWorkflowCancelledError`` (also when cancelled while waited on)."""
        rec.note_ref(workflow_id)
        found = await self.current(workflow_id)
        if found is None:
            raise DBOSNonExistentWorkflowError("target", workflow_id)
        record, status = found
        if status.status == "CANCELLED":
            raise DBOSAwaitedWorkflowCancelledError(workflow_id)
        handle = await self.resonate.get(record.id)
        result = asyncio.ensure_future(handle.result())
        run = self.runs.get(record.id)
        woken = asyncio.ensure_future(run.woken.wait()) if run is not None else None
        try:
            waits = [result] if woken is None else [result, woken]
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if woken is not None:
                woken.cancel()
        if not result.done():
            result.cancel()
            result.add_done_callback(lambda t: t.cancelled() or t.exception())
            raise await self._stopped_error(record.id, workflow_id)
        try:
            return result.result()
        except Exception as exc:
            if is_cancel_error(ser.rebuilt(exc)):
                raise await self._stopped_error(record.id, workflow_id) from None
            raise

    async def _stopped_error(self, promise_id: str, workflow_id: str) -> DBOSException:
        """What awaiting a run that was stopped raises: DBOS's error for a deleted workflow or
        for a cancelled one."""
        if await self.is_deleted(promise_id):
            return DBOSNonExistentWorkflowError("target", workflow_id)
        return DBOSAwaitedWorkflowCancelledError(workflow_id)


def _app_name() -> str | None:
    from shim import _dbos

    instance = _dbos._instance
    return instance.config.get("name") if instance is not None else None


def _recorded_app_version(options: StartOptions) -> str | None:
    """The version asked for, else the running application's, except where DBOS leaves it unset
    until the run is dequeued (see ``stamp_app_version``); a resumed run keeps its recorded one."""
    if (options.app_version is not None or options.promise_id is not None or options.forked_from is not None
            or options.version_at_dequeue):
        return options.app_version
    return _running_app_version()


def _running_app_version() -> str | None:
    from shim import _dbos

    instance = _dbos._instance
    return instance.app_version if instance is not None else None


def replayed(record: PromiseRecord) -> str:
    """The stored outcome of a copied operation: its value, or its error raised."""
    if record.state == "resolved":
        return record.value.data
    from resonate.codec import _deserialize_error

    raise _deserialize_error(record.value.data)


def _dispatch_deadline(run: Run) -> int | None:
    if run.plan.timeout_ms is not None and run.dispatched_ms is not None:
        return run.dispatched_ms + run.plan.timeout_ms
    return None


# the engine, the queue API and the exports import these from here
__all__ = ["INTERNAL_QUEUE", "EnqueueRequest", "Lifecycle", "Plan", "Run", "Scoped", "SetWorkflowTimeout",
           "StartOptions", "enqueue_options", "here", "replayed", "scoped", "split_generation", "start_options",
           "tagged_runner"]


def tagged_runner(resonate: Any, tags: dict[str, str]) -> Any:
    """``resonate`` (an ``options()`` copy) whose ``run`` adds ``tags`` to the root promise it
    creates. resonate-sdk 0.8's ``run`` takes no tags, so the copy's request builder is wrapped;
    the original instance is untouched."""
    import msgspec

    build = resonate._build_root_promise_create_req

    def build_tagged(*args: Any, **kwargs: Any) -> Any:
        req = build(*args, **kwargs)
        return msgspec.structs.replace(req, tags={**req.tags, **tags})

    resonate._build_root_promise_create_req = build_tagged
    return resonate
