"""D2R107 sleep: ``DBOS.sleep(s)`` becomes ``await ctx.sleep(timedelta(seconds=s))``."""

from __future__ import annotations

import libcst as cst

from codemod import build
from codemod.rules.base import Example, Rule
from codemod.transform import RuleTransformer


class Sleep(RuleTransformer):
    CODE = "D2R107"
    TRIGGERS = ("sleep",)
    DESCRIPTION = "Turn DBOS.sleep(s) into await ctx.sleep(timedelta(seconds=s))."

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        api = self.facts.resolve(original_node.func)
        if api not in ("DBOS.sleep", "DBOS.sleep_async"):
            return updated_node
        args = list(updated_node.args)
        if len(args) != 1 or (args[0].keyword is not None and args[0].keyword.value != "seconds") or args[0].star:
            self.todo(self.CODE, f"unexpected arguments to {api}; write `await ctx.sleep(timedelta(seconds=...))`")
            return updated_node
        if not self.in_workflow:
            self.todo(self.CODE, f"{api} outside a workflow has no ctx: a durable sleep is "
                      "`await ctx.sleep(timedelta(seconds=...))` inside a workflow; elsewhere use asyncio.sleep")
            return updated_node
        self.add_needed_import("datetime", "timedelta")
        self.mark_applied()
        sleep = build.call("ctx.sleep", build.call("timedelta", build.kwarg("seconds", args[0].value)))
        # the async variant is already awaited by the caller
        return sleep if api == "DBOS.sleep_async" else self.awaited(original_node, sleep)


RULE = Rule(
    code="D2R107",
    name="sleep",
    summary="Turn `DBOS.sleep(s)` into `await ctx.sleep(timedelta(seconds=s))`",
    explanation=(
        "Both are durable sleeps: the wake-up time is recorded, so the sleep survives a restart. Resonate's "
        "takes a `timedelta`. `await DBOS.sleep_async(s)` becomes `await ctx.sleep(timedelta(seconds=s))` too. "
        "Outside a workflow there is no `ctx`: the call is left with a TODO. In local mode Resonate wakes "
        "sleepers on a ~1 s tick, so sub-second sleeps round up."
    ),
    examples=(
        Example(
            before='''
            from dbos import DBOS

            @DBOS.workflow()
            def wait_then(n: int) -> int:
                DBOS.sleep(5)
                return n
            ''',
            after='''
            from datetime import timedelta

            from resonate.context import Context

            # TODO(dbos2resonate): D2R103 this module registers workflows on `resonate` but does not create it: import the Resonate instance from the module that replaced DBOS(config=...). See docs/rules/D2R103.md
            @resonate.register
            async def wait_then(ctx: Context, n: int) -> int:
                await ctx.sleep(timedelta(seconds=5))
                return n
            ''',
        ),
    ),
    transformer=Sleep,
    todo_reason="a durable sleep needs the workflow's ctx",
)
