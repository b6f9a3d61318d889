"""``DBOS.delete_workflow(s)`` (+async) on the shim, as DBOS 2.31 does it: a deleted workflow is
gone (no status, not listed, no steps, ``retrieve_workflow`` and ``get_result`` raise
``DBOSNonExistentWorkflowError``), its id may be used again, an unknown id is ignored, and
``delete_children=True`` deletes every descendant too (without it, children stay). A workflow
still running is stopped at its next durable operation. How: shim/_lifecycle.py ``delete_run``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shim import _records as rec
from shim._management import _as_operation, _ops

if TYPE_CHECKING:
    from shim._lifecycle import Lifecycle


async def descendants(lifecycle: Lifecycle, workflow_ids: list[str]) -> list[str]:
    """Every workflow started (transitively) by ``workflow_ids``, parents first."""
    found: list[str] = []
    seen = set(workflow_ids)
    frontier = list(workflow_ids)
    while frontier:
        children: list[str] = []
        for parent in frontier:
            for root in await lifecycle.search({rec.TAG_KIND: rec.KIND_WORKFLOW, rec.TAG_PARENT: parent}):
                child = root.tags.get(rec.TAG_ID, "")
                if child and child not in seen:
                    seen.add(child)
                    children.append(child)
        found += children
        frontier = children
    return found


async def delete(lifecycle: Lifecycle, workflow_ids: list[str], delete_children: bool) -> None:
    targets = list(workflow_ids)
    if delete_children:
        targets += await descendants(lifecycle, targets)
    for workflow_id in targets:
        found = await lifecycle.current(workflow_id)
        if found is not None:
            await lifecycle.delete_run(found[0].id)


def delete_workflows(workflow_ids: list[str], *, delete_children: bool = False) -> None:
    ops = _ops()
    ops._block(_as_operation(ops, "DBOS.deleteWorkflow",
                             lambda: delete(ops.engine.lifecycle, list(workflow_ids), delete_children)))


async def delete_workflows_async(workflow_ids: list[str], *, delete_children: bool = False) -> None:
    ops = _ops()
    await ops._await(_as_operation(ops, "DBOS.deleteWorkflow",
                                   lambda: delete(ops.engine.lifecycle, list(workflow_ids), delete_children)))


def delete_workflow(workflow_id: str, *, delete_children: bool = False) -> None:
    delete_workflows([workflow_id], delete_children=delete_children)


async def delete_workflow_async(workflow_id: str, *, delete_children: bool = False) -> None:
    await delete_workflows_async([workflow_id], delete_children=delete_children)


__all__ = ["delete", "delete_workflow", "delete_workflow_async", "delete_workflows", "delete_workflows_async"]
