"""The DBOS calls user code makes, each in a sync and an async form.

Each call decides in the caller's thread what DBOS would number it (the function id, a child's
workflow id) and then runs one coroutine on Resonate's loop: blocking for sync callers, awaiting
for async ones. Inside a workflow (and outside a step) a call is a durable operation; elsewhere it
is a plain request.
"""

from __future__ import annotations

import asyncio
import contextvars
import uuid
from collections.abc import Coroutine
from typing import Any, TypeVar

from shim import _serialization as ser
from shim._classes import split_instance
from shim._context import (
    WorkflowFrame,
    current_step,
    current_workflow,
    starting_frame,
    take_assigned_workflow_id,
)
from shim._engine import Caller, Engine
from shim._handles import WorkflowHandle, WorkflowHandleAsync
from shim._interrupts import Interrupted
from shim._ids import child_workflow_id
from shim._specs import StepSpec, WorkflowSpec
from shim._status import WorkflowStatus
from shim.errors import DBOSException, DBOSNonExistentWorkflowError

T = TypeVar("T")


def active_frame() -> WorkflowFrame | None:
    """The workflow whose body is running here; None outside workflows and inside steps."""
    if current_step.get() is not None:
        return None
    return current_workflow.get()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _sleeping_frame() -> WorkflowFrame:
    """``DBOS.sleep`` is a workflow's operation: DBOS refuses it in steps and outside workflows."""
    if current_step.get() is not None:
        raise AssertionError(_SLEEP_OUTSIDE_WORKFLOW)
    frame = current_workflow.get()
    if frame is None:
        raise DBOSException(_SLEEP_OUTSIDE_WORKFLOW)
    frame.next_function_id()
    return frame


_SLEEP_OUTSIDE_WORKFLOW = "sleep() must be called from within a workflow"


class Operations:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.bridge = engine.bridge

    def _block(self, coro: Coroutine[Any, Any, T]) -> T:
        try:
            return self.bridge.call(coro)
        except Interrupted as interrupted:
            raise interrupted.original from None

    async def _await(self, coro: Coroutine[Any, Any, T]) -> T:
        try:
            return await self.bridge.acall(coro)
        except Interrupted as interrupted:
            raise interrupted.original from None

    # -- starting workflows --------------------------------------------------------------------

    def _start(self, spec: WorkflowSpec, args: tuple[Any, ...], kwargs: dict[str, Any]
               ) -> tuple[str, Coroutine[Any, Any, str | None]]:
        """The id the new workflow is given, and the start; inside a workflow the start returns the
        recorded child's id, which in a fork is the original's child (DBOS copies the start)."""
        frame = starting_frame()
        assigned = take_assigned_workflow_id()
        caller = Caller(contextvars.copy_context(), _running_loop())
        instance, args = split_instance(args)
        if frame is None:
            workflow_id = assigned or str(uuid.uuid4())
            return workflow_id, self.engine.start(spec, workflow_id, args, kwargs, caller, instance)
        function_id = frame.next_function_id()
        workflow_id = assigned or child_workflow_id(frame.workflow_id, function_id)

        async def start_child() -> str:
            await self.engine.start(spec, workflow_id, args, kwargs, caller, instance)
            return workflow_id

        return workflow_id, self.engine.record(frame, spec.name, start_child)

    def start_workflow(self, spec: WorkflowSpec, args: tuple[Any, ...], kwargs: dict[str, Any]
                       ) -> WorkflowHandle[Any]:
        workflow_id, start = self._start(spec, args, kwargs)
        return WorkflowHandle(self._block(start) or workflow_id, self)

    async def start_workflow_async(self, spec: WorkflowSpec, args: tuple[Any, ...],
                                   kwargs: dict[str, Any]) -> WorkflowHandleAsync[Any]:
        workflow_id, start = self._start(spec, args, kwargs)
        return WorkflowHandleAsync(await self._await(start) or workflow_id, self)

    # -- results and statuses ------------------------------------------------------------------

    def _result(self, workflow_id: str) -> Coroutine[Any, Any, Any]:
        frame = active_frame()
        if frame is None:
            return self._decoded_result(workflow_id)
        frame.next_function_id()
        return self.engine.record(frame, "DBOS.getResult", lambda: self._decoded_result(workflow_id))

    async def _decoded_result(self, workflow_id: str) -> Any:
        return ser.loads(await self.engine.result_payload(workflow_id))

    def get_result(self, workflow_id: str) -> Any:
        return self._block(self._result(workflow_id))

    async def get_result_async(self, workflow_id: str) -> Any:
        return await self._await(self._result(workflow_id))

    def _status(self, workflow_id: str) -> Coroutine[Any, Any, WorkflowStatus | None]:
        frame = active_frame()
        if frame is None:
            return self.engine.status(workflow_id)
        frame.next_function_id()
        return self.engine.record(frame, "DBOS.getStatus", lambda: self.engine.status(workflow_id))

    def get_status(self, workflow_id: str) -> WorkflowStatus | None:
        return self._block(self._status(workflow_id))

    async def get_status_async(self, workflow_id: str) -> WorkflowStatus | None:
        return await self._await(self._status(workflow_id))

    def retrieve_workflow(self, workflow_id: str, existing_workflow: bool = True) -> WorkflowHandle[Any]:
        if existing_workflow and self.get_status(workflow_id) is None:
            raise DBOSNonExistentWorkflowError("target", workflow_id)
        return WorkflowHandle(workflow_id, self)

    async def retrieve_workflow_async(self, workflow_id: str, existing_workflow: bool = True
                                      ) -> WorkflowHandleAsync[Any]:
        if existing_workflow and await self.get_status_async(workflow_id) is None:
            raise DBOSNonExistentWorkflowError("target", workflow_id)
        return WorkflowHandleAsync(workflow_id, self)

    # -- steps and sleeps ----------------------------------------------------------------------

    def _step(self, frame: WorkflowFrame, spec: StepSpec, args: tuple[Any, ...], kwargs: dict[str, Any]
              ) -> Coroutine[Any, Any, Any]:
        step_id = frame.next_function_id()
        return self.engine.run_step(frame, spec, step_id, contextvars.copy_context(), args, kwargs)

    def call_step(self, frame: WorkflowFrame, spec: StepSpec, args: tuple[Any, ...],
                  kwargs: dict[str, Any]) -> Any:
        return self._block(self._step(frame, spec, args, kwargs))

    async def call_step_async(self, frame: WorkflowFrame, spec: StepSpec, args: tuple[Any, ...],
                              kwargs: dict[str, Any]) -> Any:
        return await self._await(self._step(frame, spec, args, kwargs))

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._block(self.engine.sleep(_sleeping_frame(), seconds))

    async def sleep_async(self, seconds: float) -> None:
        if seconds > 0:
            await self._await(self.engine.sleep(_sleeping_frame(), seconds))
