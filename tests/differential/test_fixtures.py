"""Every fixture program: its DBOS trace is the checked-in golden, and the shim's trace equals it.

Golden traces live in fixtures/traces/<name>.json; after a deliberate change to a program, rewrite
them with ``python -m tests.differential.harness golden NAME`` and review the diff.
"""

from __future__ import annotations

import pytest

from tests.differential.harness import (
    RUNTIMES,
    assert_same_trace,
    golden_path,
    load_golden,
    program_names,
    run_fixture,
)
from tests.differential.known_failures import KNOWN_SHIM_MISMATCHES, mark_if_known

PROGRAMS = program_names()


def differential_jobs(item: pytest.Item) -> list:
    program = item.callspec.params["program"]
    if item.originalname == "test_dbos_trace_matches_golden":
        return [(program, "dbos")]
    return [(program, runtime) for runtime in RUNTIMES]


def test_known_shim_mismatches_name_existing_tests():
    from tests.differential.test_semantics import CASES

    existing = {f"fixture:{p}" for p in PROGRAMS} | {f"semantics:{c}" for c in CASES}
    assert set(KNOWN_SHIM_MISMATCHES) <= existing, set(KNOWN_SHIM_MISMATCHES) - existing


def test_every_program_has_a_golden_trace():
    missing = [name for name in PROGRAMS if not golden_path(name).is_file()]
    assert not missing, f"programs without fixtures/traces/<name>.json: {missing}"


@pytest.mark.slow
@pytest.mark.parametrize("program", PROGRAMS)
def test_dbos_trace_matches_golden(program: str):
    assert_same_trace(load_golden(program), run_fixture(program, "dbos"), "golden", "dbos")


@pytest.mark.slow
@pytest.mark.parametrize("program", PROGRAMS)
def test_shim_trace_equals_dbos(program: str, request: pytest.FixtureRequest):
    mark_if_known(request, f"fixture:{program}")
    assert_same_trace(run_fixture(program, "dbos"), run_fixture(program, "shim"), "dbos", "shim")
