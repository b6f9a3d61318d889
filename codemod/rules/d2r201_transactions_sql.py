"""D2R201 transactions-sql: Transactions and `DBOS.sql_session` have no Resonate counterpart."""

from __future__ import annotations

from codemod.rules.base import Rule

RULE = Rule(
    code='D2R201',
    name='transactions-sql',
    summary='Transactions and `DBOS.sql_session` have no Resonate counterpart',
    explanation=(
        'Resonate has no application database. A `@DBOS.transaction()` function must become a step that opens its own connection and transaction, and must be idempotent or use an idempotency key.'
    ),
    todo_reason='Resonate has no application database: make a transaction a step that opens its own connection and transaction, and make it idempotent',
    fixable=False,
)
