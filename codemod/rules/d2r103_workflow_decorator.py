"""D2R103 workflow-decorator: ``@DBOS.workflow()`` functions become registered ``async def f(ctx: Context, ...)``."""

from __future__ import annotations

import libcst as cst

from codemod import build
from codemod.analysis import Facts
from codemod.comprehensions import lazily_read_todo
from codemod.rules.base import Example, Rule
from codemod.transform import INSTANCE, RuleTransformer


def add_ctx_param(node: cst.FunctionDef) -> cst.FunctionDef:
    """``def f(a)`` -> ``def f(ctx: Context, a)`` (positional-only parameters stay first in their group)."""
    param = cst.Param(cst.Name("ctx"), annotation=cst.Annotation(cst.Name("Context")))
    params = node.params
    if params.posonly_params:
        new = params.with_changes(posonly_params=(param, *params.posonly_params))
    else:
        if params.params or params.star_arg is not cst.MaybeSentinel.DEFAULT or params.kwonly_params or params.star_kwarg:
            param = param.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        new = params.with_changes(params=(param, *params.params))
    return node.with_changes(params=new)


def takes_context(node: cst.FunctionDef) -> bool:
    """``node`` takes ``ctx: Context`` first, as a Resonate function does (a workflow migrated before)."""
    params = (*node.params.posonly_params, *node.params.params)
    if not params or params[0].name.value != "ctx" or params[0].annotation is None:
        return False
    hint = params[0].annotation.annotation
    return (isinstance(hint, cst.Name) and hint.value == "Context") or (
        isinstance(hint, cst.Attribute) and hint.attr.value == "Context"
    )


def runs_functions(func: cst.BaseExpression) -> bool:
    """``ctx.run``/``resonate.run`` and kin: Resonate calls that take a durable function as a value."""
    return isinstance(func, cst.Attribute) and func.attr.value in (
        "run", "rpc", "detached", "register", "enqueue", "enqueue_async"  # (a DBOS queue's: D2R113 rewrites it)
    )


class WorkflowDecorator(RuleTransformer):
    CODE = "D2R103"
    TRIGGERS = ("workflow",)
    DESCRIPTION = "Turn @DBOS.workflow() functions into registered async def f(ctx: Context, ...)."

    @classmethod
    def should_run(cls, facts: Facts, source: str) -> bool:
        # a module that only calls workflows it imports may not say "workflow" anywhere
        return any(f.kind == "workflow" for f in facts.functions.values()) or super().should_run(facts, source)

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        if len(self._frames) != 1:
            if any(self._is_workflow_decorator(d) for d in original_node.decorators):
                self.todo(self.CODE, "a workflow that is a method or nested function is not converted: "
                          "Resonate registers module-level functions (see D2R206)")
            return updated_node
        facts = self.facts.workflow(original_node.name.value)
        if facts is None:
            return updated_node
        if facts.has_ctx_param:
            self.todo(self.CODE, "this workflow already has a parameter named ctx; rename it, then re-run migrate")
            return updated_node
        decorators = []
        for dec in updated_node.decorators:
            if not self._is_workflow_decorator(dec):
                decorators.append(dec)
                continue
            args = dec.decorator.args if isinstance(dec.decorator, cst.Call) else ()
            keep = [a for a in args if a.keyword is not None and a.keyword.value == "name"]
            dropped = [a.keyword.value for a in args if a.keyword is not None and a.keyword.value != "name"]
            if dropped:
                self.todo(self.CODE, f"{', '.join(dropped)} of @DBOS.workflow has no Resonate counterpart and was dropped")
            register = build.name(f"{INSTANCE}.register")
            decorators.append(dec.with_changes(decorator=cst.Call(register, build.clean_args(keep)) if keep else register))
        if (
            not self.facts.constructs_dbos
            and INSTANCE not in self.facts.module_names
            and INSTANCE not in self.facts.imported_names
            and not self.run.instance_told
        ):
            self.run.instance_told = True
            self.todo(self.CODE, f"this module registers workflows on `{INSTANCE}` but does not create it: import the "
                      "Resonate instance from the module that replaced DBOS(config=...)")
        self.add_needed_import("resonate.context", "Context")
        self.mark_applied()
        node = add_ctx_param(updated_node).with_changes(decorators=decorators)
        if node.asynchronous is None:
            node = node.with_changes(asynchronous=cst.Asynchronous())
        return node

    def _is_workflow_decorator(self, dec: cst.Decorator) -> bool:
        expr = dec.decorator.func if isinstance(dec.decorator, cst.Call) else dec.decorator
        return self.facts.resolve(expr) == "DBOS.workflow"

    def visit_Call(self, node: cst.Call) -> None:
        # a workflow handed to other code as a value: that code calls it the DBOS way
        if self.facts.resolve(node.func) is not None or runs_functions(node.func):
            return  # a DBOS API taking the function (start_workflow, enqueue): its own rule handles it
        for arg in node.args:
            if isinstance(arg.value, cst.Name) and self.facts.workflow(arg.value.value) is not None:
                fn = arg.value.value
                self.todo(self.CODE, f"`{fn}` is passed as a value: it is now an async Resonate function taking "
                          f"ctx first, so whoever calls it must run it with `await {INSTANCE}.run(id, {fn}, ...)` "
                          f"(in a workflow: `await ctx.run({fn}, ...)`)")

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if not isinstance(original_node.func, cst.Name):
            return updated_node
        facts = self.facts.workflow(original_node.func.value)
        if facts is None or facts.has_ctx_param:
            return updated_node
        fn = original_node.func.value
        if self.in_set_workflow_id:
            where = (
                "in a workflow a child gets no id of its own (see D2R106's TODO on the block)" if self.in_workflow
                else f"give the block's id to `{INSTANCE}.run(id, {fn}, ...)` (D2R106 says why it did not)"
            )
            self.todo(self.CODE, f"`{fn}` runs under SetWorkflowID here; {where}")
            return updated_node
        if self.in_workflow:
            # a child workflow: a durable child run in-process
            future = build.ctx_run(updated_node.func, list(updated_node.args))
            self.mark_applied()
            return future if facts.is_async else self.awaited(original_node, future)
        if self.in_async_plain:
            # the id of the SetWorkflowID block this call is the first workflow of, else a fresh one as in DBOS
            self.uses_instance()
            wf_id = self.workflow_id_for(original_node)
            if wf_id is None:
                self.add_needed_import("uuid")
                wf_id = build.new_id()
            result = build.result_of(build.root_run(wf_id, updated_node.func, list(updated_node.args)))
            self.mark_applied()
            return result if facts.is_async else self.awaited(original_node, result)
        durable_call = self._lazily_read_call(fn)
        if durable_call is not None:
            self.todo(self.CODE, lazily_read_todo(fn, durable_call))
            return updated_node
        where = {
            "lambda": "inside a lambda",
            "genexp": "inside a generator expression",
        }.get(self.frame.kind if self.frame else "", "from synchronous code" if not self.in_step else "from a step")
        self.todo(self.CODE, f"`{fn}` is now an async Resonate function but is called {where}: "
                  f"from async code call `await {INSTANCE}.run(id, {fn}, ...).result()`")
        return updated_node


    def _lazily_read_call(self, fn: str) -> str | None:
        """How ``fn`` would be run where the generator expression read lazily that calls it is, if it is directly in
        a workflow or in other async code."""
        frames = self._frames
        if not frames or frames[-1].kind != "genexp":
            return None
        outer = next((f for f in reversed(frames) if f.kind != "genexp"), None)
        if outer is None or outer.kind != "function":
            return None
        facts = self.facts.functions.get(outer.name) if outer.module_level else None
        if facts is not None and facts.kind == "workflow" and not facts.has_ctx_param:
            return f"await ctx.run({fn}, ...)"
        if facts is None and outer.is_async:
            return f"await {INSTANCE}.run(id, {fn}, ...).result()"
        return None


RULE = Rule(
    code="D2R103",
    name="workflow-decorator",
    summary="Turn `@DBOS.workflow()` functions into registered `async def f(ctx: Context, ...)` functions",
    explanation=(
        "A DBOS workflow becomes a Resonate durable function: registered with `@resonate.register` "
        "(keeping `name=`), made `async`, and given `ctx: Context` as its first parameter.\n\n"
        "Calls of a workflow change with where they are:\n\n"
        "- inside another workflow, a child workflow: `await ctx.run(child, ...)`;\n"
        "- inside an `async def` that is not a workflow: `await resonate.run(str(uuid.uuid4()), wf, ...).result()` "
        "(DBOS gives a workflow started without `SetWorkflowID` a fresh UUID too);\n"
        "- anywhere else (synchronous code, lambdas, steps): left as is, with a TODO, because the call must "
        "become `await`ed.\n\n"
        "Only module-level functions are converted; `max_recovery_attempts=` has no counterpart (TODO). "
        "A module that defines workflows but does not create the `resonate` instance gets a TODO to import it. "
        "Workflows that other files of the migrated project define are known too, so their calls are rewritten "
        "the same way, even in a file that never imports dbos. A workflow handed to other code as a value "
        "(`helper(my_workflow, ...)`) gets a TODO: that code calls it the DBOS way."
    ),
    examples=(
        Example(
            title="A workflow calling a child workflow",
            before='''
            from dbos import DBOS

            DBOS(config={"name": "app"})

            @DBOS.workflow()
            def child(n: int) -> int:
                return n + 1

            @DBOS.workflow(name="parent")
            def parent(n: int) -> int:
                return child(n) * 2
            ''',
            after='''
            from resonate.context import Context
            from resonate.resonate import Resonate
            from resonate.retry import Never

            # TODO(dbos2resonate): D2R102 local Resonate keeps its state in memory: unlike DBOS's system database it does not survive the process; pass url= to use a Resonate server. See docs/rules/D2R102.md
            resonate = Resonate(env={}, retry_policy=Never(), autostart=False)

            @resonate.register
            async def child(ctx: Context, n: int) -> int:
                return n + 1

            @resonate.register(name="parent")
            async def parent(ctx: Context, n: int) -> int:
                return await ctx.run(child, n) * 2
            ''',
        ),
        Example(
            title="Calling a workflow from async code and from sync code",
            before='''
            from dbos import DBOS

            @DBOS.workflow()
            async def greet(name: str) -> str:
                return f"hello {name}"

            async def handler(name: str) -> str:
                return await greet(name)

            def sync_handler(name: str) -> str:
                return greet(name)
            ''',
            after='''
            import uuid

            from resonate.context import Context

            # TODO(dbos2resonate): D2R103 this module registers workflows on `resonate` but does not create it: import the Resonate instance from the module that replaced DBOS(config=...). See docs/rules/D2R103.md
            @resonate.register
            async def greet(ctx: Context, name: str) -> str:
                return f"hello {name}"

            async def handler(name: str) -> str:
                return await resonate.run(str(uuid.uuid4()), greet, name).result()

            def sync_handler(name: str) -> str:
                # TODO(dbos2resonate): D2R103 `greet` is now an async Resonate function but is called from synchronous code: from async code call `await resonate.run(id, greet, ...).result()`. See docs/rules/D2R103.md
                return greet(name)
            ''',
        ),
    ),
    transformer=WorkflowDecorator,
    todo_reason="this workflow use could not be converted (only module-level functions are)",
)
