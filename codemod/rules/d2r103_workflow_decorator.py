"""D2R103 workflow-decorator: Turn `@DBOS.workflow()` functions into registered `async def f(ctx: Context, ...)` functions."""

from __future__ import annotations

from codemod.rules.base import Rule

RULE = Rule(
    code='D2R103',
    name='workflow-decorator',
    summary='Turn `@DBOS.workflow()` functions into registered `async def f(ctx: Context, ...)` functions',
    explanation=(
        'A DBOS workflow becomes a Resonate durable function: registered with `@resonate.register` (keeping `name=`), made `async`, and given `ctx: Context` as its first parameter. Calls of steps and child workflows inside it become `await ctx.run(...)`. `max_recovery_attempts` has no counterpart and gets a TODO.'
    ),
    fixable=True,
)
