"""Child process for the crash tests: native resonate-sdk 0.8 workflows on a durable store.

    python crash_child.py STORE RECORD RESULT SCENARIO ID N [--block-at K]
                          [--sleep SECONDS] [--resolve PROMISE_ID VALUE] [--attach]

Every step appends ``step <i> <pid> <time>`` to RECORD (one ``O_APPEND`` write
per line, so the parent can poll it while this process runs and after it is
killed). ``--block-at K`` makes step K hang (in this process only), so the
parent can kill it mid-step. The workflow's result is written to RESULT as JSON.
The same workflows run in-process through :func:`run_workflow`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from resonate.context import Context
from resonate.error import ServerError
from resonate.resonate import Resonate
from resonate.retry import Never
from resonate.types import Value

from shim.store import open_store

_record_path = ""
_block_at = -1


def _record(line: str) -> None:
    fd = os.open(_record_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{line} {os.getpid()} {time.time():.3f}\n".encode())
    finally:
        os.close(fd)


def step(ctx: Context, i: int) -> int:
    _record(f"step {i}")
    if i == _block_at:
        time.sleep(600)  # the parent kills us here
    return i * i + 1


async def async_step(ctx: Context, i: int) -> int:
    _record(f"step {i}")
    if i == _block_at:
        await asyncio.sleep(600)  # the parent kills us here, while the others finish
    return i * i + 1


def note(ctx: Context, text: str) -> str:
    _record(f"note {text}")
    return text


def _fold(acc: int, v: int) -> int:
    return (acc * 31 + v) % 1_000_000_007


async def wf_steps(ctx: Context, n: int) -> int:
    acc = 7
    for i in range(n):
        acc = _fold(acc, await ctx.run(step, i))
    return acc


async def wf_sleep(ctx: Context, n: int, seconds: float) -> int:
    acc = 7
    for i in range(n):
        acc = _fold(acc, await ctx.run(step, i))
    await ctx.run(note, "sleep-start")
    await ctx.sleep(timedelta(seconds=seconds))
    await ctx.run(note, "sleep-end")
    for i in range(n, 2 * n):
        acc = _fold(acc, await ctx.run(step, i))
    return acc


async def wf_promise(ctx: Context, n: int) -> list[Any]:
    acc = 7
    for i in range(n):
        acc = _fold(acc, await ctx.run(step, i))
    p = ctx.promise()
    await ctx.run(note, f"waiting {await p.id()}")
    got = await p
    await ctx.run(note, "got")
    for i in range(n, 2 * n):
        acc = _fold(acc, await ctx.run(step, i))
    return [acc, got]


async def _resolve_eventually(r: Resonate, promise_id: str, value: Any) -> None:
    """Resolve ``promise_id``, waiting (bounded) for the workflow to create it."""
    for _ in range(3000):
        try:
            await r.promises.resolve(promise_id, Value(data=value))
        except ServerError as exc:
            if exc.code != 404:
                raise
            await asyncio.sleep(0.01)
        else:
            return
    msg = f"promise {promise_id} never appeared"
    raise RuntimeError(msg)


async def wf_fanout(ctx: Context, n: int) -> int:
    futures = [ctx.run(async_step, i) for i in range(n)]
    acc = 7
    for i, future in enumerate(futures):
        if i == n // 2:
            # Steps 0 .. n/2-1 are settled (their results came back): say so.
            await ctx.run(note, "first-half-settled")
        acc = _fold(acc, await future)
    return acc


WORKFLOWS = {"steps": wf_steps, "sleep": wf_sleep, "promise": wf_promise, "fanout": wf_fanout}


async def run_workflow(
    store: str,
    record: str,
    scenario: str,
    wf_id: str,
    n: int,
    *,
    block_at: int = -1,
    sleep: float = 1.0,
    resolve: tuple[str, Any] | None = None,
    attach: bool = False,
) -> Any:
    global _record_path, _block_at
    _record_path = record
    _block_at = block_at
    conn = open_store(store)
    r = Resonate(network=conn, retry_policy=Never())
    for fn in WORKFLOWS.values():
        r.register(fn)
    args: tuple[Any, ...] = (n, sleep) if scenario == "sleep" else (n,)
    if attach:
        # Only look the workflow up: it resumes because the store re-delivers
        # its task when the connection starts (like DBOS's recovery on launch).
        handle: Any = await r.get(wf_id)
    else:
        handle = r.run(wf_id, WORKFLOWS[scenario], *args)
    if resolve is not None:
        await _resolve_eventually(r, *resolve)
    try:
        return await asyncio.wait_for(handle.result(), timeout=30)
    finally:
        await r.stop()
        conn.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("store")
    ap.add_argument("record")
    ap.add_argument("result")
    ap.add_argument("scenario", choices=sorted(WORKFLOWS))
    ap.add_argument("id")
    ap.add_argument("n", type=int)
    ap.add_argument("--block-at", type=int, default=-1)
    ap.add_argument("--sleep", type=float, default=1.0)
    ap.add_argument("--resolve", nargs=2, metavar=("PROMISE_ID", "VALUE"))
    ap.add_argument("--attach", action="store_true", help="r.get(ID) instead of r.run(ID, ...)")
    a = ap.parse_args()
    resolve = (a.resolve[0], a.resolve[1]) if a.resolve else None
    result = asyncio.run(
        run_workflow(
            a.store,
            a.record,
            a.scenario,
            a.id,
            a.n,
            block_at=a.block_at,
            sleep=a.sleep,
            resolve=resolve,
            attach=a.attach,
        )
    )
    tmp = a.result + ".tmp"
    Path(tmp).write_text(json.dumps(result))
    os.replace(tmp, a.result)


if __name__ == "__main__":
    main()
