"""D2R109 workflow-id: ``DBOS.workflow_id`` becomes ``ctx.info.id`` (workflows) or ``ctx.info.parent_id`` (steps)."""

from __future__ import annotations

import libcst as cst

from codemod import build
from codemod.rules.base import Example, Rule
from codemod.transform import RuleTransformer


STEP_ID_TODO = (
    "DBOS.step_id became the last segment of the step's Resonate id: Resonate numbers a workflow's ctx.run, sleep "
    "and promise calls from 1, where DBOS also counted reads of handles and a child workflow as two"
)


class WorkflowId(RuleTransformer):
    CODE = "D2R109"
    TRIGGERS = ("workflow_id", "step_id", "step_status")
    DESCRIPTION = "Replace DBOS.workflow_id with ctx.info.id."

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        api = self.facts.resolve(original_node)
        if api == "DBOS.workflow_id":
            if self.in_workflow:
                self.mark_applied()
                assert self.frame is not None
                if self.frame.name in self.facts.child_workflows:
                    self.todo(self.CODE, f"`{self.frame.name}` also runs as a child workflow here, where its "
                              "Resonate id is `{parent}:{n}`, not DBOS's `{parent}-{n}`")
                return build.name("ctx.info.id")
            if self.in_step:
                # inside a step DBOS names the workflow running it: the step's parent in Resonate
                self.mark_applied()
                return build.name("ctx.info.parent_id")
            self.todo(self.CODE, "DBOS.workflow_id outside a workflow or step has no ctx to read the id from")
        elif api == "DBOS.step_id" and self.in_step:
            # the step's position among the workflow's durable calls: the last segment of its id (``wf:3``)
            self.mark_applied()
            self.todo(self.CODE, STEP_ID_TODO)
            return cst.parse_expression('int(ctx.info.id.replace(":", ".").rsplit(".", 1)[-1])')
        elif api == "DBOS.step_id" and self.in_workflow:
            self.mark_applied()  # DBOS: None outside a step
            return cst.Name("None")
        elif api in ("DBOS.step_id", "DBOS.step_status"):
            self.todo(self.CODE, f"{api}: Resonate steps have no status, and outside a step or workflow there "
                      "is no ctx; ctx.info.id is the step's own durable id (`root:1` style)")
        return updated_node


RULE = Rule(
    code="D2R109",
    name="workflow-id",
    summary="Replace `DBOS.workflow_id` with `ctx.info.id` inside workflows",
    explanation=(
        "The current durable id is `ctx.info.id` in resonate-sdk 0.8. Inside a step (run with `ctx.run`) "
        "`ctx.info.id` is the step's own id, so `DBOS.workflow_id` there becomes `ctx.info.parent_id`, the "
        "workflow running it. Resonate's child ids are hierarchical (`root:1.2`), not DBOS's `{parent}-{n}`: a "
        "workflow that this module also runs as a child gets a TODO saying so.\n\n"
        "`DBOS.step_id` inside a step becomes the last segment of the step's id, "
        "`int(ctx.info.id.replace(\":\", \".\").rsplit(\".\", 1)[-1])`: Resonate numbers a workflow's "
        "`ctx.run`, sleep and promise calls from 1 as DBOS numbers its steps, but DBOS also counts reads of "
        "handles and counts a child workflow twice, so a TODO marks it. In a workflow body it is `None`, as in "
        "DBOS. `DBOS.step_status` has no counterpart and gets a TODO, as does any use outside a workflow or step."
    ),
    examples=(
        Example(
            before='''
            from dbos import DBOS

            @DBOS.step()
            def record() -> str:
                return DBOS.workflow_id

            @DBOS.workflow()
            def work() -> str:
                return DBOS.workflow_id + record()
            ''',
            after='''
            from resonate.context import Context

            def record(ctx: Context) -> str:
                return ctx.info.parent_id

            # TODO(dbos2resonate): D2R103 this module registers workflows on `resonate` but does not create it: import the Resonate instance from the module that replaced DBOS(config=...). See docs/rules/D2R103.md
            @resonate.register
            async def work(ctx: Context) -> str:
                return ctx.info.id + await ctx.run(record)
            ''',
        ),
    ),
    transformer=WorkflowId,
    todo_reason="the id is read from ctx, which exists only in workflows and steps",
)
