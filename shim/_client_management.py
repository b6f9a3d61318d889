"""``DBOSClient``'s queue and management calls: ``enqueue``, ``list_workflows``,
``list_queued_workflows``, ``list_workflow_steps``, ``wait_first``, ``delete_workflow(s)``,
``update_workflow_attributes``, ``cancel``/``resume``/``fork_workflow``.

The same coroutines as ``DBOS.*`` (shim/_management.py), but a client's calls are never durable
operations, even inside a workflow (DBOS's client has a connection of its own). Like the rest of
the shim's client, these work in the process that launched DBOS (see shim/_client.py).
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, TypeVar

from shim import _management as mg
from shim._context import take_assigned_workflow_id
from shim._delete import delete
from shim._enqueue import EnqueueOptions, client_start
from shim._handles import WorkflowHandle, WorkflowHandleAsync
from shim._status import WorkflowStatus
from shim._wait_first import check_handles, first_finished

if TYPE_CHECKING:

    from shim._operations import Operations

H = TypeVar("H")


class ClientManagement(ABC):
    """Mixed into ``DBOSClient``; ``_ops()`` is the launched DBOS's operations."""

    @abstractmethod
    def _ops(self) -> Operations: ...

    # -- enqueue --------------------------------------------------------------------------------

    def enqueue(self, options: EnqueueOptions, *args: Any, **kwargs: Any) -> WorkflowHandle[Any]:
        ops = self._ops()
        return WorkflowHandle(ops._block(client_start(ops, options, args, kwargs)), ops)

    async def enqueue_async(self, options: EnqueueOptions, *args: Any, **kwargs: Any) -> WorkflowHandleAsync[Any]:
        ops = self._ops()
        return WorkflowHandleAsync(await ops._await(client_start(ops, options, args, kwargs)), ops)

    # -- listing --------------------------------------------------------------------------------

    def list_workflows(self, *, workflow_ids: list[str] | None = None, status: str | list[str] | None = None,
                       start_time: str | None = None, end_time: str | None = None,
                       completed_after: str | None = None, completed_before: str | None = None,
                       dequeued_after: str | None = None, dequeued_before: str | None = None,
                       name: str | list[str] | None = None, app_version: str | list[str] | None = None,
                       forked_from: str | list[str] | None = None, parent_workflow_id: str | list[str] | None = None,
                       user: str | list[str] | None = None, queue_name: str | list[str] | None = None,
                       limit: int | None = None, offset: int | None = None, sort_desc: bool = False,
                       workflow_id_prefix: str | list[str] | None = None, load_input: bool = True,
                       load_output: bool = True, executor_id: str | list[str] | None = None,
                       queues_only: bool = False, was_forked_from: bool | None = None, has_parent: bool | None = None,
                       attributes: dict[str, Any] | None = None, schedule_name: str | list[str] | None = None,
                       application_name: str | list[str] | None = None) -> list[WorkflowStatus]:
        filters = {k: v for k, v in locals().items() if k != "self"}
        ops = self._ops()
        return ops._block(mg.list_statuses(ops.engine.lifecycle, filters))

    async def list_workflows_async(
            self, *, workflow_ids: list[str] | None = None, status: str | list[str] | None = None,
            start_time: str | None = None, end_time: str | None = None, completed_after: str | None = None,
            completed_before: str | None = None, dequeued_after: str | None = None,
            dequeued_before: str | None = None, name: str | list[str] | None = None,
            app_version: str | list[str] | None = None, forked_from: str | list[str] | None = None,
            parent_workflow_id: str | list[str] | None = None, user: str | list[str] | None = None,
            queue_name: str | list[str] | None = None, limit: int | None = None, offset: int | None = None,
            sort_desc: bool = False, workflow_id_prefix: str | list[str] | None = None, load_input: bool = True,
            load_output: bool = True, executor_id: str | list[str] | None = None, queues_only: bool = False,
            was_forked_from: bool | None = None, has_parent: bool | None = None,
            attributes: dict[str, Any] | None = None, schedule_name: str | list[str] | None = None,
            application_name: str | list[str] | None = None) -> list[WorkflowStatus]:
        filters = {k: v for k, v in locals().items() if k != "self"}
        ops = self._ops()
        return await ops._await(mg.list_statuses(ops.engine.lifecycle, filters))

    def list_queued_workflows(
            self, *, workflow_ids: list[str] | None = None, status: str | list[str] | None = None,
            start_time: str | None = None, end_time: str | None = None, completed_after: str | None = None,
            completed_before: str | None = None, dequeued_after: str | None = None,
            dequeued_before: str | None = None, name: str | list[str] | None = None,
            app_version: str | list[str] | None = None, forked_from: str | list[str] | None = None,
            parent_workflow_id: str | list[str] | None = None, user: str | list[str] | None = None,
            queue_name: str | list[str] | None = None, limit: int | None = None, offset: int | None = None,
            sort_desc: bool = False, workflow_id_prefix: str | list[str] | None = None, load_input: bool = True,
            load_output: bool = True, executor_id: str | list[str] | None = None, has_parent: bool | None = None,
            attributes: dict[str, Any] | None = None,
            application_name: str | list[str] | None = None) -> list[WorkflowStatus]:
        filters = {k: v for k, v in locals().items() if k != "self"}
        filters["queues_only"] = True
        ops = self._ops()
        return ops._block(mg.list_statuses(ops.engine.lifecycle, filters))

    async def list_queued_workflows_async(
            self, *, workflow_ids: list[str] | None = None, status: str | list[str] | None = None,
            start_time: str | None = None, end_time: str | None = None, completed_after: str | None = None,
            completed_before: str | None = None, dequeued_after: str | None = None,
            dequeued_before: str | None = None, name: str | list[str] | None = None,
            app_version: str | list[str] | None = None, forked_from: str | list[str] | None = None,
            parent_workflow_id: str | list[str] | None = None, user: str | list[str] | None = None,
            queue_name: str | list[str] | None = None, limit: int | None = None, offset: int | None = None,
            sort_desc: bool = False, workflow_id_prefix: str | list[str] | None = None, load_input: bool = True,
            load_output: bool = True, executor_id: str | list[str] | None = None, has_parent: bool | None = None,
            attributes: dict[str, Any] | None = None,
            application_name: str | list[str] | None = None) -> list[WorkflowStatus]:
        filters = {k: v for k, v in locals().items() if k != "self"}
        filters["queues_only"] = True
        ops = self._ops()
        return await ops._await(mg.list_statuses(ops.engine.lifecycle, filters))

    def list_workflow_steps(self, workflow_id: str, *, load_output: bool = True, limit: int | None = None,
                            offset: int | None = None) -> list[mg.StepInfo]:
        ops = self._ops()
        return ops._block(mg.steps_of(ops.engine.lifecycle, workflow_id, load_output, limit, offset))

    async def list_workflow_steps_async(self, workflow_id: str, *, load_output: bool = True,
                                        limit: int | None = None, offset: int | None = None) -> list[mg.StepInfo]:
        ops = self._ops()
        return await ops._await(mg.steps_of(ops.engine.lifecycle, workflow_id, load_output, limit, offset))

    # -- waiting and deleting -------------------------------------------------------------------

    def wait_first(self, handles: list[H], *, polling_interval_sec: float = 1.0) -> H:
        """The first of ``handles`` to finish (DBOS polls; the shim waits on the results)."""
        workflow_ids = check_handles(handles)
        ops = self._ops()
        return handles[workflow_ids.index(ops._block(first_finished(ops.engine.lifecycle, workflow_ids)))]

    async def wait_first_async(self, handles: list[H], *, polling_interval_sec: float = 1.0) -> H:
        workflow_ids = check_handles(handles)
        ops = self._ops()
        return handles[workflow_ids.index(await ops._await(first_finished(ops.engine.lifecycle, workflow_ids)))]

    def delete_workflow(self, workflow_id: str, *, delete_children: bool = False) -> None:
        self.delete_workflows([workflow_id], delete_children=delete_children)

    async def delete_workflow_async(self, workflow_id: str, *, delete_children: bool = False) -> None:
        await self.delete_workflows_async([workflow_id], delete_children=delete_children)

    def delete_workflows(self, workflow_ids: list[str], *, delete_children: bool = False) -> None:
        ops = self._ops()
        ops._block(delete(ops.engine.lifecycle, list(workflow_ids), delete_children))

    async def delete_workflows_async(self, workflow_ids: list[str], *, delete_children: bool = False) -> None:
        ops = self._ops()
        await ops._await(delete(ops.engine.lifecycle, list(workflow_ids), delete_children))

    # -- attributes -----------------------------------------------------------------------------

    def update_workflow_attributes(self, workflow_id: str, attributes: dict[str, Any] | None) -> None:
        ops = self._ops()
        ops._block(ops.engine.update_attributes(workflow_id, attributes))

    async def update_workflow_attributes_async(self, workflow_id: str, attributes: dict[str, Any] | None) -> None:
        ops = self._ops()
        await ops._await(ops.engine.update_attributes(workflow_id, attributes))

    # -- cancel, resume, fork -------------------------------------------------------------------

    def cancel_workflow(self, workflow_id: str, *, cancel_children: bool = False) -> None:
        self.cancel_workflows([workflow_id], cancel_children=cancel_children)

    async def cancel_workflow_async(self, workflow_id: str, *, cancel_children: bool = False) -> None:
        await self.cancel_workflows_async([workflow_id], cancel_children=cancel_children)

    def cancel_workflows(self, workflow_ids: list[str], *, cancel_children: bool = False) -> None:
        ops = self._ops()
        ops._block(mg.cancel(ops.engine.lifecycle, list(workflow_ids), cancel_children))

    async def cancel_workflows_async(self, workflow_ids: list[str], *, cancel_children: bool = False) -> None:
        ops = self._ops()
        await ops._await(mg.cancel(ops.engine.lifecycle, list(workflow_ids), cancel_children))

    def resume_workflow(self, workflow_id: str, *, queue_name: str | None = None) -> WorkflowHandle[Any]:
        ops = self._ops()
        ops._block(mg.resume(ops, workflow_id, queue_name))
        return WorkflowHandle(workflow_id, ops)

    async def resume_workflow_async(self, workflow_id: str, *,
                                    queue_name: str | None = None) -> WorkflowHandleAsync[Any]:
        ops = self._ops()
        await ops._await(mg.resume(ops, workflow_id, queue_name))
        return WorkflowHandleAsync(workflow_id, ops)

    def resume_workflows(self, workflow_ids: list[str], *, queue_name: str | None = None) -> list[WorkflowHandle[Any]]:
        return [self.resume_workflow(w, queue_name=queue_name) for w in workflow_ids]

    async def resume_workflows_async(self, workflow_ids: list[str], *,
                                     queue_name: str | None = None) -> list[WorkflowHandleAsync[Any]]:
        return [await self.resume_workflow_async(w, queue_name=queue_name) for w in workflow_ids]

    def fork_workflow(self, workflow_id: str, start_step: int, *, application_version: str | None = None,
                      queue_name: str | None = None, queue_partition_key: str | None = None,
                      replacement_children: dict[str, str] | None = None,
                      timeout_seconds: float | None = None) -> WorkflowHandle[Any]:
        ops = self._ops()
        forked_id = take_assigned_workflow_id() or str(uuid.uuid4())
        ops._block(mg.fork(ops, workflow_id, start_step, forked_id, application_version=application_version,
                           queue_name=queue_name, queue_partition_key=queue_partition_key,
                           replacement_children=replacement_children, timeout_seconds=timeout_seconds))
        return WorkflowHandle(forked_id, ops)

    async def fork_workflow_async(self, workflow_id: str, start_step: int, *, application_version: str | None = None,
                                  queue_name: str | None = None, queue_partition_key: str | None = None,
                                  replacement_children: dict[str, str] | None = None,
                                  timeout_seconds: float | None = None) -> WorkflowHandleAsync[Any]:
        ops = self._ops()
        forked_id = take_assigned_workflow_id() or str(uuid.uuid4())
        await ops._await(mg.fork(ops, workflow_id, start_step, forked_id, application_version=application_version,
                                 queue_name=queue_name, queue_partition_key=queue_partition_key,
                                 replacement_children=replacement_children, timeout_seconds=timeout_seconds))
        return WorkflowHandleAsync(forked_id, ops)
