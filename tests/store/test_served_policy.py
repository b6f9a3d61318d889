"""The served policy of the store's state machine: leases that lapse, holders fenced by version.

Driven request by request with an injected clock (no server process): the
transitions ``dbos2resonate serve`` journals for its workers.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from resonate.testing import FakeClock

from shim.store import open_store
from shim.store._journaled import JournaledState
from shim.store._state import SERVED
from shim.store.server import ProtocolServer

TARGET = "poll://any@workers"
FAR = 10**13


def _send(store: JournaledState, now: int, kind: str, **data: Any) -> dict[str, Any]:
    envelope = json.dumps({"kind": kind, "head": {"corrId": "c"}, "data": data})
    answer: dict[str, Any] = json.loads(store.apply(now, envelope).envelope)
    return answer


def _task_for_workers(store: JournaledState, now: int, task_id: str) -> None:
    created = _send(store, now, "promise.create", id=task_id, timeoutAt=FAR, param={}, tags={"resonate:target": TARGET})
    assert created["head"]["status"] == 201


def _acquire(store: JournaledState, now: int, task_id: str, pid: str, version: int, ttl: int = 1000) -> int:
    answer = _send(store, now, "task.acquire", id=task_id, version=version, pid=pid, ttl=ttl)
    status: int = answer["head"]["status"]
    return status


def _served() -> JournaledState:
    store = JournaledState(None, compact_after=1000, checkpoint_every=None)
    store.set_policy(0, SERVED)
    return store


def test_a_lease_lapses_unless_heartbeated_and_the_task_goes_back_to_the_group() -> None:
    store = _served()
    _task_for_workers(store, 0, "job")
    assert _acquire(store, 0, "job", "A", 0) == 200
    _send(store, 800, "task.heartbeat", pid="A", tasks=[{"id": "job", "version": 0}])
    assert store.tick(1500) == []
    assert store.state.tasks["job"].state == "acquired"  # renewed until 1800
    redelivered = store.tick(1900)
    task = store.state.tasks["job"]
    assert (task.state, task.version) == ("pending", 1)
    assert [(m.address, m.message["data"]["task"]) for m in redelivered] == [(TARGET, {"id": "job", "version": 1})]


def test_a_holder_whose_lease_lapsed_can_no_longer_settle_the_task() -> None:
    store = _served()
    _task_for_workers(store, 0, "job")
    _acquire(store, 0, "job", "A", 0)
    store.tick(1001)
    assert _acquire(store, 1002, "job", "B", 1) == 200
    settle = {"kind": "promise.settle", "data": {"id": "job", "state": "resolved", "value": {}}}
    stale = _send(store, 1003, "task.fulfill", id="job", version=0, action=settle)
    assert stale["head"]["status"] == 409
    assert _send(store, 1003, "task.release", id="job", version=0)["head"]["status"] == 409
    assert store.state.tasks["job"].pid == "B"
    assert _send(store, 1004, "task.fulfill", id="job", version=1, action=settle)["head"]["status"] == 200
    assert store.state.promises["job"].state == "resolved"


def test_embedded_leases_never_lapse() -> None:
    store = JournaledState(None, compact_after=1000, checkpoint_every=None)
    _task_for_workers(store, 0, "job")
    _acquire(store, 0, "job", "A", 0)
    store.tick(FAR - 1)
    assert store.state.tasks["job"].state == "acquired"


def test_the_server_releases_an_embedded_owners_tasks_but_not_a_live_workers(tmp_path: Path) -> None:
    path = tmp_path / "app.sqlite"
    clock = FakeClock(1000)
    embedded = JournaledState(path, compact_after=1000, checkpoint_every=None)
    _task_for_workers(embedded, 0, "held-by-embedded")
    _acquire(embedded, 0, "held-by-embedded", "embedded-owner", 0)
    embedded.close()

    async def serve_once(*, acquire: bool) -> None:
        store = JournaledState(path, compact_after=1000, checkpoint_every=None)
        server = ProtocolServer(store, clock=clock)
        await server.start()
        if acquire:
            _task_for_workers(store, clock(), "held-by-worker")
            _acquire(store, clock(), "held-by-worker", "W", 0, ttl=60_000)
        await server.stop()
        store.close()

    asyncio.run(serve_once(acquire=True))
    asyncio.run(serve_once(acquire=False))  # a restart: the worker's lease is left to lapse or be heartbeated
    again = JournaledState(path, compact_after=1000, checkpoint_every=None)
    try:
        tasks = again.state.tasks
        assert (tasks["held-by-embedded"].state, tasks["held-by-embedded"].version) == ("pending", 1)
        assert (tasks["held-by-worker"].state, tasks["held-by-worker"].pid) == ("acquired", "W")
    finally:
        again.close()
    conn = open_store(path)  # the embedded store takes the served file back and releases the worker's task
    try:
        assert conn.state.tasks["held-by-worker"].state == "pending"
        assert conn.state.policy.leases_expire is False
    finally:
        conn.close()
