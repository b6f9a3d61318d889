"""D2R113 queues: enqueued workflows become fan-out (``ctx.run`` futures, awaited where DBOS read the handle)."""

from __future__ import annotations

import libcst as cst

from codemod import build
from codemod.analysis import ENQUEUE_METHODS, Facts
from codemod.rules._enqueues import Enqueue, enqueue_of
from codemod.rules._helpers import names_in
from codemod.rules.base import Example, Rule
from codemod.todo import todo_comment
from codemod.transform import INSTANCE, RuleTransformer, with_comments


class Queues(RuleTransformer):
    CODE = "D2R113"
    TRIGGERS = ("enqueue", "Queue", "register_queue")
    DESCRIPTION = "Turn enqueued workflows into ctx.run futures (fan-out), awaited where their handles are read."

    @classmethod
    def should_run(cls, facts: Facts, source: str) -> bool:
        return bool(facts.queues) or super().should_run(facts, source)

    def start(self, module: cst.Module) -> None:
        self._enqueued: set[int] = set()  # ids of original ``enqueue_async`` calls this rule converted
        # queues removed because the analysis expected every enqueue to convert: name -> (definition, its TODO)
        self._removed: dict[str, tuple[cst.SimpleStatementLine, str]] = {}
        self._left: set[str] = set()  # queue variables with an enqueue this rule left as it was

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        enqueue = enqueue_of(self.facts, original_node)
        if enqueue is None:
            return self._unknown_queue(original_node, updated_node)
        new = self._rewrite(enqueue, original_node, updated_node)
        func = original_node.func
        if new is updated_node and isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
            self._left.add(func.value.value)  # the queue stays in use
        return new

    def _rewrite(self, enqueue: Enqueue, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        what = enqueue.what
        if not self.enabled("D2R103"):
            return updated_node  # the workflows stay DBOS workflows, and so do their queues
        split = enqueue.workflow_and_args(updated_node.args)
        if split is None:
            self.todo(self.CODE, f"`{what}` not converted: the workflow must be its positional argument")
            return updated_node
        fn, rest = split
        if self.in_workflow:
            if self.in_set_workflow_id:
                self.todo(self.CODE, f"`{what}` under SetWorkflowID is not converted: in a workflow it would become "
                          f"`ctx.run(fn, ...)`, which takes no id (D2R106)")
                return updated_node
            new: cst.BaseExpression = build.ctx_run(fn, rest)
            self.run.made[id(original_node)] = "future"
            how = "a ctx.run future: the workflow starts at once, as a child of this one in this process, and is " \
                  "joined where its handle is awaited"
        elif self.in_async_plain and not self.in_set_workflow_id:
            self.uses_instance()
            wf_id = self.workflow_id_for(original_node)  # the id of its SetWorkflowID block (D2R106), else a fresh one
            if wf_id is None:
                self.add_needed_import("uuid")
                wf_id = build.new_id()
            new = build.root_run(wf_id, fn, rest)
            self.run.made[id(original_node)] = "root"
            how = f"`{INSTANCE}.run`: the workflow starts at once in this process"
        elif self.in_set_workflow_id:
            self.todo(self.CODE, f"`{what}` under SetWorkflowID is not converted: give the id to `{INSTANCE}.run` "
                      "(D2R106 says why it did not)")
            return updated_node
        else:
            self.todo(self.CODE, f"`{what}` needs async code: in a workflow it becomes `ctx.run(fn, ...)`, "
                      f"elsewhere `{INSTANCE}.run(id, fn, ...)`")
            return updated_node
        self.mark_applied()
        self.todo(self.CODE, f"`{what}` became {how}; {enqueue.queue} and its flow control (concurrency, rate "
                  "limits, priorities, deduplication) no longer apply (D2R202)")
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
            reason = (f"the DBOS queue `{name}`{limits} was removed: each enqueue became a Resonate call of its own "
                      "(see their TODOs); Resonate's fan-out has no queue to limit it (D2R202)")
            self.todo(self.CODE, reason)
            self._removed[name] = (original_node, todo_comment(self.CODE, reason))
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

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        """Put back a removed queue that an enqueue this rule left still uses (the analysis cannot foresee every
        reason D2R106 has to leave a SetWorkflowID block), where the queue was, and correct its TODO."""
        if not self._removed:
            return updated_node
        body = list(updated_node.body)
        for name, (definition, removed_todo) in self._removed.items():
            if name not in self._left:
                continue
            at = next((i for i, s in enumerate(body) if any(
                line.comment is not None and line.comment.value == removed_todo
                for line in s.leading_lines  # type: ignore[attr-defined]
            )), None)
            if at is None:
                continue
            # the statement after it took the definition's lines above it, then the removal's TODO: give them back
            lines = list(body[at].leading_lines)  # type: ignore[attr-defined]
            carried = list(definition.leading_lines)
            if lines[:len(carried)] == carried:
                del lines[:len(carried)]
            lines = [line for line in lines if line.comment is None or line.comment.value != removed_todo]
            body[at] = body[at].with_changes(leading_lines=tuple(lines))
            kept = with_comments(definition, [todo_comment(self.CODE, (
                f"the DBOS queue `{name}` is kept: an enqueue on it was not converted (see its TODO); once none is "
                "left, remove it (Resonate's fan-out has no queue to limit it, D2R202)"))])
            body.insert(at, kept)  # type: ignore[arg-type]
            self.run.used_dbos_names.update(names_in(definition) & self.facts.dbos_names)
        return updated_node.with_changes(body=body)


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
        "in a workflow under `SetWorkflowID` are left with a TODO (Resonate names a child by its position: "
        "`ctx.run` takes no id), and so is an `.enqueue()` on a queue defined elsewhere. A queue such a left "
        "enqueue still uses is kept, with a TODO saying why.\n\n"
        "`with SetWorkflowID(id):` around an enqueue is DBOS's way to make it idempotent (a retried request "
        "enqueues nothing new). Outside a workflow the id goes to `resonate.run(id, fn, ...)`, which attaches "
        "to the promise of that id when it exists, so the workflow runs once and each handle gives its stored "
        "result, as in DBOS. As with a workflow call (D2R106), only the block's first workflow gets the id; "
        "a later enqueue in the block gets a fresh one."
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
        Example(
            title="An idempotent enqueue: under SetWorkflowID outside a workflow the id goes to resonate.run",
            before='''
            from dbos import DBOS, Queue, SetWorkflowID

            queue = Queue("payments", concurrency=5)

            @DBOS.workflow()
            def charge(order: str) -> str:
                return f"charged {order}"

            @DBOS.workflow()
            def send_receipt(order: str) -> str:
                return f"receipt for {order}"

            async def handle_payment(request_id: str, order: str) -> list[str]:
                # a retried request has the same id: its payment runs once
                with SetWorkflowID(request_id):
                    payment = queue.enqueue(charge, order)
                    receipt = queue.enqueue(send_receipt, order)  # DBOS gives a second workflow of the block a fresh id
                return [payment.get_result(), receipt.get_result()]
            ''',
            after='''
            import uuid

            from resonate.context import Context

            # TODO(dbos2resonate): D2R103 this module registers workflows on `resonate` but does not create it: import the Resonate instance from the module that replaced DBOS(config=...). See docs/rules/D2R103.md
            # TODO(dbos2resonate): D2R113 the DBOS queue `queue` (concurrency) was removed: each enqueue became a Resonate call of its own (see their TODOs); Resonate's fan-out has no queue to limit it (D2R202). See docs/rules/D2R113.md
            @resonate.register
            async def charge(ctx: Context, order: str) -> str:
                return f"charged {order}"

            @resonate.register
            async def send_receipt(ctx: Context, order: str) -> str:
                return f"receipt for {order}"

            async def handle_payment(request_id: str, order: str) -> list[str]:
                # a retried request has the same id: its payment runs once
                # TODO(dbos2resonate): D2R113 `queue.enqueue` became `resonate.run`: the workflow starts at once in this process; the queue `queue` (concurrency) and its flow control (concurrency, rate limits, priorities, deduplication) no longer apply (D2R202). See docs/rules/D2R113.md
                payment = resonate.run(request_id, charge, order)
                # TODO(dbos2resonate): D2R113 `queue.enqueue` became `resonate.run`: the workflow starts at once in this process; the queue `queue` (concurrency) and its flow control (concurrency, rate limits, priorities, deduplication) no longer apply (D2R202). See docs/rules/D2R113.md
                receipt = resonate.run(str(uuid.uuid4()), send_receipt, order)  # DBOS gives a second workflow of the block a fresh id
                return [await payment.result(), await receipt.result()]
            ''',
        ),
        Example(
            title="Under SetWorkflowID inside a workflow: a child's id cannot be chosen",
            before='''
            from dbos import DBOS, Queue, SetWorkflowID

            queue = Queue("payments")

            @DBOS.workflow()
            def charge(order: str) -> str:
                return f"charged {order}"

            @DBOS.workflow()
            def checkout(order: str) -> str:
                with SetWorkflowID(f"charge-{order}"):
                    payment = queue.enqueue(charge, order)
                return payment.get_result()
            ''',
            after='''
            from dbos import Queue, SetWorkflowID
            from resonate.context import Context

            # TODO(dbos2resonate): D2R113 `Queue` is not converted: an enqueue becomes a Resonate call (ctx.run in a workflow); the queue's flow control has no counterpart (D2R202). See docs/rules/D2R113.md
            queue = Queue("payments")

            # TODO(dbos2resonate): D2R103 this module registers workflows on `resonate` but does not create it: import the Resonate instance from the module that replaced DBOS(config=...). See docs/rules/D2R103.md
            @resonate.register
            async def charge(ctx: Context, order: str) -> str:
                return f"charged {order}"

            @resonate.register
            async def checkout(ctx: Context, order: str) -> str:
                # TODO(dbos2resonate): D2R106 SetWorkflowID not converted: inside a workflow Resonate names a child by its position (`{parent}:{n}`) and ctx.run, ctx.rpc and ctx.detached take no id; if the id only made the child run once, drop SetWorkflowID (a child is replayed with its parent, not run again); if other code finds the child by this id, start it outside the workflow with `resonate.run(id, fn, ...)`. See docs/rules/D2R106.md
                with SetWorkflowID(f"charge-{order}"):
                    # TODO(dbos2resonate): D2R113 `queue.enqueue` under SetWorkflowID is not converted: in a workflow it would become `ctx.run(fn, ...)`, which takes no id (D2R106). See docs/rules/D2R113.md
                    payment = queue.enqueue(charge, order)
                # TODO(dbos2resonate): D2R105 if this `.get_result()` is on a DBOS workflow handle, Resonate's handle (from resonate.run/resonate.get) has `await h.result()` and `await h.id()`, and a ctx.run future is awaited itself. See docs/rules/D2R105.md
                return payment.get_result()
            ''',
        ),
        Example(
            title="A queue an unconverted enqueue still uses is kept",
            before='''
            from dbos import DBOS, Queue, SetWorkflowID

            queue = Queue("emails", concurrency=2)

            @DBOS.workflow()
            def send(to: str) -> str:
                return f"sent to {to}"

            async def main(retry: bool) -> None:
                DBOS.launch()
                with SetWorkflowID("welcome-ada"):
                    if retry:
                        queue.enqueue(send, "ada@example.com")
            ''',
            after='''
            from dbos import Queue, SetWorkflowID
            from resonate.context import Context

            # TODO(dbos2resonate): D2R113 the DBOS queue `queue` is kept: an enqueue on it was not converted (see its TODO); once none is left, remove it (Resonate's fan-out has no queue to limit it, D2R202). See docs/rules/D2R113.md
            queue = Queue("emails", concurrency=2)

            # TODO(dbos2resonate): D2R103 this module registers workflows on `resonate` but does not create it: import the Resonate instance from the module that replaced DBOS(config=...). See docs/rules/D2R103.md
            @resonate.register
            async def send(ctx: Context, to: str) -> str:
                return f"sent to {to}"

            async def main(retry: bool) -> None:
                resonate.start()
                # TODO(dbos2resonate): D2R106 SetWorkflowID not converted: its first workflow call runs conditionally or in a loop. See docs/rules/D2R106.md
                with SetWorkflowID("welcome-ada"):
                    if retry:
                        # TODO(dbos2resonate): D2R113 `queue.enqueue` under SetWorkflowID is not converted: give the id to `resonate.run` (D2R106 says why it did not). See docs/rules/D2R113.md
                        queue.enqueue(send, "ada@example.com")
            ''',
        ),
    ),
    transformer=Queues,
    todo_reason="an enqueue becomes a Resonate call (ctx.run in a workflow); the queue's flow control has no counterpart (D2R202)",
)
