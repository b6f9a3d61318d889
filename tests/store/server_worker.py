"""A native resonate-sdk worker against a ``dbos2resonate serve`` (a subprocess of tests/store/test_server.py).

    python server_worker.py URL GROUP PID LOG [TTL_MS]

Registers the functions below and serves until killed. Every function appends
``PID NAME ARG`` to LOG when it runs, so a test can tell which process ran what
and how often. ``stall`` stalls forever the first time it runs anywhere (a marker
file beside LOG says it has started once), so a test can kill its holder.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta
from pathlib import Path

from resonate.context import Context
from resonate.resonate import Resonate
from resonate.retry import Never


def main(url: str, group: str, pid: str, log: Path, ttl_ms: int) -> None:
    def record(name: str, arg: object) -> None:
        with log.open("a") as out:
            out.write(f"{pid} {name} {arg}\n")

    async def leaf(ctx: Context, n: int) -> int:
        record("leaf", n)
        return n * n

    async def fan_out(ctx: Context, n: int) -> list[int]:
        record("fan_out", n)
        futures = [ctx.options(target=group).rpc("leaf", i) for i in range(n)]
        return [await f for f in futures]

    async def stall(ctx: Context, tag: str) -> str:
        marker = log.with_suffix(".stalled")
        first = not marker.exists()
        record("stall", tag)
        if first:
            marker.write_text(pid)
            await asyncio.Event().wait()  # hold the task until this process is killed
        return f"{tag} done by {pid}"

    async def run() -> None:
        resonate = Resonate(
            url=url, env={}, group=group, pid=pid, ttl=timedelta(milliseconds=ttl_ms), retry_policy=Never()
        )
        resonate.register(leaf)
        resonate.register(fan_out)
        resonate.register(stall)
        await asyncio.Event().wait()

    asyncio.run(run())


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4]), int(sys.argv[5]) if len(sys.argv) > 5 else 60_000)
