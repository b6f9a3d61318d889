"""``DBOS.asyncio_wait``: DBOS 2.31's durable ``asyncio.wait``.

Outside a workflow it is ``asyncio.wait``. In a workflow it is one recorded operation
(``DBOS.asyncio_wait``) whose output is the indices of the awaitables that were done, so a replay
returns the same split: the recorded ones (awaited again, as DBOS does) as done, the others as
pending, whatever they do this time. The awaitables run on the caller's loop; the record is made on
Resonate's, which waits on the caller's loop for the split.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from shim._management import _as_operation, _ops
from shim._operations import active_frame


async def asyncio_wait(fs: list[Awaitable[Any]], *, timeout: float | None = None,
                       return_when: str = asyncio.ALL_COMPLETED
                       ) -> tuple[set[asyncio.Future[Any]], set[asyncio.Future[Any]]]:
    futures = [asyncio.ensure_future(f) for f in fs]
    if active_frame() is None:
        return await asyncio.wait(futures, timeout=timeout, return_when=return_when)
    caller = asyncio.get_running_loop()

    async def done_indices() -> list[int]:
        split = asyncio.run_coroutine_threadsafe(
            asyncio.wait(futures, timeout=timeout, return_when=return_when), caller)
        done, _ = await asyncio.wrap_future(split)
        return [i for i, future in enumerate(futures) if future in done]

    ops = _ops()
    recorded = set(await ops._await(_as_operation(ops, "DBOS.asyncio_wait", done_indices)) or [])
    done = {futures[i] for i in recorded}
    if done:
        await asyncio.wait(done)
    return done, {future for i, future in enumerate(futures) if i not in recorded}


__all__ = ["asyncio_wait"]
