"""``DurableLocalConnection``: Resonate's local mode, journaled to SQLite."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from importlib import metadata
from typing import TYPE_CHECKING, Any, Self

import msgspec
from resonate.connections.local import (
    LocalConnection,
    OutgoingMessage,
    _get,
    _str,
    extract_action_data,
    unwrap_request_envelope,
    wrap_response_envelope,
)
from resonate.error import DecodingError
from resonate.timing import now_ms, sleep

from shim.store._errors import StoreCorruptError, StoreUnavailableError
from shim.store._journal import OP_APPLY, OP_RAISED, OP_TICK, Journal, Synchronous
from shim.store._state import DurableServerState, Snapshot

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

#: Requests that never change the state: not journaled.
_READS = frozenset({"schedule.get", "schedule.search", "promise.search"})

_RECOVERY_CORR_ID = "dbos2resonate-store:recover"

_snapshot_encoder = msgspec.json.Encoder()
_snapshot_decoder = msgspec.json.Decoder(Snapshot)

try:
    _SDK_VERSION = metadata.version("resonate-sdk")
except metadata.PackageNotFoundError:  # pragma: no cover
    _SDK_VERSION = "unknown"


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
        super().__init__(
            pid=pid, group=group, clock=clock, sleeper=sleeper, tick_interval=tick_interval
        )
        self.state: DurableServerState = DurableServerState()
        self._compact_after = compact_after
        self._checkpoint_every = checkpoint_every
        self._journal: Journal | None = None
        self._unavailable: StoreUnavailableError | None = None
        self._closed = False
        self._starts = 0
        self._release_counts: dict[str, int] = {}
        self._delayed: set[asyncio.TimerHandle] = set()
        #: Entries replayed from the file when it was opened.
        self.replayed = 0
        self._tail_entries = 0

        if path is None or os.fspath(path) == ":memory:":
            self.path: str | None = None
            return
        journal = Journal.open(path, synchronous=synchronous, verify=verify)
        self.path = journal.path
        self._journal = journal
        try:
            self._replay(journal)
            if self.replayed and journal.previous_sdk not in ("", _SDK_VERSION):
                logger.warning(
                    "store: replayed %d journal entries written with resonate-sdk %s "
                    "using resonate-sdk %s (%s)",
                    self.replayed,
                    journal.previous_sdk,
                    _SDK_VERSION,
                    journal.path,
                )
            journal.claim(_SDK_VERSION)
            self._release_orphans()
            if self._tail_entries >= compact_after:
                self.checkpoint()
        except BaseException:
            journal.close()
            raise

    # -- lifecycle -----------------------------------------------------------

    async def start(self) -> None:
        self._check_usable()
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
        if self._closed:
            return
        self._closed = True
        journal = self._journal
        if journal is None:
            return
        try:
            if self._unavailable is None and self._tail() >= self._compact_after:
                with contextlib.suppress(Exception):
                    self.checkpoint()
        finally:
            journal.close()

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
        return self._closed

    def checkpoint(self) -> None:
        """Write a snapshot of the whole state and drop the journal entries it covers."""
        self._check_usable()
        journal = self._journal
        if journal is None:
            return
        data = _snapshot_encoder.encode(self.state.snapshot())
        try:
            journal.write_snapshot(data, _SDK_VERSION)
        except Exception as exc:
            raise self._fail(f"writing a snapshot failed: {exc}") from exc
        self._tail_entries = 0

    # -- requests ------------------------------------------------------------

    async def send(self, req: str, headers: dict[str, str] | None = None) -> str:
        self._check_usable()
        try:
            req_json = msgspec.json.decode(req)
        except msgspec.DecodeError as exc:
            msg = f"invalid JSON request: {exc}"
            raise DecodingError(msg) from exc
        flat = unwrap_request_envelope(req_json)
        now = self._clock()
        state = self.state
        state.outgoing.clear()
        kind = _str(flat, "kind")
        if kind in _READS or (
            kind == "promise.get" and not state.would_auto_timeout(now, _str(flat, "id"))
        ):
            self._flush()  # answer only from durable state
            resp = state.apply(now, flat)
        else:
            try:
                resp = state.apply(now, flat)
            except Exception:
                self._record(now, OP_APPLY | OP_RAISED, req.encode())
                raise
            self._record(now, OP_APPLY, req.encode(), commit=not _deferrable(kind, flat))
        outgoing = state.outgoing
        state.outgoing = []
        resp_str = msgspec.json.encode(wrap_response_envelope(resp)).decode("utf-8")
        self._route(kind, _str(flat, "id"), resp, outgoing)
        return resp_str

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
                if not self._deliverable(msg):
                    continue
                text = msgspec.json.encode(msg.message).decode("utf-8")
                for cb in subs:
                    cb(text)

        task = asyncio.create_task(run())
        self._dispatch_tasks.add(task)
        task.add_done_callback(self._dispatch_tasks.discard)

    def _deliverable(self, msg: OutgoingMessage) -> bool:
        body = msg.message
        if not (isinstance(body, dict) and body.get("kind") == "execute"):
            return True
        ref = body.get("data", {}).get("task", {})
        task = self.state.tasks.get(ref.get("id"))
        return task is not None and task.state == "pending" and task.version == ref.get("version")

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
        with contextlib.suppress(asyncio.CancelledError):
            while True:
                try:
                    self._tick_once()
                    every = self._checkpoint_every
                    if every is not None and self._tail_entries >= every and not self._closed:
                        self.checkpoint()
                except StoreUnavailableError:
                    return
                except Exception:  # keep sweeping; the failure is logged
                    logger.exception("store: deadline sweep failed")
                await self._sleeper(self._tick_interval)

    def _tick_once(self) -> None:
        if self._closed or self._unavailable is not None:
            return
        now = self._clock()
        state = self.state
        if not state.has_due(now):
            return
        state.outgoing.clear()
        try:
            state.tick(now)
        except Exception:
            self._record(now, OP_TICK | OP_RAISED, b"")
            raise
        self._record(now, OP_TICK, b"")
        outgoing = state.outgoing
        state.outgoing = []
        self._dispatch_messages(outgoing)

    # -- journal -------------------------------------------------------------

    def _record(self, at: int, op: int, body: bytes, *, commit: bool = True) -> None:
        journal = self._journal
        if journal is None:
            return
        try:
            journal.append(at, op, body, commit=commit)
        except Exception as exc:
            raise self._fail(f"journal write failed: {exc}") from exc
        self._tail_entries += 1

    def _flush(self) -> None:
        journal = self._journal
        if journal is None or not journal.pending:
            return
        try:
            journal.flush()
        except Exception as exc:
            raise self._fail(f"journal write failed: {exc}") from exc

    def _fail(self, reason: str) -> StoreUnavailableError:
        err = StoreUnavailableError(self.path or ":memory:", reason)
        if self._unavailable is None:
            self._unavailable = err
            logger.error("store: %s; refusing further requests", err)
        return err

    def _check_usable(self) -> None:
        if self._unavailable is not None:
            raise self._unavailable
        if self._closed:
            raise StoreUnavailableError(self.path or ":memory:", "the store is closed")

    def _tail(self) -> int:
        """Journal entries not covered by the snapshot."""
        return self._tail_entries

    def _replay(self, journal: Journal) -> None:
        path = journal.path
        after = 0
        snap = journal.read_snapshot()
        if snap is not None:
            after, data, sdk = snap
            try:
                self.state = DurableServerState.from_snapshot(_snapshot_decoder.decode(data))
            except Exception as exc:  # any failure to rebuild the state from it
                raise StoreCorruptError(
                    path,
                    f"the snapshot (at entry {after}, written by resonate-sdk {sdk}) "
                    f"does not decode: {exc}",
                ) from exc
        state = self.state
        count = 0
        for seq, at, op, body in journal.entries(after):
            raised = False
            if op & ~OP_RAISED == OP_TICK:
                try:
                    state.tick(at)
                except Exception:
                    raised = True
            elif op & ~OP_RAISED == OP_APPLY:
                try:
                    flat = unwrap_request_envelope(msgspec.json.decode(body))
                except msgspec.DecodeError as exc:
                    raise StoreCorruptError(
                        path, f"journal entry {seq} does not decode: {exc}"
                    ) from exc
                try:
                    state.apply(at, flat)
                except Exception:
                    raised = True
            else:
                raise StoreCorruptError(path, f"journal entry {seq} has unknown op {op}")
            state.outgoing.clear()
            if raised != bool(op & OP_RAISED):
                how = "raises" if raised else "does not raise"
                raise StoreCorruptError(
                    path,
                    f"journal entry {seq} {how} on replay, unlike when it was recorded "
                    f"(resonate-sdk {_SDK_VERSION} may not match the one that wrote it)",
                )
            count += 1
        self.replayed = count
        self._tail_entries = count

    def _release_orphans(self) -> None:
        """Release every acquired task: its holder is dead (we own the store)."""
        now = self._clock()
        for task_id in self.state.acquired_task_ids():
            req = {"kind": "task.release", "corrId": _RECOVERY_CORR_ID, "id": task_id}
            self.state.outgoing.clear()
            self.state.apply(now, req)
            self.state.outgoing.clear()
            self._record(now, OP_APPLY, msgspec.json.encode(req))


def _deferrable(kind: str, flat: Any) -> bool:
    """Whether this request's entry may wait for the next commit.

    Only the fenced creation of a ``ctx.run`` child (a local-scope promise).
    Its answer lets the SDK start the step; if the process dies before the
    next commit, the entry is lost and the replayed workflow creates the child
    again and re-runs the step -- the step that was in flight, which a crash
    re-runs anyway. Everything observable past the step (its settle, a
    suspend, a fulfill, a read, a tick) commits first, and a commit covers
    every entry before it. This halves the commits of a sequential workflow.
    """
    if kind != "task.fence":
        return False
    action = _get(flat, "action")
    if _get(action, "kind") != "promise.create":
        return False
    tags = _get(extract_action_data(action), "tags")
    return isinstance(tags, dict) and tags.get("resonate:scope") == "local"


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
