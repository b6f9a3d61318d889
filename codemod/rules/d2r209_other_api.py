"""D2R209 other-api: Other DBOS APIs without a Resonate counterpart."""

from __future__ import annotations

from codemod.rules.base import Rule

RULE = Rule(
    code='D2R209',
    name='other-api',
    summary='Other DBOS APIs without a Resonate counterpart',
    explanation=(
        "Everything else in DBOS's API that Resonate has no counterpart for (authorization, Kafka, versioning, tracing, serializers). Each use is marked with a TODO naming the API."
    ),
    todo_reason='Resonate has no counterpart for this DBOS API',
    fixable=False,
)
