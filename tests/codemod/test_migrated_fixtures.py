"""The codemod's proof on the fixture programs (issue 8): migrated programs behave like the originals.

For every program in ``fixtures/programs``:

- ``fixtures/migrated/<name>.py`` is exactly what ``migrate --to native`` writes for it. The files are
  reviewed and checked in, so a change of the codemod's output shows up as a diff. Rewrite them with
  ``python -m tests.codemod.test_migrated_fixtures`` and review that diff.
- If the program is in ``RUNS``, its migrated version runs on resonate-sdk alone (``fixtures.run_migrated``
  refuses ``dbos`` and ``shim`` imports) in local mode, in a subprocess, and its trace equals the one real
  DBOS produced (``fixtures/traces/<name>.json``), except at the few listed places where the codemod left
  a TODO saying why Resonate cannot give DBOS's value. Otherwise ``NOT_RUN`` says why the migrated
  program cannot reproduce DBOS's trace (each reason is a TODO in its migrated file).
- ``migrate --to shim`` changes only import lines, and the result runs on the shim with DBOS's trace.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from codemod.engine import Options, migrate_source
from codemod.rules import Target

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = ROOT / "fixtures" / "programs"
MIGRATED = ROOT / "fixtures" / "migrated"
TRACES = ROOT / "fixtures" / "traces"
TIMEOUT = float(os.environ.get("D2R_FIXTURE_TIMEOUT", "120"))

# A place where the migrated trace differs from DBOS's: (key path in the trace, text of the TODO the codemod
# left at the code that produces it). Both traces get the same placeholder there before they are compared.
CHILD_ID = "`{parent}:{n}`"  # the TODO D2R105/D2R109 leave where a child workflow's id is read
RUNS: dict[str, tuple[tuple[tuple[str, ...], str], ...]] = {
    "programming_model": (),
    "saga": (),
    "saga_trip": (),
    "human_in_the_loop": (),  # its DBOSClient is the program's own Resonate (D2R116), get_all_events D2R112
    "queue_fan_out": (),  # enqueues become ctx.run futures in the workflow, resonate.run outside (D2R113)
    "reminders": (),  # DBOS.sleep between steps becomes ctx.sleep (D2R107)
    "child_workflows": (),  # children called, started and awaited, fanned out; no child id is read (D2R105)
    # basket_workflow starts quote_workflow as a child and reports the child's id: Resonate names it
    # `basket-1:3`, DBOS `basket-1-3` (same position, another separator)
    "async_workflow": tuple(
        (path, CHILD_ID)
        for run in ("basket", "basket_again")
        for path in ((run, "child_id"), (run, "child_is_numbered_from_parent"), (run, "child_quote", "workflow_id"))
    ),
}

# Why each other program's migration cannot give DBOS's trace: the first thing that stops it, in one line,
# naming the code of the TODO migrate leaves at that spot (test_not_run_reason_is_a_todo_at_the_spot).
NOT_RUN: dict[str, str] = {
    "class_methods": "its workflows and steps are methods of a DBOSConfiguredInstance class, which Resonate "
                     "cannot register (D2R206)",
    "composing": "it retrieves a child by DBOS's id `order-1001-2`; resonate-sdk 0.8's ctx.run takes no id and "
                 "names it `order-1001:{n}` (D2R105)",
    "context_ids": "it reads DBOS.workflow_id and DBOS.step_id outside any workflow, where there is no ctx (D2R109)",
    "durable_sleep": "it calls DBOS.sleep outside a workflow to get DBOS's DBOSException, and there is no ctx "
                     "there (D2R107)",
    "exception_types": "it runs workflows through a helper that takes them as values, which cannot pass a ctx "
                       "(D2R103), and reads DBOS's error codes (D2R101)",
    "idempotency": "it runs workflows under SetWorkflowID through a helper that takes them as values (D2R106, "
                   "D2R103), and expects DBOSConflictingWorkflowError, which Resonate does not raise (D2R101)",
    "recursion": "it retrieves every level by DBOS's child id `factorial-5-1`; resonate-sdk 0.8's ctx.run takes "
                 "no id and names it `factorial-5:1` (D2R105)",
    "step_outside_workflow": "it calls steps outside workflows, where a step migrated to take a ctx has none "
                             "(D2R104)",
    "step_retries": "it catches DBOSMaxStepRetriesExceeded, which Resonate does not raise (D2R101)",
}


def program_names() -> list[str]:
    return sorted(p.stem for p in PROGRAMS.glob("*.py") if not p.name.startswith("_"))


def migrate(name: str, target: Target = Target.NATIVE) -> str:
    source = (PROGRAMS / f"{name}.py").read_text(encoding="utf-8")
    result = migrate_source(source, f"{name}.py", Options(target=target))
    assert result.error is None, result.error
    return result.after if result.changed and result.after is not None else source


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RESONATE_URL", "RESONATE_HOST")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    return env


def run_migrated(path: Path) -> Any:
    """The trace of a migrated program, run by ``fixtures.run_migrated`` in a new interpreter."""
    with tempfile.TemporaryDirectory(prefix="d2r-migrated-") as tmp:
        env = _env()
        env["D2R_DB_URL"] = f"sqlite:///{Path(tmp) / 'unused.sqlite'}"  # the original's config reads it
        proc = subprocess.run(
            [sys.executable, "-m", "fixtures.run_migrated", str(path)],
            cwd=tmp, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False,
        )
    assert proc.returncode == 0, f"{path.name} failed on resonate-sdk:\n{proc.stderr[-6000:]}"
    return json.loads(proc.stdout)


def _blank(trace: Any, path: tuple[str, ...]) -> None:
    for key in path[:-1]:
        trace = trace[key]
    assert path[-1] in trace, f"no {'.'.join(path)} in the trace"
    trace[path[-1]] = "<differs: see the TODO>"


# ── the tables cover every program ────────────────────────────────────────────────────────────────


def test_every_program_is_classified() -> None:
    assert sorted([*RUNS, *NOT_RUN]) == program_names()
    assert not set(RUNS) & set(NOT_RUN)


def test_not_run_reason_is_a_todo_at_the_spot() -> None:
    for name, reason in NOT_RUN.items():
        codes = re.findall(r"D2R\d{3}", reason)
        assert codes, f"{name}: the reason names no rule code"
        text = (MIGRATED / f"{name}.py").read_text(encoding="utf-8")
        for code in codes:
            assert f"TODO(dbos2resonate): {code} " in text, f"{name}: no {code} TODO in its migrated file"


# ── --to native ───────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("name", program_names())
def test_checked_in_migration_is_what_the_codemod_writes(name: str) -> None:
    expected = (MIGRATED / f"{name}.py").read_text(encoding="utf-8")
    assert migrate(name) == expected, f"run: python -m tests.codemod.test_migrated_fixtures, review the diff of {name}"


@pytest.mark.parametrize("name", program_names())
def test_migration_is_a_fixed_point(name: str) -> None:
    text = (MIGRATED / f"{name}.py").read_text(encoding="utf-8")
    again = migrate_source(text, f"{name}.py")
    assert again.error is None and not again.changed, again.after


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(RUNS))
def test_migrated_program_gives_the_dbos_trace(name: str) -> None:
    path = MIGRATED / f"{name}.py"
    text = path.read_text(encoding="utf-8")
    assert "dbos" not in {n.split(".")[0] for n in _imported_modules(text)}
    expected = json.loads((TRACES / f"{name}.json").read_text(encoding="utf-8"))
    actual = run_migrated(path)
    for key_path, todo in RUNS[name]:
        assert "TODO(dbos2resonate)" in text and todo in text, f"{name}: no TODO mentioning {todo}"
        _blank(expected, key_path)
        _blank(actual, key_path)
    assert actual == expected, _diff(expected, actual)


def _imported_modules(text: str) -> list[str]:
    out: list[str] = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.append(node.module)
    return out


def _diff(expected: Any, actual: Any) -> str:
    from tests.differential.harness import explain_difference

    return "traces differ (dbos vs migrated):\n" + explain_difference(expected, actual, "dbos", "migrated")


# ── rules no fixture program exercises: a DBOS program inline, run under real DBOS and migrated ───────────

MESSAGES = '''\
"""Messages and events: messages sent before the workflow waits arrive in FIFO order per topic, a silent topic
times out to None, the workflow messages itself on the default topic, and events are last-writer-wins."""

import os

from dbos import DBOS, DBOSConfig, SetWorkflowID

config: DBOSConfig = {"name": "messages", "system_database_url": os.environ["D2R_DB_URL"]}
DBOS(config=config)

runs: list[str] = []


@DBOS.step()
def record(what: str) -> str:
    runs.append(what)
    return what


@DBOS.workflow()
def inbox(n: int) -> dict:
    DBOS.set_event("state", "waiting")
    go = DBOS.recv("go", timeout_seconds=10)
    orders = []
    for _ in range(n):
        orders.append(DBOS.recv("orders", timeout_seconds=10))
    silent = DBOS.recv("silent", timeout_seconds=0.2)
    DBOS.send(DBOS.workflow_id, {"note": "to myself"})
    note = DBOS.recv(timeout_seconds=10)
    record(f"received {len(orders)}")
    DBOS.set_event("state", "done")
    return {"go": go, "orders": orders, "silent": silent, "note": note}


def main() -> dict:
    DBOS.launch()
    with SetWorkflowID("inbox-1"):
        handle = DBOS.start_workflow(inbox, 3)
    trace = {"state_while_waiting": DBOS.get_event("inbox-1", "state", timeout_seconds=10)}
    for item in ["a", "b", "c"]:
        DBOS.send("inbox-1", item, "orders")
    DBOS.send("inbox-1", "now", topic="go")
    trace["result"] = handle.get_result()
    trace["state_at_end"] = DBOS.get_event("inbox-1", "state", timeout_seconds=10)
    trace["event_of_no_workflow"] = DBOS.get_event("no-such-workflow", "state", timeout_seconds=0.1)
    with SetWorkflowID("inbox-1"):
        trace["again"] = inbox(3)  # the stored result: nothing received or recorded again
    trace["runs"] = runs
    DBOS.destroy()
    return trace
'''

STREAMS = '''\
"""Streams: values in order until close_stream (later writes are not read), a stream never closed ends with its
workflow, a reader that starts before the writer waits for each value, and a workflow run again writes nothing."""

import asyncio
import os

from dbos import DBOS, DBOSConfig, SetWorkflowID

config: DBOSConfig = {"name": "streams", "system_database_url": os.environ["D2R_DB_URL"]}
DBOS(config=config)

writes: list[str] = []


@DBOS.step()
def record(what: str) -> str:
    writes.append(what)
    return what


@DBOS.workflow()
def producer(n: int) -> int:
    for i in range(n):
        DBOS.write_stream("numbers", {"i": i, "square": i * i})
    DBOS.write_stream("letters", record("a"))
    DBOS.close_stream("numbers")
    DBOS.write_stream("numbers", "after the close")
    return n


@DBOS.workflow()
async def slow_producer(n: int) -> int:
    for i in range(n):
        await DBOS.sleep_async(0.05)
        await DBOS.write_stream_async("ticks", i)
    await DBOS.close_stream_async("ticks")
    return n


def read_all(workflow_id: str, key: str) -> list:
    return list(DBOS.read_stream(workflow_id, key))


async def read_live(workflow_id: str) -> list:
    seen = []
    async for tick in DBOS.read_stream_async(workflow_id, "ticks"):
        seen.append(tick)
    return seen


def main() -> dict:
    DBOS.launch()
    with SetWorkflowID("producer-1"):
        trace = {"result": producer(3)}
    trace["numbers"] = read_all("producer-1", "numbers")
    trace["letters_never_closed"] = read_all("producer-1", "letters")
    with SetWorkflowID("producer-1"):
        trace["again"] = producer(3)
    trace["numbers_again"] = read_all("producer-1", "numbers")
    with SetWorkflowID("ticker-1"):
        handle = DBOS.start_workflow(slow_producer, 2)
    trace["live"] = asyncio.run(read_live("ticker-1"))
    trace["ticker_result"] = handle.get_result()
    trace["writes"] = writes
    DBOS.destroy()
    return trace
'''

INLINE_PROGRAMS = {"messages": MESSAGES, "streams": STREAMS}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(INLINE_PROGRAMS))
def test_inline_program_migrates_to_the_dbos_trace(name: str, tmp_path: Path, shim_runs) -> None:  # type: ignore[no-untyped-def]
    source = INLINE_PROGRAMS[name]
    result = migrate_source(source, f"{name}.py")
    assert result.error is None and result.after is not None
    path = tmp_path / f"{name}.py"
    path.write_text(result.after, encoding="utf-8")
    assert not migrate_source(result.after, f"{name}.py").changed
    expected = shim_runs.run_fixture(source, "dbos")
    assert run_migrated(path) == expected, result.after


# ── --to shim ─────────────────────────────────────────────────────────────────────────────────────


def _is_import(line: str) -> bool:
    try:
        tree = ast.parse(line.strip())
    except SyntaxError:
        return False
    return len(tree.body) == 1 and isinstance(tree.body[0], (ast.Import, ast.ImportFrom))


@pytest.mark.parametrize("name", program_names())
def test_shim_migration_changes_only_imports(name: str) -> None:
    before = (PROGRAMS / f"{name}.py").read_text(encoding="utf-8").splitlines(keepends=True)
    after = migrate(name, Target.SHIM).splitlines(keepends=True)
    assert len(before) == len(after)
    changed = [(a, b) for a, b in zip(before, after) if a != b]
    assert changed, "nothing was rewritten"
    for a, b in changed:
        assert _is_import(a) and _is_import(b), f"not an import: {a!r} -> {b!r}"
        assert "shim" in b and "dbos" in a


@pytest.fixture(scope="module")
def shim_runs():  # type: ignore[no-untyped-def]
    from tests.differential import harness

    # start every run now: they go to the harness's small pool, and each test waits for its own
    harness.prefetch((migrate(name, Target.SHIM), "shim") for name in program_names())
    yield harness
    harness.shutdown()


@pytest.mark.slow
@pytest.mark.parametrize("name", program_names())
def test_shim_migration_gives_the_dbos_trace(name: str, shim_runs) -> None:  # type: ignore[no-untyped-def]
    expected = json.loads((TRACES / f"{name}.json").read_text(encoding="utf-8"))
    actual = shim_runs.run_fixture(migrate(name, Target.SHIM), "shim")
    assert actual == expected, _diff(expected, actual)


def write_migrated() -> list[str]:
    """Rewrite fixtures/migrated from the codemod; the names of the files that changed."""
    MIGRATED.mkdir(exist_ok=True)
    changed = []
    for name in program_names():
        path = MIGRATED / f"{name}.py"
        text = migrate(name)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path.name)
    return changed


if __name__ == "__main__":
    for changed_name in write_migrated():
        print(f"wrote fixtures/migrated/{changed_name}")
