"""A DBOS program run on the shim in a child process that the test kills with SIGKILL.

    python -m tests.shim.programs.crashing DB_FILE RECORD_FILE MODE [CRASH_AT]

MODE: start | recover (the pipeline workflow), doomed | doomed-status (a workflow that kills its
process every time it runs). Every step body appends its index to RECORD_FILE. With CRASH_AT, the
step of that index (or "sleep", the sleep) announces itself on stdout and then waits to be killed.
"""

from __future__ import annotations

import sys
import threading

from shim import DBOS, SetWorkflowID

db_file, record_file, mode = sys.argv[1:4]
crash_at = sys.argv[4] if len(sys.argv) > 4 else None

DBOS(config={"name": "crash-app", "system_database_url": f"sqlite:///{db_file}"})


def announce_and_hang(where: str) -> None:
    print(f"REACHED {where}", flush=True)
    threading.Event().wait()  # until SIGKILL


@DBOS.step()
def step(i: int) -> int:
    with open(record_file, "a", encoding="utf-8") as record:
        record.write(f"step {i}\n")
    if crash_at == str(i):
        announce_and_hang(f"step {i}")
    return i * i


@DBOS.step()
def before_sleep() -> None:
    if crash_at == "sleep":
        print("REACHED sleep", flush=True)


@DBOS.workflow()
def child(i: int) -> int:
    return step(i) + 1


@DBOS.workflow()
def pipeline(n: int) -> dict[str, object]:
    squares = [step(i) for i in range(n)]
    from_child = child(n)
    before_sleep()
    DBOS.sleep(1.5)
    after = step(n + 1)
    return {"squares": squares, "child": from_child, "after": after, "id": DBOS.workflow_id}


@DBOS.workflow(max_recovery_attempts=1)
def doomed() -> None:
    with open(record_file, "a", encoding="utf-8") as record:
        record.write("doomed\n")
    announce_and_hang("doomed")


DBOS.launch()
if mode == "doomed":
    with SetWorkflowID("doomed-1"):
        doomed()
elif mode == "doomed-status":
    handle = DBOS.retrieve_workflow("doomed-1")
    try:
        handle.get_result()
    except Exception as exc:  # noqa: BLE001 - the type is what the test reads
        print("RESULT", {"error": type(exc).__name__, "status": handle.get_status().status}, flush=True)
elif mode == "start":
    with SetWorkflowID("order-7"):
        print("RESULT", pipeline(5), flush=True)
else:
    print("RESULT", DBOS.retrieve_workflow("order-7").get_result(), flush=True)
DBOS.destroy()
