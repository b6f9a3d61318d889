"""DBOS's workflow events (``set_event``/``get_event``/``get_all_events``) on durable promises.

An event is a list of versions ``W:event/K/0, 1, 2, ...``; ``set_event`` appends a version and the
latest settled version is the event's value (last writer wins). ``get_event`` returns it at once
when there is one, else waits on version 0, which it creates pending so that the workflow, or
anyone resolving that id, can settle it. The keys a workflow has set are listed, once each, in
``W:event-keys/0, 1, ...`` for ``get_all_events``. Ids and value format: shim/_messaging.py.
"""

from __future__ import annotations

import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from resonate.types import Value

from shim import _messaging as mx
from shim.errors import DBOSException

if TYPE_CHECKING:
    from resonate.resonate import Resonate

    from shim._engine import Engine
    from shim._operations import Operations


def _tags(workflow_id: str) -> dict[str, str]:
    return mx.promise_tags("event", workflow_id)


def _version_hint_key(workflow_id: str, key: str) -> str:
    return mx.event_version_id(workflow_id, key, 0)


async def write_event(engine: Engine, workflow_id: str, key: str, value: Any, tag: str) -> None:
    resonate = engine.resonate
    hints = mx.hints_for(engine)
    hint_key = _version_hint_key(workflow_id, key)
    v = await mx.append(resonate, lambda i: mx.event_version_id(workflow_id, key, i), hints.get(hint_key),
                        mx.pack(value, tag), _tags(workflow_id))
    hints.raise_to(hint_key, v)
    await _index_key(engine, workflow_id, key)


async def _index_key(engine: Engine, workflow_id: str, key: str) -> None:
    """Add ``key`` to the workflow's key list unless it is there (checked once per process)."""
    hints = mx.hints_for(engine)
    if (workflow_id, key) in hints.indexed:
        return
    resonate = engine.resonate
    tags = _tags(workflow_id)
    i = 0
    while True:
        promise_id = mx.event_key_id(workflow_id, i)
        record = await mx.create_or_get(resonate, promise_id, tags)
        if record.state == "pending":
            record = await resonate.promises.resolve(promise_id, Value(data={"key": key}))
        data = record.value.data
        if record.state == "resolved" and type(data) is dict and data.get("key") == key:
            with hints.lock:
                hints.indexed.add((workflow_id, key))
            return
        i += 1


async def _latest(engine: Engine, workflow_id: str, key: str) -> tuple[bool, Any]:
    """(True, value) of the latest settled version, or (False, None) when there is none yet."""
    resonate = engine.resonate
    hints = mx.hints_for(engine)
    hint_key = _version_hint_key(workflow_id, key)
    v = hints.get(hint_key)
    found, value, last = False, None, None
    while True:
        record = await mx.get_record(resonate, mx.event_version_id(workflow_id, key, v))
        if record is None or record.state == "pending":
            break
        if record.state == "resolved":
            found, value, last = True, record.value.data, v
        v += 1
    if last is not None:
        hints.raise_to(hint_key, last)
    return found, mx.unpack(value) if found else None


async def read_event(engine: Engine, workflow_id: str, key: str, deadline: float) -> Any:
    found, value = await _latest(engine, workflow_id, key)
    if found:
        return value
    left = mx.remaining(deadline)
    if left > 0:
        first = mx.event_version_id(workflow_id, key, 0)
        await mx.create_or_get(engine.resonate, first, _tags(workflow_id))
        await mx.wait_any(engine.resonate, [first], left)
        found, value = await _latest(engine, workflow_id, key)
    return value if found else None


async def read_all_events(engine: Engine, workflow_id: str) -> dict[str, Any]:
    resonate: Resonate = engine.resonate
    events: dict[str, Any] = {}
    i = 0
    while True:
        record = await mx.get_record(resonate, mx.event_key_id(workflow_id, i))
        if record is None or record.state == "pending":
            return dict(sorted(events.items()))  # by key, the order DBOS's SQLite store gives
        data = record.value.data
        if record.state == "resolved" and type(data) is dict and isinstance(data.get("key"), str):
            found, value = await _latest(engine, workflow_id, data["key"])
            if found:
                events[data["key"]] = value
        i += 1


# -- the DBOS calls -----------------------------------------------------------------------------


def set_event_coroutine(ops: Operations, key: str, value: Any,
                        serialization_type: Any = None) -> Coroutine[Any, Any, None]:
    """One durable operation (``DBOS.setEvent``) in a workflow; a plain write from a step."""
    mx.check_serialization(serialization_type)
    engine = ops.engine
    frame = mx.workflow_frame()
    if frame is not None:
        tag = mx.operation_tag(frame, frame.next_function_id())
        return engine.record(frame, "DBOS.setEvent",
                             lambda: write_event(engine, frame.workflow_id, key, value, tag))
    workflow_id = mx.owning_workflow_id()
    if workflow_id is None:
        raise DBOSException("set_event() must be called from within a workflow or step")
    return write_event(engine, workflow_id, key, value, mx.new_tag())


def get_event_coroutine(ops: Operations, workflow_id: str, key: str, timeout_seconds: float,
                        *, in_workflow: bool = True) -> Coroutine[Any, Any, Any]:
    """In a workflow: two function ids as in DBOS (``DBOS.getEvent`` and its deadline's
    ``DBOS.sleep``), and the value read is recorded. Elsewhere a plain wait."""
    engine = ops.engine
    frame = mx.workflow_frame() if in_workflow else None
    if frame is None:
        return read_event(engine, workflow_id, key, time.time() + timeout_seconds)
    frame.next_function_id()
    frame.next_function_id()

    return mx.wait_with_deadline(engine, frame, timeout_seconds, "DBOS.getEvent",
                                 lambda deadline: read_event(engine, workflow_id, key, deadline))


def get_all_events_coroutine(ops: Operations, workflow_id: str) -> Coroutine[Any, Any, dict[str, Any]]:
    engine = ops.engine
    frame = mx.workflow_frame()
    if frame is None:
        return read_all_events(engine, workflow_id)
    frame.next_function_id()
    return engine.record(frame, "DBOS.get_events", lambda: read_all_events(engine, workflow_id))


def set_event(ops: Operations, key: str, value: Any, serialization_type: Any) -> None:
    mx.check_async("set_event")
    ops._block(set_event_coroutine(ops, key, value, serialization_type))


async def set_event_async(ops: Operations, key: str, value: Any, serialization_type: Any) -> None:
    await ops._await(set_event_coroutine(ops, key, value, serialization_type))


def get_event(ops: Operations, workflow_id: str, key: str, timeout_seconds: float) -> Any:
    mx.check_async("get_event")
    return ops._block(get_event_coroutine(ops, workflow_id, key, timeout_seconds))


async def get_event_async(ops: Operations, workflow_id: str, key: str, timeout_seconds: float) -> Any:
    return await ops._await(get_event_coroutine(ops, workflow_id, key, timeout_seconds))


def get_all_events(ops: Operations, workflow_id: str) -> dict[str, Any]:
    mx.check_async("get_all_events")
    return ops._block(get_all_events_coroutine(ops, workflow_id))


async def get_all_events_async(ops: Operations, workflow_id: str) -> dict[str, Any]:
    return await ops._await(get_all_events_coroutine(ops, workflow_id))
