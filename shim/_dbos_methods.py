"""``DBOS`` static methods defined outside shim/_dbos.py: the rest of the queue and workflow
management API (issue 6). ``DBOS`` inherits ``QueueAndManagementAPI``, so these modules stay
small and shim/_dbos.py does not grow with every API.
"""

from __future__ import annotations

from typing import Any

from shim import _asyncio_wait, _delete, _enqueue, _patches, _queues, _wait_first
from shim._auth import AuthenticationAPI
from shim._management import _as_operation, _ops
from shim._messaging import check_async
from shim.errors import DBOSException


def _delay_until(delay_seconds: float | None, delay_until_epoch_ms: int | None) -> int:
    """DBOS's checks and messages (``SystemDatabase.set_workflow_delay``)."""
    import time

    if delay_until_epoch_ms is not None and delay_seconds is not None:
        raise DBOSException("Specify either delay_seconds or delay_until_epoch_ms, not both")
    if delay_until_epoch_ms is not None:
        if delay_until_epoch_ms < 0:
            raise DBOSException("delay_until_epoch_ms must be >= 0")
        return delay_until_epoch_ms
    if delay_seconds is not None:
        if delay_seconds < 0:
            raise DBOSException("delay_seconds must be >= 0")
        return int((time.time() + delay_seconds) * 1000)
    raise DBOSException("Must specify either delay_seconds or delay_until_epoch_ms")


def set_workflow_delay(workflow_id: str, *, delay_seconds: float | None = None,
                       delay_until_epoch_ms: int | None = None) -> None:
    """Move a DELAYED workflow's delay (DBOS: only DELAYED workflows are affected)."""
    check_async("set_workflow_delay")
    ops = _ops()
    until = _delay_until(delay_seconds, delay_until_epoch_ms)
    ops._block(_as_operation(ops, "DBOS.setWorkflowDelay",
                             lambda: ops.engine.lifecycle.set_delay(workflow_id, until)))


async def set_workflow_delay_async(workflow_id: str, *, delay_seconds: float | None = None,
                                   delay_until_epoch_ms: int | None = None) -> None:
    ops = _ops()
    until = _delay_until(delay_seconds, delay_until_epoch_ms)
    await ops._await(_as_operation(ops, "DBOS.setWorkflowDelay",
                                   lambda: ops.engine.lifecycle.set_delay(workflow_id, until)))


def update_workflow_attributes(workflow_id: str, attributes: dict[str, Any] | None) -> None:
    """Replace a workflow's attributes (None clears them); in a workflow, one step, as in DBOS."""
    check_async("update_workflow_attributes")
    ops = _ops()
    ops._block(_as_operation(ops, "DBOS.updateWorkflowAttributes",
                             lambda: ops.engine.update_attributes(workflow_id, attributes)))


async def update_workflow_attributes_async(workflow_id: str, attributes: dict[str, Any] | None) -> None:
    ops = _ops()
    await ops._await(_as_operation(ops, "DBOS.updateWorkflowAttributes",
                                   lambda: ops.engine.update_attributes(workflow_id, attributes)))


class QueueAndManagementAPI(AuthenticationAPI):
    """A base of ``DBOS``: these are its static methods, as DBOS defines them."""

    enqueue_workflow_with_options = staticmethod(_enqueue.enqueue_workflow_with_options)
    enqueue_workflow_with_options_async = staticmethod(_enqueue.enqueue_workflow_with_options_async)
    set_workflow_delay = staticmethod(set_workflow_delay)
    set_workflow_delay_async = staticmethod(set_workflow_delay_async)
    update_workflow_attributes = staticmethod(update_workflow_attributes)
    update_workflow_attributes_async = staticmethod(update_workflow_attributes_async)
    patch = staticmethod(_patches.patch)
    patch_async = staticmethod(_patches.patch_async)
    deprecate_patch = staticmethod(_patches.deprecate_patch)
    deprecate_patch_async = staticmethod(_patches.deprecate_patch_async)
    delete_workflow = staticmethod(_delete.delete_workflow)
    delete_workflow_async = staticmethod(_delete.delete_workflow_async)
    delete_workflows = staticmethod(_delete.delete_workflows)
    delete_workflows_async = staticmethod(_delete.delete_workflows_async)
    wait_first = staticmethod(_wait_first.wait_first)
    wait_first_async = staticmethod(_wait_first.wait_first_async)
    asyncio_wait = staticmethod(_asyncio_wait.asyncio_wait)
    retrieve_queue = staticmethod(_queues.retrieve_queue)
    retrieve_queue_async = staticmethod(_queues.retrieve_queue_async)
    list_queues = staticmethod(_queues.list_queues)
    list_queues_async = staticmethod(_queues.list_queues_async)
    delete_queue = staticmethod(_queues.delete_queue)
    delete_queue_async = staticmethod(_queues.delete_queue_async)
    listen_queues = staticmethod(_queues.listen_queues)


__all__ = ["QueueAndManagementAPI"]
