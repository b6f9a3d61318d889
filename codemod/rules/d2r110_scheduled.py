"""D2R110 scheduled: Turn `@DBOS.scheduled(cron)` into a Resonate schedule, or a TODO."""

from __future__ import annotations

from codemod.rules.base import Rule

RULE = Rule(
    code='D2R110',
    name='scheduled',
    summary='Turn `@DBOS.scheduled(cron)` into a Resonate schedule, or a TODO',
    explanation=(
        'DBOS runs a decorated workflow on a cron (6 fields, seconds first, allowed). Resonate schedules are created at run time with `resonate.schedules.create(...)` and accept 5-field cron. Until the cron converter can prove an expression equivalent, the decorator is kept with a TODO; schedule management APIs get a TODO.'
    ),
    fixable=True,
)
