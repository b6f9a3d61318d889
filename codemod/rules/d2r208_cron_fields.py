"""D2R208 cron-fields: A DBOS cron expression that cannot be written as a 5-field Resonate cron."""

from __future__ import annotations

from codemod.rules.base import Rule

RULE = Rule(
    code='D2R208',
    name='cron-fields',
    summary='A DBOS cron expression that cannot be written as a 5-field Resonate cron',
    explanation=(
        "Resonate accepts 5-field cron. DBOS's seconds field, `L`, `#`, `W` and its day-of-month/day-of-week OR rule cannot always be expressed; the schedule needs a person."
    ),
    todo_reason='this cron expression cannot be written as a 5-field Resonate cron',
    fixable=False,
)
