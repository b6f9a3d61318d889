"""Start every DBOS and shim run the selected ported cases need before the first test waits for one."""

from __future__ import annotations

import pytest

from tests.dbos_suite.cases import CASES
from tests.differential import harness

# A case's program runs in a few seconds; a run that hangs fails after this, not the harness's 60 s.
TIMEOUT = 30.0


@pytest.fixture(scope="session", autouse=True)
def _prefetch_dbos_suite_runs(request: pytest.FixtureRequest):
    jobs = []
    for item in request.session.items:
        if item.nodeid.startswith("tests/dbos_suite/") and hasattr(item, "callspec"):
            name = item.callspec.params.get("name")
            if name in CASES:
                jobs += [(CASES[name].source, "dbos"), (CASES[name].source, item.callspec.params["runtime"])]
    harness.prefetch(dict.fromkeys(jobs), timeout=TIMEOUT)
    yield
    harness.shutdown()
