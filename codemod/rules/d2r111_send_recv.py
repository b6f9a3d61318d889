"""D2R111 send-recv: `DBOS.send`/`DBOS.recv` need durable promises: marked with a TODO."""

from __future__ import annotations

from codemod.rules.base import Rule

RULE = Rule(
    code='D2R111',
    name='send-recv',
    summary='`DBOS.send`/`DBOS.recv` need durable promises: marked with a TODO',
    explanation=(
        "DBOS messages are FIFO queues per (workflow, topic); Resonate has one latent durable promise per id, resolved once. A faithful rewrite needs the program's protocol (who knows which promise id), so each call is marked with a TODO that says so."
    ),
    fixable=True,
)
