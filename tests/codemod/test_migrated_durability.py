"""A migrated program keeps DBOS's durability once it runs on a Resonate server, as its D2R102 TODO says.

One checkout workflow of three steps; its process is killed with SIGKILL inside the second step, then started
again. Under real DBOS (SQLite system database) the restarted process recovers the workflow at launch. Migrated
by ``dbos2resonate migrate``, with its ``Resonate(...)`` given a server URL (what the D2R102 TODO tells a person
to do) and a one-second lease, it runs against ``dbos2resonate serve``: the restarted process takes the
workflow over once the dead one's lease lapses. Both must log the same thing: every step that completed before
the kill ran exactly once, the killed step ran again, and the workflow's result is the same.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from codemod.engine import migrate_source
from tests.support.resonate_server import running_server

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 120

PROGRAM = '''\
import os
import signal
from pathlib import Path

from dbos import DBOS, DBOSConfig, SetWorkflowID

config: DBOSConfig = {
    "name": "checkout-crash",
    "system_database_url": os.environ["D2R_DB_URL"],
}
DBOS(config=config)

LOG = Path(os.environ["D2R_LOG"])


def note(line: str) -> None:
    with LOG.open("a") as fh:
        fh.write(line + "\\n")


@DBOS.step()
def charge(order: str) -> int:
    note(f"charge {order}")
    return 10


@DBOS.step()
def reserve(order: str) -> int:
    note(f"reserve {order}")
    if os.environ.get("D2R_CRASH") == "1":
        os.kill(os.getpid(), signal.SIGKILL)
    return 20


@DBOS.step()
def ship(order: str) -> int:
    note(f"ship {order}")
    return 30


@DBOS.workflow()
def checkout(order: str) -> int:
    return charge(order) + reserve(order) + ship(order)


def main() -> dict:
    DBOS.launch()
    with SetWorkflowID("checkout-1"):
        total = checkout("o1")
    note(f"total {total}")
    DBOS.destroy()
    return {"total": total}
'''

EXPECTED_LOG = ["charge o1", "reserve o1", "reserve o1", "ship o1", "total 60"]


def _run(module: str, program: Path, env: dict[str, str], crash: bool) -> subprocess.CompletedProcess[str]:
    env = {**env, "D2R_CRASH": "1" if crash else "0"}
    return subprocess.run(
        [sys.executable, "-m", module, str(program)] if module == "fixtures.run_migrated"
        else [sys.executable, "-m", module, "--runtime", "dbos", "--file", str(program)],
        cwd=program.parent, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )


def _crash_then_restart(module: str, program: Path, env: dict[str, str]) -> tuple[list[str], dict]:
    first = _run(module, program, env, crash=True)
    assert first.returncode == -signal.SIGKILL, first.stderr[-4000:]
    second = _run(module, program, env, crash=False)
    assert second.returncode == 0, second.stderr[-4000:]
    return Path(env["D2R_LOG"]).read_text().splitlines(), json.loads(second.stdout)


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RESONATE_URL", "RESONATE_HOST")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env["D2R_DB_URL"] = f"sqlite:///{tmp / 'dbos.sqlite'}"
    env["D2R_LOG"] = str(tmp / "log.txt")
    return env


def on_server(migrated: str, url: str) -> str:
    """The migrated module with its Resonate on the server at ``url``: the D2R102 TODO's ``url=``, and a short lease
    so that the restarted process need not wait long for the dead one's."""
    assert "TODO(dbos2resonate): D2R102" in migrated and "pass url=" in migrated
    connected, count = re.subn(r"Resonate\(env=\{\}, ", f"Resonate(url={url!r}, ttl=timedelta(seconds=1), ", migrated)
    assert count == 1, migrated
    return "from datetime import timedelta\n" + connected


def test_a_migrated_program_on_a_server_resumes_after_kill_9_like_dbos(tmp_path: Path) -> None:
    (tmp_path / "dbos_run").mkdir()
    original = tmp_path / "dbos_run" / "checkout.py"
    original.write_text(PROGRAM)
    dbos_log, dbos_trace = _crash_then_restart("fixtures.runner", original, _env(tmp_path / "dbos_run"))
    assert dbos_log == EXPECTED_LOG and dbos_trace == {"total": 60}

    result = migrate_source(PROGRAM, "checkout.py")
    assert result.error is None and result.after is not None
    (tmp_path / "migrated_run").mkdir()
    migrated = tmp_path / "migrated_run" / "checkout.py"
    with running_server(tmp_path / "resonate.sqlite") as url:
        migrated.write_text(on_server(result.after, url))
        log, trace = _crash_then_restart("fixtures.run_migrated", migrated, _env(tmp_path / "migrated_run"))
    assert (log, trace) == (dbos_log, dbos_trace)
