"""``DBOS.wait_first`` (+async): the first of several workflows to finish (any status but
DELAYED, ENQUEUED and PENDING), as its handle. DBOS polls its table; the shim waits on the
workflows' results and returns when one settles, so nothing polls (``polling_interval_sec`` is
accepted for compatibility). Inside a workflow it is one recorded operation (``DBOS.waitFirst``),
so a replay returns the same handle.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, TypeVar

from shim._management import _as_operation, _ops
from shim._messaging import check_async
from shim.errors import DBOSNonExistentWorkflowError

if TYPE_CHECKING:
    from shim._lifecycle import Lifecycle

H = TypeVar("H")

_UNFINISHED = ("DELAYED", "ENQUEUED", "PENDING")


def check_handles(handles: list[Any]) -> list[str]:
    if not handles:
        raise ValueError("handles must not be empty")
    workflow_ids = [h.workflow_id for h in handles]
    if len(set(workflow_ids)) != len(workflow_ids):
        raise ValueError("handles must not contain duplicate workflow IDs")
    return workflow_ids


async def first_finished(lifecycle: Lifecycle, workflow_ids: list[str]) -> str:
    for workflow_id in workflow_ids:  # already finished: the first in the caller's order
        found = await lifecycle.current(workflow_id)
        if found is not None and found[1].status not in _UNFINISHED:
            return workflow_id

    async def settled(workflow_id: str) -> str:
        try:
            await lifecycle.wait_result(workflow_id)
        except DBOSNonExistentWorkflowError:
            await asyncio.Event().wait()  # DBOS never picks a workflow that does not exist
        except Exception:  # noqa: BLE001 - failed or cancelled is finished too
            pass
        return workflow_id

    waits = [asyncio.ensure_future(settled(w)) for w in workflow_ids]
    try:
        done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
    return min((w.result() for w in done), key=workflow_ids.index)


def wait_first(handles: list[H], *, polling_interval_sec: float = 1.0) -> H:
    check_async("wait_first")
    workflow_ids = check_handles(handles)
    ops = _ops()
    first = ops._block(_as_operation(ops, "DBOS.waitFirst",
                                     lambda: first_finished(ops.engine.lifecycle, workflow_ids)))
    return handles[workflow_ids.index(first)]


async def wait_first_async(handles: list[H], *, polling_interval_sec: float = 1.0) -> H:
    workflow_ids = check_handles(handles)
    ops = _ops()
    first = await ops._await(_as_operation(ops, "DBOS.waitFirst",
                                           lambda: first_finished(ops.engine.lifecycle, workflow_ids)))
    return handles[workflow_ids.index(first)]


__all__ = ["wait_first", "wait_first_async"]
