"""Crash proof: ``kill -9`` a process mid-workflow, finish it from a fresh process.

A child process (``crash_child.py``) runs a native resonate-sdk 0.8 workflow on
a durable store; each step appends a line to a record file. The parent polls
that file (bounded, no fixed sleeps), SIGKILLs the child at a chosen point, and
starts a fresh child on the same store, which must finish the workflow with
every completed step run exactly once and the same result as an uncrashed run.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.store import crash_child

pytestmark = pytest.mark.slow

CHILD = str(Path(__file__).with_name("crash_child.py"))
TIMEOUT = 30.0


def _lines(record: Path) -> list[list[str]]:
    if not record.exists():
        return []
    return [line.split() for line in record.read_text().splitlines() if line]


def _start(tmp: Path, *args: str) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, CHILD, str(tmp / "store.db"), str(tmp / "record"), str(tmp / "result")]
    return subprocess.Popen([*cmd, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for(proc: subprocess.Popen[bytes], record: Path, pred: object) -> list[list[str]]:
    """Poll the record file until ``pred(lines)``; fail if the child exits first."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        lines = _lines(record)
        if pred(lines):  # type: ignore[operator]
            return lines
        if proc.poll() is not None:
            _, err = proc.communicate()
            pytest.fail(f"child exited early ({proc.returncode}): {err.decode()[-2000:]}")
        time.sleep(0.005)
    proc.kill()
    pytest.fail(f"timed out waiting; record so far: {_lines(record)}")


def _kill(proc: subprocess.Popen[bytes]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=TIMEOUT)
    assert proc.returncode == -signal.SIGKILL


def _finish(tmp: Path, *args: str) -> object:
    proc = _start(tmp, *args)
    try:
        _, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the recovering child did not finish")
    assert proc.returncode == 0, err.decode()[-3000:]
    return json.loads((tmp / "result").read_text())


def _uncrashed(tmp: Path, scenario: str, n: int, **kw: object) -> object:
    """The same workflow, run to completion without a crash (in this process)."""
    ref = tmp / "reference"
    ref.mkdir()
    return asyncio.run(
        crash_child.run_workflow(
            str(ref / "store.db"),
            str(ref / "record"),
            scenario,
            "wf",
            n,
            **kw,  # type: ignore[arg-type]
        )
    )


def _step_counts(lines: list[list[str]]) -> Counter[int]:
    return Counter(int(parts[1]) for parts in lines if parts[0] == "step")


def test_kill_during_a_step_resumes_from_that_step(tmp_path: Path) -> None:
    n, k = 30, 17
    record = tmp_path / "record"
    proc = _start(tmp_path, "steps", "wf", str(n), "--block-at", str(k))
    _wait_for(proc, record, lambda ls: any(p[:2] == ["step", str(k)] for p in ls))
    _kill(proc)

    result = _finish(tmp_path, "steps", "wf", str(n))

    counts = _step_counts(_lines(record))
    assert set(counts) == set(range(n))
    assert all(counts[i] == 1 for i in range(k)), counts
    assert counts[k] == 2  # started, killed, re-run
    assert all(counts[i] == 1 for i in range(k + 1, n)), counts
    assert result == _uncrashed(tmp_path, "steps", n)


def test_kill_at_full_speed_runs_each_completed_step_once(tmp_path: Path) -> None:
    n, k = 400, 60
    record = tmp_path / "record"
    proc = _start(tmp_path, "steps", "wf", str(n))
    first = _wait_for(proc, record, lambda ls: len(ls) > k)
    _kill(proc)
    before = _lines(record)  # what the killed process got to, read after it is dead
    assert len(before) >= len(first)
    last = int(before[-1][1])

    # No r.run() this time: the restarted process only looks the workflow up,
    # and the store re-delivers it on start.
    result = _finish(tmp_path, "steps", "wf", str(n), "--attach")

    counts = _step_counts(_lines(record))
    assert set(counts) == set(range(n))
    assert all(counts[i] == 1 for i in range(last)), counts
    assert counts[last] <= 2  # the one step that may have been in flight
    assert all(counts[i] == 1 for i in range(last + 1, n))
    assert result == _uncrashed(tmp_path, "steps", n)


def test_kill_during_a_fan_out(tmp_path: Path) -> None:
    """Parallel steps: the ones whose results came back before the kill do not run again."""
    n = 12
    k = n // 2 + 1  # blocks; runs concurrently with the others
    record = tmp_path / "record"
    proc = _start(tmp_path, "fanout", "wf", str(n), "--block-at", str(k))
    _wait_for(
        proc,
        record,
        lambda ls: (
            ["note", "first-half-settled"] in [p[:2] for p in ls]
            and ["step", str(k)] in [p[:2] for p in ls]
        ),
    )
    _kill(proc)

    result = _finish(tmp_path, "fanout", "wf", str(n))

    counts = _step_counts(_lines(record))
    assert all(counts[i] == 1 for i in range(n // 2)), counts  # settled before the kill
    assert counts[k] == 2  # killed mid-step
    assert all(1 <= counts[i] <= 2 for i in range(n // 2, n)), counts  # maybe in flight
    assert result == _uncrashed(tmp_path, "fanout", n)


def test_kill_during_a_durable_sleep(tmp_path: Path) -> None:
    n, seconds = 5, 1.5
    record = tmp_path / "record"
    proc = _start(tmp_path, "sleep", "wf", str(n), "--sleep", str(seconds))
    _wait_for(proc, record, lambda ls: any(p[:2] == ["note", "sleep-start"] for p in ls))
    _kill(proc)
    restarted = time.time()

    result = _finish(tmp_path, "sleep", "wf", str(n), "--sleep", str(seconds))

    lines = _lines(record)
    notes = {p[1]: (int(p[2]), float(p[3])) for p in lines if p[0] == "note"}
    (pid_start, t_start), (pid_end, t_end) = notes["sleep-start"], notes["sleep-end"]
    assert pid_start != pid_end  # the wake-up happened in the second process
    assert t_end - t_start >= seconds  # the sleep was not cut short
    # ... and not stretched by a lease or a 1 s tick: woken promptly once due.
    assert t_end - max(t_start + seconds, restarted) < 5.0
    counts = _step_counts(lines)
    assert counts == Counter(range(2 * n)), counts
    assert sum(1 for p in lines if p[:2] == ["note", "sleep-start"]) == 1
    assert result == _uncrashed(tmp_path, "sleep", n, sleep=0.2)


def test_kill_while_waiting_on_a_latent_promise(tmp_path: Path) -> None:
    n = 5
    record = tmp_path / "record"
    proc = _start(tmp_path, "promise", "wf", str(n))
    lines = _wait_for(proc, record, lambda ls: any(p[:2] == ["note", "waiting"] for p in ls))
    _kill(proc)
    promise_id = next(p[2] for p in lines if p[:2] == ["note", "waiting"])

    # The second process resolves the promise the first one was waiting on.
    result = _finish(tmp_path, "promise", "wf", str(n), "--resolve", promise_id, "hello")

    lines = _lines(record)
    assert _step_counts(lines) == Counter(range(2 * n))
    assert sum(1 for p in lines if p[:2] == ["note", "waiting"]) == 1
    assert result == _uncrashed(tmp_path, "promise", n, resolve=("wf:6", "hello"))
    assert result[1] == "hello"  # type: ignore[index]
