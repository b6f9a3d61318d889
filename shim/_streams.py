"""DBOS's streams (``write_stream``/``close_stream``/``read_stream``/``read_stream_offset``) on
durable promises.

A stream is the list ``W:stream/K/0, 1, 2, ...``: a write appends the value to the first free
entry, ``close_stream`` appends an end marker. A reader waits for entry ``i`` (creating it pending,
so a writer, or anyone resolving that id, settles it) or for the workflow to finish: a stream ends
at its end marker, or at the first missing entry once its workflow is no longer running.

As in DBOS 2.31: writes from a workflow are durable operations (``DBOS.writeStream``,
``DBOS.closeStream``), writes from a step are not; a workflow reading a stream records every value
it reads and the end (``DBOS.readStream`` / ``DBOS.readStreamOffset``, one function id each), so a
replay sees the same sequence; ``timeout_seconds`` bounds the wait for each value and raises
``DBOSStreamTimeoutError``. ``polling_interval_sec`` is validated and otherwise inert (readers are
woken by the store, never poll). Ids and value format: shim/_messaging.py.
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncGenerator, Coroutine, Generator
from typing import TYPE_CHECKING, Any

from shim import _messaging as mx
from shim._ids import to_promise_id
from shim.errors import (
    DBOSException,
    DBOSNonExistentWorkflowError,
    DBOSStreamNondeterminismError,
    DBOSStreamTimeoutError,
)

if TYPE_CHECKING:
    from shim._context import WorkflowFrame
    from shim._engine import Engine
    from shim._operations import Operations

READ_STREAM = "DBOS.readStream"
READ_STREAM_OFFSET = "DBOS.readStreamOffset"
_END = ("end", None)


def _tags(workflow_id: str) -> dict[str, str]:
    return mx.promise_tags("stream", workflow_id)


async def write_entry(engine: Engine, workflow_id: str, key: str, envelope: dict[str, Any]) -> None:
    hints = mx.hints_for(engine)
    hint_key = mx.stream_entry_id(workflow_id, key, 0)
    i = await mx.append(engine.resonate, lambda n: mx.stream_entry_id(workflow_id, key, n), hints.get(hint_key),
                        envelope, _tags(workflow_id))
    hints.raise_to(hint_key, i + 1)


async def read_entry(engine: Engine, workflow_id: str, key: str, offset: int,
                     timeout_seconds: float | None) -> tuple[str, Any]:
    """("value", v) for entry ``offset``, or ("end", None) when the stream ends before it."""
    resonate = engine.resonate
    root_id = to_promise_id(workflow_id)
    entry_id = mx.stream_entry_id(workflow_id, key, offset)
    deadline = None if timeout_seconds is None else time.time() + timeout_seconds
    final_read = False
    while True:
        root = await mx.get_record(resonate, root_id)
        if root is None:
            raise DBOSNonExistentWorkflowError("target", workflow_id)
        entry = await mx.get_record(resonate, entry_id)
        if entry is not None and entry.state != "pending":
            if entry.state != "resolved" or mx.is_closed(entry.value.data):
                return _END  # closed, or someone rejected the entry: the stream ends there
            return "value", mx.unpack(entry.value.data)
        if final_read:
            return _END
        if root.state != "pending":
            final_read = True  # the workflow is done: one more look for a value written as it ended
            continue
        left = None if deadline is None else deadline - time.time()
        if left is not None and left <= 0:
            raise DBOSStreamTimeoutError(workflow_id, key, timeout_seconds)
        if entry is None:
            await mx.create_or_get(resonate, entry_id, _tags(workflow_id))
        await mx.wait_any(resonate, [entry_id, root_id], left)


def _validate(timeout_seconds: float | None, polling_interval_sec: float | None) -> None:
    if timeout_seconds is not None and timeout_seconds < 0:
        raise ValueError(f"timeout_seconds must not be negative, got {timeout_seconds}")
    if polling_interval_sec is not None and (not math.isfinite(polling_interval_sec) or polling_interval_sec < 0.001):
        raise ValueError(
            f"polling_interval_sec must be a finite number at least 0.001 seconds, got {polling_interval_sec}"
        )


# -- the DBOS calls -----------------------------------------------------------------------------


def _write_coroutine(ops: Operations, what: str, name: str, key: str,
                     envelope_for: Any) -> Coroutine[Any, Any, None]:
    engine = ops.engine
    frame = mx.workflow_frame()
    if frame is not None:
        envelope = envelope_for(mx.operation_tag(frame, frame.next_function_id()))
        return engine.record(frame, name, lambda: write_entry(engine, frame.workflow_id, key, envelope))
    workflow_id = mx.owning_workflow_id()
    if workflow_id is None:
        raise DBOSException(f"{what}() must be called from within a workflow or step")
    return write_entry(engine, workflow_id, key, envelope_for(mx.new_tag()))


def write_stream_coroutine(ops: Operations, key: str, value: Any,
                           serialization_type: Any = None) -> Coroutine[Any, Any, None]:
    mx.check_serialization(serialization_type)
    return _write_coroutine(ops, "write_stream", "DBOS.writeStream", key, lambda tag: mx.pack(value, tag))


def close_stream_coroutine(ops: Operations, key: str) -> Coroutine[Any, Any, None]:
    return _write_coroutine(ops, "close_stream", "DBOS.closeStream", key, mx.pack_closed)


class _Reader:
    """One read of a stream: where it is, and the workflow (if any) that records what it reads."""

    def __init__(self, ops: Operations, workflow_id: str, key: str, offset: int, timeout_seconds: float | None,
                 function_name: str, checkpoint: bool) -> None:
        self.ops = ops
        self.workflow_id = workflow_id
        self.key = key
        self.offset = offset
        self.timeout_seconds = timeout_seconds
        self.function_name = function_name
        # Bound once, as DBOS binds its reader to the workflow that started the read.
        self.frame: WorkflowFrame | None = mx.workflow_frame() if checkpoint else None

    def next_entry(self) -> Coroutine[Any, Any, tuple[str, Any]]:
        engine = self.ops.engine
        read = (engine, self.workflow_id, self.key, self.offset, self.timeout_seconds)
        frame = self.frame
        if frame is None:
            return read_entry(*read)
        state = mx.read_state(frame)
        with state.lock:
            # As DBOS: a read in flight while another starts means their function ids depend on scheduling.
            if state.stream_reads > 0:
                raise DBOSStreamNondeterminismError(frame.workflow_id, self.key)
            state.stream_reads += 1
        frame.next_function_id()
        return _releasing(state, engine.record(frame, self.function_name, lambda: read_entry(*read)))


async def _releasing(state: mx.ReadState, read: Coroutine[Any, Any, tuple[str, Any]]) -> tuple[str, Any]:
    """``read``, then the workflow may start its next stream read."""
    try:
        return await read
    finally:
        with state.lock:
            state.stream_reads -= 1


def read_stream(ops: Operations, workflow_id: str, key: str, *, offset: int = 0,
                polling_interval_sec: float | None = None, timeout_seconds: float | None = None,
                function_name: str = READ_STREAM, checkpoint: bool = True) -> Generator[Any, Any, None]:
    _validate(timeout_seconds, polling_interval_sec)
    reader = _Reader(ops, workflow_id, key, offset, timeout_seconds, function_name, checkpoint)
    while True:
        kind, value = ops._block(reader.next_entry())
        if kind == "end":
            return
        yield value
        reader.offset += 1


async def read_stream_async(ops: Operations, workflow_id: str, key: str, *, offset: int = 0,
                            polling_interval_sec: float | None = None, timeout_seconds: float | None = None,
                            function_name: str = READ_STREAM, checkpoint: bool = True) -> AsyncGenerator[Any, None]:
    _validate(timeout_seconds, polling_interval_sec)
    reader = _Reader(ops, workflow_id, key, offset, timeout_seconds, function_name, checkpoint)
    while True:
        kind, value = await ops._await(reader.next_entry())
        if kind == "end":
            return
        yield value
        reader.offset += 1


def read_stream_offset(ops: Operations, workflow_id: str, key: str, offset: int, *,
                       polling_interval_sec: float | None = None, timeout_seconds: float | None = None,
                       checkpoint: bool = True) -> Any:
    _validate(timeout_seconds, polling_interval_sec)
    reader = _Reader(ops, workflow_id, key, offset, timeout_seconds, READ_STREAM_OFFSET, checkpoint)
    kind, value = ops._block(reader.next_entry())
    if kind == "end":
        raise DBOSStreamTimeoutError(workflow_id, key)
    return value


async def read_stream_offset_async(ops: Operations, workflow_id: str, key: str, offset: int, *,
                                   polling_interval_sec: float | None = None, timeout_seconds: float | None = None,
                                   checkpoint: bool = True) -> Any:
    _validate(timeout_seconds, polling_interval_sec)
    reader = _Reader(ops, workflow_id, key, offset, timeout_seconds, READ_STREAM_OFFSET, checkpoint)
    kind, value = await ops._await(reader.next_entry())
    if kind == "end":
        raise DBOSStreamTimeoutError(workflow_id, key)
    return value


def write_stream(ops: Operations, key: str, value: Any, serialization_type: Any) -> None:
    mx.check_async("write_stream")
    ops._block(write_stream_coroutine(ops, key, value, serialization_type))


async def write_stream_async(ops: Operations, key: str, value: Any, serialization_type: Any) -> None:
    await ops._await(write_stream_coroutine(ops, key, value, serialization_type))


def close_stream(ops: Operations, key: str) -> None:
    mx.check_async("close_stream")
    ops._block(close_stream_coroutine(ops, key))


async def close_stream_async(ops: Operations, key: str) -> None:
    await ops._await(close_stream_coroutine(ops, key))
