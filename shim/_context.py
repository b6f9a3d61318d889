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

if TYPE_CHECKING:
    import asyncio

    from resonate.context import Context


logger = logging.getLogger("dbos")


@dataclass(eq=False)
class WorkflowFrame:
    """One execution of one workflow body. Durable operations are numbered in call order, as DBOS's
    ``function_id``: steps, child starts, result waits, sleeps."""

    workflow_id: str
    name: str
    ctx: Context
    user_loop: asyncio.AbstractEventLoop | None = None
    _function_id: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def next_function_id(self) -> int:
        with self._lock:
            self._function_id += 1
            return self._function_id


@dataclass(frozen=True, slots=True)
class StepFrame:
    workflow_id: str
    step_id: int
    attempt: int = 1
    max_attempts: int | None = None


current_workflow: ContextVar[WorkflowFrame | None] = ContextVar("d2r_workflow", default=None)
current_step: ContextVar[StepFrame | None] = ContextVar("d2r_step", default=None)
assigned_workflow_id: ContextVar[SetWorkflowID | None] = ContextVar("d2r_next_workflow_id", default=None)


class SetWorkflowID:
    """``with SetWorkflowID("id"):`` names the next workflow started in the block (DBOS semantics:
    a second start under the same id returns the first one's outcome instead of running again)."""

    def __init__(self, wfid: str) -> None:
        if not isinstance(wfid, str) or not wfid:
            raise TypeError("SetWorkflowID needs a non-empty string id")
        self.wfid = wfid
        self.used = False
        self._token: Any = None

    def __enter__(self) -> SetWorkflowID:
        self.used = False
        self._token = assigned_workflow_id.set(self)
        return self

    def __exit__(self, *exc: object) -> None:
        assigned_workflow_id.reset(self._token)

    async def __aenter__(self) -> SetWorkflowID:
        return self.__enter__()

    async def __aexit__(self, *exc: object) -> None:
        self.__exit__()


def take_assigned_workflow_id() -> str | None:
    """The id set by the innermost ``SetWorkflowID``; only the first workflow started in it takes it."""
    block = assigned_workflow_id.get()
    if block is None:
        return None
    if block.used:
        logger.warning(
            "Multiple workflows started in the same SetWorkflowID block. Only the first workflow is "
            "assigned the specified workflow ID; subsequent workflows will use a generated workflow ID."
        )
        return None
    block.used = True
    return block.wfid
