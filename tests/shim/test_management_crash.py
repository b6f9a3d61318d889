"""Deadlines and queued work across a crash (SIGKILL) of the process that started them.

The test runs this module as a program (``python -m tests.shim.test_management_crash``) on a store
file, kills it once it has announced where it is, and reopens the store in the test's process.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shim import DBOS, Queue, SetEnqueueOptions, SetWorkflowID, SetWorkflowTimeout, _queues
from shim.errors import DBOSAwaitedWorkflowCancelledError

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60
order: list[str] = []


@DBOS.step()
def note(name: str) -> str:
    order.append(name)
    return name


@DBOS.workflow()
def waits_for_a_message(name: str) -> str:
    note(f"{name}:before")
    DBOS.recv("never-sent", 4)
    return note(f"{name}:after")


@DBOS.workflow()
def quick(name: str) -> str:
    return note(name)


def _launch(path: str) -> None:
    DBOS(config={"name": "shim-crash", "system_database_url": f"sqlite:///{path}"})
    DBOS.launch()


def _program(path: str) -> None:
    """Start a workflow with a 1.5 s timeout and queue three more behind a busy queue, then wait to
    be killed."""
    _launch(path)
    Queue("crash-q", concurrency=1)
    with SetWorkflowTimeout(1.5), SetWorkflowID("timed"):
        DBOS.start_workflow(waits_for_a_message, "timed")
    with SetWorkflowID("q-busy"):
        DBOS.enqueue_workflow("crash-q", waits_for_a_message, "busy")
    for key, priority in [("q-c", 3), ("q-a", 1), ("q-b", 2)]:
        with SetEnqueueOptions(priority=priority), SetWorkflowID(key):
            DBOS.enqueue_workflow("crash-q", quick, key)
    while order.count("timed:before") + order.count("busy:before") < 2:
        time.sleep(0.01)
    print(f"REACHED {time.time()}", flush=True)
    time.sleep(TIMEOUT)


def test_deadline_and_queue_order_survive_a_crash(tmp_path: Path) -> None:
    path = str(tmp_path / "crash.sqlite")
    process = subprocess.Popen([sys.executable, "-m", "tests.shim.test_management_crash", path], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    started = None
    for line in process.stdout:  # the program announces itself: no timing involved
        if line.startswith("REACHED "):
            started = float(line.split()[1])
            process.send_signal(signal.SIGKILL)
            process.wait(TIMEOUT)
            break
    assert started is not None, process.communicate()[1][-3000:]
    _launch(path)
    try:
        assert DBOS.get_workflow_status("q-a").status == "ENQUEUED"
        Queue("crash-q", concurrency=1)
        with pytest.raises(DBOSAwaitedWorkflowCancelledError):
            DBOS.retrieve_workflow("timed").get_result()
        assert time.time() >= started + 1.5 - 0.5  # cancelled at its deadline, not at restart
        assert DBOS.get_workflow_status("timed").status == "CANCELLED"
        DBOS.cancel_workflow("q-busy")  # frees the queue's only slot
        assert [DBOS.retrieve_workflow(k).get_result() for k in ("q-a", "q-b", "q-c")] == ["q-a", "q-b", "q-c"]
        assert [n for n in order if n.startswith("q-")] == ["q-a", "q-b", "q-c"]
        assert DBOS.get_workflow_status("q-busy").status == "CANCELLED"
    finally:
        DBOS.destroy()
        _queues.clear_registry()


if __name__ == "__main__":
    _program(sys.argv[1])
