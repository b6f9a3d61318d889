"""The server state machine the store journals, with local-mode fixes.

:class:`DurableServerState` is resonate-sdk's own :class:`ServerState` (the
state machine behind ``LocalConnection``) with a handful of overrides. Every
override keeps the state transitions of the original; they change cost, lease
expiry and three read-only answers:

* **Leases never expire.** A store has exactly one owner process (it is
  locked), so a lease can only ever lapse on a task that this very process is
  still running -- the "step longer than 60 s re-runs forever" defect. Leases
  are therefore recorded with an infinite deadline; a task held by a process
  that died is released when the store is reopened (see
  :meth:`release_orphans`).
* **``task.fence`` answers carry no preload.** The original returns every
  promise of the task's branch on every fenced create/settle, which the SDK
  decodes and re-caches: O(steps) per step, so O(steps^2) per workflow (1000
  sequential ``ctx.run`` steps took ~13 s). The SDK only folds that list into a
  cache it already fills itself; acquire and suspend-redirect answers, which
  seed the cache, still carry the full preload.
* **Indexes instead of scans.** Preload looks promises up by branch instead of
  scanning every promise in the store; fulfilling a task drops it from the
  awaiter sets it joined instead of scanning every promise; deleting a timeout
  that does not exist (every ``ctx.run`` settle) no longer rebuilds the
  timeout lists.
* **Latent-promise timeouts fire.** A promise tagged ``resonate:external``
  (``ctx.promise(timeout=...)``) gets its deadline scheduled like a targeted
  promise, as resonate-pg does; the original only timed it out when someone
  happened to read it.
* **``promise.search``** is answered (a read; the original rejected it).

Two behaviours depend on who owns the store, so they are a :class:`StatePolicy`
of the state rather than a second copy of it (the policy is journaled when it
changes, so replay applies every entry under the policy it was recorded with):

* ``leases_expire``: the embedded store's single owner keeps leases infinite
  (above); a server has many workers, so there a lease lapses after its ttl
  unless ``task.heartbeat`` renews it, and the task is re-delivered.
* ``fires_schedules``: the SDK's local mode stores schedules and never fires
  them; a server validates their cron and fires them from :meth:`tick` the way
  the Resonate server does (see :mod:`shim.store._schedules`).

Everything here is deterministic given the sequence of ``apply(now, req)`` and
``tick(now)`` calls, which is what makes journal replay rebuild it exactly.
"""

from __future__ import annotations

from typing import Any

import msgspec
from resonate.connections.local import (
    I64_MAX,
    DurablePromise,
    PTimeout,
    ServerState,
    Task,
    TTimeout,
    _get,
    _str,
    extract_action_data,
)

from shim.store._schedules import (
    Schedule,
    ScheduleFiring,
    arm,
    create_schedule,
    fire_due,
)

__all__ = ["EMBEDDED", "SERVED", "DurableServerState", "Snapshot", "StatePolicy"]

_BRANCH = "resonate:branch"
_TARGET = "resonate:target"
_EXTERNAL = "resonate:external"
_DELAY = "resonate:delay"

#: Requests only the current holder of a task may make (they carry its version).
_HOLDER_REQUESTS = frozenset({"task.release", "task.fulfill", "task.suspend"})

#: ``promise.search`` page size when the request names none.
_DEFAULT_SEARCH_LIMIT = 100


class StatePolicy(msgspec.Struct, frozen=True, kw_only=True):
    """What depends on who owns the store: one process (embedded) or a server."""

    leases_expire: bool = False
    fires_schedules: bool = False


#: One owner process: leases never lapse, schedules are stored but never fire.
EMBEDDED = StatePolicy()
#: ``dbos2resonate serve``: many workers heartbeat their leases; schedules fire.
SERVED = StatePolicy(leases_expire=True, fires_schedules=True)


class Snapshot(msgspec.Struct, kw_only=True):
    """The whole state, in insertion order, as written to the store."""

    promises: list[DurablePromise]
    tasks: list[Task]
    schedules: list[Schedule]
    p_timeouts: list[PTimeout]
    t_timeouts: list[TTimeout]
    policy: StatePolicy = EMBEDDED


class _Promises(dict[str, DurablePromise]):
    """The promise map, indexed by ``resonate:branch`` as promises are added."""

    def __init__(self) -> None:
        super().__init__()
        self.by_branch: dict[str, list[str]] = {}

    def __setitem__(self, key: str, value: DurablePromise) -> None:
        old = self.get(key)
        if old is not None:
            old_branch = old.tags.get(_BRANCH)
            if old_branch is not None:
                self.by_branch[old_branch].remove(key)
        super().__setitem__(key, value)
        branch = value.tags.get(_BRANCH)
        if branch is not None:
            self.by_branch.setdefault(branch, []).append(key)


class DurableServerState(ServerState):
    """:class:`ServerState` with a lease policy, O(1) bookkeeping and no fence preload."""

    def __init__(self, policy: StatePolicy = EMBEDDED) -> None:
        super().__init__()
        self.policy = policy
        self.schedules: dict[str, Schedule] = {}  # type: ignore[assignment]
        self.promises: _Promises = _Promises()
        #: task id -> ids of the promises whose ``awaiters`` it joined.
        self._awaiting: dict[str, set[str]] = {}
        #: ids present in ``p_timeouts`` / ``t_timeouts``.
        self._p_ids: set[str] = set()
        self._t_ids: set[str] = set()
        self._no_preload = False

    # -- requests ----------------------------------------------------------

    def apply(self, now: int, req: Any) -> dict[str, Any]:
        kind = _str(req, "kind")
        if kind == "promise.search":
            return self.promise_search(_get(req, "corrId"), req)
        if kind in _HOLDER_REQUESTS and self.policy.leases_expire and self._stale_holder(req):
            # A worker whose lease lapsed (and whose task another worker may
            # hold now) must not settle, suspend or release it: the original
            # checks the version on task.fence only.
            self.outgoing.clear()
            return {"kind": kind, "corrId": _get(req, "corrId"), "status": 409}
        return super().apply(now, req)

    def _stale_holder(self, req: Any) -> bool:
        version = _get(req, "version")
        task = self.tasks.get(_str(req, "id"))
        return (
            task is not None
            and isinstance(version, int)
            and not isinstance(version, bool)
            and version != task.version
        )

    def tick(self, now: int) -> None:
        super().tick(now)
        if self.policy.fires_schedules:
            for firing in fire_due(self.schedules, now):
                self._create_scheduled_promise(now, firing)

    def set_policy(self, now: int, policy: StatePolicy) -> None:
        """Switch policy; a schedule never armed (stored while not firing) is armed from ``now``."""
        self.policy = policy
        if policy.fires_schedules:
            for schedule in self.schedules.values():
                if schedule.next_run_at == 0:
                    arm(schedule, now)

    def schedule_create(self, now: int, corr_id: Any, req: Any) -> dict[str, Any]:
        return create_schedule(
            self.schedules, now, corr_id, req, validate=self.policy.fires_schedules
        )

    def _create_scheduled_promise(self, now: int, firing: ScheduleFiring) -> None:
        req = {
            "id": firing.promise_id,
            "timeoutAt": firing.timeout_at,
            "param": firing.param,
            "tags": firing.tags,
        }
        existed = firing.promise_id in self.promises
        self.promise_create(now, None, req)
        promise = self.promises[firing.promise_id]
        if not existed and promise.state == "pending":
            promise.created_at = firing.fired_at  # as the Resonate server records it

    def promise_create(self, now: int, corr_id: Any, req: Any) -> dict[str, Any]:
        existed = _str(req, "id") in self.promises
        resp = super().promise_create(now, corr_id, req)
        if not existed:
            self._schedule_external_timeout(_str(req, "id"))
        return resp

    def task_fence(self, now: int, corr_id: Any, req: Any) -> dict[str, Any]:
        self._no_preload = True
        try:
            resp = super().task_fence(now, corr_id, req)
        finally:
            self._no_preload = False
        if "preload" in resp:
            resp["preload"] = []
        return resp

    def task_suspend(self, now: int, corr_id: Any, req: Any) -> dict[str, Any]:
        resp = super().task_suspend(now, corr_id, req)
        task_id = _str(req, "id")
        actions = _get(req, "actions")
        if isinstance(actions, list):
            for action in actions:
                awaited = _get(extract_action_data(action), "awaited")
                if isinstance(awaited, str):
                    p = self.promises.get(awaited)
                    if p is not None and task_id in p.awaiters:
                        self._awaiting.setdefault(task_id, set()).add(awaited)
        return resp

    def promise_search(self, corr_id: Any, req: Any) -> dict[str, Any]:
        """Answer ``promise.search``: filter by state and tags, page by offset."""
        state = _get(req, "state")
        tags = _get(req, "tags")
        limit = _get(req, "limit")
        cursor = _get(req, "cursor")
        size = limit if isinstance(limit, int) and limit > 0 else _DEFAULT_SEARCH_LIMIT
        start = int(cursor) if isinstance(cursor, str) and cursor.isdigit() else 0
        want_tags = tags if isinstance(tags, dict) else {}
        found: list[dict[str, Any]] = []
        position = 0
        next_cursor: str | None = None
        for p in self.promises.values():
            if isinstance(state, str) and state and not _state_matches(p.state, state):
                continue
            if any(p.tags.get(k) != v for k, v in want_tags.items()):
                continue
            if position >= start:
                if len(found) == size:
                    next_cursor = str(position)
                    break
                found.append(p.to_record())
            position += 1
        return {
            "kind": "promise.search",
            "corrId": corr_id,
            "status": 200,
            "promises": found,
            "cursor": next_cursor,
        }

    # -- helpers overridden for cost or lease semantics ----------------------

    def preload(self, promise_id: str) -> list[dict[str, Any]]:
        if self._no_preload:
            return []
        p = self.promises.get(promise_id)
        if p is None:
            return []
        branch = p.tags.get(_BRANCH)
        if branch is None:
            return []
        promises = self.promises
        return [
            promises[other].to_record()
            for other in promises.by_branch.get(branch, ())
            if other != promise_id
        ]

    def enqueue_settle(self, promise_id: str) -> None:
        t = self.tasks.get(promise_id)
        if t is None or t.state == "fulfilled":
            super().enqueue_settle(promise_id)
            return
        # Same transition as the original, without scanning every promise for
        # this task among their awaiters: only the ones it joined can hold it.
        t.state = "fulfilled"
        t.pid = None
        t.ttl = None
        t.resumes.clear()
        self.del_t_timeout(promise_id)
        for awaited in self._awaiting.pop(promise_id, ()):
            p = self.promises.get(awaited)
            if p is not None:
                p.awaiters.discard(promise_id)

    def set_t_timeout(self, task_id: str, typ: int, timeout: int) -> None:
        # typ 1 is a lease: an embedded store's single owner never lets one lapse.
        unbounded = typ == 1 and not self.policy.leases_expire
        super().set_t_timeout(task_id, typ, I64_MAX if unbounded else timeout)
        self._t_ids.add(task_id)

    def del_t_timeout(self, task_id: str) -> None:
        if task_id in self._t_ids:
            self._t_ids.discard(task_id)
            super().del_t_timeout(task_id)

    def set_p_timeout(self, promise_id: str, timeout: int) -> None:
        super().set_p_timeout(promise_id, timeout)
        self._p_ids.add(promise_id)

    def del_p_timeout(self, promise_id: str) -> None:
        if promise_id in self._p_ids:
            self._p_ids.discard(promise_id)
            super().del_p_timeout(promise_id)

    def _schedule_external_timeout(self, promise_id: str) -> None:
        p = self.promises.get(promise_id)
        if (
            p is not None
            and p.state == "pending"
            and p.tags.get(_EXTERNAL) == "true"
            and _TARGET not in p.tags
            and p.timeout_at < I64_MAX
        ):
            self.set_p_timeout(promise_id, p.timeout_at)

    # -- store support -------------------------------------------------------

    def has_due(self, now: int) -> bool:
        """Whether :meth:`tick` at ``now`` could change anything."""
        return (
            any(now >= pt.timeout for pt in self.p_timeouts)
            or any(now >= tt.timeout for tt in self.t_timeouts)
            or (
                self.policy.fires_schedules
                and any(now >= s.next_run_at for s in self.schedules.values())
            )
        )

    def would_auto_timeout(self, now: int, promise_id: str) -> bool:
        """Whether a request touching ``promise_id`` at ``now`` times it out."""
        p = self.promises.get(promise_id)
        return p is not None and p.state == "pending" and now >= p.timeout_at

    def acquired_task_ids(self, *, unbounded_only: bool = False) -> list[str]:
        """Tasks held by a worker; ``unbounded_only``: those whose lease can never lapse."""
        if not unbounded_only:
            return [t.id for t in self.tasks.values() if t.state == "acquired"]
        unbounded = {tt.id for tt in self.t_timeouts if tt.typ == 1 and tt.timeout == I64_MAX}
        return [t.id for t in self.tasks.values() if t.state == "acquired" and t.id in unbounded]

    def deliverable(self, message: Any) -> bool:
        """Whether an outgoing ``message`` is still worth delivering.

        An ``execute`` for a task no longer pending at that version could only
        fail its acquire (and log a 409); everything else is always delivered.
        """
        if not (isinstance(message, dict) and message.get("kind") == "execute"):
            return True
        ref = message.get("data", {}).get("task", {})
        task = self.tasks.get(ref.get("id"))
        return task is not None and task.state == "pending" and task.version == ref.get("version")

    def execute_messages(self, now: int) -> list[tuple[str, dict[str, Any]]]:
        """``execute`` messages for every pending, due task (re-delivery on start)."""
        out: list[tuple[str, dict[str, Any]]] = []
        for t in self.tasks.values():
            if t.state != "pending":
                continue
            p = self.promises.get(t.id)
            if p is None:
                continue
            address = p.tags.get(_TARGET)
            if address is None:
                continue
            delay = p.tags.get(_DELAY)
            if delay is not None and delay.isdigit() and now < int(delay):
                continue
            message = {"kind": "execute", "data": {"task": {"id": t.id, "version": t.version}}}
            out.append((address, message))
        return out

    def snapshot(self) -> Snapshot:
        return Snapshot(
            promises=list(self.promises.values()),
            tasks=list(self.tasks.values()),
            schedules=list(self.schedules.values()),
            p_timeouts=list(self.p_timeouts),
            t_timeouts=list(self.t_timeouts),
            policy=self.policy,
        )

    @classmethod
    def from_snapshot(cls, snap: Snapshot) -> DurableServerState:
        state = cls(snap.policy)
        for p in snap.promises:
            state.promises[p.id] = p
            for task_id in p.awaiters:
                state._awaiting.setdefault(task_id, set()).add(p.id)
        state.tasks = {t.id: t for t in snap.tasks}
        state.schedules = {s.id: s for s in snap.schedules}
        state.p_timeouts = list(snap.p_timeouts)
        state.t_timeouts = list(snap.t_timeouts)
        state._p_ids = {pt.id for pt in snap.p_timeouts}
        state._t_ids = {tt.id for tt in snap.t_timeouts}
        return state


def _state_matches(actual: str, wanted: str) -> bool:
    if wanted == "rejected":
        return actual.startswith("rejected")
    return actual == wanted
