"""D2R102 config-launch: Turn `DBOS(config=...)` and `DBOS.launch()` into a local `Resonate(...)` instance."""

from __future__ import annotations

from codemod.rules.base import Rule

RULE = Rule(
    code='D2R102',
    name='config-launch',
    summary='Turn `DBOS(config=...)` and `DBOS.launch()` into a local `Resonate(...)` instance',
    explanation=(
        'DBOS is configured once (`DBOS(config=...)`) and started with `DBOS.launch()`. Resonate is an instance: `Resonate(env={})` runs in memory; `env={}` stops an exported `RESONATE_URL` from silently switching the program to a server. Resonate needs a running asyncio loop; a DBOS program that launches from synchronous code is marked with a TODO.'
    ),
    fixable=True,
)
