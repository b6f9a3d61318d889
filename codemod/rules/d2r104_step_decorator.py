"""D2R104 step-decorator: ``@DBOS.step()`` functions become plain functions run with ``await ctx.run(step, ...)``."""

from __future__ import annotations

import libcst as cst

from codemod import build
from codemod.analysis import Facts, StepRetry
from codemod.comprehensions import lazily_read_todo
from codemod.rules._blocking import blocking_calls, blocking_imports, blocking_todo
from codemod.rules._step_retries import (
    NO_RETRIES, POLICY_CLASS, RETRY_HELPERS, Policy, decorator_retries, exact_policy, helper_call, hoisted,
    insert_after_definitions, step_decorator,
)
from codemod.rules.base import Example, Rule
from codemod.rules.d2r103_workflow_decorator import runs_functions, add_ctx_param
from codemod.transform import RuleTransformer

NOT_LITERAL = ("DBOS retry parameters are not literals; this call runs with the instance default Never(): "
               "add ctx.options(retry_policy=...) by hand")


def retry_policy(retry: StepRetry) -> Policy | None:
    """The policy for a step's literal retry parameters; None when they are not all literals."""
    if retry.retries_allowed is False:
        return NO_RETRIES
    interval, attempts, backoff = retry.interval_seconds, retry.max_attempts, retry.backoff_rate
    if retry.retries_allowed is None or not retry.literal or interval is None or attempts is None or backoff is None:
        return None
    return exact_policy(interval, attempts, backoff)


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
        if not facts.is_async:
            if self._blocking_imports is None:  # read once per module, and only in one with a plain step
                self._blocking_imports = blocking_imports(self._module)
            blocking = blocking_calls(original_node, self._blocking_imports) if self._blocking_imports else []
            if blocking:
                self.todo(self.CODE, blocking_todo(facts.name, blocking))
        return node

    def start(self, module: cst.Module) -> None:
        self._module = module
        self._blocking_imports: dict[str, str] | None = None
        self._policies: dict[str, Policy] = {}
        self._hoisted: dict[str, cst.BaseStatement] = {}  # step -> ``{step}_retries = StepRetries(...)``

    def _policy(self, step: str, retry: StepRetry) -> Policy:
        """The step's retry policy, built once per module (the same node may sit in every call: nodes are values)."""
        policy = self._policies.get(step)
        if policy is None:
            policy = retry_policy(retry) or self._policy_from_decorator(step)
            if policy.uses_helper and POLICY_CLASS in self.facts.imported_names:
                policy = Policy(None, todo=f"the module imports a `{POLICY_CLASS}`, the name of the retry policy "
                                          "class this step needs; rename it and run migrate again")
            self._policies[step] = policy
        return policy

    def _policy_from_decorator(self, step: str) -> Policy:
        """A step whose parameters are not all literals: read its decorator, if this module defines it.

        Expressions go unchanged into a module-level ``{step}_retries = StepRetries(...)`` just after the
        step, so they are evaluated once, in module scope, where DBOS's decorator evaluated them.
        """
        decorator = step_decorator(self._module, step, self._is_step_decorator)
        if decorator is None:
            return Policy(None, todo=NOT_LITERAL)
        retries = decorator_retries(decorator)
        if isinstance(retries, str):
            return Policy(None, todo=retries)
        if not retries.retries_allowed:
            return NO_RETRIES
        values = retries.literal_values()
        if values is not None:
            return exact_policy(*values)
        name = f"{step}_retries"
        if name in self.facts.module_names or name in self.facts.imported_names:
            return Policy(None, todo=f"the module already binds `{name}`, the name of this step's retry policy; "
                                     "rename it and run migrate again")
        self._hoisted[step] = hoisted(name, helper_call(retries.arguments))
        return Policy(build.name(name), uses_helper=True)

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        module = insert_after_definitions(updated_node, self._hoisted) if self._hoisted else updated_node
        return RETRY_HELPERS.insert(self, module)

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
            policy = self._policy(fn, facts.retry)
            if policy.sdk_class:
                self.add_needed_import("resonate.retry", policy.sdk_class)
            if policy.uses_helper:
                RETRY_HELPERS.need(self.context, POLICY_CLASS)
            if policy.todo:
                self.todo(self.CODE, policy.todo)
            future = build.ctx_run(updated_node.func, list(updated_node.args), policy.expression)
            self.mark_applied()
            return future if facts.is_async else self.awaited(original_node, future)
        if self.in_step:
            # DBOS runs a step called from a step as a plain call; so does this
            self.mark_applied()
            return updated_node.with_changes(args=[cst.Arg(build.name("ctx")), *updated_node.args])
        if self.frame is not None and self.frame.kind == "genexp":
            self.todo(self.CODE, lazily_read_todo(fn, f"await ctx.run({fn}, ...)"))
            return updated_node
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
        "DBOS, with `ctx` passed along. In a generator expression that `sum`, `list`, `tuple`, `set`, `dict`, "
        "`sorted`, `min`, `max` or `str.join` reads to the end at once, the calls are rewritten too and the "
        "expression becomes a list comprehension (an `await` would make it an asynchronous generator, which those "
        "cannot read); the steps run in the same order and the first error stops them at the same item. One read "
        "lazily (`any`, `all`, `next`, a function of yours) gets a TODO: it may stop early, so it becomes a loop by "
        "hand. The same holds for child workflows (D2R103) and handles (D2R105).\n\n"
        "Retries: DBOS steps do not retry unless `retries_allowed=True`; Resonate retries by default, so the "
        "`Resonate(...)` instance D2R102 writes has `retry_policy=Never()`. A step with retries gets "
        "`ctx.options(retry_policy=...)` on each call, a policy that waits exactly what DBOS waits before retry k, "
        "`min(interval_seconds * backoff_rate**(k-1), 3600)` seconds, and runs the step at most `max_attempts` "
        "times: `Constant(...)` when every wait is the same whole number of seconds, `Exponential(delay=interval/"
        "backoff, factor=backoff, max_retries=max_attempts-1, max_delay=3600)` when those are whole numbers, and "
        "otherwise `StepRetries(...)`, a small frozen dataclass the module gets once (Resonate's own policies count "
        "whole seconds; its retry loop sleeps the fractions a policy returns). Parameters that are not literals go "
        "unchanged into `{step}_retries = StepRetries(...)` just after the step, evaluated once where DBOS's "
        "decorator evaluated them; that needs the step's definition, so a step imported from another module with "
        "such parameters, `**` arguments or a `retries_allowed` that is not a literal get a TODO. `should_retry` "
        "has no counterpart (a Resonate policy sees the attempt number, not the exception): TODO. When retries are "
        "exhausted Resonate raises the step's last error, not `DBOSMaxStepRetriesExceeded`.\n\n"
        "Calls outside workflows (a DBOS step there is a plain call) are left with a TODO: the function now "
        "takes a `Context` first. Steps that other files of the migrated project define are known too: their "
        "calls are rewritten the same way.\n\n"
        "Resonate runs a plain (`def`) function passed to `ctx.run` on its event loop thread, where DBOS ran a "
        "step in the workflow's thread: a step that blocks for long (a sleep, a wait on another thread, slow "
        "blocking I/O) holds up every workflow of the process meanwhile. Make such a step `async def`, or run "
        "its blocking part with `await asyncio.to_thread(...)`. The rule names the blocking calls it sees in a plain "
        "step's own body (`time.sleep`, `requests`/`httpx` calls, `urllib.request.urlopen`, `subprocess.run` and "
        "its kin, `socket.create_connection`) in a TODO on the step."
    ),
    examples=(
        Example(
            title="Whole-second waits keep Resonate's own policies",
            before='''
            from dbos import DBOS

            @DBOS.step()
            def fetch(url: str) -> str:
                return url

            @DBOS.step(retries_allowed=True, interval_seconds=2, max_attempts=4)
            def flaky(n: int) -> int:
                return n

            @DBOS.step(retries_allowed=True, interval_seconds=5, backoff_rate=1)
            def steady(n: int) -> int:
                return n

            @DBOS.workflow()
            def work(url: str) -> int:
                body = fetch(url)
                return flaky(len(body)) + steady(1)
            ''',
            after='''
            from resonate.context import Context
            from resonate.retry import Constant, Exponential

            def fetch(ctx: Context, url: str) -> str:
                return url

            def flaky(ctx: Context, n: int) -> int:
                return n

            def steady(ctx: Context, n: int) -> int:
                return n

            # TODO(dbos2resonate): D2R103 this module registers workflows on `resonate` but does not create it: import the Resonate instance from the module that replaced DBOS(config=...). See docs/rules/D2R103.md
            @resonate.register
            async def work(ctx: Context, url: str) -> int:
                body = await ctx.run(fetch, url)
                return await ctx.options(retry_policy=Exponential(delay=1, factor=2, max_retries=3, max_delay=3600)).run(flaky, len(body)) + await ctx.options(retry_policy=Constant(delay=5, max_retries=2)).run(steady, 1)
            ''',
        ),
        Example(
            title="Fractional waits (DBOS's defaults among them) and computed ones: the module gets StepRetries once",
            before='''
            from dbos import DBOS

            from settings import RETRY_SECONDS, ATTEMPTS

            @DBOS.step(retries_allowed=True)
            def reserve(item: str) -> str:
                return item

            @DBOS.step(retries_allowed=True, interval_seconds=0.5, max_attempts=5, backoff_rate=1.5)
            def charge(item: str) -> str:
                return item

            @DBOS.step(retries_allowed=True, interval_seconds=RETRY_SECONDS, max_attempts=ATTEMPTS + 1)
            def ship(item: str) -> str:
                return item

            @DBOS.workflow()
            def order(item: str) -> str:
                reserve(item)
                charge(item)
                return ship(item)
            ''',
            after='''
            from dataclasses import dataclass

            from resonate.context import Context

            from settings import RETRY_SECONDS, ATTEMPTS


            @dataclass(frozen=True, slots=True)
            class StepRetries:
                """A Resonate retry policy that reproduces DBOS's step retries (``@DBOS.step(retries_allowed=True, ...)``).

                The step runs at most ``max_attempts`` times; before retry k it waits
                ``interval_seconds * backoff_rate**(k-1)`` seconds, at most an hour, as DBOS does.
                """

                interval_seconds: float = 1.0
                max_attempts: int = 3
                backoff_rate: float = 2.0

                def next(self, attempt: int) -> float | None:
                    """Seconds to wait before retry ``attempt`` (1 is the first retry), or None when the runs are used up."""
                    if attempt >= self.max_attempts:
                        return None
                    return min(self.interval_seconds * self.backoff_rate ** (attempt - 1), 3600.0)

            def reserve(ctx: Context, item: str) -> str:
                return item

            def charge(ctx: Context, item: str) -> str:
                return item

            def ship(ctx: Context, item: str) -> str:
                return item


            # the step's retry parameters, evaluated once where DBOS's decorator evaluated them
            ship_retries = StepRetries(interval_seconds=RETRY_SECONDS, max_attempts=ATTEMPTS + 1, backoff_rate=2.0)

            # TODO(dbos2resonate): D2R103 this module registers workflows on `resonate` but does not create it: import the Resonate instance from the module that replaced DBOS(config=...). See docs/rules/D2R103.md
            @resonate.register
            async def order(ctx: Context, item: str) -> str:
                await ctx.options(retry_policy=StepRetries(interval_seconds=1.0, max_attempts=3, backoff_rate=2.0)).run(reserve, item)
                await ctx.options(retry_policy=StepRetries(interval_seconds=0.5, max_attempts=5, backoff_rate=1.5)).run(charge, item)
                return await ctx.options(retry_policy=ship_retries).run(ship, item)
            ''',
        ),
        Example(
            title="Steps in a generator expression: one a builtin reads at once becomes a list comprehension",
            before='''
            from dbos import DBOS

            @DBOS.step()
            def price(item: str, quantity: int) -> int:
                return quantity * 100

            @DBOS.step()
            def in_stock(item: str) -> bool:
                return True

            @DBOS.workflow()
            def quote(lines: dict[str, int]) -> dict:
                total = sum(price(item, n) for item, n in lines.items())
                labels = ", ".join(f"{n} x {item}" for item, n in lines.items())
                available = all(in_stock(item) for item in lines)
                return {"total": total, "labels": labels, "available": available}
            ''',
            after='''
            from resonate.context import Context

            def price(ctx: Context, item: str, quantity: int) -> int:
                return quantity * 100

            def in_stock(ctx: Context, item: str) -> bool:
                return True

            # TODO(dbos2resonate): D2R103 this module registers workflows on `resonate` but does not create it: import the Resonate instance from the module that replaced DBOS(config=...). See docs/rules/D2R103.md
            @resonate.register
            async def quote(ctx: Context, lines: dict[str, int]) -> dict:
                total = sum([await ctx.run(price, item, n) for item, n in lines.items()])
                labels = ", ".join(f"{n} x {item}" for item, n in lines.items())
                # TODO(dbos2resonate): D2R104 `in_stock` is called in a generator expression that is read lazily, where `await ctx.run(in_stock, ...)` cannot go: write it as a loop (or a list comprehension, if every item may run). See docs/rules/D2R104.md
                available = all(in_stock(item) for item in lines)
                return {"total": total, "labels": labels, "available": available}
            ''',
        ),
        Example(
            title="A plain step that blocks: named in a TODO",
            before='''
            import time

            import requests
            from dbos import DBOS

            @DBOS.step()
            def fetch_rate(currency: str) -> float:
                time.sleep(0.5)  # the provider's rate limit
                return requests.get(f"https://rates.example/{currency}").json()["rate"]

            @DBOS.workflow()
            def convert(cents: int, currency: str) -> int:
                return int(cents * fetch_rate(currency))
            ''',
            after='''
            import time

            import requests
            from resonate.context import Context

            # TODO(dbos2resonate): D2R104 `fetch_rate` calls `time.sleep`, `requests.get`, which block: Resonate runs a plain `def` step on its event loop thread, where DBOS ran it in the workflow's thread, so every workflow of this process waits meanwhile. Make the step `async def` (for `time.sleep`, `await asyncio.sleep(...)`; for `requests.get`, an async HTTP client (httpx.AsyncClient, aiohttp)), or run the blocking part with `await asyncio.to_thread(...)`. See docs/rules/D2R104.md
            def fetch_rate(ctx: Context, currency: str) -> float:
                time.sleep(0.5)  # the provider's rate limit
                return requests.get(f"https://rates.example/{currency}").json()["rate"]

            # TODO(dbos2resonate): D2R103 this module registers workflows on `resonate` but does not create it: import the Resonate instance from the module that replaced DBOS(config=...). See docs/rules/D2R103.md
            @resonate.register
            async def convert(ctx: Context, cents: int, currency: str) -> int:
                return int(cents * await ctx.run(fetch_rate, currency))
            ''',
        ),
    ),
    transformer=StepDecorator,
    todo_reason="this step use could not be converted",
)
