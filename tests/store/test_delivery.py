"""Routing of the server's messages to ``GET /poll`` listeners (``shim/store/_delivery.py``)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from resonate.connections.local import OutgoingMessage

from shim.store import _delivery
from shim.store._delivery import Address, Delivery, Listener, parse_address


def _execute(task_id: str, version: int = 0) -> dict[str, Any]:
    return {"kind": "execute", "data": {"task": {"id": task_id, "version": version}}}


def _drain(listener: Listener) -> list[str]:
    out = []
    while not listener.queue.empty():
        out.append(json.loads(listener.queue.get_nowait())["data"]["task"]["id"])
    return out


@pytest.mark.parametrize(
    ("address", "parsed"),
    [
        ("poll://uni@workers/p1", Address("workers", "p1")),
        ("poll://any@workers", Address("workers", None)),
        ("poll://any@workers/p1", Address("workers", None)),
        ("poll://uni@workers", None),  # a unicast names its process
        ("local://any@workers", None),
        ("poll://workers", None),
        ("poll://any@", None),
    ],
)
def test_addresses_are_read_as_the_sdk_mints_them(address: str, parsed: Address | None) -> None:
    assert parse_address(address) == parsed


def test_anycast_goes_round_robin_and_unicast_to_its_process() -> None:
    delivery = Delivery(lambda message: True)
    a, b = delivery.connect("workers", "a"), delivery.connect("workers", "b")
    delivery.deliver([OutgoingMessage(address="poll://any@workers", message=_execute(f"t{i}")) for i in range(4)])
    delivery.deliver([OutgoingMessage(address="poll://uni@workers/b", message=_execute("only-b"))])
    assert (_drain(a), _drain(b)) == (["t0", "t2"], ["t1", "t3", "only-b"])


def test_a_message_waits_for_a_listener_and_a_stale_execute_is_dropped_then() -> None:
    wanted = {"t1"}
    delivery = Delivery(lambda message: message["data"]["task"]["id"] in wanted)
    delivery.deliver([OutgoingMessage(address="poll://any@workers", message=_execute(t)) for t in ("t1", "t2")])
    wanted.add("t2")
    wanted.discard("t1")  # acquired by someone meanwhile
    delivery.deliver([OutgoingMessage(address="poll://any@workers", message=_execute("t2"))])
    assert _drain(delivery.connect("workers", "late")) == ["t2"]


def test_what_a_closed_stream_did_not_send_goes_to_another_member() -> None:
    delivery = Delivery(lambda message: True)
    dead, alive = delivery.connect("workers", "dead"), delivery.connect("workers", "alive")
    delivery.deliver([OutgoingMessage(address="poll://uni@workers/dead", message=_execute("t"))])
    delivery.disconnect(dead, [])
    assert delivery.listening("workers") == ["alive"]
    assert _drain(alive) == ["t"]


def test_backlogs_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_delivery, "BACKLOG_ADDRESSES", 2)
    delivery = Delivery(lambda message: True)
    for pid in ("gone-1", "gone-2", "gone-3"):
        delivery.deliver([OutgoingMessage(address=f"poll://uni@g/{pid}", message=_execute(pid))])
    assert _drain(delivery.connect("g", "gone-1")) == []  # the oldest address was dropped
    assert _drain(delivery.connect("g", "gone-3")) == ["gone-3"]
