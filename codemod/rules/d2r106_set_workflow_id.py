"""D2R106 set-workflow-id: ``with SetWorkflowID(id):`` blocks give their id to ``resonate.run(id, ...)``."""

from __future__ import annotations

import libcst as cst

from codemod.rules._enqueues import enqueue_of
from codemod.rules.base import Example, Rule
from codemod.rules.d2r103_workflow_decorator import takes_context
from codemod.transform import INSTANCE, RuleTransformer, SetIdBlock, child_nodes

START = ("DBOS.start_workflow", "DBOS.start_workflow_async")
# why a SetWorkflowID block inside a workflow (one migrated before included) is not unwrapped
CHILD_ID_IS_POSITIONAL = (
    "inside a workflow Resonate names a child by its position (`{parent}:{n}`) and ctx.run, ctx.rpc and "
    "ctx.detached take no id; if the id only made the child run once, drop SetWorkflowID (a child is replayed "
    f"with its parent, not run again); if other code finds the child by this id, start it outside the workflow "
    f"with `{INSTANCE}.run(id, fn, ...)`"
)
# nodes whose children run only sometimes, or more than once: the block's id cannot be placed statically there
_CONDITIONAL = (
    cst.Match, cst.IfExp, cst.BooleanOperation,
    cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp, cst.ExceptHandler, cst.ExceptStarHandler, cst.Else,
)
_NOT_RUN_HERE = (cst.FunctionDef, cst.ClassDef, cst.Lambda)


class SetWorkflowId(RuleTransformer):
    CODE = "D2R106"
    TRIGGERS = ("SetWorkflowID",)
    DESCRIPTION = "Give the id of a with SetWorkflowID(id): block to the resonate.run of its first workflow."

    def start(self, module: cst.Module) -> None:
        self._in_resonate_function: list[bool] = []  # per function being visited: it takes ``ctx: Context``

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._in_resonate_function.append(takes_context(node))

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        self._in_resonate_function.pop()
        return updated_node

    def _block(self, node: cst.With) -> SetIdBlock | None:
        blocks = self.run.set_id_blocks
        return blocks[-1] if blocks and blocks[-1].node is node else None

    def visit_With(self, node: cst.With) -> None:
        block = self._block(node)
        if block is None or not self.enabled("D2R103"):
            return  # not a SetWorkflowID block, or the workflows stay DBOS workflows
        why = self._why_not(node)
        if why is None:
            first, why = self._first_start(node.body)
            if first is not None:
                block.named = id(first)
                return
        self.todo(self.CODE, f"SetWorkflowID not converted: {why}")

    def _why_not(self, node: cst.With) -> str | None:
        if self.in_workflow or (self._in_resonate_function and self._in_resonate_function[-1]):
            return CHILD_ID_IS_POSITIONAL
        if not self.in_async_plain:
            return f"the id must become the first argument of `{INSTANCE}.run(id, fn, ...)`, which needs async code"
        call = node.items[0].item
        if (
            len(node.items) != 1
            or node.items[0].asname is not None
            or not isinstance(call, cst.Call)
            or len(call.args) != 1
            or call.args[0].keyword is not None
            or call.args[0].star
            or node.asynchronous is not None
        ):
            return "only `with SetWorkflowID(id):` alone, without `as`, is unwrapped"
        body = node.body
        if (
            not isinstance(body, cst.IndentedBlock)
            or body.header.comment is not None
            or any(line.comment is not None for line in body.footer)
        ):
            return "the block's own comments would have no place once it is unwrapped"
        return None

    def _first_start(self, body: cst.BaseSuite) -> tuple[cst.Call | None, str]:
        """The call that starts the block's first workflow, when it is certain to be the first; else the reason."""
        first: list[cst.Call] = []
        problem: list[str] = []

        def walk(node: cst.CSTNode | None, conditional: bool) -> None:
            if node is None or first or problem or isinstance(node, _NOT_RUN_HERE):
                return
            if isinstance(node, cst.Call):
                kind = self._starts(node)
                if kind == "workflow":
                    if conditional:
                        problem.append("its first workflow call runs conditionally or in a loop")
                    elif any(self._contains_start(a) for a in node.args):
                        problem.append("the arguments of its first workflow call start another workflow")
                    else:
                        first.append(node)
                    return
                if kind is not None:
                    problem.append(kind)
                    return
            if isinstance(node, cst.If):  # the test runs first and always; the branches do not
                walk(node.test, conditional)
                walk(node.body, True)
                walk(node.orelse, True)
                return
            if isinstance(node, (cst.For, cst.While)):
                walk(getattr(node, "iter", None), conditional)
                walk(node.body, True)
                walk(node.orelse, True)
                return
            inner = conditional or isinstance(node, _CONDITIONAL)
            for child in child_nodes(node):
                walk(child, inner)

        walk(body, False)
        if problem:
            return None, problem[0]
        if not first:
            return None, "the block starts no workflow this codemod can see (a method, or a workflow handed to other code?)"
        return first[0], ""

    def _starts(self, call: cst.Call) -> str | None:
        """"workflow" for a call that starts a workflow of this module; a reason for a call that may start one."""
        api = self.facts.resolve(call.func)
        if api in START:
            return "workflow" if call.args and call.args[0].keyword is None and not call.args[0].star else (
                "a start_workflow call it cannot follow")
        func = call.func
        if isinstance(func, cst.Name):
            wf = self.facts.workflow(func.value)
            if wf is not None:
                return "workflow" if not wf.has_ctx_param else "a workflow with a ctx parameter"
            if func.value in self.facts.module_names and func.value not in self.facts.functions:
                return f"`{func.value}` is called in the block and may start the workflow the id names"
        enqueue = enqueue_of(self.facts, call)
        if enqueue is not None:
            return "workflow" if enqueue.workflow_and_args(call.args) is not None else (
                f"a `{enqueue.what}` call it cannot follow")
        if isinstance(func, cst.Attribute) and func.attr.value.startswith("enqueue"):
            return "an enqueue on a queue this module does not define runs before its first workflow call"
        return None

    def _contains_start(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.Call) and self._starts(node) == "workflow":
            return True
        return any(self._contains_start(c) for c in child_nodes(node))

    def leave_WithItem(self, original_node: cst.WithItem, updated_node: cst.WithItem) -> cst.WithItem:
        block = self.run.set_id_blocks[-1] if self.run.set_id_blocks else None
        if block is not None and block.named is not None and original_node is block.node.items[0]:
            assert isinstance(updated_node.item, cst.Call)
            block.id_expr = updated_node.item.args[0].value
        return updated_node

    def leave_With(
        self, original_node: cst.With, updated_node: cst.With
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement]:
        block = self._block(original_node)
        if block is None or block.named is None:
            return updated_node
        if not block.used:
            self.todo(self.CODE, "SetWorkflowID not converted: its first workflow call was not rewritten")
            return updated_node
        self.mark_applied()
        body = updated_node.body
        assert isinstance(body, cst.IndentedBlock)
        statements = list(body.body)
        statements[0] = statements[0].with_changes(
            leading_lines=(*updated_node.leading_lines, *statements[0].leading_lines)
        )
        return cst.FlattenSentinel(statements)


RULE = Rule(
    code="D2R106",
    name="set-workflow-id",
    summary="Turn `with SetWorkflowID(id):` blocks into the id argument of `resonate.run`",
    explanation=(
        "DBOS makes the next workflow started in the block idempotent through a context manager: a second call "
        "with the same id returns the stored result. Resonate takes the id as the first argument: "
        "`resonate.run(id, fn, ...)`, and calling it again with the same id yields the same promise.\n\n"
        "In async code outside a workflow the block is unwrapped: the first workflow it starts (a call of a "
        "workflow, `DBOS.start_workflow`, or an enqueue on a queue of the module, D2R113) gets the block's id, "
        "and any later one a fresh id, as in DBOS. The "
        "block may hold any statements (a `try`, several calls) as long as that first workflow call is certain to "
        "be the first: not in a branch or a loop of the block, and no call of one of the module's own functions "
        "(which might start a workflow itself) or an enqueue on a queue defined elsewhere before it. Anything "
        "else gets a TODO: synchronous "
        "code, blocks inside a workflow (Resonate's child ids are positional), `with SetWorkflowID(id) as x`, "
        "several context managers in one `with`. Resonate root ids must not contain `:`."
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
        Example(
            title="A block with error handling, and a second workflow that gets its own id",
            before='''
            from dbos import DBOS, SetWorkflowID

            @DBOS.workflow()
            def pay(order: str) -> str:
                return order

            async def checkout(order: str) -> list[str]:
                with SetWorkflowID(f"pay-{order}"):
                    try:
                        first = pay(order)
                    except ValueError:
                        first = "refused"
                    second = pay(order)
                return [first, second]
            ''',
            after='''
            import uuid

            from resonate.context import Context

            # TODO(dbos2resonate): D2R103 this module registers workflows on `resonate` but does not create it: import the Resonate instance from the module that replaced DBOS(config=...). See docs/rules/D2R103.md
            @resonate.register
            async def pay(ctx: Context, order: str) -> str:
                return order

            async def checkout(order: str) -> list[str]:
                try:
                    first = await resonate.run(f"pay-{order}", pay, order).result()
                except ValueError:
                    first = "refused"
                second = await resonate.run(str(uuid.uuid4()), pay, order).result()
                return [first, second]
            ''',
        ),
    ),
    transformer=SetWorkflowId,
    todo_reason="the workflow id becomes the first argument of resonate.run",
)
