"""DBOS 2.31's ``Debouncer`` and ``DebouncerClient`` on the shim.

``debounce(key, period, *args)`` starts the workflow ``period`` seconds from now, unless a call with
the same key already did and it has not started yet: then that workflow is pushed back by
``period`` (never past ``debounce_timeout_sec`` after its first call) and will run with these
arguments instead, and its handle is returned. As in DBOS the debounced workflow is enqueued DELAYED
(on ``queue`` or DBOS's internal queue) with ``"{workflow name}-{key}"`` as its deduplication id,
which is freed when its delay ends. Durable state: the delay and input updates of
shim/_lifecycle.py (``P:delay.<n>``). Docs: docs/queues.md.
"""

from __future__ import annotations

import contextvars
import time
import types
import uuid
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar

from shim import _queues
from shim import _serialization as ser
from shim._enqueue import EnqueueOptions, resolve, start_enqueued
from shim._handles import WorkflowHandle, WorkflowHandleAsync
from shim._lifecycle import (
    INTERNAL_QUEUE,
    EnqueueRequest,
    StartOptions,
    enqueue_options,
    scoped,
)
from shim._management import _as_operation
from shim.errors import DBOSException, DBOSQueueDeduplicatedError

if TYPE_CHECKING:
    from shim._operations import Operations
    from shim._queues import Queue

P = ParamSpec("P")
R = TypeVar("R", covariant=True)


def _queue_name(queue: Queue | str | None) -> str | None:
    return queue if queue is None or isinstance(queue, str) else queue.name


# what a debounce owns, and DBOS's message for a caller that sets it too
_CONFLICTS = (
    ("deduplication_id", "Cannot debounce a workflow with a deduplication_id set: the debounce key is used as "
                         "the workflow's deduplication ID."),
    ("delay_seconds", "Cannot debounce a workflow with a delay set: the debounce period controls the "
                      "workflow's delay."),
    ("priority", "Cannot debounce a workflow with a priority set: priority is not supported for debounced "
                 "workflows."),
    ("queue_partition_key", "Cannot debounce a workflow with a queue partition key set: partitioned queues do "
                            "not support deduplication, which debouncing requires."),
)


def _reject_conflicts(request: EnqueueRequest | None, options: EnqueueOptions | None = None) -> None:
    """DBOS's ``_reject_conflicting_options``, for ``SetEnqueueOptions`` or a client's options."""
    given: dict[str, Any] = dict(options or {})
    if request is not None:
        given.update(deduplication_id=request.deduplication_id, delay_seconds=request.delay_until_ms,
                     priority=request.priority, queue_partition_key=request.queue_partition_key,
                     duplication_policy=request.duplication_policy)
    for key, message in _CONFLICTS:
        if given.get(key) is not None:
            raise DBOSException(message)
    if given.get("duplication_policy") == "return-existing":
        raise DBOSException("Cannot debounce a workflow with duplication_policy 'return-existing': a debounce "
                            "owns the workflow's deduplication behavior.")


class _Debounce:
    """One ``debounce`` call: bounce the key's holder, or enqueue a new DELAYED workflow."""

    def __init__(self, ops: Operations, name: str, queue: str, key: str, period: float, timeout: float | None,
                 args: tuple[Any, ...], kwargs: dict[str, Any], base: StartOptions, *, recorded: bool,
                 workflow_id: str | None) -> None:
        self.ops, self.name, self.queue, self.workflow_id = ops, name, queue, workflow_id
        self.dedup = f"{name}-{key}"
        self.period, self.timeout = period, timeout
        self.args, self.kwargs, self.base = args, kwargs, base
        self.recorded = recorded
        spec = ops.engine.registry.workflows.get(name)
        if spec is None:
            raise Exception(f"Invalid workflow name provided to debouncer: {name}")
        self.spec = spec

    async def _bounce(self) -> str | None:
        lifecycle = self.ops.engine.lifecycle
        holder = await lifecycle.dedup_holder(self.queue, self.dedup)
        if holder is None:
            return None
        until = int((time.time() + self.period) * 1000)
        if await lifecycle.bounce(holder, self.name, until, ser.dumps((self.args, self.kwargs, None))):
            return holder
        raise DBOSQueueDeduplicatedError(holder, self.queue, self.dedup)

    def _bounce_operation(self) -> Coroutine[Any, Any, str | None]:
        if not self.recorded:
            return self._bounce()
        return _as_operation(self.ops, "DBOS.debounce_delayed_workflow", self._bounce)

    def _fresh(self) -> Coroutine[Any, Any, str]:
        now_ms = int(time.time() * 1000)
        deadline = now_ms + int(self.timeout * 1000) if self.timeout else None
        until = now_ms + int(self.period * 1000)
        options = StartOptions(queue=self.queue, dedup=self.dedup, app_version=self.base.app_version,
                               timeout_ms=self.base.timeout_ms,
                               delay_until_ms=until if deadline is None else min(until, deadline),
                               debounced=True, debounce_deadline_ms=deadline)
        return start_enqueued(self.ops, self.spec, self.args, self.kwargs, options, self.workflow_id,
                              as_child=self.recorded)

    def run(self) -> str:
        while True:
            holder = self.ops._block(self._bounce_operation())
            if holder is not None:
                return holder
            try:
                return self.ops._block(self._fresh())
            except DBOSQueueDeduplicatedError:
                continue  # another call took the key meanwhile: bounce it

    async def run_async(self) -> str:
        while True:
            holder = await self.ops._await(self._bounce_operation())
            if holder is not None:
                return holder
            try:
                return await self.ops._await(self._fresh())
            except DBOSQueueDeduplicatedError:
                continue


class Debouncer(Generic[P, R]):
    """``Debouncer.create(workflow, debounce_timeout_sec=..., queue=...)``, then ``debounce``."""

    def __init__(self, workflow_name: str, *, debounce_timeout_sec: float | None = None,
                 queue: Queue | str | None = None, application_name: str | None = None) -> None:
        if application_name is not None:
            from shim.errors import ShimUnsupportedError

            raise ShimUnsupportedError("Debouncer(application_name=...)", "the shim has one application.")
        self.func_name = workflow_name
        self.debounce_timeout_sec = debounce_timeout_sec
        self.queue_name = _queue_name(queue)

    @staticmethod
    def create(workflow: Callable[P, R], *, debounce_timeout_sec: float | None = None,
               queue: Queue | str | None = None, application_name: str | None = None) -> Debouncer[P, R]:
        if isinstance(workflow, types.MethodType):
            raise TypeError("Only workflow functions may be debounced, not methods")
        from shim import _dbos

        spec, _ = _dbos._spec_of(workflow, ())
        return Debouncer(spec.name, debounce_timeout_sec=debounce_timeout_sec, queue=queue,
                         application_name=application_name)

    @staticmethod
    def create_async(workflow: Callable[P, Coroutine[Any, Any, R]], *, debounce_timeout_sec: float | None = None,
                     queue: Queue | str | None = None, application_name: str | None = None) -> Debouncer[P, R]:
        return Debouncer.create(workflow, debounce_timeout_sec=debounce_timeout_sec, queue=queue,  # type: ignore[arg-type]
                                application_name=application_name)

    def _call(self, key: str, period: float, args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Debounce:
        from shim import _dbos
        from shim._context import take_assigned_workflow_id

        _reject_conflicts(scoped(enqueue_options, contextvars.copy_context()))
        queue = self.queue_name or INTERNAL_QUEUE
        if self.queue_name and _queues.registered(queue) is None:
            raise Exception(f"Invalid queue name provided to debouncer: {queue}")
        return _Debounce(_dbos._operations(), self.func_name, queue, key, period, self.debounce_timeout_sec,
                         args, kwargs, StartOptions(), recorded=True, workflow_id=take_assigned_workflow_id())

    def debounce(self, debounce_key: str, debounce_period_sec: float, *args: P.args,
                 **kwargs: P.kwargs) -> WorkflowHandle[R]:
        call = self._call(debounce_key, debounce_period_sec, args, kwargs)
        return WorkflowHandle(call.run(), call.ops)

    async def debounce_async(self, debounce_key: str, debounce_period_sec: float, *args: P.args,
                             **kwargs: P.kwargs) -> WorkflowHandleAsync[R]:
        call = self._call(debounce_key, debounce_period_sec, args, kwargs)
        return WorkflowHandleAsync(await call.run_async(), call.ops)


class DebouncerClient:
    """``DebouncerClient(client, workflow_options, ...)``: the same from a ``DBOSClient``."""

    def __init__(self, client: Any, workflow_options: EnqueueOptions, *, debounce_timeout_sec: float | None = None,
                 queue: Queue | str | None = None, application_name: str | None = None) -> None:
        if application_name is not None:
            from shim.errors import ShimUnsupportedError

            raise ShimUnsupportedError("DebouncerClient(application_name=...)", "the shim has one application.")
        self.client = client
        self.workflow_options = workflow_options
        self.debounce_timeout_sec = debounce_timeout_sec
        self.queue_name = _queue_name(queue)

    def _call(self, key: str, period: float, args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Debounce:
        _reject_conflicts(None, self.workflow_options)
        queue = self.queue_name or self.workflow_options["queue_name"]
        name, base = resolve({**self.workflow_options, "queue_name": queue}, None, "DebouncerClient.debounce")
        return _Debounce(self.client._ops(), name, queue, key, period, self.debounce_timeout_sec, args, kwargs,
                         base, recorded=False,
                         workflow_id=self.workflow_options.get("workflow_id") or str(uuid.uuid4()))

    def debounce(self, debounce_key: str, debounce_period_sec: float, *args: Any, **kwargs: Any
                 ) -> WorkflowHandle[Any]:
        call = self._call(debounce_key, debounce_period_sec, args, kwargs)
        return WorkflowHandle(call.run(), call.ops)

    async def debounce_async(self, deboucne_key: str, debounce_period_sec: float, *args: Any,
                             **kwargs: Any) -> WorkflowHandleAsync[Any]:
        # the first parameter's name is DBOS's own (misspelt there), for keyword callers
        call = self._call(deboucne_key, debounce_period_sec, args, kwargs)
        return WorkflowHandleAsync(await call.run_async(), call.ops)


__all__ = ["Debouncer", "DebouncerClient"]
