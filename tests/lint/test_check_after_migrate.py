"""``check`` and ``migrate`` agree: what ``check`` calls fixable is what ``migrate`` rewrites, and what a
migration leaves is reported under the TODO codes it left. Run through real subprocesses on the
fixture programs (DBOS code) and their checked-in migrations."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-c", "from cli.main import app; app()"]


def _check(path: Path) -> tuple[int, dict]:
    run = subprocess.run([*CLI, "check", str(path), "--format", "json"], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, check=False)
    return run.returncode, json.loads(run.stdout)


@pytest.mark.slow
def test_migrating_leaves_nothing_check_calls_fixable(tmp_path: Path) -> None:
    tree = tmp_path / "programs"
    shutil.copytree(ROOT / "fixtures" / "programs", tree)
    before_code, before = _check(tree)
    migrate = subprocess.run([*CLI, "migrate", str(tree)], cwd=ROOT, capture_output=True, text=True,
                             timeout=300, check=False)
    assert migrate.returncode in (0, 1), migrate.stderr[-2000:]
    after_code, after = _check(tree)

    assert before_code == after_code == 1
    fixable_before = [f for f in before["findings"] if f["fixable"]]
    assert fixable_before, "the fixture programs use DBOS constructs migrate rewrites"
    assert [f for f in after["findings"] if f["fixable"]] == []
    # every rule that left a construct behind also left a TODO saying why
    left = Counter(f["code"] for f in after["findings"] if f["kind"] != "todo")
    todos = Counter(f["code"] for f in after["findings"] if f["kind"] == "todo")
    assert set(left) - {"D2R101"} <= set(todos), f"constructs left without a TODO of their code: {left - todos}"
    assert len(after["findings"]) - sum(todos.values()) < len(before["findings"])


@pytest.mark.slow
def test_checked_in_migrations_have_nothing_fixable_left() -> None:
    code, report = _check(ROOT / "fixtures" / "migrated")
    assert code == 1  # the TODOs a person must still resolve
    assert [f for f in report["findings"] if f["fixable"]] == []
    assert all(f["docs"] == f"docs/rules/{f['code']}.md" for f in report["findings"])
