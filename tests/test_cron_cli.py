"""``dbos2resonate cron``: output, JSON, and the exit-code contract (0 exact, 1 not expressible, 2 invalid)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, ["cron", *args])


def test_exact() -> None:
    result = run("0 0 9 * * mon-fri", "--count", "2", "--from", "2025-01-01T00:00:00Z")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "verdict: exact",
        "cron:    0 9 * * 1-5",
        "next 2 fire times as DBOS schedules them (UTC):",
        "  2025-01-01T09:00:00+00:00",
        "  2025-01-02T09:00:00+00:00",
    ]


def test_offset() -> None:
    result = run("30 */5 * * * *", "-n", "2", "--from", "2025-01-01T00:00:00")
    assert result.exit_code == 0
    assert "verdict: exact_with_offset" in result.stdout
    assert "cron:    */5 * * * *" in result.stdout
    assert "offset:  +30 s after each tick" in result.stdout
    assert "2025-01-01T00:00:30+00:00" in result.stdout and "2025-01-01T00:05:30+00:00" in result.stdout


def test_not_expressible_exits_1_and_still_lists_dbos_fire_times() -> None:
    result = run("*/10 * * * * *", "-n", "3", "--from", "2025-01-01T00:00:00+00:00")
    assert result.exit_code == 1
    assert "verdict: not_expressible" in result.stdout
    assert "6 times a minute" in result.stdout
    assert "cron:" not in result.stdout
    assert result.stdout.splitlines()[-3:] == [
        "  2025-01-01T00:00:10+00:00",
        "  2025-01-01T00:00:20+00:00",
        "  2025-01-01T00:00:30+00:00",
    ]


def test_invalid_exits_2_with_the_error_on_stderr() -> None:
    result = run("0 22-2 * * *")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: hour field (field 2 of 5) '22-2'")


def test_bad_from_is_invalid_input() -> None:
    result = run("@daily", "--from", "yesterday")
    assert result.exit_code == 2
    assert "--from 'yesterday' is not an ISO datetime" in result.stderr


def test_json() -> None:
    result = run("@weekly", "--json", "-n", "2", "--from", "2025-01-01T00:00:00Z")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "expression": "@weekly",
        "verdict": "exact",
        "cron": "0 0 * * 0",
        "offset_seconds": 0,
        "reason": None,
        "fire_times": ["2025-01-05T00:00:00+00:00", "2025-01-12T00:00:00+00:00"],
    }


def test_json_not_expressible() -> None:
    result = run("0 0 0 * * * 2030", "--json", "-n", "1", "--from", "2025-01-01T00:00:00Z")
    assert result.exit_code == 1
    record = json.loads(result.stdout)
    assert record["verdict"] == "not_expressible" and record["cron"] is None
    assert "2030" in record["reason"]
    assert record["fire_times"] == ["2030-01-01T00:00:00+00:00"]


def test_count_zero_lists_nothing() -> None:
    result = run("@hourly", "-n", "0")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == "no fire times"


def test_real_process() -> None:
    command = [sys.executable, "-c", "from cli.main import app; app()", "cron"]
    ok = subprocess.run([*command, "15 0 0 1 * *", "-n", "1", "--from", "2025-01-01T00:00:00Z"],
                        cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.splitlines()[:3] == ["verdict: exact_with_offset", "cron:    0 0 1 * *", "offset:  +15 s after each tick"]
    assert ok.stdout.splitlines()[-1] == "  2025-01-01T00:00:15+00:00"
    bad = subprocess.run([*command, "0 0 15W * *"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert (bad.returncode, bad.stdout) == (2, "")
    assert "day-of-month field (field 3 of 5) '15W'" in bad.stderr
