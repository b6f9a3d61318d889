"""Workflow management on the shim: listing workflows and their steps (shim/_management.py).

What real DBOS returns for the same programs is checked by tests/differential (the
``list_workflows_*`` and ``cancel_*``/``resume_*``/``fork_*`` cases); these tests cover what only the
shim has: the promises it searches, the store surviving a restart, the async forms.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from shim import DBOS, SetWorkflowID, _dbos
from shim import _records as rec


@DBOS.step()
def plus_one(x: int) -> int:
    return x + 1


@DBOS.workflow()
def mgmt_child(x: int) -> int:
    return plus_one(x)


@DBOS.workflow()
def mgmt_parent(x: int) -> int:
    DBOS.set_event("seen", x)
    DBOS.send(DBOS.workflow_id, "note", "topic")
    got = DBOS.recv("topic", 1)
    assert got == "note"
    return mgmt_child(plus_one(x))


@DBOS.workflow()
def mgmt_lister() -> list[str]:
    plus_one(1)
    return [w.workflow_id for w in DBOS.list_workflows(name="mgmt_child")]


def _launch(url: str) -> None:
    DBOS(config={"name": "shim-mgmt", "system_database_url": url})
    DBOS.launch()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'mgmt.sqlite'}"
    _launch(url)
    yield url
    DBOS.destroy()


def test_only_workflows_are_listed_not_messages_events_or_markers(dbos: type[DBOS]) -> None:
    with SetWorkflowID("m-1"):
        assert mgmt_parent(1) == 3
    listed = DBOS.list_workflows()
    assert [(w.workflow_id, w.name, w.status) for w in listed] == [
        ("m-1", "mgmt_parent", "SUCCESS"), ("m-1-6", "mgmt_child", "SUCCESS")]
    # the store holds more than workflows: events, messages, execution markers
    lifecycle = _dbos._operations().engine.lifecycle
    everything = _dbos._operations()._block(lifecycle.search({}))
    assert len(everything) > 2 * len(listed)
    assert all(p.tags.get(rec.TAG_KIND) == rec.KIND_WORKFLOW for p in
               _dbos._operations()._block(lifecycle.search(rec.workflow_search_tags())))


def test_steps_and_listing_survive_a_restart(store: str) -> None:
    with SetWorkflowID("m-2"):
        mgmt_parent(5)
    before = DBOS.list_workflow_steps("m-2")
    listed = [(w.workflow_id, w.status, w.output) for w in DBOS.list_workflows()]
    DBOS.destroy()
    _launch(store)
    assert DBOS.list_workflow_steps("m-2") == before
    assert [(w.workflow_id, w.status, w.output) for w in DBOS.list_workflows()] == listed
    assert [s["function_name"] for s in before] == [
        "DBOS.setEvent", "DBOS.send", "DBOS.recv", "DBOS.sleep", "plus_one", "mgmt_child", "DBOS.getResult"]


def test_listing_inside_a_workflow_is_one_recorded_operation(dbos: type[DBOS]) -> None:
    with SetWorkflowID("m-child"):
        mgmt_child(1)
    with SetWorkflowID("m-3"):
        assert mgmt_lister() == ["m-child"]
    steps = DBOS.list_workflow_steps("m-3")
    assert [(s["function_id"], s["function_name"]) for s in steps] == [(1, "plus_one"), (2, "DBOS.listWorkflows")]
    assert [w.workflow_id for w in steps[1]["output"]] == ["m-child"]


def test_async_forms(dbos: type[DBOS]) -> None:
    with SetWorkflowID("m-4"):
        mgmt_child(2)

    async def main() -> tuple[list[str], list[str]]:
        listed = await DBOS.list_workflows_async(workflow_id_prefix="m-")
        steps = await DBOS.list_workflow_steps_async("m-4")
        return [w.workflow_id for w in listed], [s["function_name"] for s in steps]

    assert asyncio.run(main()) == (["m-4"], ["plus_one"])


# -- cancel, resume, fork, timeouts -----------------------------------------------------------------

import threading  # noqa: E402
import time  # noqa: E402

from shim import (  # noqa: E402
    DBOSClient,
    Queue,
    SetWorkflowTimeout,
    _queues,  # noqa: E402
)
from shim.errors import DBOSAwaitedWorkflowCancelledError, ShimUnsupportedError  # noqa: E402

WAIT = 10
gate = threading.Event()
marks: list[str] = []


@DBOS.step()
def mark(name: str) -> str:
    marks.append(name)
    return name


@DBOS.workflow()
def gated(name: str) -> str:
    mark(f"{name}:before")
    assert gate.wait(WAIT)
    mark(f"{name}:after")
    return name


@DBOS.workflow()
def parent_of_gated() -> str:
    child = DBOS.start_workflow(gated, "child")
    mark("parent:started")
    return child.get_result()


@pytest.fixture(autouse=True)
def _reset() -> Iterator[None]:
    gate.clear()
    marks.clear()
    yield
    gate.set()
    _queues.clear_registry()


def _wait_until(check: object) -> None:
    deadline = time.monotonic() + WAIT
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.005)


def test_cancel_children_cancels_the_whole_tree(dbos: type[DBOS]) -> None:
    with SetWorkflowID("tree"):
        DBOS.start_workflow(parent_of_gated)
    _wait_until(lambda: "child:before" in marks and "parent:started" in marks)
    DBOS.cancel_workflow("tree", cancel_children=True)
    assert [DBOS.get_workflow_status(w).status for w in ("tree", "tree-1")] == ["CANCELLED", "CANCELLED"]
    gate.set()
    with pytest.raises(DBOSAwaitedWorkflowCancelledError):
        DBOS.retrieve_workflow("tree-1").get_result()
    assert "child:after" not in marks


def test_a_queued_workflow_s_timeout_starts_when_it_is_dispatched(dbos: type[DBOS]) -> None:
    queue = Queue("timed", concurrency=1)
    first = queue.enqueue(gated, "first")
    with SetWorkflowTimeout(0.3):
        second = queue.enqueue(gated, "second")
    status = second.get_status()
    assert (status.status, status.workflow_timeout_ms, status.workflow_deadline_epoch_ms) == ("ENQUEUED", 300, None)
    time.sleep(0.4)  # longer than the timeout, all of it spent waiting in the queue
    assert second.get_status().status == "ENQUEUED"
    gate.set()
    assert first.get_result() == "first" and second.get_result() == "second"


def test_resume_after_a_restart_does_not_rerun_completed_steps(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'resume.sqlite'}"
    _launch(url)
    try:
        with SetWorkflowID("r-1"):
            DBOS.start_workflow(gated, "r")
        _wait_until(lambda: "r:before" in marks)
        DBOS.cancel_workflow("r-1")
        gate.set()  # the body goes on, and stops at its next step: it was cancelled
        with pytest.raises(DBOSAwaitedWorkflowCancelledError):
            DBOS.retrieve_workflow("r-1").get_result()
    finally:
        DBOS.destroy()
    _launch(url)
    try:
        assert DBOS.get_workflow_status("r-1").status == "CANCELLED"
        assert DBOS.resume_workflow("r-1").get_result() == "r"
        assert marks == ["r:before", "r:after"]
        assert [s["function_name"] for s in DBOS.list_workflow_steps("r-1")] == ["mark", "mark"]
        assert [(w.workflow_id, w.status) for w in DBOS.list_workflows()] == [("r-1", "SUCCESS")]
    finally:
        DBOS.destroy()


def test_the_client_enqueues_lists_cancels_resumes_and_forks(dbos: type[DBOS]) -> None:
    Queue("client-q", concurrency=1)
    client = DBOSClient(system_database_url="sqlite:///:memory:")
    first = client.enqueue({"workflow_name": "gated", "queue_name": "client-q", "workflow_id": "cl-1"}, "one")
    second = client.enqueue({"workflow_name": "mgmt_child", "queue_name": "client-q", "workflow_id": "cl-2",
                             "priority": 3}, 4)
    assert [(w.workflow_id, w.status) for w in client.list_queued_workflows()] == [
        ("cl-1", "PENDING"), ("cl-2", "ENQUEUED")]
    client.cancel_workflow("cl-2")
    assert second.get_status().status == "CANCELLED"
    gate.set()
    assert first.get_result() == "one"
    assert client.resume_workflow("cl-2").get_result() == 5
    with SetWorkflowID("cl-fork"):
        forked = client.fork_workflow("cl-1", 2)
    assert forked.get_result() == "one" and marks.count("one:before") == 1 and marks.count("one:after") == 2
    assert [s["function_name"] for s in client.list_workflow_steps("cl-fork")] == ["mark", "mark"]
    assert [w.workflow_id for w in client.list_workflows(forked_from="cl-1")] == ["cl-fork"]
    with pytest.raises(ShimUnsupportedError, match="authenticated_user"):
        client.enqueue({"workflow_name": "gated", "queue_name": "client-q", "authenticated_user": "ann"})
