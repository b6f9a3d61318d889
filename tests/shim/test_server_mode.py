"""Server mode: shim workers and a DBOSClient in separate processes, all on one Resonate server.

The workers are tests/shim/programs/server_worker.py; the client runs in the test process. Waits
are on the programs' own announcements (READY, REACHED) and on durable results, never on time.
"""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path

import pytest

from shim import DBOSClient
from shim._backend import EmbeddedStore, Server, client_server, select
from shim.errors import DBOSException, ShimUnsupportedError
from tests.support.resonate_server import running_server

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60


class Worker:
    """A server_worker process; its stdout lines arrive on ``lines``."""

    def __init__(self, url: str, executor_id: str, record: Path, *extra: str,
                 program: str = "tests.shim.programs.server_worker") -> None:
        self.executor_id = executor_id
        self.process = subprocess.Popen(
            [sys.executable, "-m", program, url, executor_id, str(record), *extra],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.strip())
        self.lines.put("<exit>")

    def wait_for(self, announcement: str) -> None:
        while (line := self.lines.get(timeout=TIMEOUT)) != announcement:
            if line == "<exit>":
                pytest.fail(f"{self.executor_id} exited: {self.process.communicate()[1][-3000:]}")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(TIMEOUT)

    def stop(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                self.process.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()


@contextmanager
def workers(tmp_path: Path, *names: str, start: str | None = None) -> Iterator[tuple[str, list[Worker], Path]]:
    """A server, and a ready worker per name (``start``: the one that starts ``pipeline`` itself)."""
    record = tmp_path / "record"
    with running_server(None) as url, ExitStack() as stack:
        started = []
        for name in names:
            worker = Worker(url, name, record, *(["start"] if name == start else []))
            stack.callback(worker.stop)
            started.append(worker)
        for worker in started:
            worker.wait_for("READY")
        yield url, started, record


@contextmanager
def client(url: str) -> Iterator[DBOSClient]:
    dbos_client = DBOSClient(system_database_url=f"resonate+{url}", application_name="server-app")
    try:
        yield dbos_client
    finally:
        dbos_client.destroy()


def runs(record: Path) -> Counter[str]:
    """How often each step ran, whichever worker ran it."""
    return Counter(line.split(" by ")[0] for line in record.read_text(encoding="utf-8").splitlines())


@pytest.mark.slow
def test_a_client_in_another_process_drives_a_workflow_on_a_worker(tmp_path: Path) -> None:
    with workers(tmp_path, "worker-a") as (url, _, record), client(url) as dbos_client:
        handle = dbos_client.enqueue({"queue_name": "jobs", "workflow_name": "order", "workflow_id": "order-1"}, 3)
        assert dbos_client.get_event("order-1", "total", timeout_seconds=TIMEOUT) == 0 + 1 + 4
        assert list(dbos_client.read_stream("order-1", "progress")) == [0, 1, 2]
        dbos_client.send("order-1", "approved", "approval")
        assert handle.get_result() == "approved:10"
        assert dbos_client.retrieve_workflow("order-1").get_status().status == "SUCCESS"
        listed = {w.workflow_id: w for w in dbos_client.list_workflows()}
        assert set(listed) == {"order-1", "order-1-12"}  # the child's id counts the parent's operations
        assert listed["order-1"].queue_name == "jobs" and listed["order-1-12"].parent_workflow_id == "order-1"
        steps = dbos_client.list_workflow_steps("order-1")
        assert [s["function_name"] for s in steps][:3] == ["step", "step", "step"]

        waiting = dbos_client.enqueue({"queue_name": "jobs", "workflow_name": "waiting", "workflow_id": "w-1"})
        dbos_client.cancel_workflow("w-1")
        assert dbos_client.retrieve_workflow("w-1").get_status().status == "CANCELLED"
        forked = dbos_client.fork_workflow("order-1", 2)
        dbos_client.send(forked.workflow_id, "again", "approval")
        assert forked.get_result() == "again:10"
        assert waiting.workflow_id == "w-1"
    assert runs(record)["step 0"] == 1  # the fork copied step 0 (function id 1), not the rest


@pytest.mark.slow
def test_a_schedule_a_client_creates_in_another_process_is_fired_on_a_worker(tmp_path: Path) -> None:
    with workers(tmp_path, "worker-a") as (url, _, record), client(url) as dbos_client:
        dbos_client.create_schedule(schedule_name="nightly", workflow_name="report", schedule="0 2 * * *",
                                    context="emea")
        with pytest.raises(DBOSException, match="Schedule 'nightly' already exists"):
            dbos_client.create_schedule(schedule_name="nightly", workflow_name="report", schedule="0 3 * * *")
        assert [s["schedule_name"] for s in dbos_client.list_schedules()] == ["nightly"]
        dbos_client.pause_schedule("nightly")
        schedule = dbos_client.get_schedule("nightly")
        assert schedule is not None
        assert (schedule["status"], schedule["context"], schedule["application_name"]) == ("PAUSED", "emea",
                                                                                           "server-app")
        handle = dbos_client.trigger_schedule("nightly")  # a paused schedule fires when triggered, as in DBOS
        assert handle.workflow_id.startswith("sched-nightly-trigger-")
        assert handle.get_result() == f"emea at UTC by {handle.workflow_id}"
        assert dbos_client.retrieve_workflow(handle.workflow_id).get_status().queue_name == "_dbos_internal_queue"
        backfilled = dbos_client.backfill_schedule("nightly", datetime(2030, 1, 1), datetime(2030, 1, 3, 2))
        assert [h.workflow_id for h in backfilled] == ["sched-nightly-2030-01-01T02:00:00+00:00",
                                                       "sched-nightly-2030-01-02T02:00:00+00:00"]
        assert [h.get_result().split(" by ")[0] for h in backfilled] == ["emea at UTC"] * 2
        statuses = dbos_client.list_workflows(schedule_name="nightly")
        assert len(statuses) == 3 and {w.name for w in statuses} == {"report"}
        dbos_client.delete_schedule("nightly")
        assert dbos_client.get_schedule("nightly") is None
        with pytest.raises(DBOSException, match="Schedule 'nightly' does not exist"):
            dbos_client.trigger_schedule("nightly")
    assert runs(record) == Counter({"report emea": 3})


@pytest.mark.slow
def test_two_workers_share_a_queue(tmp_path: Path) -> None:
    with workers(tmp_path, "worker-a", "worker-b") as (url, _, record), client(url) as dbos_client:
        handles = [dbos_client.enqueue({"queue_name": "jobs", "workflow_name": "job", "workflow_id": f"job-{k}"}, k)
                   for k in range(6)]
        assert [h.get_result() for h in handles] == [(k, f"job-{k}") for k in range(6)]
        by_worker = Counter(line.split(" by ")[1] for line in record.read_text(encoding="utf-8").splitlines())
    assert runs(record) == Counter({f"job {k}": 1 for k in range(6)})
    assert set(by_worker) == {"worker-a", "worker-b"}


@pytest.mark.slow
def test_a_killed_worker_s_workflow_is_finished_by_another_with_each_completed_step_run_once(tmp_path: Path) -> None:
    with workers(tmp_path, "worker-a", "worker-b", start="worker-a") as (url, (worker_a, _), record):
        worker_a.wait_for("REACHED step 2")
        worker_a.kill()
        with client(url) as dbos_client:  # the lease lapses, the server hands order-7 to worker-b
            result = dbos_client.retrieve_workflow("order-7").get_result()
    assert result == {"squares": [0, 1, 4, 9], "child": 17, "id": "order-7"}
    assert runs(record) == Counter({"step 0": 1, "step 1": 1, "step 2": 2, "step 3": 1, "step 4": 1})
    assert "step 3 by worker-b" in record.read_text(encoding="utf-8")


# -- selecting the backend -------------------------------------------------------------------------


def test_the_config_url_wins_over_the_environment_which_wins_over_the_store() -> None:
    env = {"RESONATE_URL": "http://env:8001"}
    configured = select({"name": "app", "resonate_url": "http://conf:8001", "executor_id": "w1"}, env)
    assert isinstance(configured, Server)
    assert (configured.url, configured.group, configured.pid) == ("http://conf:8001", "app", "w1")
    from_url = select({"name": "app", "system_database_url": "resonate+http://db:8001"}, env)
    assert isinstance(from_url, Server) and from_url.url == "http://db:8001"
    from_env = select({"name": "app", "system_database_url": "sqlite:///app.sqlite", "resonate_group": "g"}, env)
    assert isinstance(from_env, Server) and (from_env.url, from_env.group) == ("http://env:8001", "g")
    from_host = select({"name": "app"}, {"RESONATE_HOST": "h", "RESONATE_PORT": "9"})
    assert isinstance(from_host, Server) and from_host.url == "http://h:9"
    assert from_host.pid.startswith("app-") and from_host.pid != select({"name": "app"}, {"RESONATE_HOST": "h"}).pid


def test_without_a_server_url_the_store_is_used_whatever_else_the_environment_holds() -> None:
    assert select({"name": "app"}, {"DBOS_SYSTEM_DATABASE_URL": "x", "RESONATE_TOKEN": "t"}) == EmbeddedStore("app.sqlite")
    assert select({"name": "app", "system_database_url": "sqlite:///:memory:"}, {}) == EmbeddedStore(None)


def test_a_client_names_its_workers_group() -> None:
    server = client_server("resonate+http://h:1?group=workers", None, {})
    assert server is not None and (server.url, server.group) == ("http://h:1", "workers")
    assert client_server("sqlite:///app.sqlite", "app", {}) is None
    with pytest.raises(ShimUnsupportedError, match="application_name"):
        DBOSClient(system_database_url="resonate+http://127.0.0.1:1")


# -- DBOS's behaviour, measured: differential cases with the shim on a server ------------------------

SERVER_CASES = ["workflow_call_runs_durably", "child_ids_count_parent_operations", "durable_sleep",
                "same_id_reraises_stored_exception", "messages_kept_fifo_per_topic",
                "events_last_writer_wins_while_running", "streams", "dbos_client",
                "list_workflows_filters_and_steps", "queue_statuses_priority_and_deduplication",
                "dbos_client_wait_first_and_delete"]


@pytest.mark.slow
@pytest.mark.parametrize("name", SERVER_CASES)
def test_differential_case_on_a_server_gives_dbos_s_trace(name: str) -> None:
    from tests.differential.harness import assert_same_trace, run_on_server
    from tests.differential.test_semantics import CASES

    source, dbos_trace = CASES[name]  # the golden trace test_semantics checks real DBOS against
    assert_same_trace(dbos_trace, run_on_server(source), "dbos", "shim on a server")
