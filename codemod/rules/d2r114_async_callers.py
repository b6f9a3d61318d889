"""D2R114 async-callers: a plain helper whose DBOS calls become awaits becomes ``async def``; its calls await it."""

from __future__ import annotations

import libcst as cst

from codemod.analysis import Facts
from codemod.rules.base import Example, Rule
from codemod.transform import RuleTransformer


class AsyncCallers(RuleTransformer):
    CODE = "D2R114"
    DESCRIPTION = "Make plain helpers whose DBOS calls become awaits `async def`, and await their calls."

    @classmethod
    def should_run(cls, facts: Facts, source: str) -> bool:
        return bool(facts.async_helpers or facts.async_declined)

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        name = original_node.name.value
        if len(self._frames) != 1 or original_node.asynchronous is not None:
            return updated_node
        if self.helper_becomes_async(name):
            self.mark_applied()
            return updated_node.with_changes(asynchronous=cst.Asynchronous())
        why = self.facts.async_declined.get(name)
        if why is not None:
            self.todo(self.CODE, f"`{name}` stays `def`, so the DBOS calls in it that need `await` are left as "
                      f"they are: {why}")
        return updated_node

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        func = original_node.func
        if type(func) is cst.Name and self.helper_becomes_async(func.value):  # type: ignore[attr-defined]
            self.mark_applied()
            return self.awaited(original_node, updated_node)
        return updated_node


RULE = Rule(
    code="D2R114",
    name="async-callers",
    summary="Make a plain helper `async def` when its DBOS calls become awaits, and await its calls",
    explanation=(
        "Outside workflows, `DBOS.send`, `DBOS.get_event`, `DBOS.start_workflow`, `DBOS.retrieve_workflow`, a "
        "workflow called directly, `queue.enqueue` ... become awaits on Resonate, which need an `async def` "
        "around them. A module-level plain function holding such calls becomes `async def`, and every call of it "
        "`await f(...)`, when each use of its name in the module is a call that can be awaited: made directly in "
        "the body of a function that is or becomes async and is not a workflow or step (an `async def`, the "
        "entry point D2R102 makes async, the `__main__` block it moves into `async def main()`, or another helper "
        "made async here, to a fixed point). Its body runs as before, now on the event loop its callers already "
        "run on.\n\n"
        "The function keeps `def`, with a TODO naming the use that holds it back, when it is decorated, a "
        "generator, listed in `__all__`, bound again, never called in the module, used as a value, called in a "
        "lambda, a generator expression, a nested function, a decorator or a default value, called from code "
        "that stays synchronous, or called by a workflow or step: awaited from a workflow, its sends and starts "
        "would run outside the workflow's durable steps (a replay would send again), which is not what DBOS does.\n\n"
        "Only calls in the module are seen: a caller in another module that is not in `__all__` must await the "
        "function too (list it in `__all__` to keep it synchronous). Methods are not converted."
    ),
    examples=(
        Example(
            title="Helpers that start a workflow, called from the entry point, become async to a fixed point",
            before='''
            from dbos import DBOS, SetWorkflowID

            @DBOS.workflow()
            def checkout(quantity: int) -> str:
                return f"{quantity} reserved"

            def checkout_endpoint(key: str, quantity: int) -> dict:
                with SetWorkflowID(key):
                    handle = DBOS.start_workflow(checkout, quantity)
                return {"result": handle.get_result()}

            def handle_request(key: str) -> dict:
                return checkout_endpoint(key, 1)

            def main() -> None:
                DBOS.launch()
                print(handle_request("ck-1"))
            ''',
            after='''
            from resonate.context import Context

            # TODO(dbos2resonate): D2R103 this module registers workflows on `resonate` but does not create it: import the Resonate instance from the module that replaced DBOS(config=...). See docs/rules/D2R103.md
            @resonate.register
            async def checkout(ctx: Context, quantity: int) -> str:
                return f"{quantity} reserved"

            async def checkout_endpoint(key: str, quantity: int) -> dict:
                handle = resonate.run(key, checkout, quantity)
                return {"result": await handle.result()}

            async def handle_request(key: str) -> dict:
                return await checkout_endpoint(key, 1)

            # TODO(dbos2resonate): D2R102 `main` launched DBOS and is now `async def` (resonate.start() needs a running event loop): its callers run it with `asyncio.run(main())` or await it. See docs/rules/D2R102.md
            async def main() -> None:
                resonate.start()
                print(await handle_request("ck-1"))
            ''',
        ),
        Example(
            title="A helper a workflow calls stays sync: its send would not be a durable step",
            before='''
            from dbos import DBOS

            def notify(workflow_id: str) -> None:
                DBOS.send(workflow_id, "ping")

            @DBOS.workflow()
            def ping(target: str) -> None:
                notify(target)
            ''',
            after='''
            from dbos import DBOS
            from resonate.context import Context

            # TODO(dbos2resonate): D2R114 `notify` stays `def`, so the DBOS calls in it that need `await` are left as they are: the workflow or step `ping` calls it: awaited there, its DBOS calls would run outside the workflow's durable steps. See docs/rules/D2R114.md
            def notify(workflow_id: str) -> None:
                # TODO(dbos2resonate): D2R111 DBOS.send in sync code: it becomes `await send_message(...)` (a function migrate adds once a call is converted; see the rule's docs), which needs an async caller (D2R114 says why not here). See docs/rules/D2R111.md
                DBOS.send(workflow_id, "ping")

            # TODO(dbos2resonate): D2R103 this module registers workflows on `resonate` but does not create it: import the Resonate instance from the module that replaced DBOS(config=...). See docs/rules/D2R103.md
            @resonate.register
            async def ping(ctx: Context, target: str) -> None:
                notify(target)
            ''',
        ),
    ),
    transformer=AsyncCallers,
    todo_reason="the function must stay synchronous (the TODO names the use that holds it back)",
)
