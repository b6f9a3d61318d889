"""D2R104 step-decorator: ``@DBOS.step()`` functions become plain functions run with ``await ctx.run(step, ...)``."""

from __future__ import annotations

import libcst as cst

from codemod import build
from codemod.analysis import Facts, StepRetry
from codemod.rules.base import Example, Rule
from codemod.rules.d2r103_workflow_decorator import runs_functions, add_ctx_param
from codemod.transform import RuleTransformer

DBOS_MAX_RETRY_INTERVAL = 3600  # DBOS caps a step's retry wait at one hour


def retry_policy(retry: StepRetry) -> tuple[cst.BaseExpression | None, str | None, str | None]:
    """(policy expression or None for the instance default Never(), class to import, TODO reason or None).

    DBOS waits ``interval * backoff**(k-1)`` seconds (capped at an hour) before retry k and runs at most
    ``max_attempts`` times; Resonate's ``Exponential`` waits ``min(delay * factor**k, max_delay)`` before
    retry k (k >= 1) and counts whole seconds, ``Constant`` waits ``delay``.
    """
    if retry.retries_allowed is False:
        return None, None, None
    if retry.retries_allowed is None or not retry.literal or None in (
        retry.interval_seconds, retry.max_attempts, retry.backoff_rate
    ):
        return None, None, ("DBOS retry parameters are not literals; this call runs with the instance default "
                            "Never(): add ctx.options(retry_policy=...) by hand")
    interval, attempts, backoff = retry.interval_seconds, retry.max_attempts, retry.backoff_rate
    assert interval is not None and attempts is not None and backoff is not None
    retries = max(attempts - 1, 0)
    if retries == 0:
        return None, None, None
    if backoff == 1 and float(interval).is_integer():
        return build.call("Constant", build.kwarg("delay", cst.Integer(str(int(interval)))),
                          build.kwarg("max_retries", cst.Integer(str(retries)))), "Constant", None
    delay = interval / backoff
    exact = float(backoff).is_integer() and float(delay).is_integer() and delay >= 1
    d, f = (int(delay), int(backoff)) if exact else (max(1, round(delay)), max(1, round(backoff)))
    policy = build.call(
        "Exponential",
        build.kwarg("delay", cst.Integer(str(d))),
        build.kwarg("factor", cst.Integer(str(f))),
        build.kwarg("max_retries", cst.Integer(str(retries))),
        build.kwarg("max_delay", cst.Integer(str(DBOS_MAX_RETRY_INTERVAL))),
    )
    todo = None if exact else (
        f"DBOS waited {interval:g}s * {backoff:g}**(k-1) before retry k; Resonate policies count whole seconds, "
        f"so the delays are approximated (the {attempts} attempts are kept): write a RetryPolicy for exact delays"
    )
    return policy, "Exponential", todo


class StepDecorator(RuleTransformer):
    CODE = "D2R104"
    TRIGGERS = ("step",)
    DESCRIPTION = "Turn @DBOS.step() functions into plain functions run with await ctx.run(step, ...)."

    @classmethod
    def should_run(cls, facts: Facts, source: str) -> bool:
        # a module that only calls steps it imports may not say "step" anywhere
        return any(f.kind == "step" for f in facts.functions.values()) or super().should_run(facts, source)

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        if len(self._frames) != 1:
            if any(self._is_step_decorator(d) for d in original_node.decorators):
                self.todo(self.CODE, "a step that is a method or nested function is not converted: "
                          "make it a module-level function (see D2R206)")
            return updated_node
        facts = self.facts.step(original_node.name.value)
        if facts is None:
            return updated_node
        if facts.has_ctx_param:
            self.todo(self.CODE, "this step already has a parameter named ctx; rename it, then re-run migrate")
            return updated_node
        decorators = [d for d in updated_node.decorators if not self._is_step_decorator(d)]
        node = add_ctx_param(updated_node).with_changes(decorators=decorators)
        if decorators != list(updated_node.decorators) and not decorators:
            # the function's comments above the removed decorator stay above the def
            node = node.with_changes(leading_lines=(*updated_node.leading_lines, *updated_node.decorators[0].leading_lines))
        self.add_needed_import("resonate.context", "Context")
        self.mark_applied()
        return node

    def start(self, module: cst.Module) -> None:
        self._policies: dict[str, tuple[cst.BaseExpression | None, str | None, str | None]] = {}

    def _policy(self, step: str, retry: StepRetry) -> tuple[cst.BaseExpression | None, str | None, str | None]:
        """The step's retry policy, built once per module (the same node may sit in every call: nodes are values)."""
        policy = self._policies.get(step)
        if policy is None:
            policy = self._policies[step] = retry_policy(retry)
        return policy

    def _is_step_decorator(self, dec: cst.Decorator) -> bool:
        expr = dec.decorator.func if isinstance(dec.decorator, cst.Call) else dec.decorator
        return self.facts.resolve(expr) == "DBOS.step"

    def visit_Call(self, node: cst.Call) -> None:
        if self.facts.resolve(node.func) is not None or runs_functions(node.func):
            return
        for arg in node.args:
            if isinstance(arg.value, cst.Name) and self.facts.step(arg.value.value) is not None:
                fn = arg.value.value
                self.todo(self.CODE, f"`{fn}` is passed as a value: it now takes a Context first, so whoever "
                          f"calls it must run it in a workflow with `await ctx.run({fn}, ...)`")

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if not isinstance(original_node.func, cst.Name):
            return updated_node
        facts = self.facts.step(original_node.func.value)
        if facts is None or facts.has_ctx_param:
            return updated_node
        fn = original_node.func.value
        if self.in_workflow:
            assert facts.retry is not None
            policy, cls, why = self._policy(fn, facts.retry)
            if cls:
                self.add_needed_import("resonate.retry", cls)
            if why:
                self.todo(self.CODE, why)
            future = build.ctx_run(updated_node.func, list(updated_node.args), policy)
            self.mark_applied()
            return future if facts.is_async else self.awaited(original_node, future)
        if self.in_step:
            # DBOS runs a step called from a step as a plain call; so does this
            self.mark_applied()
            return updated_node.with_changes(args=[cst.Arg(build.name("ctx")), *updated_node.args])
        self.todo(self.CODE, f"`{fn}` is called outside a workflow; it now takes a Context first: "
                  f"call it from a workflow with `await ctx.run({fn}, ...)`")
        return updated_node


RULE = Rule(
    code="D2R104",
    name="step-decorator",
    summary="Turn `@DBOS.step()` functions into plain functions run with `await ctx.run(step, ...)`",
    explanation=(
        "Resonate has no step type: any function passed to `ctx.run` is a durable step. The decorator goes, the "
        "function gains `ctx: Context` as its first parameter (Resonate passes it), and calls of it inside "
        "workflows become `await ctx.run(step, ...)`. A step called from another step stays a plain call, as in "
        "DBOS, with `ctx` passed along.\n\n"
        "Retries: DBOS steps do not retry unless `retries_allowed=True`; Resonate retries by default, so the "
        "`Resonate(...)` instance D2R102 writes has `retry_policy=Never()`. A step with retries gets "
        "`ctx.options(retry_policy=...)` on each call: `Constant(...)` when `backoff_rate=1`, "
        "`Exponential(delay=interval/backoff, factor=backoff, max_retries=max_attempts-1, max_delay=3600)` when "
        "those are whole numbers, and the nearest whole-second `Exponential` with a TODO otherwise (Resonate's "
        "policies count whole seconds). When retries are exhausted Resonate raises the step's last error, "
        "not `DBOSMaxStepRetriesExceeded`.\n\n"
        "Calls outside workflows (a DBOS step there is a plain call) are left with a TODO: the function now "
        "takes a `Context` first. Steps that other files of the migrated project define are known too: their "
        "calls are rewritten the same way.\n\n"
        "Resonate runs a plain (`def`) function passed to `ctx.run` on its event loop thread, where DBOS ran a "
        "step in the workflow's thread: a step that blocks for long (a sleep, a wait on another thread, slow "
        "blocking I/O) holds up every workflow of the process meanwhile. Make such a step `async def`, or run "
        "its blocking part with `await asyncio.to_thread(...)`."
    ),
    examples=(
        Example(
            title="Steps with and without retries",
            before='''
            from dbos import DBOS

            @DBOS.step()
            def fetch(url: str) -> str:
                return url

            @DBOS.step(retries_allowed=True, interval_seconds=2, max_attempts=4)
            def flaky(n: int) -> int:
                return n

            @DBOS.workflow()
            def work(url: str) -> int:
                body = fetch(url)
                return flaky(len(body))
            ''',
            after='''
            from resonate.context import Context
            from resonate.retry import Exponential

            def fetch(ctx: Context, url: str) -> str:
                return url

            def flaky(ctx: Context, n: int) -> int:
                return n

            # TODO(dbos2resonate): D2R103 this module registers workflows on `resonate` but does not create it: import the Resonate instance from the module that replaced DBOS(config=...). See docs/rules/D2R103.md
            @resonate.register
            async def work(ctx: Context, url: str) -> int:
                body = await ctx.run(fetch, url)
                return await ctx.options(retry_policy=Exponential(delay=1, factor=2, max_retries=3, max_delay=3600)).run(flaky, len(body))
            ''',
        ),
    ),
    transformer=StepDecorator,
    todo_reason="this step use could not be converted",
)
