"""A workflow waiting in ``DBOS.recv`` survives SIGKILL: its wait is a pending promise in the
durable store, so after a restart it resumes, runs no completed step again, and receives a message
sent by the restarted application or resolved into the store by an outside process while the
application was down."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60

PROGRAM = textwrap.dedent(
    """
    import sys
    import threading

    import shim._dbos
    from shim import DBOS, SetWorkflowID

    db_file, record_file, mode = sys.argv[1:4]
    DBOS(config={"name": "hitl-crash", "system_database_url": f"sqlite:///{db_file}"})


    def record(what):
        with open(record_file, "a", encoding="utf-8") as out:
            out.write(what + "\\n")


    @DBOS.step()
    def reserve():
        record("reserve")
        return "reserved"


    def announce_when_waiting():
        # Say so once the workflow's recv has created the promise it waits on.
        promises = shim._dbos._instance.launched.store.state.promises
        while "approval-1:msg/decision/0" not in promises:
            threading.Event().wait(0.01)
        print("REACHED recv", flush=True)


    @DBOS.step()
    def finish(decision):
        record(f"finish {decision}")
        return decision


    @DBOS.workflow()
    def approval():
        reserve()
        DBOS.set_event("state", "waiting for approval")
        decision = DBOS.recv("decision", timeout_seconds=600)
        return {"decision": finish(decision), "child": DBOS.start_workflow(noop).workflow_id}


    @DBOS.workflow()
    def noop():
        return None


    DBOS.launch()
    if mode == "start":
        threading.Thread(target=announce_when_waiting, daemon=True).start()
        with SetWorkflowID("approval-1"):
            DBOS.start_workflow(approval).get_result()
    else:
        if mode == "send":
            print("STATE", DBOS.get_event("approval-1", "state", timeout_seconds=10), flush=True)
            DBOS.send("approval-1", "approved", "decision")
        print("RESULT", DBOS.retrieve_workflow("approval-1").get_result(), flush=True)
    DBOS.destroy()
    """
)

OUTSIDE = textwrap.dedent(
    """
    import asyncio, sys, time
    from resonate.resonate import Resonate
    from resonate.retry import Never
    from resonate.types import PromiseSettleReq, Value
    from shim.store import open_store

    async def main(path, promise_id, data):
        store = open_store(path)
        resonate = Resonate(network=store, retry_policy=Never(), env={})
        try:
            await resonate.promises.create(promise_id, int(time.time() * 1000) + 86_400_000, Value(), {})
            record = await resonate.promises.sender.promise_settle(
                PromiseSettleReq(id=promise_id, state="resolved", value=Value(data=data)))
            print(record.state)
        finally:
            await resonate.stop()
            await store.aclose()

    asyncio.run(main(*sys.argv[1:4]))
    """
)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RESONATE_URL", "RESONATE_HOST")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    return env


def _start(tmp_path: Path, mode: str) -> subprocess.Popen[str]:
    program = tmp_path / "approval_app.py"
    program.write_text(PROGRAM, encoding="utf-8")
    return subprocess.Popen(
        [sys.executable, str(program), str(tmp_path / "app.sqlite"), str(tmp_path / "record"), mode],
        cwd=tmp_path, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _kill_once_waiting(process: subprocess.Popen[str]) -> None:
    assert process.stdout is not None
    for line in process.stdout:  # the program's own announcement: no timing involved
        if line.strip() == "REACHED recv":
            process.send_signal(signal.SIGKILL)
            process.wait(TIMEOUT)
            return
    pytest.fail(f"the program ended without reaching recv: {process.communicate()[1][-2000:]}")


def _lines(process: subprocess.Popen[str]) -> dict[str, str]:
    out, err = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0, err[-3000:]
    return dict(line.split(" ", 1) for line in out.splitlines() if line.startswith(("RESULT ", "STATE ")))


def _runs(tmp_path: Path) -> Counter[str]:
    return Counter((tmp_path / "record").read_text(encoding="utf-8").splitlines())


@pytest.mark.slow
def test_a_waiting_recv_survives_sigkill_and_receives_after_restart(tmp_path: Path) -> None:
    _kill_once_waiting(_start(tmp_path, "start"))
    out = _lines(_start(tmp_path, "send"))
    assert out["STATE"] == "waiting for approval"
    assert out["RESULT"] == "{'decision': 'approved', 'child': 'approval-1-6'}"
    assert _runs(tmp_path) == Counter({"reserve": 1, "finish approved": 1})


@pytest.mark.slow
def test_an_outside_process_delivers_into_the_store_while_the_app_is_down(tmp_path: Path) -> None:
    _kill_once_waiting(_start(tmp_path, "start"))
    data = base64.b64encode(json.dumps({"approved_by": "ops"}).encode()).decode()
    outside = subprocess.run(
        [sys.executable, "-c", OUTSIDE, str(tmp_path / "app.sqlite"), "approval-1:msg/decision/0", data],
        cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )
    assert outside.returncode == 0, outside.stderr[-3000:]
    assert outside.stdout.strip() == "resolved"
    out = _lines(_start(tmp_path, "recover"))
    assert out["RESULT"] == "{'decision': {'approved_by': 'ops'}, 'child': 'approval-1-6'}"
    assert _runs(tmp_path) == Counter({"reserve": 1, "finish {'approved_by': 'ops'}": 1})
