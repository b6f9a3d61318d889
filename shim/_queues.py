"""DBOS queues on the shim: ``Queue(...)`` (2.x, at import time), ``DBOS.register_queue`` (3.x),
``queue.enqueue`` / ``enqueue_async``, ``DBOS.enqueue_workflow`` and ``SetEnqueueOptions``.

Enqueueing is ``start_workflow`` with a queue: the workflow's root promise is created at once
(status ENQUEUED), tagged with the queue, and its body waits for its permit, which the dispatcher
(shim/_dispatch.py) grants under the queue's flow control. Durable state and ids:
shim/_lifecycle.py. Docs: docs/queues.md.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Coroutine
from typing import Any

from shim._dispatch import UNLIMITED, Limits
from shim._enqueue import (
    MAX_PRIORITY,
    MIN_PRIORITY,
    check_duplication_policy,
    delay_until_ms,
    start_enqueued,
)
from shim._handles import WorkflowHandle, WorkflowHandleAsync
from shim._lifecycle import (
    INTERNAL_QUEUE,
    EnqueueRequest,
    Scoped,
    StartOptions,
    enqueue_options,
    here,
    scoped,
)
from shim._queue_config import QueueConfig, QueueRateLimit, validate
from shim.errors import DBOSException, ShimUnsupportedError

_registry: dict[str, Queue] = {}
_lock = threading.Lock()
_listeners: list[Callable[[str], None]] = []
_listening: list[str] | None = None  # DBOS.listen_queues: None listens to every queue


def limits_of(name: str) -> Limits | None:
    """The flow control of a queue this process dispatches; None for an undeclared queue or
    one ``listen_queues`` left out (its work waits, as in DBOS)."""
    if name == INTERNAL_QUEUE:
        return UNLIMITED  # DBOS always listens to its internal queue
    if _listening is not None and name not in _listening:
        return None
    queue = _registry.get(name)
    return None if queue is None else queue._limits()


def registered(name: str) -> Queue | None:
    return _registry.get(name)


def clear_registry() -> None:
    global _listening
    with _lock:
        _registry.clear()
        _listening = None


def _announce(name: str) -> None:
    for listener in list(_listeners):
        listener(name)


def _refuse(api: str, **values: Any) -> None:
    for name, value in values.items():
        if value not in (None, False):
            raise ShimUnsupportedError(f"{api}({name}=...)", "a queue of another application or database is not "
                                                             "built: the shim's queues live in this process.")


class Queue(QueueConfig):
    """Drop-in for ``dbos.Queue``: a named queue with DBOS's flow control (shim/_queue_config.py)."""

    def __init__(self, name: str, concurrency: int | None = None, limiter: QueueRateLimit | None = None, *,
                 worker_concurrency: int | None = None, global_concurrency: int | None = None,
                 partition_concurrency: int | None = None, partition_worker_concurrency: int | None = None,
                 partition_limiter: QueueRateLimit | None = None, polling_interval_sec: float = 1.0,
                 database_backed_queue: bool = False, client_system_database: Any = None,
                 application_name: str | None = None, priority_enabled: bool = False,
                 partition_queue: bool = False) -> None:
        _refuse("Queue", client_system_database=client_system_database, application_name=application_name)
        if not database_backed_queue:
            validate(concurrency=concurrency, worker_concurrency=worker_concurrency,
                     global_concurrency=global_concurrency, partition_concurrency=partition_concurrency,
                     partition_worker_concurrency=partition_worker_concurrency, partition_limiter=partition_limiter,
                     partition_queue=partition_queue, polling_interval_sec=polling_interval_sec, limiter=limiter)
        self.name = name
        self._registered = False  # by DBOS.register_queue: what retrieve_queue, list_queues and setters see
        self._configure(concurrency=concurrency if global_concurrency is None else global_concurrency,
                        worker_concurrency=worker_concurrency, limiter=limiter,
                        partition_concurrency=partition_concurrency,
                        partition_worker_concurrency=partition_worker_concurrency,
                        partition_limiter=partition_limiter, priority_enabled=priority_enabled,
                        partition_queue=partition_queue, polling_interval_sec=polling_interval_sec)
        if database_backed_queue:
            return  # a handle on a queue declared elsewhere (DBOS.enqueue_workflow builds these)
        with _lock:
            if name in _registry and name != INTERNAL_QUEUE:
                raise Exception(f"Queue {name} has already been declared")
            _registry[name] = self
        _announce(name)

    def __repr__(self) -> str:
        return f"Queue({self.name!r})"

    # -- enqueueing ------------------------------------------------------------------------------

    def _options(self) -> StartOptions:
        requested = scoped(enqueue_options, contextvars.copy_context()) or EnqueueRequest()
        key = requested.queue_partition_key
        if key is not None and requested.deduplication_id is not None:
            raise Exception("Deduplication is not supported for partitioned queues")
        known = _registry.get(self.name, self)
        if known._partition_queue and key is None:
            raise Exception(
                f"A workflow cannot be enqueued on partitioned queue {self.name} without a partition key")
        if key is not None and not known._partition_queue:
            raise Exception(
                f"You can only use a partition key on a partition-enabled queue. Key {key} was used with "
                f"non-partitioned queue {self.name}")
        check_duplication_policy(requested.duplication_policy, self.name, requested.deduplication_id)
        return StartOptions(queue=self.name, priority=requested.priority, dedup=requested.deduplication_id,
                            partition=key, app_version=requested.app_version,
                            delay_until_ms=requested.delay_until_ms,
                            duplication_policy=requested.duplication_policy)

    def _start(self, func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
               ) -> tuple[Any, Coroutine[Any, Any, str]]:
        from shim import _dbos

        spec, args = _dbos._spec_of(func, args)
        ops = _dbos._operations()
        return ops, start_enqueued(ops, spec, args, kwargs, self._options())

    def enqueue(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> WorkflowHandle[Any]:
        ops, start = self._start(func, args, kwargs)
        return WorkflowHandle(ops._block(start), ops)

    async def enqueue_async(self, func: Callable[..., Coroutine[Any, Any, Any]], *args: Any,
                            **kwargs: Any) -> WorkflowHandleAsync[Any]:
        ops, start = self._start(func, args, kwargs)
        return WorkflowHandleAsync(await ops._await(start), ops)


def register_queue(name: str, *, worker_concurrency: int | None = None, global_concurrency: int | None = None,
                   partition_concurrency: int | None = None, partition_worker_concurrency: int | None = None,
                   partition_limiter: QueueRateLimit | None = None, limiter: QueueRateLimit | None = None,
                   polling_interval_sec: float = 1.0, on_conflict: str = "update_if_latest_version",
                   concurrency: int | None = None, priority_enabled: bool = False,
                   partition_queue: bool = False) -> Queue:
    """``DBOS.register_queue``: declare (or, as DBOS's default ``on_conflict`` does for the
    running version, update) a queue. Its configuration lives in this process."""
    if on_conflict not in ("update_if_latest_version", "always_update", "never_update"):
        raise DBOSException(f"Invalid on_conflict {on_conflict!r}")
    validate(concurrency=concurrency, worker_concurrency=worker_concurrency, global_concurrency=global_concurrency,
             partition_concurrency=partition_concurrency, partition_worker_concurrency=partition_worker_concurrency,
             partition_limiter=partition_limiter, partition_queue=partition_queue,
             polling_interval_sec=polling_interval_sec, limiter=limiter)
    queue = Queue(name, concurrency, limiter, worker_concurrency=worker_concurrency,
                  global_concurrency=global_concurrency, partition_concurrency=partition_concurrency,
                  partition_worker_concurrency=partition_worker_concurrency, partition_limiter=partition_limiter,
                  polling_interval_sec=polling_interval_sec, priority_enabled=priority_enabled,
                  partition_queue=partition_queue, database_backed_queue=True)
    queue._registered = True
    with _lock:
        existing = _registry.get(name)
        if existing is not None and on_conflict == "never_update":
            return existing
        _registry[name] = queue
    _announce(name)
    return queue


# -- DBOS's queue table: retrieve_queue, list_queues, delete_queue, listen_queues -------------------
#
# DBOS keeps queues declared with ``register_queue`` in its database; the shim keeps them in this
# process (docs/queues.md, limits). ``Queue(...)`` declared in code is not in DBOS's table either.


def retrieve_queue(name: str) -> Queue | None:
    queue = _registry.get(name)
    return queue if queue is not None and queue._registered else None


async def retrieve_queue_async(name: str) -> Queue | None:
    return retrieve_queue(name)


def list_queues(*, application_name: str | list[str] | None = None) -> list[Queue]:
    """The registered queues (``application_name``: this application's, the only ones here)."""
    from shim import _dbos

    if application_name is not None:
        mine = _dbos._instance.config.get("name") if _dbos._instance is not None else None
        names = [application_name] if isinstance(application_name, str) else application_name
        if mine not in names:
            return []
    return sorted((q for q in list(_registry.values()) if q._registered), key=lambda q: q.name)


async def list_queues_async(*, application_name: str | list[str] | None = None) -> list[Queue]:
    return list_queues(application_name=application_name)


def delete_queue(name: str) -> None:
    """Forget a registered queue; work still queued on it waits until it is registered again."""
    with _lock:
        queue = _registry.get(name)
        if queue is not None and queue._registered:
            del _registry[name]


async def delete_queue_async(name: str) -> None:
    delete_queue(name)


def listen_queues(queues: list[Queue | str]) -> None:
    """Dispatch only these queues' work in this process (and DBOS's internal queue)."""
    global _listening
    from shim import _dbos

    if _dbos._instance is not None and _dbos._instance.launched is not None:
        raise DBOSException("listen_queues called after DBOS is launched")
    if _listening is not None:
        raise DBOSException("listen_queues called more than once")
    _listening = [q if isinstance(q, str) else q.name for q in queues]


def enqueue_workflow(queue_name: str, func: Callable[..., Any], *args: Any, **kwargs: Any) -> WorkflowHandle[Any]:
    return Queue(queue_name, database_backed_queue=True).enqueue(func, *args, **kwargs)


async def enqueue_workflow_async(queue_name: str, func: Callable[..., Any], *args: Any,
                                 **kwargs: Any) -> WorkflowHandleAsync[Any]:
    return await Queue(queue_name, database_backed_queue=True).enqueue_async(func, *args, **kwargs)


class SetEnqueueOptions:
    """``with SetEnqueueOptions(deduplication_id=..., priority=...):`` for the enqueues in the block."""

    def __init__(self, *, deduplication_id: str | None = None, priority: int | None = None,
                 app_version: str | None = None, queue_partition_key: str | None = None,
                 delay_seconds: float | None = None, duplication_policy: str | None = None) -> None:
        if priority is not None and (priority < MIN_PRIORITY or priority > MAX_PRIORITY):
            raise Exception(f"Invalid priority {priority}. Priority must be between {MIN_PRIORITY}~{MAX_PRIORITY}.")
        self.request = EnqueueRequest(deduplication_id=deduplication_id, priority=priority,
                                      app_version=app_version, queue_partition_key=queue_partition_key,
                                      delay_until_ms=delay_until_ms(delay_seconds),
                                      duplication_policy=duplication_policy)
        self._token: Any = None

    def __enter__(self) -> SetEnqueueOptions:
        self._token = enqueue_options.set(Scoped(self.request, here()))
        return self

    def __exit__(self, *exc: object) -> None:
        enqueue_options.reset(self._token)

    async def __aenter__(self) -> SetEnqueueOptions:
        return self.__enter__()

    async def __aexit__(self, *exc: object) -> None:
        self.__exit__()


__all__ = ["Queue", "QueueRateLimit", "SetEnqueueOptions", "delete_queue", "delete_queue_async",
           "enqueue_workflow", "enqueue_workflow_async", "limits_of", "list_queues", "list_queues_async",
           "listen_queues", "register_queue", "retrieve_queue", "retrieve_queue_async"]
