"""Queue admission when several processes share a Resonate server.

On the embedded store one process owns every queued workflow, so its dispatcher takes them all in
at enqueue time and again at launch (shim/_dispatch.py). On a server an enqueued workflow is sent
to the group and runs on whichever worker the server hands it to, so only that worker may count
it: this dispatcher queues a workflow when its own body asks to be admitted, never at enqueue
time or at launch (a worker that dies leaves its work to the worker its lapsed lease goes to).

``worker_concurrency`` and ``partition_worker_concurrency`` count this worker's workflows, as in
DBOS. The global limits (``concurrency``, ``limiter`` and their partition forms) are shared by
every worker through promises on the server (shim/_queue_gate.py): after this worker's own count
of them lets a workflow go (its count is a floor of the global one, so its waiting work stays in
the lane's heap, in DBOS's priority order), it takes a global slot and a start ticket before its
permit is granted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from shim._dispatch import UNLIMITED, Dispatcher, Lane, Limits
from shim._plans import permit_id
from shim._queue_gate import GlobalLimit, QueueGate, scope_of

if TYPE_CHECKING:
    from resonate.types import PromiseRecord

    from shim._lifecycle import Plan, Run

logger = logging.getLogger("dbos")
DEFAULT_POLLING_INTERVAL_SECONDS = 1.0


def global_limits(queue: str, partition: str | None, limits: Limits) -> list[GlobalLimit]:
    """The limits of ``queue``'s lane that every worker shares, widest scope first."""
    shared = []
    if limits.concurrency is not None or limits.limit is not None:
        shared.append(GlobalLimit(scope_of(queue, None), limits.concurrency, limits.limit, limits.period))
    if partition is not None and (limits.partition_concurrency is not None or limits.partition_limit is not None):
        shared.append(GlobalLimit(scope_of(queue, partition), limits.partition_concurrency,
                                  limits.partition_limit, limits.partition_period))
    return shared


class SharedDispatcher(Dispatcher):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._admitting: set[str] = set()
        self._granted_elsewhere: set[str] = set()  # permits another process settled while we waited
        self.gate = QueueGate(self.lifecycle, self.clock)

    async def load(self) -> None:
        self.loaded = True

    def add(self, plan: Plan, *args: Any, **kwargs: Any) -> None:
        if plan.promise_id in self._admitting:
            super().add(plan, *args, **kwargs)

    async def admit(self, run: Run) -> int:
        """As on the store, but another process may settle the permit meanwhile (a ``DBOSClient``'s
        ``resume_workflow`` grants it, its ``cancel_workflow`` rejects it): that ends the wait too."""
        pid = run.plan.promise_id
        self._admitting.add(pid)
        admitted = asyncio.ensure_future(super().admit(run))
        settled = asyncio.ensure_future(self._permit_settled(pid))
        try:
            await asyncio.wait([admitted, settled], return_when=asyncio.FIRST_COMPLETED)
            if admitted.done() or not settled.done() or settled.exception() is not None:
                return await admitted
            admitted.cancel()
            return self._settled_elsewhere(run, settled.result())
        finally:
            settled.cancel()
            self._admitting.discard(pid)

    async def _permit_settled(self, pid: str) -> PromiseRecord | None:
        handle = await self.lifecycle.resonate.get(permit_id(pid))
        with contextlib.suppress(Exception):  # rejected: read below as what it is
            await handle.result()
        return await self.lifecycle.get(permit_id(pid))

    def _settled_elsewhere(self, run: Run, permit: PromiseRecord | None) -> int:
        from shim._lifecycle import cancelled_error

        pid = run.plan.promise_id
        self._granted_elsewhere.add(pid)
        self._forget_delay(pid)
        key = self.where.get(pid)
        if key is not None and pid not in self.lanes[key].running:
            self.dropped.add(pid)  # its heap entry is skipped when reached
        self.futures.pop(pid, None)
        if permit is None or permit.state != "resolved":
            self.where.pop(pid, None)
            raise cancelled_error(run.plan.workflow_id)
        self._running(run.plan)
        data = permit.value.data
        return int(data.get("at", 0)) if isinstance(data, dict) else 0

    async def expedite(self, pid: str) -> None:
        """Grant the permit: the worker waiting on it, whichever it is, starts the workflow."""
        if pid in self.where:
            await super().expedite(pid)
            return
        await self.lifecycle.settle(permit_id(pid), {"at": int(self.clock() * 1000), "expedited": True})

    async def _dispatch(self, lane: Lane, pid: str, at_ms: int) -> None:
        try:
            at_ms = await self._claim(lane, pid, at_ms)
        except Exception:  # noqa: BLE001 - the server is unreachable or closing: the permit stays pending
            logger.debug("could not claim a queue slot for %s", pid, exc_info=True)
            self._not_dispatched(lane, pid, self.futures.pop(pid, None))
            return
        await super()._dispatch(lane, pid, at_ms)
        if pid not in lane.running and pid in self.gate.held:  # cancelled before its permit was granted
            await self.gate.release(pid)

    async def _claim(self, lane: Lane, pid: str, at_ms: int) -> int:
        """Take ``pid``'s global slots, then its start tickets; its dispatch time (ms)."""
        limits = self.limits(lane.key[0]) or UNLIMITED
        shared = global_limits(lane.key[0], lane.key[1], limits)
        for limit in shared:
            if limit.concurrency is None:
                continue
            while True:
                release = self.gate.next_release()
                if await self.gate.take_slot(limit, pid):
                    break
                if pid in self.lifecycle.cancelled or pid in self._granted_elsewhere:
                    return at_ms
                await self.gate.wait_for_release(release, self._polling_interval(lane.key[0]))
            at_ms = max(at_ms, int(self.clock() * 1000))  # dispatched when the slot was taken
        for limit in shared:
            if limit.limit is not None:
                at = await self.gate.take_start(limit, pid)
                if at > self.clock():
                    await asyncio.sleep(at - self.clock())  # the ticket's window opens then
                at_ms = max(at_ms, int(at * 1000))
        return at_ms

    @staticmethod
    def _polling_interval(queue: str) -> float:
        from shim import _queues

        declared = _queues.registered(queue)
        return DEFAULT_POLLING_INTERVAL_SECONDS if declared is None else declared._polling_interval_sec

    def finished(self, run: Run) -> None:
        plan = run.plan
        queued = plan.promise_id in self.where
        self._granted_elsewhere.discard(plan.promise_id)
        super().finished(run)
        if plan.promise_id in self.gate.held:
            self._spawn(self.gate.release(plan.promise_id))
        elif queued and plan.queue is not None and global_limits(
                plan.queue, plan.partition, self.limits(plan.queue) or UNLIMITED):
            self._spawn(self.gate.release_taken_elsewhere(plan.promise_id))  # a run this worker took over

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
