"""Enqueueing with DBOS's options: ``EnqueueOptions``, ``DBOS.enqueue_workflow_with_options``
(+async), and the start every enqueue shares (``queue.enqueue``, ``DBOSClient.enqueue``), which
knows ``duplication_policy="return-existing"``: a deduplicated enqueue then returns a handle on
the workflow already holding the deduplication id instead of raising.

The shim runs enqueued work in the process that enqueues it, so a workflow enqueued by name must
be registered here (DBOS would leave it ENQUEUED for another application). Docs: docs/queues.md.
"""

from __future__ import annotations

import contextvars
import time
import uuid
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from shim import _records as rec
from shim._classes import split_instance
from shim._context import starting_frame, take_assigned_workflow_id
from shim._engine import Caller
from shim._handles import WorkflowHandle, WorkflowHandleAsync
from shim._ids import child_workflow_id
from shim._lifecycle import (
    EnqueueRequest,
    HeldBy,
    StartOptions,
    enqueue_options,
    scoped,
)
from shim._operations import _running_loop
from shim._plans import _UNSET
from shim.errors import DBOSException, ShimUnsupportedError

if TYPE_CHECKING:
    from shim._operations import Operations
    from shim._specs import WorkflowSpec

MIN_PRIORITY = 1
MAX_PRIORITY = 2**31 - 1

DuplicationPolicy = Literal["reject", "return-existing"]


class _EnqueueOptionsRequired(TypedDict):
    workflow_name: str
    queue_name: str


class EnqueueOptions(_EnqueueOptionsRequired, total=False):
    """DBOS's ``EnqueueOptions`` (the keys the shim honours; the others raise by name)."""

    workflow_id: str
    app_version: str
    workflow_timeout: float
    delay_seconds: float
    deduplication_id: str
    duplication_policy: DuplicationPolicy
    priority: int
    queue_partition_key: str
    max_recovery_attempts: int
    authenticated_user: str
    authenticated_roles: list[str]
    serialization_type: Any
    class_name: str
    instance_name: str
    attributes: dict[str, Any]
    application_name: str | None
    otel_context: Any


# keys whose meaning the shim does not record; a program that sets one is told, not ignored
UNSUPPORTED_OPTIONS = ("class_name", "instance_name", "attributes", "authenticated_user", "authenticated_roles",
                       "serialization_type", "max_recovery_attempts", "otel_context", "application_name")


def check_priority(priority: int | None) -> None:
    if priority is not None and not MIN_PRIORITY <= priority <= MAX_PRIORITY:
        raise DBOSException(f"Invalid priority {priority}. Priority must be between {MIN_PRIORITY}~{MAX_PRIORITY}.")


def check_duplication_policy(policy: str | None, queue_name: str | None, deduplication_id: str | None) -> None:
    """DBOS's ``validate_duplication_policy`` (same messages)."""
    if policy is None or policy == "reject":
        return
    if policy != "return-existing":
        raise DBOSException(f"Invalid duplication_policy {policy}. Must be either 'reject' or 'return-existing'.")
    if queue_name is None:
        raise DBOSException("duplication_policy 'return-existing' requires a queue. It is only "
                            "supported when enqueueing a workflow onto a queue.")
    if deduplication_id is None:
        raise DBOSException("duplication_policy 'return-existing' requires a deduplication_id.")


def delay_until_ms(delay_seconds: float | None) -> int | None:
    return None if delay_seconds is None else int((time.time() + delay_seconds) * 1000)


# -- the start every enqueue shares -------------------------------------------------------------


def start_enqueued(ops: Operations, spec: WorkflowSpec, args: tuple[Any, ...], kwargs: dict[str, Any],
                   options: StartOptions, workflow_id: str | None = None, *,
                   as_child: bool = True) -> Coroutine[Any, Any, str]:
    """A coroutine that enqueues ``spec`` and returns the id of the workflow it stands for: the
    new one, or under ``return-existing`` the holder of the deduplication id. Inside a workflow
    (and ``as_child``) it is one recorded operation, numbered like a child start, so a replay
    returns the same id without enqueueing again (as DBOS records the child)."""
    assigned = workflow_id or take_assigned_workflow_id()
    caller = Caller(contextvars.copy_context(), _running_loop())
    instance, args = split_instance(args)
    frame = starting_frame() if as_child else None
    if frame is not None:
        function_id = frame.next_function_id()
        assigned = assigned or child_workflow_id(frame.workflow_id, function_id)
    new_id = assigned or str(uuid.uuid4())

    async def start() -> str:
        try:
            await ops.engine.start(spec, new_id, args, kwargs, caller if as_child else None, instance,
                                   options=options)
        except HeldBy as held:
            rec.note_ref(held.workflow_id)  # the recorded child is the holder, as in DBOS
            return held.workflow_id
        return new_id

    if frame is None:
        return start()
    return ops.engine.record(frame, spec.name, start)


# -- DBOS.enqueue_workflow_with_options -----------------------------------------------------------


def resolve(options: EnqueueOptions, ambient: EnqueueRequest | None, api: str) -> tuple[str, StartOptions]:
    """The workflow name and start options ``options`` ask for; unset keys fall back to the
    caller's ``SetEnqueueOptions`` (DBOS's ``_build_enqueue_with_options``)."""
    for key in UNSUPPORTED_OPTIONS:
        if options.get(key) is not None:
            raise ShimUnsupportedError(f"{api}(options={{{key!r}: ...}})", "the shim does not record this option.")
    ambient = ambient or EnqueueRequest()

    def pick(key: str, fallback: Any) -> Any:
        value = options.get(key)
        return fallback if value is None else value

    dedup = pick("deduplication_id", ambient.deduplication_id)
    policy = pick("duplication_policy", ambient.duplication_policy)
    partition = pick("queue_partition_key", ambient.queue_partition_key)
    priority = pick("priority", ambient.priority)
    if partition is not None and dedup is not None:
        raise DBOSException("Deduplication is not supported for partitioned queues")
    check_priority(priority)
    check_duplication_policy(policy, options.get("queue_name"), dedup)
    delay = options.get("delay_seconds")
    timeout = options.get("workflow_timeout")
    return options["workflow_name"], StartOptions(
        queue=options["queue_name"], priority=priority, dedup=dedup, partition=partition,
        app_version=options.get("app_version"), version_at_dequeue=True, duplication_policy=policy,
        delay_until_ms=delay_until_ms(delay) if delay is not None else ambient.delay_until_ms,
        timeout_ms=int(timeout * 1000) if timeout is not None else _UNSET)


def _by_name(ops: Operations, name: str, api: str) -> WorkflowSpec:
    spec = ops.engine.registry.workflows.get(name)
    if spec is None:
        raise ShimUnsupportedError(
            f"{api} of {name!r}",
            "the shim runs enqueued work in the process that enqueues it, which must register the workflow.")
    return spec


def _start_with_options(ops: Operations, options: EnqueueOptions, args: tuple[Any, ...],
                        kwargs: dict[str, Any]) -> Coroutine[Any, Any, str]:
    api = "DBOS.enqueue_workflow_with_options"
    ambient = scoped(enqueue_options, contextvars.copy_context())
    name, start = resolve(options, ambient, api)
    return start_enqueued(ops, _by_name(ops, name, api), args, kwargs, start, options.get("workflow_id"))


def enqueue_workflow_with_options(options: EnqueueOptions, *args: Any, **kwargs: Any) -> WorkflowHandle[Any]:
    from shim import _dbos

    ops = _dbos._operations()
    return WorkflowHandle(ops._block(_start_with_options(ops, options, args, kwargs)), ops)


async def enqueue_workflow_with_options_async(options: EnqueueOptions, *args: Any,
                                              **kwargs: Any) -> WorkflowHandleAsync[Any]:
    from shim import _dbos

    ops = _dbos._operations()
    return WorkflowHandleAsync(await ops._await(_start_with_options(ops, options, args, kwargs)), ops)


def client_start(ops: Operations, options: EnqueueOptions, args: tuple[Any, ...],
                 kwargs: dict[str, Any]) -> Coroutine[Any, Any, str]:
    """``DBOSClient.enqueue``: the same options, never a recorded operation, no ambient options."""
    api = "DBOSClient.enqueue"
    name, start = resolve(options, None, api)
    return start_enqueued(ops, _by_name(ops, name, api), args, kwargs, start,
                          options.get("workflow_id") or str(uuid.uuid4()), as_child=False)


__all__ = ["DuplicationPolicy", "EnqueueOptions", "client_start", "enqueue_workflow_with_options",
           "enqueue_workflow_with_options_async", "start_enqueued"]
