"""D2R113 queues: DBOS queues become fan-out (`ctx.run` futures), or a TODO."""

from __future__ import annotations

from codemod.rules.base import Rule

RULE = Rule(
    code='D2R113',
    name='queues',
    summary='DBOS queues become fan-out (`ctx.run` futures), or a TODO',
    explanation=(
        "Resonate's fan-out is parallelism plus join: start several `ctx.run` futures, then await them. `queue.enqueue(fn, ...)` inside a workflow becomes a `ctx.run` future; flow control (concurrency, rate limits, priorities) has no counterpart (D2R202)."
    ),
    todo_reason='DBOS queues become ctx.run futures (fan-out, then await each); flow control has no counterpart (D2R202)',
    fixable=False,
)
