"""A queue's global limits across every worker of a Resonate server, on durable promises only.

DBOS enforces ``concurrency`` and ``limiter`` across all its executors through its database; here
the workers share nothing but the server, so the limits are promises every worker can race for.
The server serialises creates, and ``promise.create`` of an existing id answers the existing
promise, so whoever's param comes back owns it: create is the compare-and-set.

* **Slots** (``concurrency``): slot ``i`` of a scope is the sequence of promises
  ``{scope}:slot/{i}/{generation}``. The latest generation pending means taken, by the workflow its
  param names; settled means free, and the next generation is the one to create. A slot belongs to
  a *workflow*, not a worker: a killed worker's workflow is taken over by another worker once its
  lease lapses (it finds its own slot again), and its slot is resolved when it finishes, wherever
  that is. As in DBOS, a dead executor's workflow keeps counting until it is finished.
* **Start tickets** (``limiter``): the scope's starts are the dense sequence ``{scope}:start/{n}``,
  each carrying the time it may start at: ``max(now, start n-1, start n-limit + period)``. Starts are
  thereby ordered in time and any window of ``period`` seconds holds at most ``limit`` of them.

A scope is a queue (its global limits) or a queue's partition (its partition limits). Workers wait
for a taken slot by polling at the queue's ``polling_interval_sec``, as DBOS's queue thread does,
and at once when a slot of this process is released.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from resonate.error import ResonateError

from shim import _records as rec

if TYPE_CHECKING:
    from resonate.types import PromiseRecord

    from shim._lifecycle import Lifecycle

PREFIX = "dbos2resonate-queue:"
KIND_SLOT = "queue-slot"
KIND_START = "queue-start"
TAG_SCOPE = rec.PREFIX + "scope"
TAG_HOLDER = rec.PREFIX + "holder"


def scope_of(queue: str, partition: str | None) -> str:
    return queue if partition is None else f"{queue}/partition/{partition}"


@dataclass(frozen=True)
class GlobalLimit:
    """The limits one scope's workers share: a slot count and a rate (either may be None)."""

    scope: str
    concurrency: int | None = None
    limit: int | None = None
    period: float | None = None


@dataclass
class _Tickets:
    next: int = 0
    at: dict[int, float] = field(default_factory=dict)  # start number -> its start time (s)


class QueueGate:
    """Claims and releases one worker's global slots and start tickets."""

    def __init__(self, lifecycle: Lifecycle, clock: Callable[[], float] = time.time) -> None:
        self.lifecycle = lifecycle
        self.clock = clock
        self.generations: dict[tuple[str, int], int] = {}
        self.tickets: dict[str, _Tickets] = {}
        self.held: dict[str, list[str]] = {}  # workflow promise id -> its slot promise ids
        self._released = asyncio.Event()  # replaced at each release: every waiter of one wakes

    async def _create_or_get(self, promise_id: str, param: dict[str, Any], tags: dict[str, str]) -> PromiseRecord:
        """The promise as the server has it after our create: ours if we were first. resonate-sdk's
        server answers an existing id with that promise; a server that answers 409 instead is read."""
        try:
            return await self.lifecycle.create(promise_id, param, tags)
        except ResonateError:
            record = await self.lifecycle.get(promise_id)
            if record is None:
                raise
            return record

    # -- slots -------------------------------------------------------------------------------

    async def take_slot(self, limit: GlobalLimit, holder: str) -> bool:
        """Take a free slot of ``limit.scope`` for ``holder`` (or find the one it holds)."""
        assert limit.concurrency is not None
        taken_by: list[tuple[str, str]] = []
        for index in range(limit.concurrency):
            while True:
                slot = self._slot_id(limit.scope, index)
                record = await self._create_or_get(slot, {"holder": holder}, {
                    rec.TAG_KIND: KIND_SLOT, TAG_SCOPE: limit.scope, TAG_HOLDER: holder})
                if record.state != "pending":
                    self.generations[(limit.scope, index)] += 1
                    continue
                owner = record.param.data.get("holder") if isinstance(record.param.data, dict) else None
                if owner == holder:
                    self.held.setdefault(holder, []).append(slot)
                    return True
                taken_by.append((slot, str(owner)))
                break
        await self._free_stale(taken_by)
        return False

    def _slot_id(self, scope: str, index: int) -> str:
        generation = self.generations.setdefault((scope, index), 0)
        return f"{PREFIX}{scope}:slot/{index}/{generation}"

    async def _free_stale(self, taken_by: list[tuple[str, str]]) -> None:
        """A slot whose holder has ended (its worker died between the end and the release) is free."""
        for slot, owner in taken_by:
            root = await self.lifecycle.get(owner)
            if root is None or root.state != "pending":
                await self.lifecycle.settle(slot, {"stale": True})
                self._announce_release()

    async def release(self, holder: str) -> None:
        """``holder`` ended: resolve the slots this worker took for it."""
        await self._resolve(self.held.pop(holder, []))

    async def release_taken_elsewhere(self, holder: str) -> None:
        """``holder`` ended here after another worker took its slots (and died): find them by tag."""
        found = await self.lifecycle.search({rec.TAG_KIND: KIND_SLOT, TAG_HOLDER: holder}, "pending")
        await self._resolve([record.id for record in found])

    async def _resolve(self, slots: list[str]) -> None:
        for slot in slots:
            await self.lifecycle.settle(slot, {"released": True})
        if slots:
            self._announce_release()

    def _announce_release(self) -> None:
        self._released.set()
        self._released = asyncio.Event()

    def next_release(self) -> asyncio.Event:
        """Set when a slot of this process is next released: take it before looking for a slot, so
        a release in between is not missed."""
        return self._released

    @staticmethod
    async def wait_for_release(release: asyncio.Event, seconds: float) -> None:
        """Until ``release`` or ``seconds`` pass (a slot of another worker may have freed)."""
        try:
            await asyncio.wait_for(release.wait(), seconds)
        except TimeoutError:
            pass

    # -- start tickets -----------------------------------------------------------------------

    async def take_start(self, limit: GlobalLimit, holder: str) -> float:
        """The time (s) ``holder`` may start at under ``limit``'s rate; its ticket is taken."""
        assert limit.limit is not None and limit.period is not None
        tickets = await self._tickets(limit.scope)
        while True:
            number = tickets.next
            at = self.clock()
            if number > 0:
                at = max(at, await self._start_at(limit.scope, tickets, number - 1))
            if number >= limit.limit:
                at = max(at, await self._start_at(limit.scope, tickets, number - limit.limit) + limit.period)
            record = await self._create_or_get(f"{PREFIX}{limit.scope}:start/{number}",
                                                 {"holder": holder, "at": at},
                                                 {rec.TAG_KIND: KIND_START, TAG_SCOPE: limit.scope})
            data: dict[str, Any] = record.param.data
            tickets.at[number] = float(data["at"])
            tickets.next = number + 1
            if data.get("holder") == holder:
                for old in [n for n in tickets.at if n < number - limit.limit]:
                    del tickets.at[old]  # only the last ``limit`` starts decide the next one
                return tickets.at[number]

    async def _tickets(self, scope: str) -> _Tickets:
        """The scope's tickets so far: read once, then followed as this worker takes more."""
        tickets = self.tickets.get(scope)
        if tickets is None:
            tickets = self.tickets[scope] = _Tickets()
            for record in await self.lifecycle.search({rec.TAG_KIND: KIND_START, TAG_SCOPE: scope}):
                number = int(record.id.rsplit("/", 1)[1])
                tickets.at[number] = float(record.param.data["at"])
                tickets.next = max(tickets.next, number + 1)
        return tickets

    async def _start_at(self, scope: str, tickets: _Tickets, number: int) -> float:
        at = tickets.at.get(number)
        if at is None:
            record = await self.lifecycle.get(f"{PREFIX}{scope}:start/{number}")
            assert record is not None, "start tickets are dense: one is created after its predecessor is seen"
            at = tickets.at[number] = float(record.param.data["at"])
        return at
