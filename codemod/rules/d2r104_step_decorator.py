"""D2R104 step-decorator: Turn `@DBOS.step()` functions into plain functions run with `await ctx.run(step, ...)`."""

from __future__ import annotations

from codemod.rules.base import Rule

RULE = Rule(
    code='D2R104',
    name='step-decorator',
    summary='Turn `@DBOS.step()` functions into plain functions run with `await ctx.run(step, ...)`',
    explanation=(
        "Resonate has no step type: any function passed to `ctx.run` is a durable step. The decorator goes, the function gains `ctx: Context` as its first parameter, and calls of it inside workflows become `await ctx.run(step, ...)`. DBOS steps do not retry unless `retries_allowed=True`, while Resonate retries by default, so every call gets an explicit `retry_policy`: `Never()` by default, `Exponential(...)`/`Constant(...)` from DBOS's retry parameters when they are whole seconds, a TODO otherwise."
    ),
    fixable=True,
)
