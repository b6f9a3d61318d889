"""D2R112 events: `DBOS.set_event`/`DBOS.get_event` need durable promises: marked with a TODO."""

from __future__ import annotations

from codemod.rules.base import Rule

RULE = Rule(
    code='D2R112',
    name='events',
    summary='`DBOS.set_event`/`DBOS.get_event` need durable promises: marked with a TODO',
    explanation=(
        'DBOS events are last-writer-wins key/value pairs readable while the workflow runs; a Resonate promise settles once. Each call is marked with a TODO.'
    ),
    fixable=True,
)
