"""Queue admission when several processes share a Resonate server.

On the embedded store one process owns every queued workflow, so its dispatcher takes them all in
at enqueue time and again at launch (shim/_dispatch.py). On a server an enqueued workflow is sent
to the group and runs on whichever worker the server hands it to, so only that worker may count
it: this dispatcher queues a workflow when its own body asks to be admitted, never at enqueue
time or at launch (a worker that dies leaves its work to the worker its lapsed lease goes to).
Flow control is therefore per worker (docs/DEVIATIONS.md, "Queues on a Resonate server").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shim._dispatch import Dispatcher

if TYPE_CHECKING:
    from shim._lifecycle import Plan, Run


class SharedDispatcher(Dispatcher):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._admitting: set[str] = set()

    async def load(self) -> None:
        self.loaded = True

    def add(self, plan: Plan, *args: Any, **kwargs: Any) -> None:
        if plan.promise_id in self._admitting:
            super().add(plan, *args, **kwargs)

    async def admit(self, run: Run) -> int:
        self._admitting.add(run.plan.promise_id)
        try:
            return await super().admit(run)
        finally:
            self._admitting.discard(run.plan.promise_id)
