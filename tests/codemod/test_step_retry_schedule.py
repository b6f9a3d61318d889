"""D2R104's retry policies give DBOS's step retries exactly: the same number of runs, the same waits.

One set of always-failing steps, each with its own ``@DBOS.step(...)`` retry parameters, runs twice:

- under real DBOS, in a subprocess, with the ``time.sleep`` of DBOS's retry loop (dbos/_outcome.py, which sleeps
  for nothing else) recording each wait instead of taking it;
- migrated by ``dbos2resonate migrate``, in process on resonate-sdk's local mode, with the SDK's own
  ``RecordingSleeper`` (resonate.testing) recording each wait its retry loop asks for.

Both report, per step, how many times its body ran and the waits in order; the reports must be equal. The waits
are never taken on either side, so hour-long capped waits cost nothing.
"""

from __future__ import annotations

import ast
import asyncio
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest
from resonate.testing import RecordingSleeper, local_resonate

from codemod.engine import migrate_source

# step name -> its @DBOS.step(...) arguments; the comment says which policy D2R104 writes
SCHEDULES: dict[str, str] = {
    "defaults": "retries_allowed=True",  # StepRetries: DBOS's 1 s * 2**(k-1) has no whole-second Exponential
    "fractional": "retries_allowed=True, interval_seconds=0.5, max_attempts=5, backoff_rate=1.5",  # StepRetries
    "exponential": "retries_allowed=True, interval_seconds=2, max_attempts=4",  # Exponential(delay=1, factor=2)
    "constant": "retries_allowed=True, interval_seconds=3, backoff_rate=1",  # Constant(delay=3)
    "capped_exponential": "retries_allowed=True, interval_seconds=1800, max_attempts=4",  # hits DBOS's hour cap
    "capped_fractional": "retries_allowed=True, interval_seconds=0.5, backoff_rate=10000",  # StepRetries, capped
    "not_literal": "retries_allowed=True, interval_seconds=WAIT, max_attempts=ATTEMPTS + 1",  # step_retries = ...
    "one_attempt": "retries_allowed=True, max_attempts=1",  # no policy
    "no_retries": "interval_seconds=0.5",  # retries_allowed defaults to False: no policy
}

# what DBOS 2.31 does, pinned so a broken recorder cannot make both sides agree on nothing
DBOS_REPORT: dict[str, dict[str, Any]] = {
    "defaults": {"runs": 3, "waits": [1.0, 2.0]},
    "fractional": {"runs": 5, "waits": [0.5, 0.75, 1.125, 1.6875]},
    "exponential": {"runs": 4, "waits": [2, 4, 8]},
    "constant": {"runs": 3, "waits": [3, 3]},
    "capped_exponential": {"runs": 4, "waits": [1800, 3600, 3600]},
    "capped_fractional": {"runs": 3, "waits": [0.5, 3600]},
    "not_literal": {"runs": 4, "waits": [0.25, 0.5, 1.0]},
    "one_attempt": {"runs": 1, "waits": []},
    "no_retries": {"runs": 1, "waits": []},
}

STEPS = "\n".join(
    [
        "WAIT = 0.25",
        "ATTEMPTS = 3",
        "runs: dict[str, int] = {}",
        "",
        "",
        "def fail(name: str) -> None:",
        "    runs[name] = runs.get(name, 0) + 1",
        "    raise ConnectionError(f'{name}: run {runs[name]} failed')",
        "",
    ]
    + [
        textwrap.dedent(f"""
        @DBOS.step({arguments})
        def step_{name}() -> None:
            fail("{name}")


        @DBOS.workflow()
        def workflow_{name}() -> None:
            step_{name}()
        """)
        for name, arguments in SCHEDULES.items()
    ]
)

DBOS_PROGRAM = f'''
import os
import types

import dbos._outcome
from dbos import DBOS

DBOS(config={{"name": "step-retry-schedule", "system_database_url": os.environ["D2R_DB_URL"]}})
waits: list[float] = []
dbos._outcome.time = types.SimpleNamespace(sleep=waits.append)  # the retry loop's waits, recorded and not taken

{STEPS}


def main() -> dict:
    DBOS.launch()
    report = {{}}
    try:
        for name in {list(SCHEDULES)!r}:
            waits.clear()
            try:
                globals()[f"workflow_{{name}}"]()
            except Exception:
                pass  # every step fails for good: DBOSMaxStepRetriesExceeded, or its own error without retries
            report[name] = {{"runs": runs.get(name, 0), "waits": list(waits)}}
    finally:
        DBOS.destroy()
    return report
'''


def migrated_module() -> str:
    result = migrate_source(f"from dbos import DBOS\n\n{STEPS}", "schedules.py")
    assert result.error is None and result.after is not None, result.error
    imported = {a.name for n in ast.walk(ast.parse(result.after)) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module or "" for n in ast.walk(ast.parse(result.after)) if isinstance(n, ast.ImportFrom)}
    assert not {m for m in imported if m.partition(".")[0] == "dbos"}, result.after
    return result.after


async def run_migrated(source: str) -> dict[str, dict[str, Any]]:
    """Each workflow of the migrated module on local Resonate: the step's runs and the waits the SDK asked for."""
    sleeper = RecordingSleeper()
    resonate = local_resonate(sleeper=sleeper)
    namespace: dict[str, Any] = {"__name__": "migrated_schedules", "resonate": resonate}
    exec(compile(source, "migrated_schedules.py", "exec", dont_inherit=True), namespace)  # noqa: S102 (the codemod's own output)
    report = {}
    try:
        for name in SCHEDULES:
            sleeper.delays.clear()
            with pytest.raises(Exception, match=f"{name}: run"):
                await resonate.run(f"workflow-{name}", namespace[f"workflow_{name}"]).result()
            report[name] = {"runs": namespace["runs"].get(name, 0), "waits": list(sleeper.delays)}
    finally:
        await resonate.stop()
    return report


@pytest.fixture(scope="module")
def dbos_report() -> Iterator[Any]:
    from tests.differential import harness

    try:
        yield harness.run_fixture(DBOS_PROGRAM, "dbos")
    finally:
        harness.shutdown()


@pytest.mark.slow
def test_real_dbos_waits_as_pinned(dbos_report: Any) -> None:
    assert dbos_report == DBOS_REPORT


def test_migrated_steps_run_and_wait_as_dbos_pins() -> None:
    assert asyncio.run(run_migrated(migrated_module())) == DBOS_REPORT


def test_exact_schedules_keep_resonates_own_policies() -> None:
    source = migrated_module()
    assert "Exponential(delay=1, factor=2, max_retries=3, max_delay=3600)).run(step_exponential)" in source
    assert "Constant(delay=3, max_retries=2)).run(step_constant)" in source
    assert "Exponential(delay=900, factor=2, max_retries=3, max_delay=3600)).run(step_capped_exponential)" in source
    assert source.count("class StepRetries") == 1
    assert "TODO(dbos2resonate): D2R104" not in source


@pytest.mark.slow
def test_migrated_steps_run_and_wait_as_real_dbos(dbos_report: Any) -> None:
    assert asyncio.run(run_migrated(migrated_module())) == dbos_report
