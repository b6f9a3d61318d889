"""D2R202 queue-flow-control: Queue concurrency, rate limits, priorities and deduplication have no Resonate counterpart."""

from __future__ import annotations

from codemod.rules.base import Rule

RULE = Rule(
    code='D2R202',
    name='queue-flow-control',
    summary='Queue concurrency, rate limits, priorities and deduplication have no Resonate counterpart',
    explanation=(
        "Resonate's fan-out gives parallelism and join, not a managed queue. Concurrency and rate limits need a worker group sized for them or a semaphore in a step."
    ),
    todo_reason="Resonate's fan-out is parallelism and join, not a managed queue: concurrency, rate limits, priorities and deduplication need a person",
    fixable=False,
)
