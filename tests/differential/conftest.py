"""Start every subprocess run the selected differential tests need, before the first one runs.

A test module opts in with ``differential_jobs(item) -> [(program, runtime), ...]``, called for
each selected parametrised test of the module (``item.originalname``, ``item.callspec.params``). The runs go to the harness's small pool in test order, so the
tests then mostly find their traces ready.
"""

from __future__ import annotations

import pytest

from tests.differential import harness


@pytest.fixture(scope="session", autouse=True)
def _prefetch_differential_runs(request: pytest.FixtureRequest):
    jobs: list[tuple[str, harness.Runtime]] = []
    for item in request.session.items:
        jobs_for = getattr(getattr(item, "module", None), "differential_jobs", None)
        if jobs_for is not None and hasattr(item, "callspec"):
            jobs.extend(jobs_for(item))
    harness.prefetch(dict.fromkeys(jobs))  # de-duplicated, order kept
    yield
    harness.shutdown()
