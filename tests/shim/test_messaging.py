"""The messaging layer's own contract (behaviour DBOS defines is compared with real DBOS in
tests/differential/test_semantics.py): the promise id scheme and value format an outside system
relies on, delivery by resolving a promise id, exactly-once delivery under concurrent and repeated
sends, the waiting state kept in promises (so it survives a restart of the store), DBOSClient's
limits, and signature parity with DBOS 2.31.

Every wait here is sequenced with threading events or short timeouts; nothing sleeps and hopes.
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from resonate.resonate import Resonate
from resonate.retry import Never
from resonate.types import PromiseSettleReq, Value

import shim
from shim import DBOS, DBOSClient, SetWorkflowID, _dbos, _events, _messaging, _streams
from shim._messaging import (
    event_key_id,
    event_version_id,
    message_slot_id,
    pack,
    pack_closed,
    segment,
    sent_marker_id,
    stream_entry_id,
    unpack,
)
from shim.errors import DBOSStreamTimeoutError, ShimUnsupportedError
from shim.store import open_store


def _ops() -> Any:
    return _dbos._operations()


def _run(coro: Any) -> Any:
    """Run a coroutine on Resonate's loop, as an outside system talking to the store would."""
    return _ops()._block(coro)


async def _outside_resolve(promise_id: str, json_value: Any) -> Any:
    """What a non-Python system does: create-or-get the promise, then settle it with base64 JSON
    (the body of a Resonate server's ``promise.settle``)."""
    resonate = _ops().engine.resonate
    await resonate.promises.create(promise_id, int(time.time() * 1000) + 3_600_000, Value(), {})
    data = base64.b64encode(json.dumps(json_value).encode()).decode()
    return await resonate.promises.sender.promise_settle(
        PromiseSettleReq(id=promise_id, state="resolved", value=Value(data=data))
    )


async def _state(promise_id: str) -> str | None:
    record = await _messaging.get_record(_ops().engine.resonate, promise_id)
    return None if record is None else record.state


# -- workflows ---------------------------------------------------------------------------------

gates: dict[str, threading.Event] = {}


def gate(name: str) -> threading.Event:
    return gates.setdefault(name, threading.Event())


@DBOS.step()
def signal_and_wait(signal: str, wait_for: str) -> bool:
    gate(signal).set()
    return gate(wait_for).wait(timeout=10)


@DBOS.workflow()
def wait_for_decision() -> Any:
    return DBOS.recv("decision", timeout_seconds=30)


@DBOS.workflow()
def time_out_then_receive() -> list[Any]:
    first = DBOS.recv("t", timeout_seconds=0.05)
    signal_and_wait("timed-out", "sent")
    return [first, DBOS.recv("t", timeout_seconds=10)]


@DBOS.workflow()
def collect(n: int, topic: str | None) -> list[Any]:
    return [DBOS.recv(topic, timeout_seconds=30) for _ in range(n)]


@DBOS.workflow()
def count_up(n: int) -> str:
    for i in range(1, n + 1):
        DBOS.set_event("n", i)
    return "counted"


@DBOS.workflow()
async def stream_writer(n: int) -> str:
    for i in range(n):
        await DBOS.write_stream_async("numbers", i)
    await DBOS.close_stream_async("numbers")
    return "written"


# -- the id scheme and the value format --------------------------------------------------------


def test_segments_keep_safe_characters_and_encode_the_rest() -> None:
    assert segment(None) == "~"
    assert segment("payment_status-2") == "payment_status-2"
    assert segment("") == ""
    assert segment("a b/c~.:%é") == "a%20b%2Fc%7E%2E%3A%25%C3%A9"
    assert segment("~") != segment(None)


def test_promise_ids_live_under_the_workflow_promise() -> None:
    assert message_slot_id("order-1", "payment_status", 0) == "order-1:msg/payment_status/0"
    assert message_slot_id("order-1", None, 3) == "order-1:msg/~/3"
    assert message_slot_id("a:b%c", "t", 1) == "a%3Ab%25c:msg/t/1"
    assert event_version_id("order-1", "payment_id", 2) == "order-1:event/payment_id/2"
    assert event_key_id("order-1", 0) == "order-1:event-keys/0"
    assert stream_entry_id("order-1", "progress", 5) == "order-1:stream/progress/5"
    assert sent_marker_id("order-1", "key:abc") == "order-1:sent/key%3Aabc"


def test_values_are_json_when_exact_else_pickled() -> None:
    for value in (None, "s", 3, 2.5, True, [1, "a", None], {"a": [1, {"b": 2}]}):
        envelope = pack(value, "t")
        assert envelope == {"d2r": 1, "tag": "t", "json": value}
        assert unpack(json.loads(json.dumps(envelope))) == value
    for value in ((1, 2), {1, 2}, {1: "int key"}, float("nan"), 1 << 70, {"d2r": "looks like an envelope"}):
        envelope = pack(value, "t")
        assert set(envelope) == {"d2r", "tag", "pickle"}
        restored = unpack(json.loads(json.dumps(envelope)))
        assert type(restored) is type(value)
        assert restored == value or value != value  # nan
    assert unpack({"decision": "approved"}) == {"decision": "approved"}  # plain JSON from outside
    assert unpack({"d2r": 1, "json": [1]}) == [1]
    assert _messaging.is_closed(pack_closed("t"))


# -- delivery by resolving a promise id --------------------------------------------------------


def test_an_outside_system_completes_a_waiting_recv_by_resolving_the_slot(dbos: type[DBOS]) -> None:
    with SetWorkflowID("checkout:1/a"):
        handle = DBOS.start_workflow(wait_for_decision)
    slot = "checkout%3A1/a:msg/decision/0"
    assert message_slot_id("checkout:1/a", "decision", 0) == slot
    record = _run(_outside_resolve(slot, "approved"))
    assert record.state == "resolved"
    assert handle.get_result() == "approved"


def test_an_outside_system_can_send_structured_json_or_an_envelope(dbos: type[DBOS]) -> None:
    with SetWorkflowID("collector-json"):
        handle = DBOS.start_workflow(collect, 2, None)
    _run(_outside_resolve(message_slot_id("collector-json", None, 0), {"status": "paid", "amount": 12.5}))
    _run(_outside_resolve(message_slot_id("collector-json", None, 1), {"d2r": 1, "json": ["enveloped"]}))
    assert handle.get_result() == [{"status": "paid", "amount": 12.5}, ["enveloped"]]


def test_an_outside_system_can_set_an_event(dbos: type[DBOS]) -> None:
    with SetWorkflowID("event-target"):
        handle = DBOS.start_workflow(wait_for_decision)
    _run(_outside_resolve(event_version_id("event-target", "status", 0), "set from outside"))
    assert DBOS.get_event("event-target", "status", timeout_seconds=0) == "set from outside"
    DBOS.send("event-target", "done", "decision")
    assert handle.get_result() == "done"


def test_a_timed_out_recv_leaves_its_slot_pending_for_the_next_message(dbos: type[DBOS]) -> None:
    for name in ("timed-out", "sent"):
        gates.pop(name, None)
    with SetWorkflowID("late-1"):
        handle = DBOS.start_workflow(time_out_then_receive)
    assert gate("timed-out").wait(timeout=10)
    slot = message_slot_id("late-1", "t", 0)
    assert _run(_state(slot)) == "pending"  # the waiting state is a promise, nothing in memory
    DBOS.send("late-1", "late", "t")
    assert _run(_state(slot)) == "resolved"
    gate("sent").set()
    assert handle.get_result() == [None, "late"]


# -- exactly once ------------------------------------------------------------------------------


def test_concurrent_senders_deliver_every_message_once_in_order_per_sender(dbos: type[DBOS]) -> None:
    senders, each = 6, 15
    with SetWorkflowID("busy-box"):
        handle = DBOS.start_workflow(collect, senders * each, "t")
    start = threading.Barrier(senders)

    def send_all(s: int) -> None:
        start.wait()
        for i in range(each):
            DBOS.send("busy-box", (s, i), "t")

    threads = [threading.Thread(target=send_all, args=(s,)) for s in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    received = handle.get_result()
    assert sorted(received) == [(s, i) for s in range(senders) for i in range(each)]
    for s in range(senders):
        assert [i for sender, i in received if sender == s] == list(range(each))


def test_a_tagged_send_run_again_is_not_delivered_twice(dbos: type[DBOS]) -> None:
    """A workflow's send re-run after a crash carries the same tag; so does an idempotency key."""
    engine = _ops().engine
    with SetWorkflowID("once-box"):
        handle = DBOS.start_workflow(collect, 1, "t")
    for _ in range(2):
        _run(_messaging.deliver(engine, "once-box", "t", _messaging.pack("only once", "op:sender#1"), "op:sender#1"))
        _messaging.hints_for(engine).values.clear()  # a restart forgets the hints
    assert handle.get_result() == ["only once"]
    assert _run(_state(message_slot_id("once-box", "t", 1))) is None
    assert _run(_state(sent_marker_id("once-box", "op:sender#1"))) == "resolved"


def test_get_event_reads_the_latest_of_many_versions(dbos: type[DBOS]) -> None:
    with SetWorkflowID("counter-1"):
        assert count_up(25) == "counted"
    assert DBOS.get_event("counter-1", "n", timeout_seconds=0) == 25
    _messaging.hints_for(_ops().engine).values.clear()
    assert DBOS.get_event("counter-1", "n", timeout_seconds=0) == 25
    assert DBOS.get_all_events("counter-1") == {"n": 25}
    assert _run(_state(event_version_id("counter-1", "n", 24))) == "resolved"
    assert _run(_state(event_key_id("counter-1", 1))) is None  # the key is listed once


def test_a_stream_reads_the_same_from_a_client_sync_and_async(dbos: type[DBOS]) -> None:
    async def go() -> tuple[str, list[int], list[int]]:
        handle = await DBOS.start_workflow_async(stream_writer, 4)
        values = [v async for v in DBOS.read_stream_async(handle.workflow_id, "numbers")]
        client = [v async for v in DBOSClient().read_stream_async(handle.workflow_id, "numbers", offset=2)]
        return await handle.get_result(), values, client

    result, values, from_client = asyncio.run(go())
    assert (result, values, from_client) == ("written", [0, 1, 2, 3], [2, 3])


def test_a_stream_wait_times_out_per_value(dbos: type[DBOS]) -> None:
    with SetWorkflowID("quiet-1"):
        handle = DBOS.start_workflow(wait_for_decision)
    with pytest.raises(DBOSStreamTimeoutError, match="within 0.05 seconds"):
        list(DBOS.read_stream("quiet-1", "nothing", timeout_seconds=0.05))
    DBOS.send("quiet-1", "go", "decision")
    assert handle.get_result() == "go"
    assert list(DBOS.read_stream("quiet-1", "nothing")) == []  # ended with its workflow


# -- DBOSClient --------------------------------------------------------------------------------


def test_client_enqueue_and_unbuilt_methods_raise_clearly(dbos: type[DBOS]) -> None:
    client = DBOSClient(system_database_url="sqlite:///ignored.sqlite")
    with pytest.raises(ShimUnsupportedError, match="DBOSClient.enqueue of .w. is not supported"):
        client.enqueue({"workflow_name": "w", "queue_name": "q"})
    with pytest.raises(ShimUnsupportedError, match="DBOSClient.list_queues"):
        client.list_queues()


def test_client_without_a_launched_dbos_names_the_limit() -> None:
    DBOS.destroy()
    client = DBOSClient("sqlite:///ignored.sqlite")
    with pytest.raises(ShimUnsupportedError, match="process that launched DBOS"):
        client.send("someone", "hello")


def test_shim_exports_the_client_and_send_message() -> None:
    assert shim.DBOSClient is DBOSClient
    assert shim.SendMessage("w", "m").topic is None


# -- the waiting state is in promises: it survives a restart of the durable store ---------------


class _EngineOn:
    """What the messaging layer uses of an engine: its Resonate."""

    def __init__(self, resonate: Resonate) -> None:
        self.resonate = resonate


def _with_store(path: Path, work: Any) -> Any:
    async def go() -> Any:
        conn = open_store(path)
        resonate = Resonate(network=conn, retry_policy=Never(), env={})
        try:
            return await work(_EngineOn(resonate))
        finally:
            await resonate.stop()
            conn.close()

    return asyncio.run(go())


def test_mailbox_events_and_streams_survive_a_restart_of_the_store(tmp_path: Path) -> None:
    path = tmp_path / "app.resonate.db"

    async def wait_and_time_out(engine: Any) -> Any:
        got = await _messaging.receive(engine, "wf-1", "decision", 0, time.time() + 0.05)
        await _events.write_event(engine, "wf-1", "status", "waiting", _messaging.new_tag())
        await _streams.write_entry(engine, "wf-1", "log", pack("asked", _messaging.new_tag()))
        slot = await _messaging.get_record(engine.resonate, message_slot_id("wf-1", "decision", 0))
        return got, slot.state

    assert _with_store(path, wait_and_time_out) == ((0, None), "pending")

    async def deliver_after_restart(engine: Any) -> Any:
        waiting = asyncio.ensure_future(_messaging.receive(engine, "wf-1", "decision", 0, time.time() + 10))
        await _messaging.deliver(engine, "wf-1", "decision", _messaging.pack(("approved", 1), "t1"), None)
        return await waiting, await _events.read_event(engine, "wf-1", "status", time.time())

    assert _with_store(path, deliver_after_restart) == ((1, ("approved", 1)), "waiting")

    async def read_after_second_restart(engine: Any) -> Any:
        message = await _messaging.receive(engine, "wf-1", "decision", 0, time.time())
        entry = await _messaging.get_record(engine.resonate, stream_entry_id("wf-1", "log", 0))
        return message, unpack(entry.value.data), await _events.read_all_events(engine, "wf-1")

    assert _with_store(path, read_after_second_restart) == ((1, ("approved", 1)), "asked", {"status": "waiting"})


# -- signatures --------------------------------------------------------------------------------

_MESSAGING = [
    "send", "send_async", "send_bulk", "send_bulk_async", "recv", "recv_async", "set_event", "set_event_async",
    "get_event", "get_event_async", "get_all_events", "get_all_events_async", "write_stream",
    "write_stream_async", "read_stream", "read_stream_async", "read_stream_offset", "read_stream_offset_async",
    "close_stream", "close_stream_async",
]
_CLIENT = [
    "__init__", "send", "send_async", "send_bulk", "send_bulk_async", "get_event", "get_event_async",
    "retrieve_workflow", "retrieve_workflow_async", "enqueue", "enqueue_async", "read_stream",
    "read_stream_async", "read_stream_offset", "read_stream_offset_async", "destroy",
]

_DESCRIBE = """
import inspect, json, sys
try:
    import pysqlite3
    sys.modules["sqlite3"] = pysqlite3
except ImportError:
    pass
from dbos import DBOS, DBOSClient
def describe(fn):
    return {"params": [[p.name, p.kind.name, p.default is not inspect.Parameter.empty]
                       for p in inspect.signature(fn).parameters.values()],
            "async": inspect.iscoroutinefunction(fn), "asyncgen": inspect.isasyncgenfunction(fn),
            "gen": inspect.isgeneratorfunction(fn)}
print(json.dumps({"DBOS": {n: describe(getattr(DBOS, n)) for n in sys.argv[1].split(",")},
                  "DBOSClient": {n: describe(getattr(DBOSClient, n)) for n in sys.argv[2].split(",")}}))
"""


def _describe(fn: Any) -> dict[str, Any]:
    return {"params": [[p.name, p.kind.name, p.default is not inspect.Parameter.empty]
                       for p in inspect.signature(fn).parameters.values()],
            "async": inspect.iscoroutinefunction(fn), "asyncgen": inspect.isasyncgenfunction(fn),
            "gen": inspect.isgeneratorfunction(fn)}


@pytest.mark.slow
def test_signatures_match_dbos() -> None:
    out = subprocess.run([sys.executable, "-c", _DESCRIBE, ",".join(_MESSAGING), ",".join(_CLIENT)],
                         capture_output=True, text=True, check=True, timeout=120)
    real = json.loads(out.stdout)
    assert {n: _describe(getattr(DBOS, n)) for n in _MESSAGING} == real["DBOS"]
    assert {n: _describe(getattr(DBOSClient, n)) for n in _CLIENT} == real["DBOSClient"]
