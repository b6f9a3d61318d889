"""D2R204 streams: DBOS streams have no Resonate counterpart."""

from __future__ import annotations

from codemod.rules.base import Rule

RULE = Rule(
    code='D2R204',
    name='streams',
    summary='DBOS streams have no Resonate counterpart',
    explanation=(
        '`write_stream`/`read_stream` have no Resonate primitive; a sequence of durable promises or an external store replaces them.'
    ),
    todo_reason='Resonate has no streams: use a sequence of durable promises or an external store',
    fixable=False,
)
