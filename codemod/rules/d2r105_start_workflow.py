"""D2R105 start-workflow: ``DBOS.start_workflow(fn, ...)`` becomes a ``ctx.run`` future or ``resonate.run(id, ...)``."""

from __future__ import annotations

import libcst as cst

from codemod import build
from codemod.rules.base import Example, Rule
from codemod.transform import INSTANCE, RuleTransformer

HANDLES_KEY = "dbos2resonate.handles"  # (function, variable) -> "future" | "root": handles made by D2R105/D2R106
START = ("DBOS.start_workflow", "DBOS.start_workflow_async")
RETRIEVE = ("DBOS.retrieve_workflow", "DBOS.retrieve_workflow_async")


def handles(rule: RuleTransformer) -> dict[tuple[str, str], str]:
    return rule.context.scratch.setdefault(HANDLES_KEY, {})


def assigned_name(stmt: cst.SimpleStatementLine) -> str | None:
    if len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Assign) and len(stmt.body[0].targets) == 1:
        target = stmt.body[0].targets[0].target
        if isinstance(target, cst.Name):
            return target.value
    return None


class StartWorkflow(RuleTransformer):
    CODE = "D2R105"
    TRIGGERS = ("start_workflow", "retrieve_workflow")
    DESCRIPTION = "Turn DBOS.start_workflow into ctx.run futures (in workflows) or resonate.run (elsewhere)."

    def _scope(self) -> str:
        return self._frames[0].name if self._frames else ""

    def _convert_start(self, original: cst.Call, updated: cst.Call, api: str) -> cst.BaseExpression | None:
        if not updated.args or updated.args[0].keyword is not None or updated.args[0].star:
            return None
        fn, rest = updated.args[0].value, list(updated.args[1:])
        if self.in_workflow:
            return build.ctx_run(fn, rest)
        if self.in_async_plain:
            if self.in_set_workflow_id:
                return None  # D2R106 gives it the block's id
            self.add_needed_import("uuid")
            return build.root_run(build.new_id(), fn, rest)
        return None

    def leave_Await(self, original_node: cst.Await, updated_node: cst.Await) -> cst.BaseExpression:
        # ``await DBOS.start_workflow_async(...)`` was awaited for the handle; the future/handle needs no await
        inner = original_node.expression
        if isinstance(inner, cst.Call) and self.facts.resolve(inner.func) in (START[1],) and not (
            isinstance(updated_node.expression, cst.Call) and self.facts.resolve(updated_node.expression.func)
        ):
            return updated_node.expression.with_changes(lpar=updated_node.lpar, rpar=updated_node.rpar)
        return updated_node

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        api = self.facts.resolve(original_node.func)
        if not self.enabled("D2R103"):
            return updated_node  # the workflows stay DBOS workflows: so do their handles
        if api in START:
            new = self._convert_start(original_node, updated_node, api)
            if new is None:
                if not self.in_set_workflow_id:
                    self.todo(self.CODE, f"{api} here needs async code: outside a workflow it becomes "
                              f"`{INSTANCE}.run(id, fn, ...)`, inside one `ctx.run(fn, ...)`")
                return updated_node
            self._last = ("future" if self.in_workflow else "root")
            self.mark_applied()
            return new
        if api in RETRIEVE and self.in_async_plain and len(updated_node.args) == 1:
            self._last = "root"
            self.mark_applied()
            get = build.call(f"{INSTANCE}.get", updated_node.args[0].with_changes(comma=cst.MaybeSentinel.DEFAULT))
            return get if api.endswith("_async") else self.awaited(original_node, get)
        # methods of a handle this rule made
        func = original_node.func
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
            kind = handles(self).get((self._scope(), func.value.value))
            method = func.attr.value
            if kind is None:
                return updated_node
            h = cst.Name(func.value.value)
            if method == "get_result":
                self.mark_applied()
                awaitable = h if kind == "future" else build.result_of(h)
                return awaitable if self._awaited_by_user(original_node) else self.awaited(original_node, awaitable)
            if method == "get_workflow_id":
                self.mark_applied()
                return self.awaited(original_node, build.call(cst.Attribute(h, cst.Name("id"))))
            if method in ("get_status", "get_status_async"):
                self.todo("D2R203", "a Resonate handle has no DBOS status: use `done()` or the promise's state")
        return updated_node

    def _awaited_by_user(self, node: cst.Call) -> bool:
        return id(node) in self._awaited_calls

    def visit_Await(self, node: cst.Await) -> None:
        self._awaited_calls.add(id(node.expression))

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        if original_node.attr.value == "workflow_id" and isinstance(original_node.value, cst.Name):
            if (self._scope(), original_node.value.value) in handles(self):
                self.mark_applied()
                return self.awaited(original_node, build.call(cst.Attribute(original_node.value, cst.Name("id"))))
        return updated_node

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self._last = None

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine:
        name = assigned_name(original_node)
        if name is not None and self._last is not None:
            handles(self)[(self._scope(), name)] = self._last
        self._last = None
        return updated_node

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        self._last: str | None = None
        self._awaited_calls: set[int] = set()
        return super().transform_module_impl(tree)


RULE = Rule(
    code="D2R105",
    name="start-workflow",
    summary="Turn `DBOS.start_workflow(fn, ...)` into a `ctx.run` future inside workflows or `resonate.run(id, fn, ...)` outside",
    explanation=(
        "Inside a workflow, starting a child workflow is `ctx.run(fn, ...)` without `await`: a future that starts "
        "now and is awaited where DBOS called `handle.get_result()`. Outside a workflow, in async code, "
        "`resonate.run(id, fn, ...)` returns a handle; DBOS gives a workflow started without `SetWorkflowID` a "
        "fresh UUID, so the id is `str(uuid.uuid4())` (D2R106 supplies the block's id instead). For handles "
        "assigned to a variable in the same function: `h.get_result()` becomes `await h` (future) or "
        "`await h.result()` (handle), `h.workflow_id` / `h.get_workflow_id()` become `await h.id()`. "
        "`DBOS.retrieve_workflow(id)` becomes `await resonate.get(id)`. Synchronous call sites get a TODO."
    ),
    examples=(
        Example(
            title="Fan-out inside a workflow, start from async code outside",
            before='''
            from dbos import DBOS

            @DBOS.workflow()
            def task(n: int) -> int:
                return n * n

            @DBOS.workflow()
            def fan_out(n: int) -> int:
                first = DBOS.start_workflow(task, 1)
                second = DBOS.start_workflow(task, 2)
                return first.get_result() + second.get_result()

            async def kick_off() -> str:
                handle = DBOS.start_workflow(fan_out, 3)
                print(handle.workflow_id)
                return handle.get_result()
            ''',
            after='''
            import uuid
            from resonate.context import Context

            # TODO(dbos2resonate): D2R103 this module registers workflows on `resonate` but does not create it: import the Resonate instance from the module that replaced DBOS(config=...). See docs/rules/D2R103.md
            @resonate.register
            async def task(ctx: Context, n: int) -> int:
                return n * n

            @resonate.register
            async def fan_out(ctx: Context, n: int) -> int:
                first = ctx.run(task, 1)
                second = ctx.run(task, 2)
                return await first + await second

            async def kick_off() -> str:
                handle = resonate.run(str(uuid.uuid4()), fan_out, 3)
                print(await handle.id())
                return await handle.result()
            ''',
        ),
    ),
    transformer=StartWorkflow,
    todo_reason="starting a workflow needs async code",
)
