"""D2R205 dbos-client: `DBOSClient` has no Resonate counterpart: use a `Resonate` client instance."""

from __future__ import annotations

from codemod.rules.base import Rule

RULE = Rule(
    code='D2R205',
    name='dbos-client',
    summary='`DBOSClient` has no Resonate counterpart: use a `Resonate` client instance',
    explanation=(
        'An external process talks to Resonate through its own `Resonate(url=...)` instance (`rpc`, `promises`), not through a database client. '
        'A client created in the program that constructs DBOS and used only through `send`, `get_event` and '
        '`retrieve_workflow` is converted by D2R116.'
    ),
    todo_reason='an external process uses its own Resonate(url=...) instance (rpc, promises) instead of DBOSClient',
    fixable=False,
)
