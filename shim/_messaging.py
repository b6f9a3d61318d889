"""DBOS's messages (``send``/``recv``) on Resonate durable promises, and the promise layer that
events (``shim/_events.py``) and streams (``shim/_streams.py``) share.

Everything a waiting workflow waits for is a durable promise with a deterministic id, so any
process that can reach the Resonate store (another worker, an HTTP gateway, the ``resonate`` CLI,
a program in another language) delivers a message by resolving a promise id. ``W`` below is the
workflow's own promise id (``shim._ids.to_promise_id``); ``T``/``K`` are topics and keys encoded by
:func:`segment`. Every id lives under ``W:`` so it shares the workflow's origin (its partition on a
Resonate server) and never looks like a workflow of its own:

    W:msg/T/k        the k-th message slot of topic T (k = 0, 1, ...); the k-th message received
                     on T is the value of slot k. None (the default topic) is the segment ``~``.
    W:sent/G         marks that the send tagged G (a workflow's send, a send with an
                     idempotency_key, a send_bulk's message) was delivered, so a re-run does not
                     deliver it twice
    W:send-bulk/B    a send_bulk outside a workflow (W its first destination): the batch, pending
                     until every message is delivered; a launch finishes the ones left pending
    W:event/K/v      the v-th value set for event K (the latest settled version is the value)
    W:event-keys/i   the i-th event key W has set (what get_all_events lists)
    W:stream/K/i     the i-th entry of stream K

A slot is written by create-or-get followed by resolve: the first writer to resolve a pending
slot wins it (Resonate keeps the first settlement), and the unique ``tag`` in the value tells a
writer whether the slot it resolved holds its own value or a competitor's, in which case it moves
on to the next slot. Receivers create the slot they wait on, so a waiting workflow has a pending
promise with a known id for an outside system to resolve. Docs: docs/messaging.md.

Values (the JSON a promise's ``data`` carries, base64-encoded on the wire) are envelopes written by
:func:`pack`: ``{"d2r": 1, "tag": ..., "json": value}`` when JSON represents the value exactly,
else ``{"d2r": 1, "tag": ..., "pickle": base64}`` (as DBOS pickles). Any JSON without a ``"d2r"``
key is taken as the value itself, so an outside system can resolve a slot with plain JSON.
"""

from __future__ import annotations

import asyncio
import math
import string
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Coroutine
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

from resonate.types import PromiseRecord, Value

from shim import _serialization as ser
from shim._context import WorkflowFrame, current_step, current_workflow
from shim._ids import to_promise_id
from shim._records import get_record
from shim.errors import (
    DBOSException,
    DBOSNonExistentWorkflowError,
    DBOSWorkflowConflictIDError,
    ShimUnsupportedError,
)

if TYPE_CHECKING:
    from resonate.resonate import Resonate

    from shim._engine import Engine
    from shim._operations import Operations

# Message, event and stream promises never time out: DBOS keeps them until the workflow is gone.
_HUNDRED_YEARS_MS = 100 * 365 * 24 * 3600 * 1000

# -- ids ----------------------------------------------------------------------------------------

_SAFE = frozenset(string.ascii_letters + string.digits + "_-")
NONE_SEGMENT = "~"


def segment(text: str | None) -> str:
    """A topic or key as one id segment: letters, digits, ``_`` and ``-`` stay, every other
    character is percent-encoded as UTF-8 bytes (``/`` is ``%2F``, ``~`` is ``%7E``); ``None`` is ``~``."""
    if text is None:
        return NONE_SEGMENT
    return "".join(c if c in _SAFE else "".join(f"%{b:02X}" for b in c.encode()) for c in text)


def message_slot_id(workflow_id: str, topic: str | None, k: int) -> str:
    return f"{to_promise_id(workflow_id)}:msg/{segment(topic)}/{k}"


def sent_marker_id(workflow_id: str, tag: str) -> str:
    return f"{to_promise_id(workflow_id)}:sent/{segment(tag)}"


def event_version_id(workflow_id: str, key: str, v: int) -> str:
    return f"{to_promise_id(workflow_id)}:event/{segment(key)}/{v}"


def event_key_id(workflow_id: str, i: int) -> str:
    return f"{to_promise_id(workflow_id)}:event-keys/{i}"


def stream_entry_id(workflow_id: str, key: str, i: int) -> str:
    return f"{to_promise_id(workflow_id)}:stream/{segment(key)}/{i}"


def promise_tags(kind: str, workflow_id: str) -> dict[str, str]:
    # resonate:external marks a promise meant to be settled from outside the workflow's own tasks.
    return {"resonate:external": "true", "dbos2resonate:kind": kind, "dbos2resonate:workflow": workflow_id}


# -- values -------------------------------------------------------------------------------------

_INT64 = 1 << 63


def _json_exact(value: Any) -> bool:
    """Whether JSON gives ``value`` back with the same types (lists stay lists, no tuples or sets)."""
    kind = type(value)
    if value is None or kind is bool or kind is str:
        return True
    if kind is int:
        return -_INT64 <= value < _INT64
    if kind is float:
        return math.isfinite(value)
    if kind is list:
        return all(_json_exact(v) for v in value)
    if kind is dict:
        return all(type(k) is str and _json_exact(v) for k, v in value.items())
    return False


def new_tag() -> str:
    return uuid.uuid4().hex


def pack(value: Any, tag: str) -> dict[str, Any]:
    """The JSON a shim writer stores: the value as JSON when that is exact, else as a pickle."""
    if _json_exact(value) and not (type(value) is dict and "d2r" in value):
        return {"d2r": 1, "tag": tag, "json": value}
    return {"d2r": 1, "tag": tag, "pickle": ser.dumps(value)}


def pack_closed(tag: str) -> dict[str, Any]:
    """The end-of-stream marker ``close_stream`` appends."""
    return {"d2r": 1, "tag": tag, "closed": True}


def unpack(data: Any) -> Any:
    """The value a promise carries: the shim's envelope, or plain JSON from anyone else."""
    if type(data) is dict and "d2r" in data:
        if "pickle" in data:
            return ser.loads(data["pickle"])
        return data.get("json")
    return data


def is_closed(data: Any) -> bool:
    return type(data) is dict and "d2r" in data and data.get("closed") is True


def tag_of(data: Any) -> str | None:
    return data.get("tag") if type(data) is dict and "d2r" in data else None


# -- promise primitives (coroutines for Resonate's loop) ----------------------------------------


async def create_or_get(resonate: Resonate, promise_id: str, tags: dict[str, str],
                        param: Any = None) -> PromiseRecord:
    """The promise ``promise_id``, created pending (with ``param``) unless it exists."""
    timeout_at = int(time.time() * 1000) + _HUNDRED_YEARS_MS
    return await resonate.promises.create(promise_id, timeout_at, Value(data=param), tags)


async def append(resonate: Resonate, slot_id: Callable[[int], str], start: int, envelope: dict[str, Any],
                 tags: dict[str, str]) -> int:
    """Write ``envelope`` into the first slot from ``start`` on that holds no one else's value;
    return its index. A slot that already holds this envelope's tag counts as written (a re-run)."""
    tag = envelope["tag"]
    k = start
    while True:
        promise_id = slot_id(k)
        record = await create_or_get(resonate, promise_id, tags)
        if record.state == "pending":
            record = await resonate.promises.resolve(promise_id, Value(data=envelope))
        if record.state == "resolved" and tag_of(record.value.data) == tag:
            return k
        k += 1


async def _quiet(wait: Coroutine[Any, Any, Any]) -> None:
    try:
        await wait
    except Exception:  # noqa: BLE001 - a rejection is a settlement too; callers re-read the record
        pass


async def wait_any(resonate: Resonate, promise_ids: list[str], timeout: float | None) -> bool:
    """Wait until one of these (existing) promises settles; False if ``timeout`` seconds pass first.

    Subscribing (``resonate.get``) is shielded from cancellation: a subscription left half-made
    would never be told of the settlement, and later waits on the same promise share it.
    """
    handles = [await asyncio.shield(resonate.get(pid)) for pid in promise_ids]
    if any(handle.done() for handle in handles):
        return True
    waits = [asyncio.ensure_future(_quiet(handle.result())) for handle in handles]
    try:
        done, _ = await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            if not wait.done():
                wait.cancel()
    return bool(done)


# -- per-process hints --------------------------------------------------------------------------
# Slots only ever go from pending to settled, so "every slot below n is settled" stays true once
# seen: a hint lets a writer or reader start its scan there instead of at slot 0. Hints live in
# memory, per engine; after a restart scans start at 0 again, which is always correct.


@dataclass
class _Hints:
    lock: threading.Lock = field(default_factory=threading.Lock)
    values: dict[str, int] = field(default_factory=dict)
    indexed: set[tuple[str, str]] = field(default_factory=set)

    def get(self, key: str) -> int:
        with self.lock:
            return self.values.get(key, 0)

    def raise_to(self, key: str, value: int) -> None:
        with self.lock:
            if value > self.values.get(key, 0):
                self.values[key] = value


class _Attached[K, V]:
    """A ``V`` made on first use for each ``K`` (an engine, a workflow execution), gone with it."""

    def __init__(self, make: Callable[[], V]) -> None:
        self._make = make
        self._values: weakref.WeakKeyDictionary[K, V] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def __call__(self, key: K) -> V:
        with self._lock:
            value = self._values.get(key)
            if value is None:
                value = self._values[key] = self._make()
            return value


hints_for: _Attached[Engine, _Hints] = _Attached(_Hints)


# -- where the caller is ------------------------------------------------------------------------


def check_async(name: str) -> None:
    """DBOS refuses its blocking calls on a thread that runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RuntimeError(f"{name}() was called while an event loop is running. Use await {name}_async(...) instead.")


def workflow_frame() -> WorkflowFrame | None:
    """The workflow whose body is running here; None outside workflows and inside steps."""
    if current_step.get() is not None:
        return None
    return current_workflow.get()


def owning_workflow_id() -> str | None:
    """The workflow a workflow body or one of its steps belongs to (set_event, write_stream)."""
    step = current_step.get()
    if step is not None:
        return step.workflow_id
    frame = current_workflow.get()
    return frame.workflow_id if frame is not None else None


def operation_tag(frame: WorkflowFrame, function_id: int) -> str:
    """The tag of a workflow's write: the same on every run of the workflow, so a re-run after a
    crash finds the value it wrote before instead of writing it again."""
    return f"op:{frame.workflow_id}#{function_id}"


def record_deadline(engine: Engine, frame: WorkflowFrame, timeout_seconds: float) -> Coroutine[Any, Any, float]:
    """DBOS records a wait's deadline as a ``DBOS.sleep`` operation; a restart keeps it."""

    async def deadline() -> float:
        return time.time() + timeout_seconds

    return engine.record(frame, "DBOS.sleep", deadline)


async def wait_with_deadline(engine: Engine, frame: WorkflowFrame, timeout_seconds: float, name: str,
                             wait: Callable[[float], Coroutine[Any, Any, Any]]) -> Any:
    """A timed wait inside a workflow, as DBOS records it: the deadline (``DBOS.sleep``), then the
    wait's outcome (``name``), each a durable operation.

    Both operations start in the same turn of the loop, so both are part of the workflow before its
    body can return: an async body that stops awaiting (``asyncio.gather`` failing on another
    awaitable) must not end the workflow with an operation Resonate has not seen started.
    """
    deadline = asyncio.ensure_future(record_deadline(engine, frame, timeout_seconds))
    # Its failure surfaces through ``outcome``; one left over after the workflow ended is dropped.
    deadline.add_done_callback(lambda task: task.cancelled() or task.exception())

    async def outcome() -> Any:
        return await wait(await deadline)

    return await asyncio.ensure_future(engine.record(frame, name, outcome))


def remaining(deadline: float) -> float:
    return deadline - time.time()


# -- messages -----------------------------------------------------------------------------------


@dataclass
class SendMessage:
    """One message of ``DBOS.send_bulk`` (the same fields as ``dbos.SendMessage``)."""

    destination_id: str
    message: Any
    topic: str | None = None
    idempotency_key: str | None = None


def _message_tags(destination_id: str) -> dict[str, str]:
    return promise_tags("message", destination_id)


def _slot_hint_key(destination_id: str, topic: str | None) -> str:
    return message_slot_id(destination_id, topic, 0)


async def _exists(resonate: Resonate, workflow_id: str) -> bool:
    return await get_record(resonate, to_promise_id(workflow_id)) is not None


async def deliver(engine: Engine, destination_id: str, topic: str | None, envelope: dict[str, Any],
                  tag: str | None) -> None:
    """Put ``envelope`` (from :func:`pack`) in the first free slot of ``destination_id``'s mailbox for
    ``topic``; callers have checked that the destination exists (a finished one still takes messages).

    With a ``tag`` (a workflow's send, or an idempotency key) the send happens at most once per
    destination: a ``W:sent/G`` marker, created before the message is written, remembers where the
    scan for the slot started (so a re-run finds the slot again) and is resolved once it is written.
    """
    resonate = engine.resonate
    hints = hints_for(engine)
    tags = _message_tags(destination_id)
    if tag is None:
        hint_key = _slot_hint_key(destination_id, topic)
        k = await append(resonate, lambda i: message_slot_id(destination_id, topic, i), hints.get(hint_key),
                         envelope, tags)
        hints.raise_to(hint_key, k + 1)
        return
    marker_id = sent_marker_id(destination_id, tag)
    marker = await create_or_get(resonate, marker_id, tags,
                                 {"topic": topic, "from": hints.get(_slot_hint_key(destination_id, topic))})
    if marker.state != "pending":
        return  # delivered before: DBOS drops a repeated idempotency key
    param = marker.param.data if type(marker.param.data) is dict else {}
    first_topic = param.get("topic", topic)
    k = await append(resonate, lambda i: message_slot_id(destination_id, first_topic, i), int(param.get("from", 0)),
                     envelope, tags)
    hints.raise_to(_slot_hint_key(destination_id, first_topic), k + 1)
    await resonate.promises.resolve(marker_id, Value(data={"slot": k}))


@dataclass
class Outgoing:
    """One message ready to deliver: serialized (as DBOS serializes a whole batch before sending any)."""

    destination_id: str
    topic: str | None
    envelope: dict[str, Any]
    tag: str | None


def outgoing(destination_id: str, topic: str | None, message: Any, tag: str | None) -> Outgoing:
    return Outgoing(destination_id, topic, pack(message, tag or new_tag()), tag)


def bulk_journal_id(first_destination_id: str, bulk: str) -> str:
    return f"{to_promise_id(first_destination_id)}:send-bulk/{bulk}"


_BULK_KIND = "send-bulk"


async def _journaled_delivery(engine: Engine, batch: list[Outgoing]) -> None:
    """``send_bulk`` outside a workflow: the whole batch goes into one journal promise before its
    first message is written, and the journal is settled after the last. A process that dies in
    between leaves the journal pending; the next launch on the store delivers the rest (every
    message carries a tag, so none is delivered twice)."""
    await check_destinations(engine, batch)
    bulk = new_tag()
    tagged = [m if m.tag is not None else replace(m, tag=f"bulk:{bulk}/{i}") for i, m in enumerate(batch)]
    journal_id = bulk_journal_id(batch[0].destination_id, bulk)
    await create_or_get(engine.resonate, journal_id, promise_tags(_BULK_KIND, batch[0].destination_id),
                        [asdict(m) for m in tagged])
    await _finish_bulk(engine, journal_id, tagged)


async def _finish_bulk(engine: Engine, journal_id: str, batch: list[Outgoing]) -> None:
    for message in batch:
        await deliver(engine, message.destination_id, message.topic, message.envelope, message.tag)
    await engine.resonate.promises.resolve(journal_id, Value(data=None))


async def finish_interrupted_bulk_sends(engine: Engine) -> None:
    """At launch: deliver the rest of every ``send_bulk`` a process left part-way."""
    for journal in await engine.lifecycle.search({"dbos2resonate:kind": _BULK_KIND}, "pending"):
        batch = [Outgoing(**message) for message in journal.param.data]
        await _finish_bulk(engine, journal.id, batch)


async def check_destinations(engine: Engine, batch: list[Outgoing]) -> None:
    """Every destination must exist; DBOS's error names all of the batch's destinations."""
    for message in batch:
        if not await _exists(engine.resonate, message.destination_id):
            raise DBOSNonExistentWorkflowError(
                "`send` destination", ", ".join(sorted({m.destination_id for m in batch}))
            )


async def receive(engine: Engine, workflow_id: str, topic: str | None, start: int,
                  deadline: float) -> tuple[int, Any]:
    """Wait until ``deadline`` for slot ``start`` (the next unread one) of ``topic``.

    Returns (the next unread slot, the message), or (``start``, None) on timeout: the slot stays
    pending, so a message sent later fills it and the next ``recv`` gets it. A slot someone rejected
    (no value) is skipped.
    """
    resonate = engine.resonate
    tags = _message_tags(workflow_id)
    k = start
    timed_out = False
    while True:
        promise_id = message_slot_id(workflow_id, topic, k)
        record = await create_or_get(resonate, promise_id, tags)
        if record.state == "resolved":
            return k + 1, unpack(record.value.data)
        if record.state != "pending":
            k += 1
            continue
        if timed_out:
            return k, None
        left = remaining(deadline)
        # At the deadline DBOS takes a message that is there by then: look once more before None.
        timed_out = left <= 0 or not await wait_any(resonate, [promise_id], left)


@dataclass
class ReadState:
    """What a workflow execution reads: the next slot of each topic, the ``recv``s and stream reads
    in flight (DBOS refuses concurrent ones, whose recorded order would depend on scheduling)."""

    next_slot: dict[str | None, int] = field(default_factory=dict)
    receiving: set[str | None] = field(default_factory=set)
    stream_reads: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


read_state: _Attached[WorkflowFrame, ReadState] = _Attached(ReadState)


# -- the DBOS calls -----------------------------------------------------------------------------


def check_serialization(serialization_type: Any) -> None:
    """DBOS's ``serialization_type``: only the default (pickle) is run."""
    if serialization_type is not None and str(getattr(serialization_type, "value", serialization_type)) not in (
        "None", "DEFAULT"
    ):
        raise ShimUnsupportedError("serialization_type=...", "values are always pickled (or stored as exact JSON).")


def send_coroutine(ops: Operations, frame: WorkflowFrame | None, destination_id: str, message: Any,
                   topic: str | None, idempotency_key: str | None,
                   serialization_type: Any = None) -> Coroutine[Any, Any, None]:
    """``send``: ``send_bulk`` of one message, as in DBOS, recorded as ``DBOS.send``."""
    return _sending(ops, frame, [SendMessage(destination_id, message, topic, idempotency_key)], "DBOS.send",
                    serialization_type)


def send_bulk_coroutine(ops: Operations, frame: WorkflowFrame | None, messages: list[SendMessage],
                        serialization_type: Any = None) -> Coroutine[Any, Any, None]:
    return _sending(ops, frame, messages, "DBOS.send_bulk", serialization_type)


def _sending(ops: Operations, frame: WorkflowFrame | None, messages: list[SendMessage], name: str,
             serialization_type: Any) -> Coroutine[Any, Any, None]:
    """Inside a workflow a send is one durable operation (``name``); elsewhere a plain call.

    As in DBOS's one transaction, repeated idempotency keys, a message that cannot be serialized and
    a destination that does not exist each fail the whole batch before any message is written. What
    a promise store cannot give is atomicity against a crash part way through the writes.
    """
    check_serialization(serialization_type)
    engine = ops.engine
    if frame is None:
        batch = _prepared(messages, None, name)
        return _journaled_delivery(engine, batch) if len(batch) > 1 else _checked_delivery(engine, batch)
    base = operation_tag(frame, frame.next_function_id())
    # Prepared inside the operation, so that a failure takes its place in the workflow's history.
    return engine.record(frame, name, lambda: _checked_delivery(engine, _prepared(messages, base, name)))


def _prepared(messages: list[SendMessage], base: str | None, name: str) -> list[Outgoing]:
    keys = [m.idempotency_key for m in messages if m.idempotency_key]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise DBOSException(f"send_bulk received duplicate idempotency keys: {', '.join(duplicates)}")

    def tag_of_message(i: int, message: SendMessage) -> str | None:
        if message.idempotency_key:
            return f"key:{message.idempotency_key}"
        if base is None:
            return None
        return base if name == "DBOS.send" else f"{base}/{i}"  # the tags earlier versions wrote

    return [outgoing(m.destination_id, m.topic, m.message, tag_of_message(i, m)) for i, m in enumerate(messages)]


async def _checked_delivery(engine: Engine, batch: list[Outgoing]) -> None:
    await check_destinations(engine, batch)
    for message in batch:
        await deliver(engine, message.destination_id, message.topic, message.envelope, message.tag)


_RECV_OUTSIDE_WORKFLOW = "recv() must be called from within a workflow"


def recv_coroutine(ops: Operations, topic: str | None, timeout_seconds: float) -> Coroutine[Any, Any, Any]:
    """``recv`` takes two function ids as in DBOS: ``DBOS.recv`` and the ``DBOS.sleep`` recording
    its deadline. The message read is recorded, so a replay returns it without reading again."""
    frame = workflow_frame()
    if frame is None:
        raise DBOSException(_RECV_OUTSIDE_WORKFLOW)
    frame.next_function_id()
    frame.next_function_id()
    inbox = read_state(frame)
    with inbox.lock:
        if topic in inbox.receiving:
            raise DBOSWorkflowConflictIDError(frame.workflow_id)
        inbox.receiving.add(topic)
    engine = ops.engine

    async def run() -> Any:
        try:
            start = inbox.next_slot.get(topic, 0)
            next_slot, message = await wait_with_deadline(
                engine, frame, timeout_seconds, "DBOS.recv",
                lambda deadline: receive(engine, frame.workflow_id, topic, start, deadline),
            )
            inbox.next_slot[topic] = next_slot
            return message
        finally:
            with inbox.lock:
                inbox.receiving.discard(topic)

    return run()


def send(ops: Operations, destination_id: str, message: Any, topic: str | None, idempotency_key: str | None,
         serialization_type: Any) -> None:
    check_async("send")
    ops._block(send_coroutine(ops, workflow_frame(), destination_id, message, topic, idempotency_key,
                              serialization_type))


async def send_async(ops: Operations, destination_id: str, message: Any, topic: str | None,
                     idempotency_key: str | None, serialization_type: Any) -> None:
    await ops._await(send_coroutine(ops, workflow_frame(), destination_id, message, topic, idempotency_key,
                                    serialization_type))


def send_bulk(ops: Operations, messages: list[SendMessage], serialization_type: Any) -> None:
    check_async("send_bulk")
    ops._block(send_bulk_coroutine(ops, workflow_frame(), list(messages), serialization_type))


async def send_bulk_async(ops: Operations, messages: list[SendMessage], serialization_type: Any) -> None:
    await ops._await(send_bulk_coroutine(ops, workflow_frame(), list(messages), serialization_type))


def recv(ops: Operations, topic: str | None, timeout_seconds: float) -> Any:
    check_async("recv")
    return ops._block(recv_coroutine(ops, topic, timeout_seconds))


async def recv_async(ops: Operations, topic: str | None, timeout_seconds: float) -> Any:
    return await ops._await(recv_coroutine(ops, topic, timeout_seconds))
