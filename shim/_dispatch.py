"""The per-process queue dispatcher: which ENQUEUED workflow runs next.

An enqueued workflow's body starts at once but first waits for its permit (``P:dispatch``, see
shim/_lifecycle.py). The dispatcher resolves permits, in DBOS's order (priority ascending, then
enqueue time), as the queue's flow control allows:

* ``concurrency`` (global) and ``worker_concurrency``: workflows of the queue dispatched and not
  finished. The embedded store has a single owner process, so both count this process's
  workflows; on a Resonate server the global limits are also claimed on the server
  (shim/_shared.py, shim/_queue_gate.py).
* ``limiter={"limit": n, "period": s}``: at most n dispatches in any rolling window of s seconds
  (DBOS counts workflows started within the last period, which is what is counted here).
* ``partition_queue=True`` (DBOS 2.x's partitioned queues): every limit applies per partition key.

It is event-driven rather than polled: an enqueue, a finished workflow or the end of a rate-limit
window pumps the queue at once. Everything runs on Resonate's loop. After a restart, ``load``
finds the pending permits (``promise.search``) and the dispatched workflows still running, so
limits and order hold across restarts.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from shim import _records as rec

if TYPE_CHECKING:
    from shim._lifecycle import Lifecycle, Plan, Run

logger = logging.getLogger("dbos")

LaneKey = tuple[str, str | None]


@dataclass(frozen=True)
class Limits:
    """A queue's limits at the scope each applies to: queue-wide, then per partition key."""

    concurrency: int | None = None
    worker_concurrency: int | None = None
    limit: int | None = None
    period: float | None = None
    partition_concurrency: int | None = None
    partition_worker_concurrency: int | None = None
    partition_limit: int | None = None
    partition_period: float | None = None


UNLIMITED = Limits()


class RateWindow:
    """Start times within the last ``period`` seconds (DBOS's rolling-window rate limit)."""

    def __init__(self) -> None:
        self.starts: deque[float] = deque()

    def remaining(self, limit: int, period: float, now: float) -> int:
        while self.starts and self.starts[0] <= now - period:
            self.starts.popleft()
        return limit - len(self.starts)

    def reopens_at(self, period: float) -> float:
        return self.starts[0] + period

    def add(self, at: float) -> None:
        self.starts.append(at)


@dataclass
class Totals:
    """A queue's running workflows and dispatch times, all partitions together."""

    running: set[str] = field(default_factory=set)
    window: RateWindow = field(default_factory=RateWindow)


@dataclass
class Lane:
    """One partition of a queue (the whole queue when it is not partitioned)."""

    key: LaneKey
    waiting: list[tuple[int, int, int, str]] = field(default_factory=list)  # (priority, created, seq, pid)
    running: set[str] = field(default_factory=set)
    window: RateWindow = field(default_factory=RateWindow)
    timer: asyncio.TimerHandle | None = None


class Dispatcher:
    def __init__(self, lifecycle: Lifecycle, clock: Callable[[], float] = time.time) -> None:
        self.lifecycle = lifecycle
        self.clock = clock
        self.lanes: dict[LaneKey, Lane] = {}
        self.totals: dict[str, Totals] = {}
        self.where: dict[str, LaneKey] = {}
        self.futures: dict[str, asyncio.Future[int]] = {}
        self.dropped: set[str] = set()
        self.loaded = False
        self._seq = itertools.count()
        self._tasks: set[asyncio.Task[None]] = set()
        self.dispatched = 0  # for tests and benchmarks
        # DELAYED work: not in any lane's heap until its timer fires
        self.delayed: dict[str, tuple[LaneKey, tuple[int, int, int, str], asyncio.TimerHandle | None]] = {}

    # -- configuration -------------------------------------------------------------------------

    def limits(self, queue: str) -> Limits | None:
        from shim import _queues

        return _queues.limits_of(queue)

    def _lane(self, queue: str, partition: str | None) -> Lane:
        key = (queue, partition)
        lane = self.lanes.get(key)
        if lane is None:
            lane = self.lanes[key] = Lane(key)
        return lane

    def _totals(self, lane: Lane) -> Totals:
        totals = self.totals.get(lane.key[0])
        if totals is None:
            totals = self.totals[lane.key[0]] = Totals()
        return totals

    def _occupy(self, lane: Lane, pid: str) -> None:
        lane.running.add(pid)
        self._totals(lane).running.add(pid)

    def _vacate(self, lane: Lane, pid: str) -> None:
        lane.running.discard(pid)
        self._totals(lane).running.discard(pid)

    def _pump_queue(self, lane: Lane) -> None:
        """A slot of ``lane`` freed: with queue-wide limits over partitions, any partition may go."""
        if lane.key[1] is None:
            self.pump(lane)
            return
        self.pump(lane)
        for key, other in list(self.lanes.items()):
            if key[0] == lane.key[0] and other is not lane:
                self.pump(other)

    # -- what the lifecycle tells it -----------------------------------------------------------

    def add(self, plan: Plan, created_ms: int, delay_until_ms: int | None = None) -> None:
        assert plan.queue is not None
        pid = plan.promise_id
        if pid in self.where:
            return
        self._wait(self._lane(plan.queue, plan.partition), (plan.priority, created_ms, next(self._seq), pid),
                   delay_until_ms)

    def _wait(self, lane: Lane, entry: tuple[int, int, int, str], delay_until_ms: int | None) -> None:
        pid = entry[3]
        self.where[pid] = lane.key
        if delay_until_ms is not None and delay_until_ms > self.clock() * 1000:
            self.delayed[pid] = (lane.key, entry, None)
            self._arm_delay(pid, delay_until_ms)
            return
        if delay_until_ms is not None:
            self._delay_ended(pid)
        heapq.heappush(lane.waiting, entry)
        self.pump(lane)

    def _arm_delay(self, pid: str, delay_until_ms: int) -> None:
        """DELAYED -> ENQUEUED when the delay is over (a timer: nothing polls)."""
        key, entry, timer = self.delayed[pid]
        if timer is not None:
            timer.cancel()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # not launched yet: load() arms it
        handle = loop.call_later(max(0.0, delay_until_ms / 1000 - self.clock()), self._undelay, pid)
        self.delayed[pid] = (key, entry, handle)

    def _undelay(self, pid: str) -> None:
        found = self.delayed.pop(pid, None)
        if found is None:
            return
        key, entry, _ = found
        self._delay_ended(pid)
        lane = self.lanes[key]
        heapq.heappush(lane.waiting, entry)
        self.pump(lane)

    def _delay_ended(self, pid: str) -> None:
        try:
            task = asyncio.get_running_loop().create_task(self.lifecycle.debounce_ended(pid))
        except RuntimeError:
            return  # not launched yet: load() sees it again
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def redelay(self, pid: str, delay_until_ms: int) -> None:
        """``set_workflow_delay``: a DELAYED run waits until ``delay_until_ms`` instead."""
        if pid in self.delayed:
            self._arm_delay(pid, delay_until_ms)

    async def admit(self, run: Run) -> int:
        """Wait until ``run`` may start; its dispatch time (ms). Raises the cancellation."""
        from shim._lifecycle import cancelled_error, permit_id

        plan = run.plan
        pid = plan.promise_id
        permit = await self.lifecycle.get(permit_id(pid))
        if permit is None:  # written before the root, so only a damaged store gets here
            permit = await self.lifecycle.create(permit_id(pid), {"priority": plan.priority, "created": 0},
                                                 {rec.TAG_KIND: "permit", rec.TAG_QUEUE: plan.queue or "",
                                                  rec.TAG_ID: plan.workflow_id})
        run.debounced = isinstance(permit.param.data, dict) and bool(permit.param.data.get("debounced"))
        if permit.state == "resolved":
            self._running(plan)
            return int(permit.value.data.get("at", 0)) if isinstance(permit.value.data, dict) else 0
        if permit.state != "pending":
            raise cancelled_error(plan.workflow_id)
        self.add(plan, permit.created_at, await self.lifecycle.delay_until(permit))
        future = self.futures.get(pid)
        if future is None or future.done():
            future = self.futures[pid] = asyncio.get_running_loop().create_future()
        woken = asyncio.ensure_future(run.woken.wait())
        try:
            await asyncio.wait([future, woken], return_when=asyncio.FIRST_COMPLETED)
        finally:
            woken.cancel()
        if not future.done() or run.cancelled:
            raise cancelled_error(plan.workflow_id)
        return future.result()

    def _running(self, plan: Plan) -> None:
        assert plan.queue is not None
        lane = self._lane(plan.queue, plan.partition)
        self._occupy(lane, plan.promise_id)
        self.where[plan.promise_id] = lane.key

    def finished(self, run: Run) -> None:
        key = self.where.pop(run.plan.promise_id, None)
        if key is None:
            return
        lane = self.lanes[key]
        self._vacate(lane, run.plan.promise_id)
        self._pump_queue(lane)

    def cancelled(self, pid: str) -> None:
        key = self.where.get(pid)
        if key is None:
            return
        lane = self.lanes[key]
        if pid in lane.running:
            return  # running: its slot frees when its body stops
        self._forget_delay(pid)
        self.dropped.add(pid)
        self.where.pop(pid, None)
        future = self.futures.pop(pid, None)
        if future is not None and not future.done():
            future.cancel()

    async def expedite(self, pid: str) -> None:
        """Dispatch an ENQUEUED workflow now, whatever its queue's limits (``resume_workflow``)."""
        key = self.where.get(pid)
        if key is None or not self.loaded:
            return
        lane = self.lanes[key]
        if pid in lane.running:
            return
        if not self._forget_delay(pid):
            self.dropped.add(pid)  # its heap entry is skipped when reached
        self._occupy(lane, pid)
        self.dispatched += 1
        task = asyncio.get_running_loop().create_task(self._dispatch(lane, pid, int(self.clock() * 1000)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _forget_delay(self, pid: str) -> bool:
        found = self.delayed.pop(pid, None)
        if found is not None and found[2] is not None:
            found[2].cancel()
        return found is not None

    def queue_registered(self, queue: str) -> None:
        for key, lane in list(self.lanes.items()):
            if key[0] == queue:
                self.pump(lane)

    def pump_all(self) -> None:
        for lane in list(self.lanes.values()):
            self.pump(lane)

    # -- dispatching ---------------------------------------------------------------------------

    def capacity(self, lane: Lane, limits: Limits, now: float) -> float:
        """How many more of ``lane``'s work may start now. One process dispatches everything, so
        a global limit and a per-worker one count the same workflows (docs/queues.md, limits)."""
        totals = self._totals(lane)
        room: float = math.inf
        for cap, running in ((limits.concurrency, totals.running), (limits.worker_concurrency, totals.running),
                             (limits.partition_concurrency, lane.running),
                             (limits.partition_worker_concurrency, lane.running)):
            if cap is not None:
                room = min(room, cap - len(running))
        for limit, period, window in ((limits.limit, limits.period, totals.window),
                                      (limits.partition_limit, limits.partition_period, lane.window)):
            if limit is not None and period is not None:
                room = min(room, window.remaining(limit, period, now))
        return room

    def _reopens_at(self, lane: Lane, limits: Limits, now: float) -> float | None:
        """When a full rate window of ``lane`` lets one more start, if one is what blocks it."""
        totals = self._totals(lane)
        for limit, period, window in ((limits.limit, limits.period, totals.window),
                                      (limits.partition_limit, limits.partition_period, lane.window)):
            if limit is not None and period is not None and window.starts and window.remaining(
                    limit, period, now) < 1:
                return window.reopens_at(period)
        return None

    def pump(self, lane: Lane) -> None:
        if not self.loaded:
            return
        limits = self.limits(lane.key[0])
        if limits is None:
            return  # a queue this process has not declared: its work waits (as in DBOS)
        while lane.waiting:
            now = self.clock()
            if self.capacity(lane, limits, now) < 1:
                reopens = self._reopens_at(lane, limits, now)
                if reopens is not None:
                    self._wake_later(lane, reopens - now)
                return
            _, _, _, pid = heapq.heappop(lane.waiting)
            if pid in self.dropped:
                self.dropped.discard(pid)
                continue
            self._occupy(lane, pid)
            lane.window.add(now)
            self._totals(lane).window.add(now)
            self.dispatched += 1
            task = asyncio.get_running_loop().create_task(self._dispatch(lane, pid, int(now * 1000)))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _wake_later(self, lane: Lane, delay: float) -> None:
        if lane.timer is not None:
            lane.timer.cancel()

        def wake() -> None:
            lane.timer = None
            self.pump(lane)

        lane.timer = asyncio.get_running_loop().call_later(max(delay, 0.0) + 0.001, wake)

    async def _dispatch(self, lane: Lane, pid: str, at_ms: int) -> None:
        from shim._lifecycle import permit_id

        try:
            record = await self.lifecycle.settle(permit_id(pid), {"at": at_ms})
        except Exception:  # noqa: BLE001 - the store is closing; the permit stays pending
            logger.debug("could not dispatch %s", pid, exc_info=True)
            record = None
        future = self.futures.pop(pid, None)
        if record is not None and record.state == "resolved":
            if future is not None and not future.done():
                data = record.value.data
                future.set_result(int(data.get("at", at_ms)) if isinstance(data, dict) else at_ms)
            return
        self._not_dispatched(lane, pid, future)  # cancelled meanwhile

    def _not_dispatched(self, lane: Lane, pid: str, future: asyncio.Future[int] | None) -> None:
        self._vacate(lane, pid)
        self.where.pop(pid, None)
        if future is not None and not future.done():
            future.cancel()
        self._pump_queue(lane)

    # -- after a restart -----------------------------------------------------------------------

    async def load(self) -> None:
        """Find the queued work of earlier processes: pending permits wait again (in their order),
        dispatched workflows whose run has not finished count against the limits."""
        from shim._lifecycle import cancel_marker_id

        suffix = ":dispatch"
        for permit in sorted(await self.lifecycle.search({rec.TAG_KIND: "permit"}, "pending"),
                             key=lambda p: (p.created_at, p.id)):
            pid = permit.id[: -len(suffix)]
            queue = permit.tags.get(rec.TAG_QUEUE)
            if not queue or pid in self.where:
                continue
            priority = permit.param.data.get("priority", 0) if isinstance(permit.param.data, dict) else 0
            lane = self._lane(queue, permit.tags.get(rec.TAG_PARTITION))
            self._wait(lane, (priority or 0, permit.created_at, next(self._seq), pid),
                       await self.lifecycle.delay_until(permit))
        horizon = self.clock() - 24 * 3600
        for permit in await self.lifecycle.search({rec.TAG_KIND: "permit"}, "resolved"):
            pid = permit.id[: -len(suffix)]
            queue = permit.tags.get(rec.TAG_QUEUE)
            data = permit.value.data if isinstance(permit.value.data, dict) else {}
            at = data.get("at", 0) / 1000
            if not queue:
                continue
            lane = self._lane(queue, permit.tags.get(rec.TAG_PARTITION))
            if at > horizon:
                lane.window.add(at)
                self._totals(lane).window.add(at)
            if pid in self.where:
                continue
            root = await self.lifecycle.get(pid)
            if root is not None and root.state == "pending" and await self.lifecycle.get(cancel_marker_id(pid)) is None:
                self._occupy(lane, pid)
                self.where[pid] = lane.key
        for window in [lane.window for lane in self.lanes.values()] + [t.window for t in self.totals.values()]:
            window.starts = deque(sorted(window.starts))
        self.loaded = True
        self.pump_all()

    def stop(self) -> None:
        for pid in list(self.delayed):
            self._forget_delay(pid)
        for lane in self.lanes.values():
            if lane.timer is not None:
                lane.timer.cancel()
        for future in self.futures.values():
            if not future.done():
                future.cancel()
