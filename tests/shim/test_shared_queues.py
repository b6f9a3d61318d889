"""A queue's global limits across worker processes on one Resonate server (shim/_queue_gate.py).

Two shim workers (tests/shim/programs/shared_queue_worker.py) serve one queue with
``concurrency=2`` and ``limiter={"limit": 3, "period": 1}``: every job records when it starts and
ends, and the observed overlap across both workers, and the dispatch times DBOS's status reports,
must stay within the limits. Per worker they would not: each worker alone could run two at once.
"""

from __future__ import annotations

import queue
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from shim import DBOSClient
from tests.shim.test_server_mode import TIMEOUT, Worker
from tests.support.resonate_server import running_server

PROGRAM = "tests.shim.programs.shared_queue_worker"


class AnnouncingWorker(Worker):
    """A worker whose lines also reach ``heard`` with its name: to wait for whichever says a thing."""

    def __init__(self, heard: queue.Queue[tuple[str, str]], url: str, executor_id: str, record: Path) -> None:
        self.heard = heard
        super().__init__(url, executor_id, record, program=PROGRAM)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.strip())
            self.heard.put((self.executor_id, line.strip()))
        self.lines.put("<exit>")


@contextmanager
def shared_queue_workers(tmp_path: Path) -> Iterator[tuple[DBOSClient, dict[str, AnnouncingWorker],
                                                           queue.Queue[tuple[str, str]], Path]]:
    record = tmp_path / "record"
    heard: queue.Queue[tuple[str, str]] = queue.Queue()
    with running_server(None) as url, ExitStack() as stack:
        started = {name: AnnouncingWorker(heard, url, name, record) for name in ("worker-a", "worker-b")}
        for worker in started.values():
            stack.callback(worker.stop)
        for worker in started.values():
            worker.wait_for("READY")
        client = DBOSClient(system_database_url=f"resonate+{url}", application_name="shared-queues")
        stack.callback(client.destroy)
        yield client, started, heard, record


def intervals(record: Path) -> dict[int, tuple[float, float, str]]:
    """Each job's (start, end, worker) as it recorded them."""
    starts: dict[int, tuple[float, str]] = {}
    ends: dict[int, float] = {}
    for line in record.read_text(encoding="utf-8").splitlines():
        what, _, worker = line.partition(" by ")
        event, *fields = what.split()
        if event == "start":
            starts[int(fields[0])] = (float(fields[1]), worker)
        elif event == "end":
            ends[int(fields[0])] = float(fields[1])
    return {k: (at, ends[k], worker) for k, (at, worker) in starts.items()}


def most_at_once(spans: list[tuple[float, float]]) -> int:
    """The largest number of spans running at one instant (an end before a start at the same time)."""
    events = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    running = peak = 0
    for _, change in events:
        running += change
        peak = max(peak, running)
    return peak


@pytest.mark.slow
def test_global_concurrency_and_rate_hold_across_two_workers(tmp_path: Path) -> None:
    jobs = 9
    with shared_queue_workers(tmp_path) as (client, _, _, record):
        handles = [client.enqueue({"queue_name": "limited", "workflow_name": "timed", "workflow_id": f"job-{k}"}, k)
                   for k in range(jobs)]
        assert [h.get_result() for h in handles] == list(range(jobs))
        dispatched = sorted(s.dequeued_at for s in client.list_workflows(queue_name="limited"))
    ran = intervals(record)
    assert sorted(ran) == list(range(jobs))
    assert {worker for _, _, worker in ran.values()} == {"worker-a", "worker-b"}
    assert most_at_once([(start, end) for start, end, _ in ran.values()]) <= 2
    assert len(dispatched) == jobs and all(at is not None for at in dispatched)
    # any 4 consecutive dispatches span at least the period: at most 3 in any rolling second
    assert all(later - earlier >= 1000 for earlier, later in zip(dispatched, dispatched[3:], strict=False))
    starts = sorted(start for start, _, _ in ran.values())
    assert all(start * 1000 >= at for start, at in zip(starts, dispatched, strict=True))


@pytest.mark.slow
def test_a_killed_worker_s_slot_frees_when_its_workflow_finishes_on_another_and_resume_skips_the_queue(tmp_path: Path) -> None:
    with shared_queue_workers(tmp_path) as (client, started, heard, record):
        held = client.enqueue({"queue_name": "single", "workflow_name": "hold", "workflow_id": "hold-1"})
        while (said := heard.get(timeout=TIMEOUT))[1] != "HOLDING":
            pass
        holder = said[0]
        waiting = client.enqueue({"queue_name": "single", "workflow_name": "timed", "workflow_id": "after"}, 7)
        jumping = client.enqueue({"queue_name": "single", "workflow_name": "timed", "workflow_id": "jumps"}, 8)
        client.resume_workflow("jumps")  # an ENQUEUED workflow resumed is dispatched now, whatever the limits
        assert jumping.get_result() == 8
        assert client.retrieve_workflow("after").get_status().status == "ENQUEUED"
        started[holder].kill()
        survivor = ({"worker-a", "worker-b"} - {holder}).pop()
        assert held.get_result() == survivor  # its lease lapsed; the survivor finished it
        assert waiting.get_result() == 7
        hold_status = client.retrieve_workflow("hold-1").get_status()
        after_status = client.retrieve_workflow("after").get_status()
    assert intervals(record)[7][2] == survivor
    assert after_status.dequeued_at is not None and hold_status.updated_at is not None
    assert after_status.dequeued_at >= hold_status.updated_at  # one at a time: it waited for the slot
