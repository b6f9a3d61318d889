"""D2R110 end to end: a migrated ``@DBOS.scheduled`` program runs on ``dbos2resonate serve``.

The DBOS program is migrated, its ``Resonate(...)`` gets the server's address the way the migrated module's TODO
says, and it runs against the server app in-process with an injected clock, so a tick is a clock move, not a wait.
Each scheduled workflow must run once per tick with the ``scheduled_time`` DBOS would pass: DBOS computes it with
``croniter(cron, now, second_at_beginning=True)`` (dbos/_scheduler.py), and so does the oracle here. A second start
of the program (a restart) must add no schedule and run no tick twice.
"""

from __future__ import annotations

import asyncio
import importlib.util
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from itertools import count
from pathlib import Path
from types import ModuleType
from typing import Any

import libcst as cst
from croniter import croniter
from libcst.codemod import CodemodContext
from resonate.resonate import DEFAULT_GROUP
from resonate.testing import FakeClock

from codemod.pipeline import Migrate
from codemod.rules.d2r110_scheduled import NEEDS_SERVER
from codemod.todo import todo_comment
from shim.store._journaled import JournaledState
from shim.store.server import ProtocolServer, serve

PROGRAM = '''
from datetime import datetime

from dbos import DBOS

DBOS(config={"name": "ticks"})
RUNS: list[tuple[str, datetime, datetime | None]] = []


@DBOS.scheduled("*/5 * * * *")
@DBOS.workflow()
def every_five(scheduled_time: datetime, actual_time: datetime) -> None:
    RUNS.append(("every_five", scheduled_time, actual_time))


@DBOS.scheduled("30 */5 * * * *")
@DBOS.workflow()
def half_minute_late(scheduled_time: datetime, actual_time: datetime) -> None:
    RUNS.append(("half_minute_late", scheduled_time, None))


def main() -> None:
    DBOS.launch()
'''
CRONS = {"every_five": "*/5 * * * *", "half_minute_late": "30 */5 * * * *"}
RESONATE_CRON = "*/5 * * * *"  # both: the second fires 30 s after each of these ticks
MINUTE = 60_000
HOUR = 60 * MINUTE
PATIENCE = 60.0  # an upper bound, reached only when something is broken
_lives = count()
Run = tuple[str, datetime, datetime | None]  # a workflow's name and the two times it was given


def migrated(url: str) -> str:
    """The migrated program, with the server's address passed as its TODO says."""
    source = Migrate(CodemodContext()).transform_module(cst.parse_module(PROGRAM.lstrip())).code
    todo = todo_comment("D2R110", NEEDS_SERVER)
    assert f"{todo}\nresonate = Resonate(env={{}}, " in source
    return source.replace("Resonate(env={}, ", f'Resonate(url="{url}", env={{}}, ', 1)


def load(path: Path) -> ModuleType:
    """Import the migrated program as a fresh module: one process's life."""
    spec = importlib.util.spec_from_file_location(f"scheduled_program_{next(_lives)}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def dbos_ticks(cron: str, start_ms: int, n: int) -> list[datetime]:
    """The first ``n`` scheduled times DBOS passes for ``cron`` when it starts at ``start_ms``."""
    ticks = croniter(cron, datetime.fromtimestamp(start_ms / 1000, UTC), second_at_beginning=True)
    return [ticks.get_next(datetime) for _ in range(n)]


async def until[T](probe: Callable[[], T | None], what: str) -> T:
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        found = probe()
        if found is not None:
            return found
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@asynccontextmanager
async def served(tmp_path: Path, clock: FakeClock) -> AsyncIterator[tuple[ProtocolServer, Path]]:
    """``dbos2resonate serve``'s app on ``clock``, and the migrated program (pointed at it) as a file."""
    store = JournaledState(tmp_path / "server.sqlite", compact_after=1000, checkpoint_every=None)
    server = ProtocolServer(store, clock=clock)
    stopping, bound = asyncio.Event(), asyncio.get_running_loop().create_future()
    serving = asyncio.create_task(serve(server, "127.0.0.1", 0, stopping, bound.set_result))
    path = tmp_path / "ticks_app.py"
    path.write_text(migrated(await bound))
    try:
        yield server, path
    finally:
        stopping.set()
        await serving
        store.close()


async def life(server: ProtocolServer, path: Path, clock: FakeClock, ticks: list[int]) -> list[Run]:
    """Start the program, move the clock to each tick and wait for both workflows' runs of it, stop."""
    module = load(path)
    await module.main()
    await until(lambda: server.delivery.listening(DEFAULT_GROUP) or None, "the program to listen")
    for at_ms in ticks:
        clock.now = at_ms
        for promise_id in (f"{name}-{at_ms}" for name in CRONS):
            await until(lambda p=promise_id: server.store.state.promises.get(p), f"{promise_id} to fire")
            await (await module.resonate.get(promise_id)).result()
    await module.resonate.stop()
    return module.RUNS


def schedules(server: ProtocolServer) -> dict[str, tuple[str, int, int]]:
    """The server's schedules: cron, creation time and next run, by id."""
    return {s.id: (s.cron, s.created_at, s.next_run_at) for s in server.store.state.schedules.values()}


def test_a_migrated_schedule_runs_once_per_tick_with_dbos_scheduled_time_across_a_restart(tmp_path: Path) -> None:
    # the server's clock runs ahead of the real one: a durable sleep the SDK measures on the real clock is then
    # already due on the server's, so the 30 s offset costs no waiting. The program starts past the offset of
    # the minute (a tick DBOS would still run 30 s after a start on the minute has no Resonate tick to run from).
    hour = (time.time_ns() // 1_000_000 // HOUR + 2) * HOUR
    start = hour + 45_000
    clock = FakeClock(start)
    ticks = [hour + m * 5 * MINUTE for m in (1, 2, 3)]  # the Resonate cron's first three, in ms

    async def go() -> tuple[list[Run], list[Run], dict[str, Any], dict[str, Any], list[str]]:
        async with served(tmp_path, clock) as (server, path):
            first = await life(server, path, clock, ticks[:2])
            found = schedules(server)  # what the restart finds
            second = await life(server, path, clock, ticks[2:])
            fired = [p for p in server.store.state.promises if p.startswith(tuple(f"{n}-" for n in CRONS))]
            return first, second, found, schedules(server), sorted(p for p in fired if ":" not in p)

    first, second, found, after, fired = asyncio.run(go())

    # the two schedules the first start created stay the only ones, armed as before (a restart does not re-make them)
    assert found == {name: (RESONATE_CRON, start, ticks[2]) for name in CRONS}
    assert after == {name: (RESONATE_CRON, start, ticks[2] + 5 * MINUTE) for name in CRONS}
    assert fired == sorted(f"{name}-{at}" for name in CRONS for at in ticks)  # each tick once
    runs = first + second
    for name, cron in CRONS.items():
        assert [scheduled for n, scheduled, _ in runs if n == name] == dbos_ticks(cron, start, 3), name
    actual = [a for n, _, a in runs if n == "every_five"]
    assert all(a is not None and a.tzinfo == UTC for a in actual)
    assert sorted(n for n, _, _ in second) == ["every_five", "half_minute_late"]  # the restart ran only the new tick


def test_a_restart_with_a_changed_cron_replaces_the_schedule(tmp_path: Path) -> None:
    hour = (time.time_ns() // 1_000_000 // HOUR + 2) * HOUR
    clock = FakeClock(hour + 45_000)

    async def go() -> tuple[dict[str, Any], dict[str, Any]]:
        async with served(tmp_path, clock) as (server, path):
            await life(server, path, clock, [])
            before = schedules(server)
            clock.now = hour + 2 * MINUTE
            path.write_text(path.read_text().replace('"every_five", "*/5 * * * *"', '"every_five", "0 * * * *"'))
            await life(server, path, clock, [])
            return before, schedules(server)

    before, after = asyncio.run(go())
    assert before["every_five"] == (RESONATE_CRON, hour + 45_000, hour + 5 * MINUTE)
    assert after == {**before, "every_five": ("0 * * * *", hour + 2 * MINUTE, hour + HOUR)}


def test_the_dbos_ticks_oracle_agrees_with_the_resonate_cron_plus_offset() -> None:
    start = 1_700_000_000_000
    resonate_ticks = dbos_ticks(RESONATE_CRON, start, 3)
    late = dbos_ticks(CRONS["half_minute_late"], start, 3)
    assert [(t - r).total_seconds() for t, r in zip(late, resonate_ticks, strict=True)] == [30.0] * 3
