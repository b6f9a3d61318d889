"""Shared helpers for the store tests."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Any

from resonate.connections.local import ServerState
from resonate.context import Context
from resonate.resonate import Resonate
from resonate.retry import Never

from shim.store import DurableLocalConnection, open_store
from shim.store._state import Snapshot


def square(ctx: Context, i: int) -> int:
    return i * i


async def steps(ctx: Context, n: int) -> int:
    total = 0
    for i in range(n):
        total += await ctx.run(square, i)
    return total


async def napper(ctx: Context, seconds: float) -> str:
    await ctx.run(square, 1)
    await ctx.sleep(timedelta(seconds=seconds))
    return "rested"


async def waiter(ctx: Context) -> Any:
    p = ctx.promise()
    await ctx.run(square, 2)
    return await p


def resonate_on(conn: DurableLocalConnection, **kw: Any) -> Resonate:
    kw.setdefault("retry_policy", Never())
    r = Resonate(network=conn, **kw)
    for fn in (steps, napper, waiter):
        r.register(fn)
    return r


async def populate(conn: DurableLocalConnection) -> dict[str, Any]:
    """Finished, sleeping and waiting workflows: a store with a bit of everything."""
    r = resonate_on(conn)
    out = {
        "steps": await r.run("done-1", steps, 12).result(),
        "steps2": await r.run("done-2", steps, 3).result(),
        "nap": await r.run("nap-1", napper, 0.05).result(),
    }
    r.run("sleepy-1", napper, 3600)
    r.run("waits-1", waiter)
    for _ in range(200):  # let both reach their suspension point
        if all(
            conn.state.tasks.get(i) is not None and conn.state.tasks[i].state == "suspended"
            for i in ("sleepy-1", "waits-1")
        ):
            break
        await asyncio.sleep(0.01)
    await r.stop()
    return out


def make_store(path: Path, **kw: Any) -> dict[str, Any]:
    conn = open_store(path, **kw)

    async def go() -> dict[str, Any]:
        return await populate(conn)

    try:
        return asyncio.run(go())
    finally:
        conn.close()


def normalized(state: ServerState) -> Any:
    """The state as comparable plain data (set and timeout-list order ignored)."""
    snap = Snapshot(
        promises=list(state.promises.values()),
        tasks=list(state.tasks.values()),
        schedules=list(state.schedules.values()),  # type: ignore[arg-type]  # only ids are read
        p_timeouts=list(state.p_timeouts),
        t_timeouts=list(state.t_timeouts),
    )
    return {
        "promises": [
            (
                p.id,
                p.state,
                p.param,
                p.value,
                p.tags,
                p.timeout_at,
                p.created_at,
                p.settled_at,
                sorted(p.awaiters),
                sorted(p.subscribers),
            )
            for p in snap.promises
        ],
        "tasks": [(t.id, t.state, t.version, t.pid, t.ttl, sorted(t.resumes)) for t in snap.tasks],
        "schedules": [s.id for s in snap.schedules],
        "p_timeouts": sorted((t.id, t.timeout) for t in snap.p_timeouts),
        "t_timeouts": sorted((t.id, t.typ, t.timeout) for t in snap.t_timeouts),
    }


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
