"""The README states the ported suite's pass rate as tests/dbos_suite/report.py renders it."""

from __future__ import annotations

from tests.dbos_suite.report import BEGIN, END, README, render_section


def test_readme_compatibility_section_is_current() -> None:
    readme = README.read_text(encoding="utf-8")
    assert BEGIN in readme and END in readme, "run: python -m tests.dbos_suite.report --write"
    current = BEGIN + readme.split(BEGIN, 1)[1].split(END, 1)[0] + END
    assert current == render_section(), "run: python -m tests.dbos_suite.report --write"
