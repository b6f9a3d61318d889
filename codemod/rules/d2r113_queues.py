"""D2R113 queues: enqueued workflows become fan-out (``ctx.run`` futures, awaited where DBOS read the handle)."""

from __future__ import annotations

import libcst as cst

from codemod import build
from codemod.analysis import ENQUEUE_APIS, ENQUEUE_METHODS, Facts
from codemod.rules.base import Example, Rule
from codemod.transform import INSTANCE, RuleTransformer

class Queues(RuleTransformer):
    CODE = "D2R113"
    TRIGGERS = ("enqueue", "Queue", "register_queue")
    DESCRIPTION = "Turn enqueued workflows into ctx.run futures (fan-out), awaited where their handles are read."

    @classmethod
    def should_run(cls, facts: Facts, source: str) -> bool:
        return bool(facts.queues) or super().should_run(facts, source)

    def start(self, module: cst.Module) -> None:
        self._enqueued: set[int] = set()  # ids of original ``enqueue_async`` calls this rule converted

    def _enqueue(self, call: cst.Call) -> tuple[str, int, str] | None:
        """(what the code calls, index of the workflow argument, the flow control lost) for an enqueue call."""
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value in ENQUEUE_METHODS and isinstance(func.value, cst.Name):
            queue = self.facts.queues.get(func.value.value)
            if queue is not None:
                limits = f" ({', '.join(queue.params)})" if queue.params else ""
                return f"{func.value.value}.{func.attr.value}", 0, f"the queue `{func.value.value}`{limits}"
            return None
        api = self.facts.resolve(func)
        if api in ENQUEUE_APIS:
            return api, 1, "the named queue"
        return None

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        found = self._enqueue(original_node)
        if found is None:
            return self._unknown_queue(original_node, updated_node)
        what, index, queue = found
        if not self.enabled("D2R103"):
            return updated_node  # the workflows stay DBOS workflows, and so do their queues
        args = list(updated_node.args)
        if len(args) <= index or args[index].keyword is not None or args[index].star or any(
            a.keyword is not None or a.star for a in args[:index]
        ):
            self.todo(self.CODE, f"`{what}` not converted: the workflow must be its positional argument")
            return updated_node
        fn, rest = args[index].value, args[index + 1:]
        if self.in_set_workflow_id:
            self.todo(self.CODE, f"`{what}` under SetWorkflowID is not converted: give the id to `{INSTANCE}.run`")
            return updated_node
        if self.in_workflow:
            new: cst.BaseExpression = build.ctx_run(fn, rest)
            self.run.made[id(original_node)] = "future"
            how = "a ctx.run future: the workflow starts at once, as a child of this one in this process, and is " \
                  "joined where its handle is awaited"
        elif self.in_async_plain:
            self.uses_instance()
            self.add_needed_import("uuid")
            new = build.root_run(build.new_id(), fn, rest)
            self.run.made[id(original_node)] = "root"
            how = f"`{INSTANCE}.run`: the workflow starts at once in this process"
        else:
            self.todo(self.CODE, f"`{what}` needs async code: in a workflow it becomes `ctx.run(fn, ...)`, "
                      f"elsewhere `{INSTANCE}.run(id, fn, ...)`")
            return updated_node
        self.mark_applied()
        self.todo(self.CODE, f"`{what}` became {how}; {queue} and its flow control (concurrency, rate limits, "
                  "priorities, deduplication) no longer apply (D2R202)")
        if what.endswith("_async"):
            self._enqueued.add(id(original_node))
        return new

    def _unknown_queue(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        func = original.func
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value in ENQUEUE_METHODS
            and self.facts.resolve(func.value) is None
            and self.enabled("D2R103")
        ):
            self.todo(self.CODE, f"if this `.{func.attr.value}()` is on a DBOS queue this module does not define, "
                      "the enqueued workflow becomes `ctx.run(fn, ...)` in a workflow, "
                      f"`{INSTANCE}.run(id, fn, ...)` elsewhere, without the queue's flow control")
        return updated

    def leave_Await(self, original_node: cst.Await, updated_node: cst.Await) -> cst.BaseExpression:
        # ``await queue.enqueue_async(...)`` was awaited for the handle; the future/handle needs no await
        if id(original_node.expression) in self._enqueued:
            return updated_node.expression.with_changes(lpar=updated_node.lpar, rpar=updated_node.rpar)
        return updated_node

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine | cst.RemovalSentinel:
        if len(original_node.body) != 1 or not self.enabled("D2R103"):
            return updated_node
        small = original_node.body[0]
        # ``queue = Queue(...)`` whose every use was converted: the queue is gone
        if (
            not self._frames
            and isinstance(small, cst.Assign)
            and len(small.targets) == 1
            and isinstance(small.targets[0].target, cst.Name)
            and isinstance(small.value, cst.Call)
            and self.facts.resolve(small.value.func) == "Queue"
        ):
            name = small.targets[0].target.value
            queue = self.facts.queues.get(name)
            if queue is None or not queue.removable:
                return updated_node
            limits = f" ({', '.join(queue.params)})" if queue.params else ""
            self.mark_applied()
            self.todo(self.CODE, f"the DBOS queue `{name}`{limits} was removed: each enqueue became a Resonate "
                      "call of its own (see their TODOs); Resonate's fan-out has no queue to limit it (D2R202)")
            return cst.RemoveFromParent()
        # ``DBOS.register_queue(...)`` when every ``DBOS.enqueue_workflow`` was converted
        if (
            isinstance(small, cst.Expr)
            and isinstance(small.value, cst.Call)
            and self.facts.resolve(small.value.func) in ("DBOS.register_queue", "DBOS.register_queue_async")
            and self.facts.enqueue_workflow_removable
        ):
            self.mark_applied()
            self.todo(self.CODE, "DBOS.register_queue was removed: each DBOS.enqueue_workflow became a Resonate call "
                      "of its own (see their TODOs); Resonate's fan-out has no queue to limit it (D2R202)")
            return cst.RemoveFromParent()
        return updated_node


RULE = Rule(
    code="D2R113",
    name="queues",
    summary="Turn enqueued workflows into fan-out: `ctx.run` futures, awaited where their handles are read",
    explanation=(
        "DBOS runs many workflows in parallel by enqueueing them (`queue.enqueue(fn, ...)`, "
        "`DBOS.enqueue_workflow(\"queue\", fn, ...)`) and then reading each handle's result. Resonate's fan-out is "
        "parallelism plus join: inside a workflow each enqueue becomes `ctx.run(fn, ...)`, a future that starts "
        "at once, and `handle.get_result()` becomes `await handle` (D2R105 follows the handles, lists of them "
        "and loops over those). In async code outside a workflow it becomes `resonate.run(id, fn, ...)` with a "
        "fresh id.\n\n"
        "What is lost is the queue itself: DBOS queues are durable, dispatch to any process polling them, and "
        "apply flow control (per-queue and per-process concurrency, rate limits, priorities, deduplication, "
        "partitions). Each converted enqueue carries a TODO saying so, naming the queue's limits; a module-level "
        "`Queue(...)` whose every use was converted is removed (its TODO moves to the next statement), as is "
        "`DBOS.register_queue(...)` when every `DBOS.enqueue_workflow` was. Enqueues from synchronous code or "
        "under `SetWorkflowID` are left with a TODO, and so is an `.enqueue()` on a queue defined elsewhere."
    ),
    examples=(
        Example(
            title="The seed's fan-out / fan-in",
            before='''
            from dbos import DBOS, Queue

            queue = Queue("example_queue", concurrency=10)

            @DBOS.workflow()
            def process_task(task: str) -> str:
                return task.upper()

            @DBOS.workflow()
            def process_tasks(tasks: list[str]) -> list[str]:
                task_handles = []
                # Enqueue each task so all tasks are processed concurrently.
                for task in tasks:
                    handle = queue.enqueue(process_task, task)
                    task_handles.append(handle)
                # Wait for each task to complete and retrieve its result.
                return [handle.get_result() for handle in task_handles]
            ''',
            after='''
            from resonate.context import Context

            # TODO(dbos2resonate): D2R103 this module registers workflows on `resonate` but does not create it: import the Resonate instance from the module that replaced DBOS(config=...). See docs/rules/D2R103.md
            # TODO(dbos2resonate): D2R113 the DBOS queue `queue` (concurrency) was removed: each enqueue became a Resonate call of its own (see their TODOs); Resonate's fan-out has no queue to limit it (D2R202). See docs/rules/D2R113.md
            @resonate.register
            async def process_task(ctx: Context, task: str) -> str:
                return task.upper()

            @resonate.register
            async def process_tasks(ctx: Context, tasks: list[str]) -> list[str]:
                task_handles = []
                # Enqueue each task so all tasks are processed concurrently.
                for task in tasks:
                    # TODO(dbos2resonate): D2R113 `queue.enqueue` became a ctx.run future: the workflow starts at once, as a child of this one in this process, and is joined where its handle is awaited; the queue `queue` (concurrency) and its flow control (concurrency, rate limits, priorities, deduplication) no longer apply (D2R202). See docs/rules/D2R113.md
                    handle = ctx.run(process_task, task)
                    task_handles.append(handle)
                # Wait for each task to complete and retrieve its result.
                return [await handle for handle in task_handles]
            ''',
        ),
    ),
    transformer=Queues,
    todo_reason="an enqueue becomes a Resonate call (ctx.run in a workflow); the queue's flow control has no counterpart (D2R202)",
)
