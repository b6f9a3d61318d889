"""What the shim writes into Resonate so that workflows can be found and inspected later.

Two things, both read by ``shim/_management.py`` (``list_workflows``, ``list_workflow_steps``):

* **Tags on workflow root promises.** Every DBOS workflow is a Resonate root promise; the engine
  adds the ``dbos2resonate:*`` tags below when it creates one, so ``promise.search`` (on the
  embedded store or on a Resonate server alike) finds workflows, and their status carries what
  DBOS's ``workflow_status`` row carries (queue, parent, priority, ...). Messages, events, streams,
  schedules and execution markers carry no ``dbos2resonate:kind=workflow`` tag, so a search for
  workflows never sees them.
* **Operation records.** Each durable operation of a workflow is a ``ctx.run`` child whose stored
  value is a pickled :class:`OpValue` (or, when it failed, an :class:`OpError`): the operation's
  DBOS name (``"my_step"``, ``"DBOS.sleep"``, ...) travels with its outcome, and a child start or
  result wait names the workflow it refers to, because a local child promise keeps no parameters.

This module imports nothing from the engine, so the engine can import it.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from resonate.error import ResonateError

from shim import _serialization as ser

if TYPE_CHECKING:
    from resonate.resonate import Resonate
    from resonate.types import PromiseRecord

PREFIX = "dbos2resonate:"
TAG_KIND = PREFIX + "kind"
KIND_WORKFLOW = "workflow"
TAG_NAME = PREFIX + "name"  # the registered workflow name
TAG_ID = PREFIX + "id"  # the DBOS workflow id (a resumed run lives under another promise id)
TAG_PARENT = PREFIX + "parent"  # the workflow that started it
TAG_QUEUE = PREFIX + "queue"
TAG_PRIORITY = PREFIX + "priority"
TAG_DEDUP = PREFIX + "dedup"
TAG_PARTITION = PREFIX + "partition"
TAG_TIMEOUT_MS = PREFIX + "timeout_ms"
TAG_DEADLINE_MS = PREFIX + "deadline_ms"
TAG_FORKED_FROM = PREFIX + "forked_from"
TAG_BASE = PREFIX + "base"  # promise id whose operations a fork or resume copies
TAG_BASE_WORKFLOW = PREFIX + "base_workflow"  # the workflow id of that promise
TAG_COPY_UNTIL = PREFIX + "copy_until"  # operations below this function id are copied
TAG_CREATED_MS = PREFIX + "created_ms"  # a resumed run keeps its workflow's creation time
TAG_APP_VERSION = PREFIX + "app_version"
TAG_AUTH_USER = PREFIX + "authenticated_user"  # the caller's DBOS.authenticated_user at the start
TAG_AUTH_ROLES = PREFIX + "authenticated_roles"  # JSON, as DBOS stores them; absent when there are none
TAG_ASSUMED_ROLE = PREFIX + "assumed_role"
AUTH_TAGS = (TAG_AUTH_USER, TAG_AUTH_ROLES, TAG_ASSUMED_ROLE)
TAG_APP_ID = PREFIX + "app_id"  # DBOS__APPID when the workflow started, as DBOS records it
TAG_SCHEDULE = PREFIX + "schedule"  # the schedule whose tick, trigger or backfill started it
TAG_ATTRIBUTES = PREFIX + "attributes"  # JSON: SetWorkflowAttributes at creation (updates: shim/_attributes.py)


def workflow_search_tags(name: str | None = None, queue: str | None = None) -> dict[str, str]:
    tags = {TAG_KIND: KIND_WORKFLOW}
    if name is not None:
        tags[TAG_NAME] = name
    if queue is not None:
        tags[TAG_QUEUE] = queue
    return tags


# -- operation records --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OpValue:
    """The stored outcome of one durable operation that returned."""

    name: str
    value: Any
    ref: str | None = None  # the workflow a child start or a result wait refers to


class OpError(ser.StoredError):
    """The stored outcome of one durable operation that raised (a :class:`ser.StoredError`
    that also carries the operation's name)."""

    def __init__(self, payload: str, summary: str, name: str, ref: str | None = None) -> None:
        super().__init__(payload, summary)
        self.args = (payload, summary, name, ref)
        self.name = name
        self.ref = ref


def op_error(name: str, exc: BaseException, ref: str | None) -> BaseException:
    storable = ser.to_storable(exc)
    if type(storable) is ser.StoredError:
        return OpError(storable.payload, storable.summary, name, ref)
    return storable


def operation_name(child: PromiseRecord) -> str:
    """The DBOS name of a recorded operation; "" for one still running or that raised."""
    if child.state != "resolved":
        return ""
    stored = ser.loads(child.value.data) if isinstance(child.value.data, str) else child.value.data
    return stored.name if type(stored) is OpValue else ""


def unwrap(stored: Any) -> Any:
    """The operation's own value (records written before names were kept are the value itself)."""
    return stored.value if type(stored) is OpValue else stored


_op_ref: contextvars.ContextVar[list[str | None] | None] = contextvars.ContextVar("d2r_op_ref", default=None)


def begin_op() -> list[str | None]:
    """Called by an operation before it runs: a slot :func:`note_ref` fills in."""
    slot: list[str | None] = [None]
    _op_ref.set(slot)
    return slot


def note_ref(workflow_id: str) -> None:
    """The running operation starts, or waits for, ``workflow_id`` (a no-op outside operations)."""
    slot = _op_ref.get()
    if slot is not None:
        slot[0] = workflow_id


def is_not_found(exc: ResonateError) -> bool:
    """The store or server answered that the promise or schedule does not exist (404)."""
    return getattr(exc, "code", None) == 404 or "404" in str(exc) or "not found" in str(exc).lower()


async def get_record(resonate: Resonate, promise_id: str) -> PromiseRecord | None:
    """The promise ``promise_id``, or None when there is none."""
    try:
        return await resonate.promises.get(promise_id)
    except ResonateError as exc:
        if is_not_found(exc):
            return None
        raise
