"""Delayed enqueues, debouncing, return-existing deduplication, delete, wait_first and listen_queues on the shim:
what only the shim can show (restarts of its store, the times bodies really started, the async forms).
Real DBOS's statuses and outcomes for the same calls are compared by tests/differential
(``enqueue_with_options_and_return_existing``, ``delete_workflows_and_wait_first``,
``delayed_enqueue_and_queue_table``).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shim import (
    DBOS,
    DBOSClient,
    Debouncer,
    DebouncerClient,
    EnqueueOptions,
    Queue,
    SetEnqueueOptions,
    SetWorkflowID,
    _queues,
)
from shim.errors import DBOSException, DBOSNonExistentWorkflowError
from tests.shim import test_queues

_launch = test_queues._launch
launched = test_queues.launched  # the same fixture: a launched, in-memory shim

WAIT = 10

started_at: dict[object, float] = {}
release = threading.Event()


@DBOS.workflow()
def stamped(key: object) -> object:
    started_at[key] = time.time()
    return key


@DBOS.workflow()
def held_open(key: str) -> str:
    started_at[key] = time.time()
    assert release.wait(WAIT)
    return key


@DBOS.workflow()
async def stamped_async(key: str) -> str:
    started_at[key] = time.time()
    return key


@DBOS.workflow()
def enqueues_twice() -> list[str]:
    """Two enqueues with one deduplication id under return-existing: both handles name the first."""
    options: EnqueueOptions = {"workflow_name": "held_open", "queue_name": "inner", "deduplication_id": "one",
                               "duplication_policy": "return-existing"}
    first = DBOS.enqueue_workflow_with_options(options, "inner-a")
    second = DBOS.enqueue_workflow_with_options(options, "inner-b")
    return [first.workflow_id, second.workflow_id]


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    started_at.clear()
    release.clear()
    yield
    release.set()
    _queues.clear_registry()


def test_a_delayed_workflow_starts_no_earlier_than_its_delay(launched: None) -> None:
    queue = Queue("delays")
    enqueued = time.time()
    with SetEnqueueOptions(delay_seconds=0.4), SetWorkflowID("late"):
        late = queue.enqueue(stamped, "late")
    with SetWorkflowID("now"):
        now = queue.enqueue(stamped, "now")
    assert now.get_result() == "now" and late.get_status().status == "DELAYED"
    assert late.get_result() == "late"
    assert started_at["late"] >= enqueued + 0.4 - 0.01  # observed, not assumed
    assert started_at["now"] < started_at["late"]
    status = late.get_status()
    assert status.status == "SUCCESS" and status.dequeued_at >= int(enqueued * 1000) + 400 - 10


def test_set_workflow_delay_moves_the_start_both_ways(launched: None) -> None:
    queue = Queue("moves")
    with SetEnqueueOptions(delay_seconds=60), SetWorkflowID("sooner"):
        sooner = queue.enqueue(stamped, "sooner")
    with SetEnqueueOptions(delay_seconds=0.05), SetWorkflowID("later"):
        later = queue.enqueue(stamped, "later")
    moved_at = time.time()
    DBOS.set_workflow_delay("later", delay_seconds=60)
    DBOS.set_workflow_delay("sooner", delay_until_epoch_ms=int(moved_at * 1000) + 200)
    assert sooner.get_result() == "sooner" and started_at["sooner"] >= moved_at + 0.2 - 0.01
    assert later.get_status().status == "DELAYED" and "later" not in started_at
    DBOS.resume_workflow("later")  # as in DBOS: a DELAYED workflow resumed runs now
    assert later.get_result() == "later"


def test_a_delay_is_durable_across_a_restart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'delay.sqlite'}"
    _launch(url)
    try:
        Queue("durable")
        with SetEnqueueOptions(delay_seconds=60), SetWorkflowID("kept"):
            DBOS.enqueue_workflow("durable", stamped, "kept")
        with SetEnqueueOptions(delay_seconds=60), SetWorkflowID("moved"):
            DBOS.enqueue_workflow("durable", stamped, "moved")
        DBOS.set_workflow_delay("moved", delay_seconds=0.6)
        moved_until = DBOS.get_workflow_status("moved").delay_until_epoch_ms
    finally:
        DBOS.destroy()
    _queues.clear_registry()
    _launch(url)
    try:
        Queue("durable")
        assert DBOS.get_workflow_status("kept").status == "DELAYED"
        assert DBOS.retrieve_workflow("moved").get_result() == "moved"
        assert started_at["moved"] * 1000 >= moved_until - 10  # the moved delay held across the restart
        assert DBOS.get_workflow_status("kept").status == "DELAYED" and "kept" not in started_at
    finally:
        DBOS.destroy()


def test_return_existing_inside_a_workflow_records_the_holder(launched: None) -> None:
    Queue("inner", concurrency=1)
    with SetWorkflowID("twice"):
        handle = DBOS.start_workflow(enqueues_twice)
    assert handle.get_result() == ["twice-1", "twice-1"]
    steps = DBOS.list_workflow_steps("twice")
    assert [(s["function_name"], s["child_workflow_id"]) for s in steps] == [
        ("held_open", "twice-1"), ("held_open", "twice-1")]
    assert DBOS.get_workflow_status("twice-2") is None
    release.set()
    assert DBOS.retrieve_workflow("twice-1").get_result() == "inner-a"


def test_async_forms(launched: None) -> None:
    queue = Queue("async-q")

    async def scenario() -> list[object]:
        handle = await DBOS.enqueue_workflow_with_options_async(
            {"workflow_name": "stamped_async", "queue_name": "async-q", "workflow_id": "a-1"}, "a")
        with SetWorkflowID("a-2"):
            other = await queue.enqueue_async(stamped_async, "b")
        first = await DBOS.wait_first_async([handle, other])
        await handle.get_result()
        await other.get_result()
        await DBOS.delete_workflow_async("a-1")
        await DBOS.set_workflow_delay_async("a-2", delay_seconds=1)  # finished: no effect
        return [first.workflow_id in ("a-1", "a-2"), await DBOS.get_workflow_status_async("a-1"),
                (await other.get_status()).status, [q.name for q in await DBOS.list_queues_async()]]

    assert asyncio.run(scenario()) == [True, None, "SUCCESS", []]


def test_wait_first_returns_a_workflow_that_finished_while_others_run(launched: None) -> None:
    with SetWorkflowID("open"):
        open_one = DBOS.start_workflow(held_open, "open")
    with SetWorkflowID("quick"):
        quick = DBOS.start_workflow(stamped, "quick")
    assert DBOS.wait_first([open_one, quick]) is quick
    assert open_one.get_status().status == "PENDING"
    DBOS.cancel_workflow("open")
    assert DBOS.wait_first([open_one]) is open_one  # cancelled counts as finished, as in DBOS


def test_delete_frees_a_queued_workflows_deduplication_id(launched: None) -> None:
    queue = Queue("dedup-delete", concurrency=1)
    with SetWorkflowID("holder"):
        queue.enqueue(held_open, "holder")
    with SetEnqueueOptions(deduplication_id="d"), SetWorkflowID("queued"):
        queued = queue.enqueue(stamped, "queued")
    DBOS.delete_workflow("queued")
    with pytest.raises(DBOSNonExistentWorkflowError):
        queued.get_result()
    with SetEnqueueOptions(deduplication_id="d"), SetWorkflowID("next"):
        after = queue.enqueue(stamped, "next")
    release.set()
    assert after.get_result() == "next" and "queued" not in started_at


def test_listen_queues_dispatches_only_the_queues_listened_to() -> None:
    DBOS(config={"name": "shim-listen", "system_database_url": "sqlite:///:memory:"})
    heard, ignored = Queue("heard"), Queue("ignored")
    DBOS.listen_queues([heard, "also"])
    with pytest.raises(DBOSException, match="more than once"):
        DBOS.listen_queues([heard])
    DBOS.launch()
    try:
        with pytest.raises(DBOSException, match="after DBOS is launched"):
            DBOS.listen_queues([ignored])
        waiting = ignored.enqueue(stamped, "ignored")
        assert heard.enqueue(stamped, "heard").get_result() == "heard"
        assert waiting.get_status().status == "ENQUEUED" and "ignored" not in started_at
    finally:
        DBOS.destroy()


@DBOS.workflow()
def debounces_inside() -> str:
    debouncer = Debouncer.create(stamped, queue="inner-debounce")
    first = debouncer.debounce("key", 60, "first")
    second = debouncer.debounce("key", 60, "second")
    assert first.workflow_id == second.workflow_id
    return first.workflow_id


def test_a_debounced_workflow_keeps_its_latest_inputs_and_delay_across_a_restart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'debounce.sqlite'}"
    _launch(url)
    try:
        debouncer = Debouncer.create(stamped, debounce_timeout_sec=0.8)
        first = debouncer.debounce("doc", 60, "v1")
        assert debouncer.debounce("doc", 60, "v2").workflow_id == first.workflow_id
        deadline = time.time() + 0.8
    finally:
        DBOS.destroy()
    _launch(url)
    try:
        assert first.workflow_id in [w.workflow_id for w in DBOS.list_queued_workflows(status="DELAYED")]
        assert DBOS.retrieve_workflow(first.workflow_id).get_result() == "v2"  # the latest call's inputs
        assert started_at["v2"] >= deadline - 0.05 and "v1" not in started_at  # capped by the timeout
    finally:
        DBOS.destroy()


def test_debouncing_inside_a_workflow_is_recorded_and_the_client_form(launched: None) -> None:
    Queue("inner-debounce")
    with SetWorkflowID("outer"):
        held = DBOS.start_workflow(debounces_inside).get_result()
    assert [s["function_name"] for s in DBOS.list_workflow_steps("outer")] == [
        "DBOS.debounce_delayed_workflow", "stamped", "DBOS.debounce_delayed_workflow"]
    assert DBOS.get_workflow_status(held).input == {"args": ("second",), "kwargs": {}}
    DBOS.set_workflow_delay(held, delay_seconds=0)
    assert DBOS.retrieve_workflow(held).get_result() == "second"
    client = DBOSClient(system_database_url="sqlite:///:memory:")
    debouncer = DebouncerClient(client, {"workflow_name": "stamped", "queue_name": "inner-debounce"})
    one = debouncer.debounce("c", 0.2, "c1")
    assert debouncer.debounce("c", 0.2, "c2").workflow_id == one.workflow_id
    assert one.get_result() == "c2"
