"""D2R205 dbos-client: `DBOSClient` has no Resonate counterpart: use a `Resonate` client instance."""

from __future__ import annotations

from codemod.rules.base import Rule

RULE = Rule(
    code='D2R205',
    name='dbos-client',
    summary='`DBOSClient` has no Resonate counterpart: use a `Resonate` client instance',
    explanation=(
        'An external process talks to Resonate through its own `Resonate(url=...)` instance (`rpc`, `promises`), not through a database client.'
    ),
    todo_reason='an external process uses its own Resonate(url=...) instance (rpc, promises) instead of DBOSClient',
    fixable=False,
)
