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

from shim import DBOS, SetWorkflowID
from shim import _dbos
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


def test_filters_the_shim_cannot_honour_are_refused(dbos: type[DBOS]) -> None:
    from shim.errors import ShimUnsupportedError

    with pytest.raises(ShimUnsupportedError, match="attributes"):
        DBOS.list_workflows(attributes={"k": "v"})
    with pytest.raises(ShimUnsupportedError, match="schedule_name"):
        DBOS.list_workflows(schedule_name="nightly")
