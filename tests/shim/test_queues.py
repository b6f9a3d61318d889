"""Queues on the shim, observed: flow control is checked on what the workflows did (when each
started and ended), never assumed from configuration.

Real DBOS's statuses and outcomes for the same programs are compared by tests/differential (the
``queue_*`` cases). Time-dependent parts wait on events or on handles; the rate limiter is also
checked on its own with explicit clock readings.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shim import DBOS, Queue, SetEnqueueOptions, SetWorkflowID, _queues
from shim._dispatch import RateWindow
from shim.errors import DBOSAwaitedWorkflowCancelledError, DBOSException, DBOSQueueDeduplicatedError

WAIT = 10  # seconds any single wait in these tests may take before it is a failure


class Log:
    """Start and end times of queued work, and its order."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.intervals: list[tuple[float, float]] = []
        self.order: list[object] = []
        self.active = 0
        self.max_active = 0

    def enter(self, key: object) -> float:
        with self.lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            self.order.append(key)
        return time.monotonic()

    def leave(self, started: float) -> None:
        with self.lock:
            self.active -= 1
            self.intervals.append((started, time.monotonic()))

    def max_overlap(self) -> int:
        """The most intervals open at one moment (an end at t closes before a start at t opens)."""
        events = sorted([(s, 1) for s, _ in self.intervals] + [(e, -1) for _, e in self.intervals],
                        key=lambda ev: (ev[0], ev[1]))
        most = current = 0
        for _, delta in events:
            current += delta
            most = max(most, current)
        return most


log = Log()
barrier: threading.Barrier | None = None
gate = threading.Event()


@DBOS.workflow()
def queued_work(key: object, hold: float = 0.02) -> object:
    started = log.enter(key)
    try:
        if barrier is not None and isinstance(key, int) and key < barrier.parties:
            barrier.wait(timeout=WAIT)  # the first ones must be running together
        time.sleep(hold)
        return key
    finally:
        log.leave(started)


@DBOS.workflow()
def blocker() -> str:
    assert gate.wait(WAIT)
    return "released"


@DBOS.workflow()
def fan_out(n: int) -> list[int]:
    handles = [DBOS.enqueue_workflow("fan", queued_work, i, 0.0) for i in range(n)]
    return [h.get_result() for h in handles]


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    global log, barrier
    log, barrier = Log(), None
    gate.clear()
    yield
    gate.set()
    _queues.clear_registry()


def _launch(url: str = "sqlite:///:memory:") -> None:
    DBOS(config={"name": "shim-queues", "system_database_url": url})
    DBOS.launch()


@pytest.fixture
def launched() -> Iterator[None]:
    _launch()
    yield
    DBOS.destroy()


def test_global_concurrency_is_never_exceeded(launched: None) -> None:
    global barrier
    queue = Queue("conc", concurrency=2)
    barrier = threading.Barrier(2)
    handles = [queue.enqueue(queued_work, i) for i in range(8)]
    assert sorted(h.get_result() for h in handles) == list(range(8))
    assert log.max_active == 2 and log.max_overlap() == 2


def test_worker_concurrency_is_never_exceeded_and_fifo_without_priorities(launched: None) -> None:
    queue = Queue("worker", worker_concurrency=1)
    handles = [queue.enqueue(queued_work, i, 0.005) for i in range(6)]
    assert [h.get_result() for h in handles] == list(range(6))
    assert log.max_active == 1 and log.max_overlap() == 1
    assert log.order == list(range(6))


def test_the_rate_limiter_is_never_exceeded(launched: None) -> None:
    limit, period = 2, 0.3
    queue = Queue("rated", limiter={"limit": limit, "period": period})
    handles = [queue.enqueue(queued_work, i, 0.0) for i in range(7)]
    for handle in handles:
        handle.get_result()
    # when the dispatcher let each one start, as recorded in the store
    dequeued = sorted(h.get_status().dequeued_at / 1000 for h in handles)
    assert all(sum(1 for t in dequeued if s <= t < s + period) <= limit for s in dequeued)
    # when each body started (a little after its dispatch, so a small tolerance)
    started = sorted(s for s, _ in log.intervals)
    assert all(sum(1 for t in started if s <= t < s + period - 0.05) <= limit for s in started)
    # and the limiter does not stall: 7 starts at 2 per 0.3 s need 3 windows, not many more
    assert dequeued[-1] - dequeued[0] >= 3 * period - 0.01
    assert dequeued[-1] - dequeued[0] < 3 * period + 1.0


def test_rate_window_counts_starts_in_the_rolling_period() -> None:
    window = RateWindow()
    assert window.remaining(2, 10.0, now=100.0) == 2
    window.add(100.0)
    window.add(105.0)
    assert window.remaining(2, 10.0, now=109.9) == 0
    assert window.reopens_at(10.0) == 110.0
    assert window.remaining(2, 10.0, now=110.0) == 1  # the start at 100 has left the window
    assert window.remaining(2, 10.0, now=115.0) == 2


def test_priority_order_holds(launched: None) -> None:
    queue = Queue("prio", concurrency=1, priority_enabled=True)
    first = queue.enqueue(blocker)
    handles = []
    for key, priority in [("p5", 5), ("p1a", 1), ("p3", 3), ("p1b", 1), ("none", None), ("p2", 2)]:
        with SetEnqueueOptions(priority=priority):
            handles.append(queue.enqueue(queued_work, key, 0.0))
    assert {h.get_status().status for h in handles} == {"ENQUEUED"}
    gate.set()
    assert first.get_result() == "released"
    for handle in handles:
        handle.get_result()
    # no priority is priority 0 in DBOS, which goes first; equal priorities keep enqueue order
    assert log.order == ["none", "p1a", "p1b", "p2", "p3", "p5"]


def test_deduplication_raises_while_the_first_is_queued_or_running(launched: None) -> None:
    queue = Queue("dedup", concurrency=1)
    running = queue.enqueue(blocker)
    with SetEnqueueOptions(deduplication_id="order-7"):
        first = queue.enqueue(queued_work, "first", 0.0)
        with pytest.raises(DBOSQueueDeduplicatedError) as raised:
            queue.enqueue(queued_work, "second", 0.0)
    assert raised.value.queue_name == "dedup" and raised.value.deduplication_id == "order-7"
    assert first.get_status().status == "ENQUEUED"
    gate.set()
    running.get_result()
    assert first.get_result() == "first"
    with SetEnqueueOptions(deduplication_id="order-7"):  # the id is free again once its holder finished
        assert queue.enqueue(queued_work, "third", 0.0).get_result() == "third"
    with SetEnqueueOptions(deduplication_id="order-7"):  # another queue has its own ids
        assert Queue("dedup2").enqueue(queued_work, "other", 0.0).get_result() == "other"


def test_status_is_enqueued_until_dispatched_and_get_result_waits_through_it(launched: None) -> None:
    queue = Queue("waiting", concurrency=1)
    first = queue.enqueue(blocker)
    with SetWorkflowID("queued-1"):
        second = queue.enqueue(queued_work, "second", 0.0)
    status = second.get_status()
    assert (status.status, status.queue_name, status.dequeued_at) == ("ENQUEUED", "waiting", None)
    assert [w.workflow_id for w in DBOS.list_queued_workflows(status="ENQUEUED")] == ["queued-1"]
    result: list[object] = []
    waiter = threading.Thread(target=lambda: result.append(second.get_result()))
    waiter.start()
    gate.set()
    waiter.join(WAIT)
    assert result == ["second"] and first.get_result() == "released"
    done = second.get_status()
    assert done.status == "SUCCESS" and done.queue_name == "waiting" and done.dequeued_at is not None


def test_cancelling_an_enqueued_workflow_means_it_never_runs(launched: None) -> None:
    queue = Queue("cancel", concurrency=1)
    first = queue.enqueue(blocker)
    second = queue.enqueue(queued_work, "never", 0.0)
    DBOS.cancel_workflow(second.workflow_id)
    assert second.get_status().status == "CANCELLED"
    with pytest.raises(DBOSAwaitedWorkflowCancelledError):
        second.get_result()
    third = queue.enqueue(queued_work, "third", 0.0)
    gate.set()
    assert first.get_result() == "released" and third.get_result() == "third"
    assert log.order == ["third"]


def test_fan_out_from_a_workflow_is_durable_child_enqueues(launched: None) -> None:
    Queue("fan", concurrency=3)
    with SetWorkflowID("fan-1"):
        assert fan_out(5) == [0, 1, 2, 3, 4]
    assert log.max_overlap() <= 3
    children = DBOS.list_workflows(parent_workflow_id="fan-1")
    assert [(w.workflow_id, w.queue_name, w.status) for w in children] == [
        (f"fan-1-{i}", "fan", "SUCCESS") for i in range(1, 6)]
    with SetWorkflowID("fan-1"):  # the same id again: nothing is enqueued twice
        assert fan_out(5) == [0, 1, 2, 3, 4]
    assert len(log.order) == 5


def test_enqueued_work_survives_a_restart_and_keeps_its_order(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'queues.sqlite'}"
    _launch(url)
    try:
        # nothing in this process declares "later", so its work only waits (as with DBOS)
        for key, priority in [("b", 2), ("c", 3), ("a", 1)]:
            with SetEnqueueOptions(priority=priority), SetWorkflowID(f"later-{key}"):
                DBOS.enqueue_workflow("later", queued_work, key, 0.0)
        assert {w.status for w in DBOS.list_workflows()} == {"ENQUEUED"}
    finally:
        DBOS.destroy()
    assert log.order == []
    _launch(url)
    try:
        assert {w.status for w in DBOS.list_queued_workflows()} == {"ENQUEUED"}
        Queue("later", concurrency=1)
        assert [DBOS.retrieve_workflow(f"later-{k}").get_result() for k in "abc"] == ["a", "b", "c"]
        assert log.order == ["a", "b", "c"] and log.max_overlap() == 1
    finally:
        DBOS.destroy()


def test_partitioned_queue_limits_each_partition(launched: None) -> None:
    queue = Queue("parts", concurrency=1, partition_queue=True)
    handles = []
    for i in range(6):
        with SetEnqueueOptions(queue_partition_key=f"k{i % 2}"):
            handles.append(queue.enqueue(queued_work, i, 0.03))
    assert sorted(h.get_result() for h in handles) == list(range(6))
    assert log.max_overlap() <= 2  # one per partition
    with pytest.raises(Exception, match="without a partition key"):
        queue.enqueue(queued_work, 9)
    with pytest.raises(Exception, match="partition-enabled"), SetEnqueueOptions(queue_partition_key="k"):
        Queue("flat").enqueue(queued_work, 9)


def test_queue_declaration_is_checked_as_dbos_checks_it(launched: None) -> None:
    Queue("declared")
    with pytest.raises(Exception, match="already been declared"):
        Queue("declared")
    with pytest.raises(ValueError, match="greater than or equal to worker_concurrency"):
        Queue("bad", concurrency=1, worker_concurrency=2)
    with pytest.raises(ValueError, match="limiter must specify both"):
        Queue("bad2", limiter={"limit": 1})  # type: ignore[typeddict-item]
    with pytest.raises(Exception, match="Invalid priority"):
        SetEnqueueOptions(priority=0)
    registered = DBOS.register_queue("declared", worker_concurrency=3)
    assert registered.worker_concurrency == 3


def test_run_time_reconfiguration_changes_the_limits_observed(launched: None) -> None:
    fixed = Queue("fixed", concurrency=2, limiter={"limit": 3, "period": 1.5})
    assert (fixed.concurrency, fixed.worker_concurrency, fixed.limiter) == (2, None, {"limit": 3, "period": 1.5})
    with pytest.raises(DBOSException, match="only supported for queues registered via DBOS.register_queue"):
        fixed.set_concurrency(3)
    live = DBOS.register_queue("live", worker_concurrency=1)
    with pytest.raises(ValueError, match="worker_concurrency must be less than or equal to concurrency"):
        live.set_global_concurrency(0)
    first = [live.enqueue(queued_work, i, 0.05) for i in range(3)]
    assert [h.get_result() for h in first] == [0, 1, 2] and log.max_overlap() == 1
    live.set_worker_concurrency(3)
    assert DBOS.retrieve_queue("live").worker_concurrency == 3
    global barrier
    barrier = threading.Barrier(3)  # the first three must run together now
    second = [live.enqueue(queued_work, i, 0.05) for i in range(9)]
    assert sorted(h.get_result() for h in second) == list(range(9))
    assert 1 < log.max_active <= 3


spans: dict[str, list[tuple[float, float]]] = {}


@DBOS.workflow()
def partition_work(key: str, hold: float) -> str:
    started = log.enter(key)
    time.sleep(hold)
    log.leave(started)
    with log.lock:
        spans.setdefault(key, []).append((started, time.monotonic()))
    return key


def test_partition_limits_hold_per_partition_and_queue_wide(launched: None) -> None:
    spans.clear()
    queue = Queue("per-partition", concurrency=3, partition_concurrency=1)
    assert queue.partition_queue and queue.partition_concurrency == 1 and queue.global_concurrency == 3
    handles = []
    for i in range(12):
        with SetEnqueueOptions(queue_partition_key=f"k{i % 4}"):
            handles.append(queue.enqueue(partition_work, f"k{i % 4}", 0.03))
    assert len([h.get_result() for h in handles]) == 12
    assert 1 < log.max_overlap() <= 3  # queue-wide, over four partitions that could run four
    for key, key_spans in spans.items():
        ordered = sorted(key_spans)
        assert len(ordered) == 3 and all(a[1] <= b[0] for a, b in zip(ordered, ordered[1:], strict=False)), key
    with pytest.raises(ValueError, match="global_concurrency must be greater than or equal to partition_concurrency"):
        Queue("bad-partition", concurrency=1, partition_concurrency=2)


@DBOS.workflow()
async def async_work(key: str) -> str:
    started = log.enter(key)
    log.leave(started)
    return key * 2


def test_async_enqueue_and_async_workflows(launched: None) -> None:
    import asyncio

    queue = Queue("async-q", worker_concurrency=1)

    async def main() -> list[str]:
        handles = [await queue.enqueue_async(async_work, k) for k in "abc"]
        handles.append(await DBOS.enqueue_workflow_async("async-q", async_work, "d"))
        return [await h.get_result() for h in handles]

    assert asyncio.run(main()) == ["aa", "bb", "cc", "dd"]
    assert log.order == ["a", "b", "c", "d"] and log.max_overlap() == 1
