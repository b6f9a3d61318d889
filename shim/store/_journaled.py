"""``JournaledState``: the server state machine, every transition journaled to SQLite.

The one path by which a request or a clock tick changes a store, shared by the
embedded store (:class:`~shim.store.DurableLocalConnection`) and the server
(:mod:`shim.store.server`). Each owns delivery of the messages a transition
produces; this class owns the state, the file, and the rule that a transition
is in the journal before anyone sees its answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import msgspec
from resonate.connections.local import (
    OutgoingMessage,
    _get,
    _str,
    extract_action_data,
    unwrap_request_envelope,
    wrap_response_envelope,
)
from resonate.error import DecodingError
from resonate.timing import Sleeper

from shim.store._errors import StoreCorruptError, StoreUnavailableError
from shim.store._journal import (
    OP_APPLY,
    OP_POLICY,
    OP_RAISED,
    OP_TICK,
    Journal,
    Synchronous,
)
from shim.store._state import DurableServerState, Snapshot, StatePolicy

__all__ = ["Applied", "JournaledState", "sweep_forever"]

logger = logging.getLogger(__name__)

#: Requests that never change the state: not journaled.
_READS = frozenset({"schedule.get", "schedule.search", "promise.search"})

_RECOVERY_CORR_ID = "dbos2resonate-store:recover"

_snapshot_encoder = msgspec.json.Encoder()
_snapshot_decoder = msgspec.json.Decoder(Snapshot)
_policy_decoder = msgspec.json.Decoder(StatePolicy)

try:
    _SDK_VERSION = metadata.version("resonate-sdk")
except metadata.PackageNotFoundError:  # pragma: no cover
    _SDK_VERSION = "unknown"


@dataclass(frozen=True, slots=True)
class Applied:
    """One request applied: its flat form, the flat answer, the envelope, what to deliver."""

    kind: str
    target_id: str
    response: dict[str, Any]
    envelope: str
    outgoing: list[OutgoingMessage]


class JournaledState:
    """A :class:`DurableServerState` whose every transition is written to ``path`` first.

    ``path=None`` (or ``":memory:"``) keeps everything in memory. Opening
    replays the file (snapshot + journal tail) and claims it; the file stays
    locked until :meth:`close`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None,
        *,
        synchronous: Synchronous = "NORMAL",
        verify: bool = True,
        compact_after: int,
        checkpoint_every: int | None,
    ) -> None:
        self.state = DurableServerState()
        self._compact_after = compact_after
        self._checkpoint_every = checkpoint_every
        self._journal: Journal | None = None
        self._unavailable: StoreUnavailableError | None = None
        self.closed = False
        #: Entries replayed from the file when it was opened.
        self.replayed = 0
        self._tail_entries = 0
        self.path: str | None = None
        if path is None or os.fspath(path) == ":memory:":
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
        except BaseException:
            journal.close()
            raise

    @property
    def journal(self) -> Journal | None:
        return self._journal

    # -- transitions ---------------------------------------------------------

    def apply(self, now: int, req: str) -> Applied:
        """Apply one request (the SDK's JSON envelope) and journal it; raises what the state raises."""
        self.check_usable()
        try:
            req_json = msgspec.json.decode(req)
        except msgspec.DecodeError as exc:
            msg = f"invalid JSON request: {exc}"
            raise DecodingError(msg) from exc
        flat = unwrap_request_envelope(req_json)
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
        envelope = msgspec.json.encode(wrap_response_envelope(resp)).decode("utf-8")
        return Applied(kind, _str(flat, "id"), resp, envelope, outgoing)

    def tick(self, now: int) -> list[OutgoingMessage]:
        """Run the deadline sweep at ``now`` when something is due; journaled."""
        if self.closed or self._unavailable is not None:
            return []
        state = self.state
        if not state.has_due(now):
            return []
        state.outgoing.clear()
        try:
            state.tick(now)
        except Exception:
            self._record(now, OP_TICK | OP_RAISED, b"")
            raise
        self._record(now, OP_TICK, b"")
        outgoing = state.outgoing
        state.outgoing = []
        return outgoing

    def set_policy(self, now: int, policy: StatePolicy) -> None:
        """Switch the state's policy (embedded or served), journaled when it changes."""
        self.check_usable()
        if self.state.policy == policy:
            return
        self.state.set_policy(now, policy)
        self._record(now, OP_POLICY, msgspec.json.encode(policy))

    def release_orphans(self, now: int, *, unbounded_only: bool = False) -> None:
        """Release acquired tasks whose holder is gone (we own the store), journaled.

        ``unbounded_only``: only those held with a lease that can never lapse
        (by an embedded owner); a lapsing lease may belong to a live worker.
        """
        for task_id in self.state.acquired_task_ids(unbounded_only=unbounded_only):
            req = {"kind": "task.release", "corrId": _RECOVERY_CORR_ID, "id": task_id}
            self.state.outgoing.clear()
            self.state.apply(now, req)
            self.state.outgoing.clear()
            self._record(now, OP_APPLY, msgspec.json.encode(req))

    # -- snapshots and lifecycle ---------------------------------------------

    def checkpoint(self) -> None:
        """Write a snapshot of the whole state and drop the journal entries it covers."""
        self.check_usable()
        journal = self._journal
        if journal is None:
            return
        data = _snapshot_encoder.encode(self.state.snapshot())
        try:
            journal.write_snapshot(data, _SDK_VERSION)
        except Exception as exc:
            raise self._fail(f"writing a snapshot failed: {exc}") from exc
        self._tail_entries = 0

    def compact_if_long(self) -> None:
        """Snapshot when the journal tail has reached ``compact_after`` entries."""
        if self._tail_entries >= self._compact_after:
            self.checkpoint()

    def checkpoint_if_due(self) -> None:
        """Snapshot when the running store's tail has reached ``checkpoint_every``."""
        every = self._checkpoint_every
        if every is not None and self._tail_entries >= every and not self.closed:
            self.checkpoint()

    def close(self) -> None:
        """Snapshot (when the journal tail is long) and release the file. Idempotent."""
        if self.closed:
            return
        journal = self._journal
        try:
            if self._unavailable is None:
                with contextlib.suppress(Exception):
                    self.compact_if_long()
        finally:
            self.closed = True
            if journal is not None:
                journal.close()

    def check_usable(self) -> None:
        if self._unavailable is not None:
            raise self._unavailable
        if self.closed:
            raise StoreUnavailableError(self.path or ":memory:", "the store is closed")

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
        count = 0
        for seq, at, op, body in journal.entries(after):
            raised = self._replay_entry(path, seq, at, op, body)
            self.state.outgoing.clear()
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

    def _replay_entry(self, path: str, seq: int, at: int, op: int, body: bytes) -> bool:
        """Re-apply one journal entry; whether it raised."""
        state = self.state
        kind = op & ~OP_RAISED
        step: Callable[[], object]
        if kind == OP_TICK:
            step = lambda: state.tick(at)
        elif kind == OP_APPLY:
            try:
                flat = unwrap_request_envelope(msgspec.json.decode(body))
            except msgspec.DecodeError as exc:
                raise StoreCorruptError(path, f"journal entry {seq} does not decode: {exc}") from exc
            step = lambda: state.apply(at, flat)
        elif kind == OP_POLICY:
            try:
                policy = _policy_decoder.decode(body)
            except msgspec.DecodeError as exc:
                raise StoreCorruptError(path, f"journal entry {seq} does not decode: {exc}") from exc
            step = lambda: state.set_policy(at, policy)
        else:
            raise StoreCorruptError(path, f"journal entry {seq} has unknown op {op}")
        try:
            step()
        except Exception:  # the journal records only whether a transition raised, not what
            return True
        return False


async def sweep_forever(
    store: JournaledState,
    clock: Callable[[], int],
    sleeper: Sleeper,
    interval: float,
    deliver: Callable[[list[OutgoingMessage]], None],
) -> None:
    """Tick ``store`` every ``interval`` seconds until cancelled or the store fails."""
    with contextlib.suppress(asyncio.CancelledError):
        while True:
            try:
                deliver(store.tick(clock()))
                store.checkpoint_if_due()
            except StoreUnavailableError:
                return
            except Exception:  # keep sweeping; the failure is logged
                logger.exception("store: deadline sweep failed")
            await sleeper(interval)


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
