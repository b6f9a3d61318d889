"""Workflow handles: what ``start_workflow`` and ``retrieve_workflow`` return."""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, TypeVar


if TYPE_CHECKING:
    from shim._operations import Operations
    from shim._status import WorkflowStatus

R = TypeVar("R")


class WorkflowHandle(Generic[R]):
    def __init__(self, workflow_id: str, operations: Operations) -> None:
        self.workflow_id = workflow_id
        self._operations = operations

    def get_workflow_id(self) -> str:
        return self.workflow_id

    def get_result(self, *, polling_interval_sec: float = 1.0) -> R:
        """The workflow's result; the shim is told of completion, so the polling interval is unused."""
        return self._operations.get_result(self.workflow_id)

    def get_status(self) -> WorkflowStatus:
        status = self._operations.get_status(self.workflow_id)
        assert status is not None  # a handle exists only for a started workflow
        return status

    def __repr__(self) -> str:
        return f"WorkflowHandle({self.workflow_id!r})"


class WorkflowHandleAsync(Generic[R]):
    def __init__(self, workflow_id: str, operations: Operations) -> None:
        self.workflow_id = workflow_id
        self._operations = operations

    def get_workflow_id(self) -> str:
        return self.workflow_id

    async def get_result(self, *, polling_interval_sec: float = 1.0) -> R:
        """The workflow's result; the shim is told of completion, so the polling interval is unused."""
        return await self._operations.get_result_async(self.workflow_id)

    async def get_status(self) -> WorkflowStatus:
        status = await self._operations.get_status_async(self.workflow_id)
        assert status is not None
        return status

    def __repr__(self) -> str:
        return f"WorkflowHandleAsync({self.workflow_id!r})"
