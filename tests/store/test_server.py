"""``dbos2resonate serve``: resonate-sdk's remote mode against the durable store's server.

Every workflow here runs on the NATIVE SDK (``Resonate(url=...)``, HTTP + SSE);
servers and workers are subprocesses unless a test needs an injected clock.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from resonate.context import Context
from resonate.resonate import Resonate
from resonate.retry import Never
from resonate.testing import FakeClock
from resonate.types import Value

from shim.store import StoreLockedError, open_store
from shim.store._journaled import JournaledState
from shim.store.server import ProtocolServer, serve
from tests.support.resonate_server import (
    kill_server,
    restart_server,
    running_server,
    serving,
)

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("server_worker.py")
#: Upper bound for a condition a test waits on; reached only when something is broken.
PATIENCE = 60.0


# -- helpers -----------------------------------------------------------------


async def _until[T](probe: Callable[[], Awaitable[T | None]], what: str) -> T:
    """Poll ``probe`` until it returns something other than ``None``."""
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        found = await probe()
        if found is not None:
            return found
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def _client(url: str, **kw: Any) -> Resonate:
    return Resonate(url=url, env={}, retry_policy=Never(), **kw)


async def _promise_exists(client: Resonate, promise_id: str) -> bool | None:
    try:
        await client.promises.get(promise_id)
    except Exception:  # 404 until the workflow creates it
        return None
    return True


def _post(url: str, body: bytes, method: str = "POST") -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        text = error.read()
        return error.code, json.loads(text) if text.startswith(b"{") else {}


def _listeners(url: str, group: str) -> list[str]:
    with urllib.request.urlopen(f"{url}/listeners/{group}") as response:
        pids: list[str] = json.loads(response.read())["pids"]
        return pids


@contextmanager
def _workers(url: str, group: str, pids: list[str], log: Path, ttl_ms: int = 60_000) -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    """Worker subprocesses (tests/store/server_worker.py), listening before this yields."""
    procs = {
        pid: subprocess.Popen(
            [sys.executable, str(WORKER), url, group, pid, str(log), str(ttl_ms)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for pid in pids
    }
    try:
        deadline = time.monotonic() + PATIENCE
        while set(_listeners(url, group)) != set(pids):
            assert time.monotonic() < deadline, "workers did not connect"
            assert all(p.poll() is None for p in procs.values()), "a worker died on start"
            time.sleep(0.05)
        yield procs
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
            proc.wait()


def _runs(log: Path) -> list[tuple[str, str, str]]:
    if not log.exists():
        return []
    return [tuple(line.split(" ", 2)) for line in log.read_text().splitlines()]  # type: ignore[misc]


# -- a workflow end to end -----------------------------------------------------


def test_steps_sleep_and_an_externally_resolved_promise(tmp_path: Path) -> None:
    ran: list[int] = []

    async def bump(ctx: Context, x: int) -> int:
        ran.append(x)
        return x + 1

    async def flow(ctx: Context, n: int) -> list[Any]:
        total = 0
        for _ in range(n):
            total = await ctx.run(bump, total)
        await ctx.sleep(timedelta(milliseconds=100))
        approval = await ctx.promise()
        return [total, approval]

    async def go(url: str) -> list[Any]:
        worker = _client(url)
        worker.register(flow)
        handle = worker.run("flow-1", flow, 4)
        await _until(lambda: _promise_exists(worker, "flow-1:6"), "the workflow to wait")
        await worker.promises.resolve("flow-1:6", Value(data="approved"))
        result = await handle.result()
        await worker.stop()
        return result

    with running_server(tmp_path / "app.sqlite") as url:
        assert asyncio.run(go(url)) == [4, "approved"]
    assert ran == [0, 1, 2, 3]


def test_in_memory_server_runs_a_workflow() -> None:
    async def double(ctx: Context, x: int) -> int:
        return 2 * (await ctx.run(lambda _ctx, y: y, x))

    async def go(url: str) -> int:
        worker = _client(url)
        worker.register(double)
        result: int = await worker.run("double-1", double, 21).result()
        await worker.stop()
        return result

    with running_server(None) as url:
        assert asyncio.run(go(url)) == 42


# -- distributed execution -----------------------------------------------------


def test_two_workers_of_a_group_share_the_work(tmp_path: Path) -> None:
    log = tmp_path / "runs.log"

    async def go(url: str) -> list[int]:
        client = _client(url, group="driver")
        result: list[int] = await client.options(target="workers").rpc("fan-1", "fan_out", 6).result()
        await client.stop()
        return result

    with running_server(tmp_path / "app.sqlite") as url, _workers(url, "workers", ["w1", "w2"], log):
        assert asyncio.run(go(url)) == [i * i for i in range(6)]
    runs = _runs(log)
    leaves = sorted(int(arg) for _, name, arg in runs if name == "leaf")
    assert leaves == list(range(6))  # each child ran exactly once, somewhere
    assert {pid for pid, name, _ in runs if name == "leaf"} == {"w1", "w2"}  # ... on both members


# -- crashes -------------------------------------------------------------------


def test_server_killed_mid_workflow_resumes_and_no_completed_step_reruns(tmp_path: Path) -> None:
    steps = tmp_path / "steps.log"

    async def record(ctx: Context, name: str) -> str:
        with steps.open("a") as out:
            out.write(name + "\n")
        return name

    async def flow(ctx: Context) -> list[str]:
        done = [await ctx.run(record, "a"), await ctx.run(record, "b")]
        done.append(await ctx.promise())
        done += [await ctx.run(record, "c"), await ctx.run(record, "d")]
        return done

    async def go(url: str) -> list[str]:
        worker = _client(url)
        worker.register(flow)
        handle = worker.run("crash-1", flow)
        await _until(lambda: _promise_exists(worker, "crash-1:3"), "the workflow to wait")
        kill_server(url)  # kill -9: the journal is all that is left
        assert restart_server(url) == url
        await worker.promises.resolve("crash-1:3", Value(data="go"))
        result: list[str] = await handle.result()
        await worker.stop()
        return result

    with running_server(tmp_path / "app.sqlite") as url:
        assert asyncio.run(go(url)) == ["a", "b", "go", "c", "d"]
    assert steps.read_text().split() == ["a", "b", "c", "d"]


def test_a_killed_workers_task_goes_to_the_other_member_after_its_lease(tmp_path: Path) -> None:
    log = tmp_path / "runs.log"

    async def go(url: str, workers: dict[str, subprocess.Popen[bytes]]) -> str:
        client = _client(url, group="driver")
        handle = client.options(target="workers").rpc("stall-1", "stall", "job")

        async def holder() -> str | None:
            started = [pid for pid, name, _ in _runs(log) if name == "stall"]
            return started[0] if started else None

        first = await _until(holder, "a worker to take the task")
        workers[first].send_signal(signal.SIGKILL)
        result: str = await handle.result()
        await client.stop()
        return f"{first}|{result}"

    with running_server(tmp_path / "app.sqlite") as url, _workers(url, "workers", ["w1", "w2"], log, ttl_ms=1000) as procs:
        first, result = asyncio.run(go(url, procs)).split("|")
    other = ({"w1", "w2"} - {first}).pop()
    assert result == f"job done by {other}"
    assert [pid for pid, name, _ in _runs(log) if name == "stall"] == [first, other]


# -- schedules (server app in-process, injected clock) -------------------------

MINUTE = 60_000
START = 1_700_000_000_000 - 1_700_000_000_000 % (60 * MINUTE)  # on the hour


def _envelope(kind: str, **data: Any) -> str:
    return json.dumps({"kind": kind, "head": {"corrId": kind}, "data": data})


def _fired(store: JournaledState) -> list[str]:
    return sorted(p for p in store.state.promises if p.startswith("sched-"))


def _schedule(store: JournaledState, now: int, cron: str) -> dict[str, Any]:
    req = _envelope(
        "schedule.create",
        id="nightly",
        cron=cron,
        promiseId="sched-{{.id}}-{{.timestamp}}",
        promiseTimeout=MINUTE,
        promiseParam={"data": "e30="},
        promiseTags={"resonate:target": "poll://any@workers", "team": "ops"},
    )
    return json.loads(store.apply(now, req).envelope)


def _open(path: Path, clock: FakeClock) -> tuple[JournaledState, ProtocolServer]:
    store = JournaledState(path, compact_after=1000, checkpoint_every=None)
    return store, ProtocolServer(store, clock=clock)


def test_a_schedule_fires_once_per_tick_across_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "app.sqlite"
    clock = FakeClock(START + 5)

    async def first_life() -> None:
        store, server = _open(path, clock)
        await server.start()
        created = _schedule(store, clock(), "* * * * *")
        assert created["head"]["status"] == 201
        assert created["data"]["schedule"]["nextRunAt"] == START + MINUTE
        server.tick()
        assert _fired(store) == []
        clock.now = START + MINUTE
        server.tick()
        server.tick()  # the same tick again: nothing more
        await server.stop()
        store.close()

    async def second_life() -> list[str]:
        store, server = _open(path, clock)
        await server.start()
        server.tick()  # replayed: the tick already fired is not fired again
        before = _fired(store)
        clock.now = START + 2 * MINUTE + 1
        server.tick()
        fired = _fired(store)
        promise = store.state.promises[fired[-1]]
        assert promise.timeout_at == START + 3 * MINUTE
        assert promise.param == {"data": "e30="}
        assert promise.tags["team"] == "ops"
        assert promise.tags["resonate:schedule"] == "nightly"
        assert promise.tags["resonate:origin"] == fired[-1]
        assert store.state.tasks[fired[-1]].state == "pending"  # sent to the group
        await server.stop()
        store.close()
        return [*before, "|", *fired]

    asyncio.run(first_life())
    assert asyncio.run(second_life()) == [
        f"sched-nightly-{START + MINUTE}",
        "|",
        f"sched-nightly-{START + MINUTE}",
        f"sched-nightly-{START + 2 * MINUTE}",
    ]


def test_runs_missed_while_down_are_each_fired_one_per_tick(tmp_path: Path) -> None:
    clock = FakeClock(START + 5)

    async def go() -> list[list[str]]:
        store, server = _open(tmp_path / "app.sqlite", clock)
        await server.start()
        _schedule(store, clock(), "*/10 * * * *")
        clock.now = START + 35 * MINUTE  # three runs (10, 20, 30) missed
        seen = []
        for _ in range(4):
            server.tick()
            seen.append([p.rsplit("-", 1)[1] for p in _fired(store)])
        await server.stop()
        store.close()
        return seen

    runs = [str(START + m * MINUTE) for m in (10, 20, 30)]
    assert asyncio.run(go()) == [runs[:1], runs[:2], runs, runs]


def test_a_fired_schedule_runs_its_function_on_a_worker_once(tmp_path: Path) -> None:
    clock = FakeClock(START + 5)
    runs: list[str] = []

    async def job(ctx: Context, name: str) -> str:
        runs.append(name)
        return f"ran {name}"

    async def go() -> tuple[str, str]:
        store = JournaledState(tmp_path / "app.sqlite", compact_after=1000, checkpoint_every=None)
        server = ProtocolServer(store, clock=clock)
        stopping, bound = asyncio.Event(), asyncio.get_running_loop().create_future()
        serving_task = asyncio.create_task(serve(server, "127.0.0.1", 0, stopping, bound.set_result))
        url = await bound
        worker = _client(url, group="workers")
        worker.register(job)
        await _until(lambda: _now(server.delivery.listening("workers") or None), "the worker to listen")
        await worker.schedules.create(
            "every-minute",
            "* * * * *",
            "job-{{.timestamp}}",
            3_600_000,
            Value(data={"func": "job", "args": ["report"], "kwargs": {}}),
            {"resonate:target": "poll://any@workers"},
        )
        clock.now = START + MINUTE  # the sweep (every 50 ms) fires the run once
        fired = f"job-{START + MINUTE}"
        await _until(lambda: _now(store.state.promises.get(fired)), "the schedule to fire")
        result: str = await (await worker.get(fired)).result()
        await worker.stop()
        stopping.set()
        await serving_task
        store.close()
        return fired, result

    fired, result = asyncio.run(go())
    assert (fired, result, runs) == (f"job-{START + MINUTE}", "ran report", ["report"])


async def _now[T](value: T) -> T:
    return value


def test_an_invalid_cron_is_rejected_with_400(tmp_path: Path) -> None:
    store = JournaledState(None, compact_after=1000, checkpoint_every=None)
    server = ProtocolServer(store, clock=FakeClock(START))
    asyncio.run(server.start())
    for cron in ("not a cron", "* * * * * *", "61 * * * *"):
        answer = _schedule(store, START, cron)
        assert answer["head"]["status"] == 400, cron
        assert "cron" in answer["data"]["error"]
    assert store.state.schedules == {}
    asyncio.run(server.stop())
    store.close()


# -- protocol errors and ownership -----------------------------------------------


def test_bad_requests_get_error_statuses_and_the_server_keeps_serving(tmp_path: Path) -> None:
    with running_server(tmp_path / "app.sqlite") as url:
        assert _post(url + "/", b"{not json")[0] == 400
        status, body = _post(url + "/", _envelope("promise.frobnicate", id="x").encode())
        assert (status, body["head"]["status"], body["kind"]) == (400, 400, "promise.frobnicate")
        status, body = _post(url + "/", _envelope("promise.create").encode())  # no id
        assert (status, body["head"]["corrId"]) == (400, "promise.create")
        status, body = _post(url + "/", _envelope("task.acquire", id="nope", pid="p", ttl=1).encode())
        assert body["head"]["status"] == 404
        assert _post(url + "/", b"[]")[0] == 400
        assert _post(url + "/poll/g/p", b"", method="POST")[0] == 405
        status, body = _post(url + "/", _envelope("promise.get", id="x").encode())
        assert (status, body["head"]["status"]) == (404, 404)  # still answering


def test_the_server_owns_the_store(tmp_path: Path) -> None:
    path = tmp_path / "app.sqlite"
    with serving(path) as server:
        with pytest.raises(StoreLockedError):
            open_store(path)
        second = subprocess.run(
            [sys.executable, "-m", "cli.serve", "--store", str(path), "--port", "0"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        assert second.returncode == 2
        assert "locked" in second.stderr
        assert server.terminate() == 0  # SIGTERM: a clean stop
    conn = open_store(path)  # unlocked, and the embedded store reads the served file
    try:
        assert conn.replayed == 0  # the clean stop left a snapshot of everything
        assert conn.state.policy.leases_expire is False
    finally:
        conn.close()


def test_a_corrupt_store_file_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "app.sqlite"
    path.write_bytes(b"this is not a store" * 100)
    result = subprocess.run(
        [str(Path(sys.executable).with_name("dbos2resonate")), "serve", "--store", str(path), "--port", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert result.returncode == 2
    assert str(path) in result.stderr
    assert result.stdout == ""
