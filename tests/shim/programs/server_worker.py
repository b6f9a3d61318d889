"""A shim worker in server mode: a DBOS program whose state lives on a Resonate server.

    python -m tests.shim.programs.server_worker URL EXECUTOR_ID RECORD_FILE [start]

It prints ``READY`` once its event stream is connected (so work routed to its group can reach it),
then serves until its stdin closes. Every step appends ``<step> by <executor>`` to RECORD_FILE
(shared by the workers of a test). With ``start`` it also starts ``pipeline`` as ``order-7``
itself, whose step 2 announces ``REACHED step 2`` and hangs the first time it runs anywhere.
"""

from __future__ import annotations

import logging
import sys
import threading
from datetime import datetime
from pathlib import Path

from shim import DBOS, Queue

url, executor_id, record_file = sys.argv[1:4]
start = sys.argv[4:] == ["start"]
record = Path(record_file)

DBOS(config={"name": "server-app", "resonate_url": url, "executor_id": executor_id,
              "resonate_lease_seconds": 1})
jobs = Queue("jobs", worker_concurrency=2)


def note(line: str) -> None:
    with record.open("a", encoding="utf-8") as out:
        out.write(f"{line} by {executor_id}\n")


def ran_before(line: str) -> bool:
    return record.exists() and any(r.startswith(f"{line} by ") for r in record.read_text().splitlines())


@DBOS.step()
def step(i: int) -> int:
    first = not ran_before(f"step {i}")
    note(f"step {i}")
    if i == 2 and first and start:
        print("REACHED step 2", flush=True)
        threading.Event().wait()  # until SIGKILL
    return i * i


@DBOS.workflow()
def child(i: int) -> int:
    return step(i) + 1


@DBOS.workflow()
def pipeline(n: int) -> dict[str, object]:
    squares = [step(i) for i in range(n)]
    return {"squares": squares, "child": child(n), "id": DBOS.workflow_id}


@DBOS.workflow()
def order(n: int) -> str:
    total = sum(step(i) for i in range(n))
    for i in range(n):
        DBOS.write_stream("progress", i)
    DBOS.close_stream("progress")
    DBOS.set_event("total", total)
    approval = DBOS.recv("approval", timeout_seconds=60)
    DBOS.sleep(0.1)
    return f"{approval}:{child(n)}"


@DBOS.workflow()
def job(k: int) -> tuple[int, str]:
    note(f"job {k}")
    return k, DBOS.workflow_id or ""


@DBOS.workflow()
def report(scheduled_at: datetime, context: str) -> str:
    """The target of a schedule a client creates: a tick's time and the schedule's context."""
    note(f"report {context}")
    return f"{context} at {scheduled_at.tzinfo} by {DBOS.workflow_id}"


@DBOS.workflow()
def waiting() -> str | None:
    return DBOS.recv("never", timeout_seconds=60)


class _Ready(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        if "SSE connection established" in record.getMessage():
            print("READY", flush=True)


sse_log = logging.getLogger("resonate.connections.sse")
sse_log.setLevel(logging.INFO)
sse_log.addHandler(_Ready())
DBOS.launch()
if start:
    from shim import SetWorkflowID

    with SetWorkflowID("order-7"):
        DBOS.start_workflow(pipeline, 4)
sys.stdin.read()
DBOS.destroy()
