"""The shim's own contract: import forms, where user code runs, values and errors that round-trip.
Behaviour that DBOS defines is compared against real DBOS in tests/differential."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
import threading
import warnings
from pathlib import Path

import pytest

import shim
from shim import DBOS, SetWorkflowID
from shim._config import ShimConfigWarning
from shim.errors import (
    DBOSException,
    DBOSInitializationError,
    DBOSNonExistentWorkflowError,
    ShimUnsupportedError,
)

threads: dict[str, str] = {}


@dataclasses.dataclass(frozen=True)
class Order:
    id: int
    items: tuple[str, ...]


class Unpicklable(Exception):
    def __init__(self, a: int, b: int) -> None:
        super().__init__(f"{a}/{b}")
        self.lock = threading.Lock()


@DBOS.step()
def where_step() -> str:
    threads["step"] = threading.current_thread().name
    return "ok"


@DBOS.workflow()
def where_workflow() -> str:
    threads["workflow"] = threading.current_thread().name
    return where_step()


@DBOS.step()
def make_order(n: int) -> Order:
    return Order(n, ("a", "b"))


@DBOS.workflow()
def order_workflow(n: int) -> tuple[Order, set[int]]:
    return make_order(n), {n, n + 1}


@DBOS.step()
def fails_oddly() -> None:
    raise Unpicklable(1, 2)


@DBOS.workflow()
def unpicklable_workflow() -> str:
    try:
        fails_oddly()
    except Unpicklable as exc:
        return f"caught {type(exc).__name__} {exc}"
    return "not raised"


@DBOS.step()
async def async_step(x: int) -> tuple[int, int | None]:
    await asyncio.sleep(0)
    return x * 2, DBOS.step_id


@DBOS.workflow()
async def async_workflow(x: int) -> tuple[object, ...]:
    loop = asyncio.get_running_loop()
    first = await async_step(x)
    both = await asyncio.gather(async_step(1), async_step(2))
    await DBOS.sleep_async(0.001)
    return id(loop), first, both, DBOS.workflow_id


def test_module_itself_works_as_dbos() -> None:
    assert shim.workflow is DBOS.workflow
    assert shim.SetWorkflowID is SetWorkflowID
    shim(config={"name": "module-call", "system_database_url": "sqlite:///:memory:"})
    shim.launch()
    try:
        with shim.SetWorkflowID("module-1"):
            assert where_workflow() == "ok"
        assert shim.retrieve_workflow("module-1").get_status().status == "SUCCESS"
    finally:
        shim.destroy()


def test_user_code_never_runs_on_resonate_loop(dbos: type[DBOS]) -> None:
    assert where_workflow() == "ok"
    assert threads["workflow"].startswith("dbos2resonate-workflow")
    assert threads["step"].startswith("dbos2resonate-step")


def test_values_keep_their_python_types(dbos: type[DBOS]) -> None:
    with SetWorkflowID("typed-1"):
        first = order_workflow(3)
    with SetWorkflowID("typed-1"):
        replayed = order_workflow(99)
    assert first == (Order(3, ("a", "b")), {3, 4})
    assert replayed == first
    assert type(replayed[0].items) is tuple


def test_live_caller_gets_the_original_exception_even_if_it_cannot_be_stored(dbos: type[DBOS]) -> None:
    assert unpicklable_workflow() == "caught Unpicklable 1/2"


def test_async_workflow_runs_on_the_callers_loop(dbos: type[DBOS]) -> None:
    async def main() -> tuple[int, tuple[object, ...]]:
        with SetWorkflowID("async-1"):
            result = await async_workflow(5)
        return id(asyncio.get_running_loop()), result

    loop_id, (body_loop_id, first, both, workflow_id) = asyncio.run(main())
    assert body_loop_id == loop_id
    assert first == (10, 1)
    assert both == [(2, 2), (4, 3)]
    assert workflow_id == "async-1"


def test_step_outside_workflow_is_a_plain_call(dbos: type[DBOS]) -> None:
    assert make_order(1) == Order(1, ("a", "b"))
    assert asyncio.run(async_step(4)) == (8, None)


def test_workflows_need_launch() -> None:
    DBOS(config={"name": "not-launched"})
    try:
        with pytest.raises(DBOSException, match="launched"):
            where_workflow()
    finally:
        DBOS.destroy()


def test_retrieving_unknown_workflow_raises(dbos: type[DBOS]) -> None:
    with pytest.raises(DBOSNonExistentWorkflowError):
        DBOS.retrieve_workflow("no-such-workflow")
    assert DBOS.get_workflow_status("no-such-workflow") is None


@pytest.mark.parametrize(
    ("config", "error"),
    [
        ({"name": "ok-name", "sytem_database_url": "sqlite:///x"}, "unknown DBOSConfig key"),
        ({"name": "No"}, "Invalid app name"),
        ({}, "Invalid app name"),
    ],
)
def test_bad_config_is_refused(config: dict[str, object], error: str) -> None:
    with pytest.raises(DBOSInitializationError, match=error):
        DBOS(config=config)  # type: ignore[arg-type]


def test_config_key_the_shim_cannot_honour_is_refused() -> None:
    with pytest.raises(ShimUnsupportedError, match="serializer"):
        DBOS(config={"name": "custom-ser", "serializer": object()})


def test_inert_config_key_warns() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        DBOS(config={"name": "inert-keys", "admin_port": 3001, "run_admin_server": True})
    DBOS.destroy()
    assert any(issubclass(w.category, ShimConfigWarning) and "admin_port" in str(w.message) for w in caught)


def test_transactions_are_refused_with_a_reason() -> None:
    with pytest.raises(ShimUnsupportedError, match="@DBOS.transaction.*step"):
        DBOS.transaction()


def test_a_dbos_system_database_is_refused_and_left_as_it_is(tmp_path: Path) -> None:
    database = tmp_path / "app.sqlite"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE dbos_migrations (version INTEGER)")
    before = database.read_bytes()
    DBOS(config={"name": "was-dbos", "system_database_url": f"sqlite:///{database}"})
    try:
        with pytest.raises(DBOSInitializationError, match="DBOS's own system database"):
            DBOS.launch()
    finally:
        DBOS.destroy()
    assert database.read_bytes() == before


waiting_started = threading.Event()


@DBOS.step()
def core_note_waiting() -> None:
    waiting_started.set()


@DBOS.workflow()
def core_waits_for_go() -> object:
    core_note_waiting()
    return DBOS.recv("go", 600)


def test_destroy_leaves_a_waiting_workflow_pending_and_the_next_launch_resumes_it(tmp_path: Path) -> None:
    config = {"name": "destroy-mid-wait", "system_database_url": f"sqlite:///{tmp_path / 'app.sqlite'}"}
    DBOS(config=config)  # type: ignore[arg-type]
    DBOS.launch()
    with SetWorkflowID("waiting-1"):
        DBOS.start_workflow(core_waits_for_go)
    assert waiting_started.wait(30)
    DBOS.destroy()  # returns although the workflow still waits; its thread is released

    DBOS(config=config)  # type: ignore[arg-type]
    DBOS.launch()
    try:
        assert DBOS.get_workflow_status("waiting-1").status == "PENDING"
        DBOS.send("waiting-1", "now", "go")
        assert DBOS.retrieve_workflow("waiting-1").get_result() == "now"
    finally:
        DBOS.destroy()
