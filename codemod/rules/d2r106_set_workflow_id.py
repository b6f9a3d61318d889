"""D2R106 set-workflow-id: ``with SetWorkflowID(id): <one workflow call>`` becomes ``resonate.run(id, ...)``."""

from __future__ import annotations

import libcst as cst

from codemod import build
from codemod.rules.base import Example, Rule
from codemod.rules.d2r105_start_workflow import START, assigned_name, handles
from codemod.transform import INSTANCE, RuleTransformer


class _Rewrite(cst.CSTTransformer):
    """Rewrites the single workflow invocation inside the block, using the block's id."""

    def __init__(self, rule: SetWorkflowId, id_expr: cst.BaseExpression) -> None:
        super().__init__()
        self.rule, self.id_expr = rule, id_expr
        self.count = 0
        self.kind: str | None = None
        self._awaited: set[int] = set()

    def visit_Await(self, node: cst.Await) -> None:
        self._awaited.add(id(node.expression))

    def leave_Await(self, original_node: cst.Await, updated_node: cst.Await) -> cst.BaseExpression:
        inner = original_node.expression
        if isinstance(inner, cst.Call) and self.rule.facts.resolve(inner.func) == START[1]:
            return updated_node.expression
        return updated_node

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        facts = self.rule.facts
        api = facts.resolve(original_node.func)
        if api in START and updated_node.args and updated_node.args[0].keyword is None:
            self.count += 1
            self.kind = "root"
            return build.root_run(self.id_expr, updated_node.args[0].value, list(updated_node.args[1:]))
        if isinstance(original_node.func, cst.Name):
            wf = facts.workflow(original_node.func.value)
            if wf is not None and not wf.has_ctx_param:
                self.count += 1
                result = build.result_of(build.root_run(self.id_expr, updated_node.func, list(updated_node.args)))
                return result if wf.is_async else cst.Await(result)
        return updated_node


class SetWorkflowId(RuleTransformer):
    CODE = "D2R106"
    TRIGGERS = ("SetWorkflowID",)
    DESCRIPTION = "Turn with SetWorkflowID(id): blocks into the id argument of resonate.run."

    def leave_With(self, original_node: cst.With, updated_node: cst.With) -> cst.BaseStatement:
        items = original_node.items
        set_id = [
            i for i in items if isinstance(i.item, cst.Call) and self.facts.resolve(i.item.func) == "SetWorkflowID"
        ]
        if not set_id or not self.enabled("D2R103"):
            return updated_node
        call = set_id[0].item
        assert isinstance(call, cst.Call)
        body = updated_node.body
        simple = (
            len(items) == 1
            and len(call.args) == 1
            and call.args[0].keyword is None
            and isinstance(body, cst.IndentedBlock)
            and len(body.body) == 1
            and isinstance(body.body[0], cst.SimpleStatementLine)
            and original_node.asynchronous is None
        )
        if self.in_workflow or not self.in_async_plain or not simple:
            why = (
                "inside a workflow a child's id is positional in Resonate (ctx.run); to fix it use "
                "ctx.detached or ctx.rpc" if self.in_workflow else
                f"the id must become the first argument of `{INSTANCE}.run(id, fn, ...)`, which needs async code "
                "and a block holding exactly one workflow call"
            )
            self.todo(self.CODE, f"SetWorkflowID not converted: {why}")
            return updated_node
        assert isinstance(body, cst.IndentedBlock)
        stmt = body.body[0]
        rewrite = _Rewrite(self, call.args[0].value)
        new_stmt = stmt.visit(rewrite)
        if rewrite.count != 1:
            self.todo(self.CODE, "SetWorkflowID not converted: the block must hold exactly one workflow call")
            return updated_node
        self.mark_applied()
        name = assigned_name(stmt)  # type: ignore[arg-type]
        if name is not None and rewrite.kind is not None:
            handles(self)[(self._frames[0].name if self._frames else "", name)] = rewrite.kind
        return new_stmt.with_changes(  # type: ignore[return-value]
            leading_lines=(*updated_node.leading_lines, *new_stmt.leading_lines)  # type: ignore[attr-defined]
        )


RULE = Rule(
    code="D2R106",
    name="set-workflow-id",
    summary="Turn `with SetWorkflowID(id):` blocks into the id argument of `resonate.run`",
    explanation=(
        "DBOS makes the next workflow call idempotent through a context manager: a second call with the same id "
        "returns the stored result. Resonate takes the id as the first argument: `resonate.run(id, fn, ...)`, and "
        "calling it again with the same id yields the same promise. A block holding exactly one workflow call "
        "(or `DBOS.start_workflow`) in async code outside a workflow is unwrapped. Anything else gets a TODO: "
        "several statements, synchronous code, and blocks inside a workflow (Resonate's child ids are "
        "positional). Resonate root ids must not contain `:`."
    ),
    examples=(
        Example(
            before='''
            from dbos import DBOS, SetWorkflowID

            @DBOS.workflow()
            def pay(order: str) -> str:
                return order

            async def checkout(order: str) -> str:
                with SetWorkflowID(f"pay-{order}"):
                    receipt = pay(order)
                return receipt
            ''',
            after='''
            from resonate.context import Context

            # TODO(dbos2resonate): D2R103 this module registers workflows on `resonate` but does not create it: import the Resonate instance from the module that replaced DBOS(config=...). See docs/rules/D2R103.md
            @resonate.register
            async def pay(ctx: Context, order: str) -> str:
                return order

            async def checkout(order: str) -> str:
                receipt = await resonate.run(f"pay-{order}", pay, order).result()
                return receipt
            ''',
        ),
    ),
    transformer=SetWorkflowId,
    todo_reason="the workflow id becomes the first argument of resonate.run",
)
