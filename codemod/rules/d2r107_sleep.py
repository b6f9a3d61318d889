"""D2R107 sleep: Turn `DBOS.sleep(s)` into `await ctx.sleep(timedelta(seconds=s))`."""

from __future__ import annotations

from codemod.rules.base import Rule

RULE = Rule(
    code='D2R107',
    name='sleep',
    summary='Turn `DBOS.sleep(s)` into `await ctx.sleep(timedelta(seconds=s))`',
    explanation=(
        "Both are durable sleeps; Resonate's takes a `timedelta`. Outside a workflow (no `ctx`) the call is left with a TODO."
    ),
    fixable=True,
)
