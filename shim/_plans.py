"""What a workflow run is asked to be when it starts: the ids of its durable state, the options
callers set around a start (``SetWorkflowTimeout``, ``SetEnqueueOptions``, enqueue, resume, fork)
and the plan a run is created with, which its root promise keeps as tags. Used by
shim/_lifecycle.py; see its docstring for the ids.
"""

from __future__ import annotations

import contextvars
import re
import time
from dataclasses import dataclass
from typing import Any

from resonate.types import PromiseRecord

from shim import _records as rec
from shim._context import current_step, current_workflow
from shim._ids import to_promise_id, to_workflow_id

INTERNAL_QUEUE = "_dbos_internal_queue"
_FOREVER_MS = 100 * 365 * 24 * 3600 * 1000
_GENERATION = re.compile(r"%r(\d+)$")
_UNSET: Any = object()


def now_ms() -> int:
    return int(time.time() * 1000)


# -- ids ----------------------------------------------------------------------------------------


def generation_id(workflow_id: str, k: int) -> str:
    base = to_promise_id(workflow_id)
    return base if k == 0 else f"{base}%r{k}"


def split_generation(promise_id: str) -> tuple[str, int]:
    """(DBOS workflow id, run number) of a root promise id."""
    found = _GENERATION.search(promise_id)
    if found is None:
        return to_workflow_id(promise_id), 0
    return to_workflow_id(promise_id[: found.start()]), int(found.group(1))


def permit_id(promise_id: str) -> str:
    return f"{promise_id}:dispatch"


def cancel_marker_id(promise_id: str) -> str:
    return f"{promise_id}:cancelled"


def app_version_stamp_id(promise_id: str) -> str:
    """The version of the worker that dequeued a run enqueued without one (DBOS stamps it then)."""
    return f"{promise_id}:app-version"


def deleted_marker_id(promise_id: str) -> str:
    return f"{promise_id}:deleted"


def delay_update_id(promise_id: str, n: int) -> str:
    """The n-th ``set_workflow_delay`` of a DELAYED run (n = 1, 2, ...; the latest holds)."""
    return f"{promise_id}:delay.{n}"


def fork_marker_id(workflow_id: str) -> str:
    return f"{to_promise_id(workflow_id)}:forked"


def dedup_slot_id(queue: str, dedup: str, k: int) -> str:
    from shim._messaging import segment

    return f"{rec.PREFIX}dedup/{segment(queue)}/{segment(dedup)}/{k}"


# -- what the caller asked for ------------------------------------------------------------------
#
# ``SetWorkflowTimeout``, ``SetEnqueueOptions`` and the options of an enqueue are context variables
# holding a ``Scoped`` value: the value and the workflow whose code set it (None outside workflows).
# A workflow's body runs in a copy of its caller's context, so a value set around a start would
# otherwise leak into the started workflow's own starts; DBOS gives each body a fresh context.


@dataclass(frozen=True)
class Scoped:
    value: Any
    owner: object | None


def here() -> object | None:
    """The workflow whose code is running here (None outside workflows and in steps)."""
    return None if current_step.get() is not None else current_workflow.get()


def scoped(var: contextvars.ContextVar[Scoped | None], context: contextvars.Context | None,
           default: Any = None) -> Any:
    """``var``'s value in ``context`` if it was set by the code running there, else ``default``."""
    if context is None:
        return default
    found = context.get(var)
    if found is None:
        return default
    frame = None if context.get(current_step) is not None else context.get(current_workflow)
    return found.value if found.owner is frame else default



class SetWorkflowTimeout:
    """``with SetWorkflowTimeout(seconds):`` gives workflows started in the block a timeout: when it
    passes, the workflow is cancelled (DBOS semantics; ``None`` also stops a parent's deadline from
    passing on to children started in the block)."""

    def __init__(self, workflow_timeout_sec: float | None) -> None:
        if workflow_timeout_sec and not workflow_timeout_sec > 0:
            raise Exception(f"Invalid workflow timeout {workflow_timeout_sec}. Timeouts must be positive.")
        self.workflow_timeout_ms = int(workflow_timeout_sec * 1000) if workflow_timeout_sec is not None else None
        self._token: Any = None

    def __enter__(self) -> SetWorkflowTimeout:
        self._token = workflow_timeout.set(Scoped(self.workflow_timeout_ms, here()))
        return self

    def __exit__(self, *exc: object) -> None:
        workflow_timeout.reset(self._token)

    async def __aenter__(self) -> SetWorkflowTimeout:
        return self.__enter__()

    async def __aexit__(self, *exc: object) -> None:
        self.__exit__()


workflow_timeout: contextvars.ContextVar[Scoped | None] = contextvars.ContextVar("d2r_workflow_timeout", default=None)


@dataclass(frozen=True)
class EnqueueRequest:
    """What ``SetEnqueueOptions`` set, as seen by the next enqueue."""

    deduplication_id: str | None = None
    priority: int | None = None
    app_version: str | None = None
    queue_partition_key: str | None = None
    delay_until_ms: int | None = None  # ``delay_seconds`` counts from SetEnqueueOptions' creation, as in DBOS
    duplication_policy: str | None = None

    def any_set(self) -> list[str]:
        return [name for name, value in (("deduplication_id", self.deduplication_id), ("priority", self.priority),
                                         ("queue_partition_key", self.queue_partition_key),
                                         ("delay_seconds", self.delay_until_ms)) if value is not None]


enqueue_options: contextvars.ContextVar[Scoped | None] = contextvars.ContextVar(
    "d2r_enqueue_options", default=None)


@dataclass(frozen=True)
class StartOptions:
    """How a start differs from a plain ``start_workflow`` (enqueue, resume, fork)."""

    queue: str | None = None
    priority: int | None = None
    dedup: str | None = None
    partition: str | None = None
    app_version: str | None = None
    # Where DBOS leaves the version unset until a worker dequeues the run (enqueue_workflow_with_options,
    # DBOSClient.enqueue; forks too): otherwise the running application's version is recorded.
    version_at_dequeue: bool = False
    promise_id: str | None = None  # a resumed run's own id
    base: str | None = None  # root promise id whose operations are copied
    base_workflow_id: str | None = None
    copy_until: int | None = None  # copy operations 1 .. copy_until - 1 (None: all)
    forked_from: str | None = None
    timeout_ms: Any = _UNSET  # a fork's own timeout
    schedule_name: str | None = None  # a schedule's tick
    created_ms: int | None = None
    parent: str | None = None  # a resumed run keeps its workflow's parent
    delay_until_ms: int | None = None  # DELAYED until then (``delay_seconds``)
    duplication_policy: str | None = None  # "return-existing": a held deduplication id names its holder
    debounce_deadline_ms: int | None = None  # a debounced workflow's delay never passes this
    debounced: bool = False  # its deduplication id (the debounce key) is freed when its delay ends


# The options of the start being made in this context: set around ``Operations._start`` by
# enqueue, so the engine finds them in the caller's context without a new parameter everywhere.
start_options: contextvars.ContextVar[Scoped | None] = contextvars.ContextVar("d2r_start_options", default=None)


@dataclass
class Plan:
    """Everything about a run that is fixed when it starts; stored as its root promise's tags."""

    workflow_id: str
    promise_id: str
    name: str
    parent: str | None = None
    queue: str | None = None
    priority: int = 0
    dedup: str | None = None
    dedup_slot: int | None = None
    partition: str | None = None
    timeout_ms: int | None = None
    deadline_ms: int | None = None
    base: str | None = None
    base_workflow_id: str | None = None
    copy_until: int | None = None
    forked_from: str | None = None
    created_ms: int | None = None
    app_version: str | None = None
    delay_until_ms: int | None = None  # kept in the permit, not the root: set_workflow_delay moves it
    duplication_policy: str | None = None  # only matters while the run is being created
    debounce_deadline_ms: int | None = None  # kept in the permit, as the debounce flag
    debounced: bool = False
    schedule_name: str | None = None

    def tags(self) -> dict[str, str]:
        tags = {rec.TAG_KIND: rec.KIND_WORKFLOW, rec.TAG_NAME: self.name, rec.TAG_ID: self.workflow_id}
        optional = {
            rec.TAG_PARENT: self.parent, rec.TAG_QUEUE: self.queue,
            rec.TAG_PRIORITY: self.priority if self.queue is not None else None,
            rec.TAG_DEDUP: None if self.dedup is None else f"{self.dedup_slot}/{self.dedup}",
            rec.TAG_PARTITION: self.partition, rec.TAG_TIMEOUT_MS: self.timeout_ms,
            rec.TAG_DEADLINE_MS: self.deadline_ms, rec.TAG_BASE: self.base,
            rec.TAG_BASE_WORKFLOW: self.base_workflow_id, rec.TAG_COPY_UNTIL: self.copy_until,
            rec.TAG_FORKED_FROM: self.forked_from, rec.TAG_CREATED_MS: self.created_ms,
            rec.TAG_APP_VERSION: self.app_version, rec.TAG_SCHEDULE: self.schedule_name,
        }
        tags.update({k: str(v) for k, v in optional.items() if v is not None})
        return tags

    @classmethod
    def from_record(cls, record: PromiseRecord) -> Plan:
        tags = record.tags
        workflow_id, _ = split_generation(record.id)
        dedup = tags.get(rec.TAG_DEDUP)
        slot, _, dedup_id = dedup.partition("/") if dedup else (None, "", None)

        def number(tag: str) -> int | None:
            value = tags.get(tag)
            return int(value) if value is not None else None

        return cls(
            workflow_id=tags.get(rec.TAG_ID, workflow_id), promise_id=record.id,
            name=tags.get(rec.TAG_NAME) or _function_name(record), parent=tags.get(rec.TAG_PARENT),
            queue=tags.get(rec.TAG_QUEUE), priority=number(rec.TAG_PRIORITY) or 0,
            dedup=dedup_id, dedup_slot=int(slot) if slot is not None else None,
            partition=tags.get(rec.TAG_PARTITION), timeout_ms=number(rec.TAG_TIMEOUT_MS),
            deadline_ms=number(rec.TAG_DEADLINE_MS), base=tags.get(rec.TAG_BASE),
            base_workflow_id=tags.get(rec.TAG_BASE_WORKFLOW), copy_until=number(rec.TAG_COPY_UNTIL),
            forked_from=tags.get(rec.TAG_FORKED_FROM), created_ms=number(rec.TAG_CREATED_MS),
            app_version=tags.get(rec.TAG_APP_VERSION), schedule_name=tags.get(rec.TAG_SCHEDULE),
        )


def _function_name(record: PromiseRecord) -> str:
    data = record.param.data
    if isinstance(data, dict):
        return str(data.get("func", ""))
    return str(getattr(data, "func", ""))
