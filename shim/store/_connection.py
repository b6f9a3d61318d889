"""``DurableLocalConnection``: Resonate's local mode, journaled to SQLite."""

from __future__ import annotations

import asyncio
import logging
import os
from typing import TYPE_CHECKING, Any, Self

import msgspec
from resonate.connections.local import LocalConnection, OutgoingMessage, ServerState
from resonate.timing import now_ms, sleep

from shim.store._journal import Synchronous
from shim.store._journaled import JournaledState, sweep_forever
from shim.store._state import EMBEDDED, DurableServerState

if TYPE_CHECKING:
    from types import TracebackType

    from resonate.timing import Clock, Sleeper

__all__ = [
    "DEFAULT_CHECKPOINT_EVERY",
    "DEFAULT_COMPACT_AFTER",
    "DEFAULT_TICK_INTERVAL",
    "DurableLocalConnection",
    "open_store",
]

logger = logging.getLogger(__name__)

#: Seconds between deadline sweeps: durable sleeps and promise timeouts fire
#: at most this late (resonate-sdk's local mode uses 1.0).
DEFAULT_TICK_INTERVAL = 0.05

#: Journal entries after which opening or closing the store writes a
#: snapshot, so that the next open replays a short tail.
DEFAULT_COMPACT_AFTER = 1000

#: Journal entries after which the running store writes a snapshot on its
#: own (from the deadline sweep), bounding replay after a crash.
DEFAULT_CHECKPOINT_EVERY = 100_000

#: Re-delivery backoff after a task is released on an error (e.g. a step
#: result that does not serialise): the first retry is immediate, then
#: 10 ms, 20 ms, ... up to this many seconds.
_RELEASE_BACKOFF_BASE = 0.01
_RELEASE_BACKOFF_MAX = 2.0


class DurableLocalConnection(LocalConnection):
    """A Resonate ``Network`` + ``Source`` whose state survives ``kill -9``.

    It is resonate-sdk's :class:`LocalConnection` (so ``Resonate`` treats it as
    local mode) with its state machine swapped for
    :class:`~shim.store._state.DurableServerState` and every state transition
    journaled to the SQLite file at ``path`` before the SDK sees its answer.
    Opening replays the file; tasks held by the previous (dead) owner are
    released and re-delivered as soon as a ``Resonate`` starts on it.

    ``path=None`` (or ``":memory:"``) keeps everything in memory: the same
    semantics and fixes, no file.

    Build a ``Resonate`` on it with ``Resonate(network=conn)``, register the
    functions, and only then yield to the event loop: pending work is
    re-delivered the moment the connection starts. Call :meth:`close` (or
    :meth:`aclose`) after ``await resonate.stop()`` to write a snapshot and
    release the file lock.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        pid: str | None = None,
        group: str | None = None,
        tick_interval: float = DEFAULT_TICK_INTERVAL,
        synchronous: Synchronous = "NORMAL",
        verify: bool = True,
        compact_after: int = DEFAULT_COMPACT_AFTER,
        checkpoint_every: int | None = DEFAULT_CHECKPOINT_EVERY,
        clock: Clock = now_ms,
        sleeper: Sleeper = sleep,
    ) -> None:
        if tick_interval <= 0:
            msg = f"tick_interval must be positive, not {tick_interval!r}"
            raise ValueError(msg)
        self._store = JournaledState(
            path,
            synchronous=synchronous,
            verify=verify,
            compact_after=compact_after,
            checkpoint_every=checkpoint_every,
        )
        try:
            super().__init__(
                pid=pid, group=group, clock=clock, sleeper=sleeper, tick_interval=tick_interval
            )
            self._starts = 0
            self._release_counts: dict[str, int] = {}
            self._delayed: set[asyncio.TimerHandle] = set()
            self._store.set_policy(self._clock(), EMBEDDED)
            self._release_orphans()
            self._store.compact_if_long()
        except BaseException:
            self._store.close()
            raise

    @property  # type: ignore[override]
    def state(self) -> DurableServerState:
        """The journaled state machine (owned by the store, not by this connection)."""
        return self._store.state

    @state.setter
    def state(self, value: ServerState) -> None:
        # LocalConnection.__init__ assigns a fresh in-memory ServerState; the
        # journaled store already holds the replayed one, which must win.
        del value

    @property
    def path(self) -> str | None:
        """Absolute path of the store file; ``None`` in memory."""
        return self._store.path

    @property
    def replayed(self) -> int:
        """Entries replayed from the file when it was opened."""
        return self._store.replayed

    # -- lifecycle -----------------------------------------------------------

    async def start(self) -> None:
        self._store.check_usable()
        if self._starts:
            # A new Resonate on a connection whose previous one stopped: what
            # that one still held is nobody's now.
            self._release_orphans()
        self._starts += 1
        now = self._clock()
        redeliver = [
            OutgoingMessage(address=address, message=message)
            for address, message in self.state.execute_messages(now)
        ]
        self._dispatch_messages(redeliver)
        await super().start()

    async def stop(self) -> None:
        for handle in self._delayed:
            handle.cancel()
        self._delayed.clear()
        await super().stop()

    def close(self) -> None:
        """Snapshot (when the journal tail is long) and release the file. Idempotent.

        Call it after ``await resonate.stop()``: ``Resonate.stop`` stops the
        connection first and only then drains in-flight work, which still
        writes to the store.
        """
        self._store.close()

    async def aclose(self) -> None:
        """``await stop()`` then :meth:`close`."""
        await self.stop()
        self.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    @property
    def closed(self) -> bool:
        return self._store.closed

    def checkpoint(self) -> None:
        """Write a snapshot of the whole state and drop the journal entries it covers."""
        self._store.checkpoint()

    # -- requests ------------------------------------------------------------

    async def send(self, req: str, headers: dict[str, str] | None = None) -> str:
        applied = self._store.apply(self._clock(), req)
        self._route(applied.kind, applied.target_id, applied.response, applied.outgoing)
        return applied.envelope

    def _route(
        self, kind: str, task_id: str, resp: dict[str, Any], outgoing: list[OutgoingMessage]
    ) -> None:
        """Dispatch ``outgoing``; back off re-delivery of a task released on errors."""
        status = resp.get("status")
        if kind == "task.release" and status == 200:
            count = self._release_counts.get(task_id, 0) + 1
            self._release_counts[task_id] = count
            if count > 1:
                delay = min(_RELEASE_BACKOFF_BASE * 2 ** (count - 2), _RELEASE_BACKOFF_MAX)
                later = [m for m in outgoing if _execute_id(m) == task_id]
                outgoing = [m for m in outgoing if _execute_id(m) != task_id]
                self._dispatch_later(delay, later)
        elif kind in ("task.fulfill", "task.suspend") and status == 200:
            self._release_counts.pop(task_id, None)
        self._dispatch_messages(outgoing)

    def _dispatch_messages(self, messages: list[OutgoingMessage]) -> None:
        """Deliver ``messages`` to every receiver, off the critical path.

        Unlike the original, an ``execute`` for a task that is no longer
        pending at that version by the time it is delivered is dropped: its
        acquire could only fail (and log a 409). That happens when a restarted
        process re-delivers a task that its own ``Resonate.run`` has already
        re-acquired.
        """
        if not messages or not self._subscribers:
            return

        async def run() -> None:
            subs = list(self._subscribers)
            for msg in messages:
                if not self.state.deliverable(msg.message):
                    continue
                text = msgspec.json.encode(msg.message).decode("utf-8")
                for cb in subs:
                    cb(text)

        task = asyncio.create_task(run())
        self._dispatch_tasks.add(task)
        task.add_done_callback(self._dispatch_tasks.discard)

    def _dispatch_later(self, delay: float, messages: list[OutgoingMessage]) -> None:
        if not messages:
            return
        loop = asyncio.get_running_loop()

        def fire() -> None:
            self._delayed.discard(handle)
            self._dispatch_messages(messages)

        handle = loop.call_later(delay, fire)
        self._delayed.add(handle)

    async def _tick_loop(self) -> None:
        await sweep_forever(
            self._store, self._clock, self._sleeper, self._tick_interval, self._dispatch_messages
        )

    def _release_orphans(self) -> None:
        """Release every acquired task: its holder is dead (we own the store)."""
        self._store.release_orphans(self._clock())


def _execute_id(message: OutgoingMessage) -> str | None:
    body = message.message
    if isinstance(body, dict) and body.get("kind") == "execute":
        task = body.get("data", {}).get("task", {})
        tid = task.get("id") if isinstance(task, dict) else None
        return tid if isinstance(tid, str) else None
    return None


def open_store(
    path: str | os.PathLike[str] | None,
    *,
    tick_interval: float = DEFAULT_TICK_INTERVAL,
    synchronous: Synchronous = "NORMAL",
    verify: bool = True,
    group: str | None = None,
    pid: str | None = None,
    compact_after: int = DEFAULT_COMPACT_AFTER,
    checkpoint_every: int | None = DEFAULT_CHECKPOINT_EVERY,
    clock: Clock = now_ms,
    sleeper: Sleeper = sleep,
) -> DurableLocalConnection:
    """Open (creating if missing) the durable store at ``path``; ``None`` = in memory.

    Raises :class:`~shim.store.StoreLockedError` when another owner has it open
    and :class:`~shim.store.StoreCorruptError` when the file cannot be read
    back (the file is left untouched).
    """
    return DurableLocalConnection(
        path,
        pid=pid,
        group=group,
        tick_interval=tick_interval,
        synchronous=synchronous,
        verify=verify,
        compact_after=compact_after,
        checkpoint_every=checkpoint_every,
        clock=clock,
        sleeper=sleeper,
    )
