"""The shim's step retries wait what DBOS 2.31 waits: the same schedules the codemod's retry policies are checked
against (tests/codemod/test_step_retry_schedule.py, pinned from real DBOS), hour cap included."""

from __future__ import annotations

import pytest

from shim._specs import StepSpec
from tests.codemod.test_step_retry_schedule import DBOS_REPORT, SCHEDULES


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_the_shim_waits_what_dbos_waits(name: str) -> None:
    arguments = eval(f"dict({SCHEDULES[name]})", {"WAIT": 0.25, "ATTEMPTS": 3})  # the program's own constants
    spec = StepSpec(name, fn=lambda: None, is_async=False, **arguments)
    waits = [spec.delay_after(attempt) for attempt in range(1, spec.attempts())]
    assert {"runs": spec.attempts(), "waits": waits} == DBOS_REPORT[name]
