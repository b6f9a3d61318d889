"""DBOS's own test suite, ported: each case runs under real DBOS and under the shim (tests/dbos_suite/cases.py).

``test_case[<name>-dbos]`` checks that real DBOS still gives the trace written in the case (a DBOS
upgrade or a harness fault shows up here); ``test_case[<name>-shim]`` checks that the shim gives the
trace DBOS gives in this run, or, for a known failure (tests/dbos_suite/expectations.py), that it
still differs (strict xfail).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.dbos_suite.cases import CASES
from tests.dbos_suite.conftest import TIMEOUT
from tests.dbos_suite.expectations import EXPECTATIONS, KnownFailure, known_failures
from tests.differential.harness import assert_same_trace, run_fixture

ROOT = Path(__file__).resolve().parents[2]


def heading_anchors(markdown: str) -> set[str]:
    """GitHub's anchors for the headings of a Markdown page."""
    anchors = set()
    for line in markdown.splitlines():
        match = re.match(r"#{1,6} (.+)", line)
        if match:
            text = re.sub(r"[^\w\- ]", "", match.group(1).strip().lower().replace("`", ""))
            anchors.add(text.replace(" ", "-"))
    return anchors


@pytest.mark.slow
@pytest.mark.parametrize("runtime", ["dbos", "shim"])
@pytest.mark.parametrize("name", list(CASES))
def test_case(name: str, runtime: str, request: pytest.FixtureRequest) -> None:
    source, expected = CASES[name].source, CASES[name].expected
    dbos_trace = run_fixture(source, "dbos", timeout=TIMEOUT)
    if runtime == "dbos":
        assert_same_trace(expected, dbos_trace, "expected", "dbos")
        return
    expectation = EXPECTATIONS[name]
    if isinstance(expectation, KnownFailure):
        request.applymarker(pytest.mark.xfail(
            strict=True,
            reason=f"known failure (docs/DEVIATIONS.md#{expectation.deviation}): {expectation.observed}; "
                   "mark it PASS in tests/dbos_suite/expectations.py once it passes",
        ))
    assert_same_trace(dbos_trace, run_fixture(source, "shim", timeout=TIMEOUT), "dbos", "shim")


def test_every_case_has_an_expectation() -> None:
    assert set(EXPECTATIONS) == set(CASES), {
        "cases without an expectation": sorted(set(CASES) - set(EXPECTATIONS)),
        "expectations without a case": sorted(set(EXPECTATIONS) - set(CASES)),
    }


def test_every_known_failure_links_to_a_deviation() -> None:
    anchors = heading_anchors((ROOT / "docs" / "DEVIATIONS.md").read_text(encoding="utf-8"))
    missing = {name: kf.deviation for name, kf in known_failures().items() if kf.deviation not in anchors}
    assert not missing, f"no heading in docs/DEVIATIONS.md for: {missing}"


def test_every_case_names_the_dbos_test_it_ports() -> None:
    assert all(re.match(r"tests/test_\w+\.py::test_\w+", case.origin) for case in CASES.values())
