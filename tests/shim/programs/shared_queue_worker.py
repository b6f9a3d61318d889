"""A shim worker in server mode whose queues have global limits, for tests/shim/test_shared_queues.py.

    python -m tests.shim.programs.shared_queue_worker URL EXECUTOR_ID RECORD_FILE

Prints ``READY`` once its event stream is connected, then serves until its stdin closes. A ``timed``
job appends ``start <k> <time>`` and ``end <k> <time>`` lines (with ``by <executor>``) to RECORD_FILE;
``hold`` announces ``HOLDING`` and hangs the first time it runs anywhere (until SIGKILL).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from pathlib import Path

from shim import DBOS, Queue

url, executor_id, record_file = sys.argv[1:4]
record = Path(record_file)
WORK_SECONDS = 0.3

DBOS(config={"name": "shared-queues", "resonate_url": url, "executor_id": executor_id,
              "resonate_lease_seconds": 1})
Queue("limited", concurrency=2, limiter={"limit": 3, "period": 1.0}, polling_interval_sec=0.05)
Queue("single", concurrency=1, polling_interval_sec=0.05)


def note(line: str) -> None:
    with record.open("a", encoding="utf-8") as out:
        out.write(f"{line} by {executor_id}\n")


@DBOS.workflow()
def timed(k: int) -> int:
    note(f"start {k} {time.time()}")
    time.sleep(WORK_SECONDS)  # the job's work: what overlapping jobs would overlap in
    note(f"end {k} {time.time()}")
    return k


@DBOS.step()
def hold_step() -> str:
    if not (record.exists() and "holding" in record.read_text(encoding="utf-8")):
        note("holding")
        print("HOLDING", flush=True)
        threading.Event().wait()  # until SIGKILL
    return executor_id


@DBOS.workflow()
def hold() -> str:
    return hold_step()


class _Ready(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        if "SSE connection established" in record.getMessage():
            print("READY", flush=True)


sse_log = logging.getLogger("resonate.connections.sse")
sse_log.setLevel(logging.INFO)
sse_log.addHandler(_Ready())
DBOS.launch()
sys.stdin.read()
DBOS.destroy()
