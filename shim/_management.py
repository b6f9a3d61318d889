"""DBOS's workflow management API on the shim: ``list_workflows``, ``list_queued_workflows``,
``list_workflow_steps``, ``cancel_workflow(s)``, ``resume_workflow(s)``, ``fork_workflow``.

Workflows are found with ``promise.search`` on the tags the engine puts on every workflow root
(shim/_records.py), so the same code serves the embedded store and a Resonate server. A
workflow's steps are its root's ``ctx.run`` children ``P:1``, ``P:2``, ..., whose stored values
name the operation. Cancel, resume and fork work through shim/_lifecycle.py. Docs: docs/queues.md.

Every call has a blocking form (from a thread) and an ``*_async`` form; called inside a workflow,
each is one durable operation named as DBOS names it (``DBOS.listWorkflows``, ...).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

from resonate.codec import _deserialize_error

from shim import _attributes as attributes
from shim import _records as rec
from shim import _serialization as ser
from shim._context import take_assigned_workflow_id
from shim._handles import WorkflowHandle, WorkflowHandleAsync
from shim._lifecycle import (
    INTERNAL_QUEUE,
    Lifecycle,
    StartOptions,
    fork_marker_id,
    generation_id,
    split_generation,
)
from shim._operations import active_frame
from shim._status import WorkflowStatus
from shim.errors import DBOSNonExistentWorkflowError, DBOSWorkflowFunctionNotFoundError, ShimUnsupportedError

if TYPE_CHECKING:
    from resonate.types import PromiseRecord

    from shim._operations import Operations

T = TypeVar("T")



class StepInfo(TypedDict):
    """One durable operation of a workflow, as ``list_workflow_steps`` returns it (DBOS's keys)."""

    function_id: int
    function_name: str
    output: Any
    error: Exception | None
    child_workflow_id: str | None
    started_at_epoch_ms: int | None
    completed_at_epoch_ms: int | None

_WAITS = ("DBOS.recv", "DBOS.getEvent")


# -- plumbing -----------------------------------------------------------------------------------


def _ops() -> Operations:
    from shim import _dbos

    return _dbos._operations()


def _as_operation(ops: Operations, name: str, make: Callable[[], Awaitable[T]]) -> Coroutine[Any, Any, T]:
    """``make()`` as is, or as one durable operation when called in a workflow (as DBOS does)."""
    frame = active_frame()
    if frame is None:
        async def direct() -> T:
            return await make()

        return direct()
    frame.next_function_id()
    return ops.engine.record(frame, name, make)


def _as_list(value: str | list[str] | None) -> list[str] | None:
    if value is None:
        return None
    return [value] if isinstance(value, str) else list(value)


def _ms(iso: str | None) -> int | None:
    return None if not iso else int(datetime.fromisoformat(iso).timestamp() * 1000)


# -- listing workflows --------------------------------------------------------------------------


async def list_statuses(lifecycle: Lifecycle, filters: dict[str, Any]) -> list[WorkflowStatus]:
    names = _as_list(filters.get("name"))
    queues = _as_list(filters.get("queue_name"))
    roots = await lifecycle.search(rec.workflow_search_tags(
        name=names[0] if names and len(names) == 1 else None,
        queue=queues[0] if queues and len(queues) == 1 else None))
    cancelled = {m.id.removesuffix(":cancelled") for m in await lifecycle.search({rec.TAG_KIND: "cancel"})}
    cancelled |= lifecycle.cancelled
    permits = {p.id.removesuffix(":dispatch"): p for p in await lifecycle.search({rec.TAG_KIND: "permit"})}
    forked = {m.tags.get(rec.TAG_ID) for m in await lifecycle.search({rec.TAG_KIND: "forked"})}
    deleted = {m.id.removesuffix(":deleted") for m in await lifecycle.search({rec.TAG_KIND: "deleted"})}
    deleted |= lifecycle.deleted
    updated_attributes = attributes.latest_updates(await lifecycle.search(attributes.update_search_tags()))
    reborn: dict[str, int] = {}  # workflow id -> its first run after its latest deletion
    for promise_id in deleted:
        workflow_id, k = split_generation(promise_id)
        reborn[workflow_id] = max(reborn.get(workflow_id, 0), k + 1)
    latest: dict[str, tuple[int, PromiseRecord]] = {}
    first_created: dict[str, int] = {}
    for root in roots:
        workflow_id, k = split_generation(root.id)
        workflow_id = root.tags.get(rec.TAG_ID, workflow_id)
        if k == reborn.get(workflow_id, 0):
            first_created[workflow_id] = root.created_at
        if workflow_id not in latest or latest[workflow_id][0] < k:
            latest[workflow_id] = (k, root)
    statuses: list[WorkflowStatus] = []
    for workflow_id, (_, root) in latest.items():
        if root.id in deleted:
            continue
        status = await lifecycle.refine(workflow_id, root, cancelled, permits)
        status.created_at = first_created.get(workflow_id, status.created_at)
        status.was_forked_from = workflow_id in forked
        if root.id in updated_attributes:
            status.attributes = updated_attributes[root.id]
        if _keep(status, filters):
            statuses.append(status)
    statuses.sort(key=lambda s: s.created_at or 0, reverse=bool(filters.get("sort_desc")))
    offset = filters.get("offset") or 0
    limit = filters.get("limit")
    statuses = statuses[offset:offset + limit] if limit else statuses[offset:]
    for status in statuses:
        if not filters.get("load_input", True):
            status.input = None
        if not filters.get("load_output", True):
            status.output = None
            status.error = None
    return statuses


def _keep(status: WorkflowStatus, f: dict[str, Any]) -> bool:
    def among(value: Any, wanted: str | list[str] | None) -> bool:
        listed = _as_list(wanted)
        return not listed or value in listed

    def within(value: int | None, low: str | None, high: str | None) -> bool:
        lo, hi = _ms(low), _ms(high)
        if lo is not None and (value is None or value < lo):
            return False
        return not (hi is not None and (value is None or value > hi))

    statuses = _as_list(f.get("status"))
    if f.get("queues_only"):
        if status.queue_name is None:
            return False
        if not statuses and status.status not in ("DELAYED", "ENQUEUED", "PENDING"):
            return False
    prefixes = _as_list(f.get("workflow_id_prefix"))
    has_parent = f.get("has_parent")
    was_forked = f.get("was_forked_from")
    return (
        (not f.get("workflow_ids") or status.workflow_id in f["workflow_ids"])
        and among(status.status, statuses)
        and among(status.name, f.get("name"))
        and among(status.app_version, f.get("app_version"))
        and among(status.schedule_name, f.get("schedule_name"))
        and among(status.forked_from, f.get("forked_from"))
        and among(status.parent_workflow_id, f.get("parent_workflow_id"))
        and among(status.authenticated_user, f.get("user"))
        and among(status.queue_name, f.get("queue_name"))
        and among(status.executor_id, f.get("executor_id"))
        and among(status.application_name, f.get("application_name"))
        and within(status.created_at, f.get("start_time"), f.get("end_time"))
        and within(status.completed_at, f.get("completed_after"), f.get("completed_before"))
        and within(status.dequeued_at, f.get("dequeued_after"), f.get("dequeued_before"))
        and (not prefixes or any(status.workflow_id.startswith(p) for p in prefixes))
        and (has_parent is None or (status.parent_workflow_id is not None) == has_parent)
        and (was_forked is None or status.was_forked_from == was_forked)
        and (not f.get("attributes") or attributes.contains(status.attributes, f["attributes"]))
    )


def list_workflows(**filters: Any) -> list[WorkflowStatus]:
    ops = _ops()
    return ops._block(_as_operation(ops, "DBOS.listWorkflows",
                                    lambda: list_statuses(ops.engine.lifecycle, filters)))


async def list_workflows_async(**filters: Any) -> list[WorkflowStatus]:
    ops = _ops()
    return await ops._await(_as_operation(ops, "DBOS.listWorkflows",
                                          lambda: list_statuses(ops.engine.lifecycle, filters)))


def list_queued_workflows(**filters: Any) -> list[WorkflowStatus]:
    ops = _ops()
    filters["queues_only"] = True
    return ops._block(_as_operation(ops, "DBOS.listQueuedWorkflows",
                                    lambda: list_statuses(ops.engine.lifecycle, filters)))


async def list_queued_workflows_async(**filters: Any) -> list[WorkflowStatus]:
    ops = _ops()
    filters["queues_only"] = True
    return await ops._await(_as_operation(ops, "DBOS.listQueuedWorkflows",
                                          lambda: list_statuses(ops.engine.lifecycle, filters)))


# -- a workflow's steps -------------------------------------------------------------------------


async def _children(lifecycle: Lifecycle, promise_id: str) -> dict[int, PromiseRecord]:
    """The settled operations of run ``promise_id``, by number: its own, and for a resumed or
    forked run that has not replayed them yet, its base run's (as DBOS copies them at once)."""
    found: dict[int, PromiseRecord] = {}
    k = 1
    while (child := await lifecycle.get(f"{promise_id}:{k}")) is not None:
        if child.state != "pending":
            found[k] = child
        k += 1
    root = await lifecycle.get(promise_id)
    base = root.tags.get(rec.TAG_BASE) if root is not None else None
    if base is not None:
        until = root.tags.get(rec.TAG_COPY_UNTIL) if root is not None else None
        for index, child in (await _children(lifecycle, base)).items():
            if index not in found and (until is None or index < int(until)):
                found[index] = child
    return found


def _step_info(index: int, child: PromiseRecord, load_output: bool) -> StepInfo:
    name, output, error, ref = "", None, None, None
    if child.state == "resolved":
        stored = ser.loads(child.value.data) if isinstance(child.value.data, str) else child.value.data
        if isinstance(stored, rec.OpValue):
            name, output, ref = stored.name, stored.value, stored.ref
        else:
            output = stored
    else:
        stored_error = _deserialize_error(child.value.data)
        if isinstance(stored_error, rec.OpError):
            name, ref = stored_error.name, stored_error.ref
        error = ser.rebuilt(stored_error)
    if name == "DBOS.recv" and isinstance(output, tuple) and len(output) == 2:
        output = output[1]  # shim/_messaging.py records (next slot, message); DBOS the message
    if ref is not None and name != "DBOS.getResult":
        output = None  # a child start: DBOS records the child's id, not an output
    return StepInfo(**{
        "function_id": index,
        "function_name": name,
        "output": output if load_output else None,
        "error": error if load_output else None,
        "child_workflow_id": ref,
        "started_at_epoch_ms": child.created_at or None,
        "completed_at_epoch_ms": child.settled_at,
    })


async def steps_of(lifecycle: Lifecycle, workflow_id: str, load_output: bool = True,
                   limit: int | None = None, offset: int | None = None) -> list[StepInfo]:
    found = await lifecycle.current(workflow_id)
    if found is None:
        return []
    children = await _children(lifecycle, found[0].id)
    steps = [_step_info(index, child, load_output) for index, child in sorted(children.items())]
    # A timed wait records its deadline (DBOS.sleep) just before its outcome; DBOS numbers the
    # wait first and the deadline second, so the pair's numbers are exchanged.
    for i in range(1, len(steps)):
        wait, deadline = steps[i], steps[i - 1]
        if (wait["function_name"] in _WAITS and deadline["function_name"] == "DBOS.sleep"
                and deadline["function_id"] == wait["function_id"] - 1):
            wait["function_id"], deadline["function_id"] = deadline["function_id"], wait["function_id"]
            steps[i - 1], steps[i] = wait, deadline
    start = offset or 0
    return steps[start:start + limit] if limit is not None else steps[start:]


def list_workflow_steps(workflow_id: str, *, load_output: bool = True, limit: int | None = None,
                        offset: int | None = None) -> list[StepInfo]:
    ops = _ops()
    return ops._block(_as_operation(ops, "DBOS.listWorkflowSteps", lambda: steps_of(
        ops.engine.lifecycle, workflow_id, load_output, limit, offset)))


async def list_workflow_steps_async(workflow_id: str, *, load_output: bool = True, limit: int | None = None,
                                    offset: int | None = None) -> list[StepInfo]:
    ops = _ops()
    return await ops._await(_as_operation(ops, "DBOS.listWorkflowSteps", lambda: steps_of(
        ops.engine.lifecycle, workflow_id, load_output, limit, offset)))


# -- cancel -------------------------------------------------------------------------------------


async def cancel(lifecycle: Lifecycle, workflow_ids: list[str], cancel_children: bool) -> None:
    """DBOS's ``cancel_workflows``: each workflow not yet finished becomes CANCELLED; with
    ``cancel_children``, so do its descendants. An unknown id is ignored, as in DBOS."""
    seen: set[str] = set()
    frontier = list(workflow_ids)
    while frontier:
        children: list[str] = []
        for workflow_id in frontier:
            if workflow_id in seen:
                continue
            seen.add(workflow_id)
            found = await lifecycle.current(workflow_id)
            if found is not None and found[1].status not in ("SUCCESS", "ERROR", "CANCELLED"):
                await lifecycle.cancel_run(found[0].id)
            if cancel_children:
                children += [r.tags.get(rec.TAG_ID, "") for r in await lifecycle.search(
                    {rec.TAG_KIND: rec.KIND_WORKFLOW, rec.TAG_PARENT: workflow_id})]
        frontier = [c for c in children if c and c not in seen]


def cancel_workflows(workflow_ids: list[str], *, cancel_children: bool = False) -> None:
    ops = _ops()
    ops._block(_as_operation(ops, "DBOS.cancelWorkflow",
                             lambda: cancel(ops.engine.lifecycle, list(workflow_ids), cancel_children)))


async def cancel_workflows_async(workflow_ids: list[str], *, cancel_children: bool = False) -> None:
    ops = _ops()
    await ops._await(_as_operation(ops, "DBOS.cancelWorkflow",
                                   lambda: cancel(ops.engine.lifecycle, list(workflow_ids), cancel_children)))


# -- resume and fork ----------------------------------------------------------------------------


def _inputs(record: PromiseRecord) -> tuple[tuple[Any, ...], dict[str, Any], Any]:
    data = record.param.data
    packed = (data.get("args") if isinstance(data, dict) else getattr(data, "args", None)) or []
    return ser.loads(packed[0])


def _spec(ops: Operations, status: WorkflowStatus) -> Any:
    spec = ops.engine.registry.workflows.get(status.name)
    if spec is None:
        raise DBOSWorkflowFunctionNotFoundError(status.workflow_id, f"{status.name} is not registered")
    return spec


async def resume(ops: Operations, workflow_id: str, queue_name: str | None) -> None:
    """DBOS's ``resume_workflow``: a CANCELLED (or dead-lettered) workflow runs again from its
    last completed step, as a new run ``W%r<k>`` that replays the previous run's operations; an
    ENQUEUED one is dispatched now. Finished and running workflows are left as they are."""
    lifecycle = ops.engine.lifecycle
    found = await lifecycle.current(workflow_id)
    if found is None:
        raise DBOSNonExistentWorkflowError("target", workflow_id)
    record, status = found
    if status.status in ("DELAYED", "ENQUEUED"):
        await lifecycle.dispatcher.expedite(record.id)
        return
    if status.status not in ("CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED"):
        return
    spec = _spec(ops, status)
    args, kwargs, instance = _inputs(record)
    _, k = split_generation(record.id)
    plan_parent = record.tags.get(rec.TAG_PARENT)
    timeout = record.tags.get(rec.TAG_TIMEOUT_MS)
    await ops.engine.start(spec, workflow_id, args, kwargs, None, instance, options=StartOptions(
        promise_id=generation_id(workflow_id, k + 1), base=record.id, base_workflow_id=workflow_id,
        queue=queue_name or INTERNAL_QUEUE, created_ms=status.created_at, parent=plan_parent,
        timeout_ms=int(timeout) if timeout is not None else None, app_version=status.app_version))


def resume_workflow(workflow_id: str, *, queue_name: str | None = None) -> WorkflowHandle[Any]:
    ops = _ops()
    ops._block(_as_operation(ops, "DBOS.resumeWorkflow", lambda: resume(ops, workflow_id, queue_name)))
    return WorkflowHandle(workflow_id, ops)


async def resume_workflow_async(workflow_id: str, *, queue_name: str | None = None) -> WorkflowHandleAsync[Any]:
    ops = _ops()
    await ops._await(_as_operation(ops, "DBOS.resumeWorkflow", lambda: resume(ops, workflow_id, queue_name)))
    return WorkflowHandleAsync(workflow_id, ops)


def resume_workflows(workflow_ids: list[str], *, queue_name: str | None = None) -> list[WorkflowHandle[Any]]:
    return [resume_workflow(w, queue_name=queue_name) for w in workflow_ids]


async def resume_workflows_async(workflow_ids: list[str], *,
                                 queue_name: str | None = None) -> list[WorkflowHandleAsync[Any]]:
    return [await resume_workflow_async(w, queue_name=queue_name) for w in workflow_ids]


async def fork(ops: Operations, workflow_id: str, start_step: int, forked_id: str, *,
               application_version: str | None, queue_name: str | None, queue_partition_key: str | None,
               replacement_children: dict[str, str] | None, timeout_seconds: float | None) -> str:
    """DBOS's ``fork_workflow``: a new workflow with the same inputs whose operations before
    ``start_step`` are copied from the original's, the rest run anew."""
    if replacement_children:
        raise ShimUnsupportedError("fork_workflow(replacement_children=...)", "replacing children is not built.")
    if timeout_seconds is not None and not timeout_seconds > 0:
        raise Exception(f"Invalid workflow timeout {timeout_seconds}. Timeouts must be positive.")
    lifecycle = ops.engine.lifecycle
    found = await lifecycle.current(workflow_id)
    if found is None:
        raise DBOSNonExistentWorkflowError("target", workflow_id)
    record, status = found
    spec = _spec(ops, status)
    args, kwargs, instance = _inputs(record)
    await ops.engine.start(spec, forked_id, args, kwargs, None, instance, options=StartOptions(
        queue=queue_name or INTERNAL_QUEUE, partition=queue_partition_key, base=record.id,
        base_workflow_id=workflow_id, copy_until=max(start_step, 1), forked_from=workflow_id,
        timeout_ms=int(timeout_seconds * 1000) if timeout_seconds is not None else None,
        app_version=application_version))
    marker = await lifecycle.create(fork_marker_id(workflow_id), None,
                                    {rec.TAG_KIND: "forked", rec.TAG_ID: workflow_id})
    if marker.state == "pending":
        await lifecycle.settle(marker.id, None)
    return forked_id


def _fork_coroutine(ops: Operations, workflow_id: str, start_step: int, **options: Any) -> Coroutine[Any, Any, str]:
    forked_id = take_assigned_workflow_id() or str(uuid.uuid4())
    return _as_operation(ops, "DBOS.forkWorkflow",
                         lambda: fork(ops, workflow_id, start_step, forked_id, **options))


def fork_workflow(workflow_id: str, start_step: int, *, application_version: str | None = None,
                  queue_name: str | None = None, queue_partition_key: str | None = None,
                  replacement_children: dict[str, str] | None = None,
                  timeout_seconds: float | None = None) -> WorkflowHandle[Any]:
    ops = _ops()
    new_id = ops._block(_fork_coroutine(
        ops, workflow_id, start_step, application_version=application_version, queue_name=queue_name,
        queue_partition_key=queue_partition_key, replacement_children=replacement_children,
        timeout_seconds=timeout_seconds))
    return WorkflowHandle(new_id, ops)


async def fork_workflow_async(workflow_id: str, start_step: int, *, application_version: str | None = None,
                              queue_name: str | None = None, queue_partition_key: str | None = None,
                              replacement_children: dict[str, str] | None = None,
                              timeout_seconds: float | None = None) -> WorkflowHandleAsync[Any]:
    ops = _ops()
    new_id = await ops._await(_fork_coroutine(
        ops, workflow_id, start_step, application_version=application_version, queue_name=queue_name,
        queue_partition_key=queue_partition_key, replacement_children=replacement_children,
        timeout_seconds=timeout_seconds))
    return WorkflowHandleAsync(new_id, ops)


__all__ = [
    "cancel_workflows", "cancel_workflows_async", "fork_workflow", "fork_workflow_async", "list_queued_workflows",
    "list_queued_workflows_async", "list_workflow_steps", "list_workflow_steps_async", "list_workflows",
    "list_workflows_async", "resume_workflow", "resume_workflow_async", "resume_workflows",
    "resume_workflows_async",
]
