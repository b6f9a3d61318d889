"""In-process properties of the store: exact replay, snapshots, fixed local-mode defects."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from resonate.connections import LocalConnection
from resonate.connections.local import ServerState, unwrap_request_envelope
from resonate.context import Context
from resonate.resonate import Resonate
from resonate.retry import Never
from resonate_base.error import ConnectorError

from shim.store import DurableLocalConnection, StoreUnavailableError, open_store
from shim.store._journal import OP_RAISED, OP_TICK
from shim.store._state import DurableServerState
from tests.store.helpers import normalized, populate, resonate_on, steps

NEVER = 10**9  # compact_after that never snapshots


def _populated(path: Path, **kw: Any) -> tuple[DurableLocalConnection, dict[str, Any]]:
    conn = open_store(path, **kw)
    return conn, asyncio.run(populate(conn))


# -- replay ------------------------------------------------------------------


def test_replay_rebuilds_the_exact_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "store.db"
    conn, _ = _populated(path, compact_after=NEVER)
    live = normalized(conn.state)
    written = conn._store.journal.seq  # type: ignore[union-attr]
    conn.close()

    monkeypatch.setattr(DurableLocalConnection, "_release_orphans", lambda self: None)
    again = open_store(path, compact_after=NEVER)
    try:
        assert again.replayed == written
        assert normalized(again.state) == live
    finally:
        again.close()


def test_reopening_releases_what_the_dead_owner_held(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    conn, _ = _populated(path)
    held = {t: conn.state.tasks[t].version for t in conn.state.acquired_task_ids()}
    conn.close()
    assert held  # the sleeping workflow's timer task is held by its (now gone) worker

    again = open_store(path)
    try:
        assert again.state.acquired_task_ids() == []
        for task_id, version in held.items():
            task = again.state.tasks[task_id]
            assert (task.state, task.version) == ("pending", version + 1)
        redelivered = {m["data"]["task"]["id"] for _, m in again.state.execute_messages(0)}
        assert set(held) <= redelivered
    finally:
        again.close()


def test_snapshot_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    conn, results = _populated(path, compact_after=NEVER)
    conn.close()
    first = open_store(path, compact_after=0)  # replays, then snapshots
    state = normalized(first.state)
    first.close()
    assert _count(path, "store_journal") == 0
    assert _count(path, "store_snapshot") == 1

    second = open_store(path, compact_after=0)
    try:
        assert second.replayed == 0
        assert normalized(second.state) == state

        async def more() -> int:
            r = resonate_on(second)
            try:
                return await r.run("after-snapshot", steps, 5).result()
            finally:
                await r.stop()

        assert asyncio.run(more()) == 30
        # Finished workflows read back from the snapshot.
        assert second.state.promises["done-1"].state == "resolved"
    finally:
        second.close()
    assert results["steps"] == sum(i * i for i in range(12))


def test_same_transitions_as_the_sdk_state_machine(tmp_path: Path) -> None:
    """Replay one journal through the SDK's ServerState and through ours, side by side."""
    path = tmp_path / "store.db"
    conn, _ = _populated(path, compact_after=NEVER)
    conn.close()
    db = sqlite3.connect(path)
    entries = db.execute("SELECT at, op, body FROM store_journal ORDER BY seq").fetchall()
    db.close()

    theirs, ours = ServerState(), DurableServerState()
    for at, op, body in entries:
        if op & ~OP_RAISED == OP_TICK:
            theirs.tick(at)
            ours.tick(at)
            continue
        req = unwrap_request_envelope(msgspec.json.decode(body))
        a, b = theirs.apply(at, req), ours.apply(at, req)
        if req["kind"] == "task.fence":  # ours leaves the (redundant) preload out
            assert b["preload"] == []
            a = {**a, "preload": []}
        assert a == b, req

    mine, sdk = normalized(ours), normalized(theirs)
    assert mine["promises"] == sdk["promises"]
    assert mine["tasks"] == sdk["tasks"]
    # Leases never lapse here: same timeouts, lease deadlines at "never".
    assert [t[:2] for t in mine["t_timeouts"]] == [t[:2] for t in sdk["t_timeouts"]]
    # ... and latent (external) promises get their deadline scheduled.
    assert set(sdk["p_timeouts"]) <= set(mine["p_timeouts"])


# -- local-mode defects --------------------------------------------------------


@pytest.mark.parametrize("on_disk", [False, True])
def test_a_step_longer_than_the_lease_runs_once(tmp_path: Path, on_disk: bool) -> None:
    runs: list[float] = []

    async def slow(ctx: Context) -> str:
        runs.append(time.monotonic())
        await asyncio.sleep(0.8)
        return "done"

    async def wf(ctx: Context) -> str:
        return await ctx.run(slow)

    async def go() -> str:
        conn = open_store(tmp_path / "store.db" if on_disk else None)
        r = Resonate(network=conn, retry_policy=Never(), ttl=timedelta(milliseconds=200))
        r.register(wf)
        try:
            return await asyncio.wait_for(r.run("long", wf).result(), 10)
        finally:
            await r.stop()
            conn.close()

    assert asyncio.run(go()) == "done"
    assert len(runs) == 1  # resonate-sdk's own local mode re-runs it every lease (200 ms)


def test_sequential_steps_cost_is_flat() -> None:
    """Bytes moved per step do not grow with the number of steps already taken."""

    def bytes_per_step(n: int) -> float:
        conn = open_store(None)
        moved = 0
        send = conn.send

        async def counting(req: str, headers: dict[str, str] | None = None) -> str:
            nonlocal moved
            resp = await send(req, headers)
            moved += len(req) + len(resp)
            return resp

        conn.send = counting  # type: ignore[method-assign]

        async def go() -> int:
            r = resonate_on(conn)
            try:
                return await r.run(f"steps-{n}", steps, n).result()
            finally:
                await r.stop()

        assert asyncio.run(go()) == sum(i * i for i in range(n))
        return moved / n

    small, large = bytes_per_step(50), bytes_per_step(500)
    assert large < small * 1.2, (small, large)


def test_a_latent_promise_times_out_on_time() -> None:
    async def wf(ctx: Context) -> list[str]:
        p = ctx.promise(timeout=timedelta(seconds=0.3))
        try:
            return ["value", await p]
        except Exception as exc:  # the SDK surfaces a timeout as ApplicationError
            return [type(exc).__name__]

    async def go() -> tuple[list[str], float]:
        conn = open_store(None)
        r = Resonate(network=conn, retry_policy=Never())
        r.register(wf)
        start = time.monotonic()
        try:
            result = await asyncio.wait_for(r.run("latent", wf).result(), 10)
        finally:
            await r.stop()
        return result, time.monotonic() - start

    result, took = asyncio.run(go())
    assert result == ["ApplicationError"]
    assert took < 3.0  # resonate-sdk's local mode never times it out (nobody reads it)


def test_durable_sleep_is_precise_to_the_tick() -> None:
    async def wf(ctx: Context) -> str:
        await ctx.sleep(timedelta(seconds=0.3))
        return "awake"

    async def go() -> float:
        conn = open_store(None, tick_interval=0.02)
        r = Resonate(network=conn, retry_policy=Never())
        r.register(wf)
        start = time.monotonic()
        try:
            assert await asyncio.wait_for(r.run("nap", wf).result(), 10) == "awake"
        finally:
            await r.stop()
        return time.monotonic() - start

    took = asyncio.run(go())
    assert 0.3 <= took < 0.9, took  # the SDK's 1 s tick wakes it after ~1 s


def test_a_poison_step_is_retried_with_backoff_not_hot() -> None:
    runs = 0

    def unserialisable(ctx: Context) -> object:
        nonlocal runs
        runs += 1
        return object()

    async def wf(ctx: Context) -> object:
        return await ctx.run(unserialisable)

    async def go() -> None:
        conn = open_store(None)
        r = Resonate(network=conn, retry_policy=Never())
        r.register(wf)
        handle = r.run("poison", wf)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(handle.result(), 1.5)
        await r.stop()

    asyncio.run(go())
    assert 2 <= runs <= 20, runs  # resonate-sdk's local mode: hundreds per second


# -- API -----------------------------------------------------------------------


@pytest.mark.parametrize("where", [None, ":memory:"])
def test_in_memory_mode(where: str | None) -> None:
    conn = open_store(where)
    assert conn.path is None
    assert isinstance(conn, LocalConnection)

    async def go() -> int:
        r = resonate_on(conn)
        try:
            return await r.run("mem", steps, 4).result()
        finally:
            await r.stop()

    assert asyncio.run(go()) == 14
    conn.close()
    conn.close()  # idempotent


def test_closed_store_refuses_requests(tmp_path: Path) -> None:
    conn = open_store(tmp_path / "store.db")
    conn.close()
    with pytest.raises(StoreUnavailableError) as info:
        asyncio.run(conn.send('{"kind": "promise.get", "head": {}, "data": {"id": "x"}}'))
    assert isinstance(info.value, ConnectorError)  # the SDK releases instead of crashing
    assert str(tmp_path / "store.db") in str(info.value)


def test_a_failed_write_stops_the_store(tmp_path: Path) -> None:
    conn = open_store(tmp_path / "store.db")
    conn._store.journal._db.close()  # type: ignore[union-attr]  # simulate the disk going away
    req = '{"kind": "promise.create", "head": {"corrId": "1"}, "data": {"id": "p", "timeoutAt": 9999999999999, "param": {}, "tags": {}}}'
    with pytest.raises(StoreUnavailableError, match="journal write failed"):
        asyncio.run(conn.send(req))
    with pytest.raises(StoreUnavailableError, match="journal write failed"):
        asyncio.run(conn.send(req.replace('"p"', '"q"')))
    conn.close()  # still releases the file
    again = open_store(tmp_path / "store.db")
    try:
        assert "p" not in again.state.promises  # never acknowledged, never durable
    finally:
        again.close()


def test_promise_search() -> None:
    async def go() -> tuple[list[str], list[str]]:
        conn = open_store(None)
        r = resonate_on(conn)
        try:
            await r.run("s-1", steps, 2).result()
            await r.run("s-2", steps, 2).result()
            found = await r.promises.search("resolved", {"resonate:scope": "global"}, 10, None)
            page = await r.promises.search(None, None, 1, None)
            return [p.id for p in found.promises], [p.id for p in page.promises] + [
                str(page.cursor)
            ]
        finally:
            await r.stop()

    roots, page = asyncio.run(go())
    assert roots == ["s-1", "s-2"]
    assert page == ["s-1", "1"]


def _count(path: Path, table: str) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        db.close()


def test_one_commit_per_sequential_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A step's create waits for its settle's commit: one durable write per step."""
    from shim.store._journal import Journal

    commits = deferred = 0
    append = Journal.append

    def counting(self: Journal, at: int, op: int, body: bytes, *, commit: bool = True) -> None:
        nonlocal commits, deferred
        if commit:
            commits += 1
        else:
            deferred += 1
        append(self, at, op, body, commit=commit)

    monkeypatch.setattr(Journal, "append", counting)
    conn = open_store(tmp_path / "store.db")

    async def go() -> int:
        r = resonate_on(conn)
        try:
            return await r.run("one-commit", steps, 200).result()
        finally:
            await r.stop()

    try:
        assert asyncio.run(go()) == sum(i * i for i in range(200))
    finally:
        conn.close()
    assert deferred == 200
    assert commits < 200 + 10  # the settles, plus a handful per workflow
