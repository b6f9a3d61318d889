"""A ``send_bulk`` outside a workflow whose process dies after its first message: the next launch on
the store delivers the rest, each message once (shim/_messaging.py, the ``W:send-bulk/B`` journal)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60

PROGRAM = textwrap.dedent(
    """
    import os
    import sys

    from shim import DBOS, SendMessage, SetWorkflowID, _messaging

    db_file, mode = sys.argv[1:3]
    DBOS(config={"name": "bulk-crash", "system_database_url": f"sqlite:///{db_file}"})


    @DBOS.workflow()
    def box():
        return [DBOS.recv("t", 30), DBOS.recv("t", 30), DBOS.recv("t", 0.2)]


    def die_before_the_second_message():
        deliver = _messaging.deliver
        delivered = []

        async def deliver_once(*args):
            if delivered:
                os._exit(9)  # as kill -9: nothing after the first message reaches the store
            delivered.append(args)
            await deliver(*args)

        _messaging.deliver = deliver_once


    DBOS.launch()
    if mode == "crash":
        with SetWorkflowID("bulk-box"):
            DBOS.start_workflow(box)
        die_before_the_second_message()
        DBOS.send_bulk([SendMessage("bulk-box", "first", "t"), SendMessage("bulk-box", "second", "t")])
        print("NOT REACHED", flush=True)
    else:
        print("RESULT", DBOS.retrieve_workflow("bulk-box").get_result(), flush=True)
    DBOS.destroy()
    """
)


def _run(tmp_path: Path, mode: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", PROGRAM, str(tmp_path / "app.sqlite"), mode], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False)


@pytest.mark.slow
def test_a_send_bulk_cut_short_by_a_crash_is_finished_at_the_next_launch(tmp_path: Path) -> None:
    crashed = _run(tmp_path, "crash")
    assert crashed.returncode == 9, crashed.stderr[-3000:]
    assert "NOT REACHED" not in crashed.stdout
    recovered = _run(tmp_path, "recover")
    assert recovered.returncode == 0, recovered.stderr[-3000:]
    assert "RESULT ['first', 'second', None]" in recovered.stdout
