"""Where user code is running: which workflow, which step, and what the next workflow's id is.

Context variables rather than thread-locals, so the same code serves sync bodies (run in worker
threads) and async bodies (run as tasks), the way DBOS's own context works.
"""

from __future__ import annotations

import logging
import threading
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shim.errors import DBOSException

if TYPE_CHECKING:
    import asyncio

    from resonate.context import Context


logger = logging.getLogger("dbos")


@dataclass(slots=True)
class Authentication:
    """The user a DBOS context runs as (the fields of DBOS's context of the same names). A workflow
    records its caller's and runs with its own copy; steps and children inherit the workflow's."""

    authenticated_user: str | None = None
    authenticated_roles: list[str] | None = None
    assumed_role: str | None = None

    def copy(self) -> Authentication:
        roles = None if self.authenticated_roles is None else list(self.authenticated_roles)
        return Authentication(self.authenticated_user, roles, self.assumed_role)


@dataclass(eq=False)
class WorkflowFrame:
    """One execution of one workflow body. Durable operations are numbered in call order, as DBOS's
    ``function_id``: steps, child starts, result waits, sleeps."""

    workflow_id: str
    name: str
    ctx: Context
    user_loop: asyncio.AbstractEventLoop | None = None
    auth: Authentication = field(default_factory=Authentication)  # as recorded when it was started
    _function_id: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def next_function_id(self) -> int:
        with self._lock:
            self._function_id += 1
            return self._function_id

    def upcoming_function_id(self) -> int:
        """The number the next operation will take (DBOS.patch looks there before taking it)."""
        with self._lock:
            return self._function_id + 1


@dataclass(frozen=True, slots=True)
class StepFrame:
    workflow_id: str
    step_id: int
    attempt: int = 1
    max_attempts: int | None = None


current_workflow: ContextVar[WorkflowFrame | None] = ContextVar("d2r_workflow", default=None)
current_step: ContextVar[StepFrame | None] = ContextVar("d2r_step", default=None)
current_auth: ContextVar[Authentication | None] = ContextVar("d2r_auth", default=None)


def starting_frame() -> WorkflowFrame | None:
    """The workflow a workflow started here is a child of (None outside workflows). DBOS refuses to
    start one inside a step with the bare ``AssertionError`` of its check that the caller is no step."""
    frame = current_workflow.get()
    if frame is not None and current_step.get() is not None:
        raise AssertionError
    return frame

@dataclass(eq=False)
class AssignedId:
    """DBOS's one slot per context for the next workflow's id. Nested ``SetWorkflowID`` blocks share
    it, as DBOS's do: an inner block overwrites the outer's id and leaving it restores nothing, so
    after an inner block whose workflow took its id, the outer block has no id left."""

    wfid: str = ""
    in_block: bool = False


assigned_workflow_id: ContextVar[AssignedId | None] = ContextVar("d2r_next_workflow_id", default=None)


class SetWorkflowID:
    """``with SetWorkflowID("id"):`` names the next workflow started in the block (DBOS semantics:
    a second start under the same id returns the first one's outcome instead of running again)."""

    def __init__(self, wfid: str) -> None:
        if not isinstance(wfid, str) or not wfid.strip():
            raise DBOSException(
                f"Invalid workflow ID {wfid!r}: workflow IDs must be non-empty and cannot be only whitespace."
            )
        self.wfid = wfid
        self._token: Any = None

    def __enter__(self) -> SetWorkflowID:
        slot = assigned_workflow_id.get()
        self._token = None
        if slot is None:
            slot = AssignedId()
            self._token = assigned_workflow_id.set(slot)
        slot.wfid = self.wfid
        slot.in_block = True
        return self

    def __exit__(self, *exc: object) -> None:
        slot = assigned_workflow_id.get()
        if slot is not None:
            slot.in_block = False
        if self._token is not None:
            assigned_workflow_id.reset(self._token)

    async def __aenter__(self) -> SetWorkflowID:
        return self.__enter__()

    async def __aexit__(self, *exc: object) -> None:
        self.__exit__()


def take_assigned_workflow_id() -> str | None:
    """The id in the slot, which the first workflow started takes; later ones get generated ids."""
    slot = assigned_workflow_id.get()
    if slot is None:
        return None
    if not slot.wfid:
        if slot.in_block:
            logger.warning(
                "Multiple workflows started in the same SetWorkflowID block. Only the first workflow is "
                "assigned the specified workflow ID; subsequent workflows will use a generated workflow ID."
            )
        return None
    wfid, slot.wfid = slot.wfid, ""
    return wfid
