"""Durability is the product: a shim workflow killed with SIGKILL resumes in a new process on the
same store and runs every completed step exactly once."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = "tests.shim.programs.crashing"
EXPECTED = {"squares": [0, 1, 4, 9, 16], "child": 26, "after": 36, "id": "order-7"}
TIMEOUT = 60


def _run(tmp_path: Path, mode: str, crash_at: str | None = None) -> subprocess.Popen[str]:
    args = [sys.executable, "-m", PROGRAM, str(tmp_path / "app.sqlite"), str(tmp_path / "record"), mode]
    if crash_at is not None:
        args.append(crash_at)
    return subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _kill_when_reached(process: subprocess.Popen[str], where: str) -> None:
    assert process.stdout is not None
    for line in process.stdout:  # blocks on the child's own announcement: no timing involved
        if line.strip() == f"REACHED {where}":
            process.send_signal(signal.SIGKILL)
            process.wait(TIMEOUT)
            return
    pytest.fail(f"the program ended without reaching {where}: {process.communicate()[1][-2000:]}")


def _result(process: subprocess.Popen[str]) -> dict[str, object]:
    out, err = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0, err[-3000:]
    line = next(line for line in out.splitlines() if line.startswith("RESULT "))
    return eval(line.removeprefix("RESULT "))  # noqa: S307 - our own program's repr of a dict of ints


def _runs(tmp_path: Path) -> Counter[str]:
    return Counter((tmp_path / "record").read_text(encoding="utf-8").splitlines())


@pytest.mark.slow
def test_uncrashed_run_gives_the_expected_result(tmp_path: Path) -> None:
    assert _result(_run(tmp_path, "start")) == EXPECTED
    assert set(_runs(tmp_path).values()) == {1}


@pytest.mark.slow
def test_killed_during_a_step_resumes_and_runs_completed_steps_once(tmp_path: Path) -> None:
    _kill_when_reached(_run(tmp_path, "start", crash_at="3"), "step 3")
    assert _result(_run(tmp_path, "recover")) == EXPECTED
    runs = _runs(tmp_path)
    assert [runs[f"step {i}"] for i in range(3)] == [1, 1, 1]
    assert runs["step 3"] == 2  # the step in flight when the process died runs again, as in DBOS
    assert [runs[f"step {i}"] for i in (4, 5, 6)] == [1, 1, 1]


@pytest.mark.slow
def test_killed_during_a_durable_sleep_resumes_without_rerunning_steps(tmp_path: Path) -> None:
    _kill_when_reached(_run(tmp_path, "start", crash_at="sleep"), "sleep")
    assert _result(_run(tmp_path, "recover")) == EXPECTED
    assert set(_runs(tmp_path).values()) == {1}


@pytest.mark.slow
def test_a_workflow_that_keeps_crashing_stops_after_its_recovery_attempts(tmp_path: Path) -> None:
    _kill_when_reached(_run(tmp_path, "doomed"), "doomed")  # first execution
    _kill_when_reached(_run(tmp_path, "doomed-status"), "doomed")  # recovered at launch: attempt 2 of 1 + 1
    # third execution exceeds max_recovery_attempts=1: not run again, dead-lettered as in DBOS
    assert _result(_run(tmp_path, "doomed-status")) == {
        "error": "DBOSAwaitedWorkflowMaxRecoveryAttemptsExceeded",
        "status": "MAX_RECOVERY_ATTEMPTS_EXCEEDED",
    }
    assert _runs(tmp_path)["doomed"] == 2
