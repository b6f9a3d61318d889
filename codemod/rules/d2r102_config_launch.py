"""D2R102 config-launch: ``DBOS(config=...)`` / ``DBOS.launch()`` become a local ``Resonate(...)`` instance."""

from __future__ import annotations

import libcst as cst

from codemod import build
from codemod.analysis import Facts
from codemod.imports import DROPPED_USES_KEY
from codemod.rules.base import Example, Rule
from codemod.rules.d2r110_scheduled import NEEDS_SERVER, SERVER_SCHEDULES_KEY
from codemod.todo import todo_comment
from codemod.transform import (
    INSTANCE,
    RuleTransformer,
    insert_after_imports,
    is_main_guard,
    with_comments,
)

IN_MEMORY = (
    "local Resonate keeps its state in memory: unlike DBOS's system database it does not survive the process; "
    "pass url= to use a Resonate server"
)


def instance_statement() -> cst.SimpleStatementLine:
    """``resonate = Resonate(env={}, retry_policy=Never(), autostart=False)``.

    ``env={}``: an exported RESONATE_URL must not silently switch a local program to a server.
    ``retry_policy=Never()``: DBOS does not retry steps or workflows unless asked to.
    ``autostart=False``: construction needs no event loop; ``resonate.start()`` (was ``DBOS.launch()``) does.
    """
    value = build.call(
        "Resonate",
        build.kwarg("env", cst.Dict([])),
        build.kwarg("retry_policy", build.call("Never")),
        build.kwarg("autostart", cst.Name("False")),
    )
    return cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(cst.Name(INSTANCE))], value)])


class ConfigLaunch(RuleTransformer):
    CODE = "D2R102"
    TRIGGERS = ("launch", "destroy", "DBOSConfig")
    DESCRIPTION = "Turn DBOS(config=...) and DBOS.launch() into a local Resonate instance."

    @classmethod
    def should_run(cls, facts: Facts, source: str) -> bool:
        return facts.constructs_dbos or super().should_run(facts, source)

    def start(self, module: cst.Module) -> bool:
        self._created = False
        self._notes: list[str] = []
        # DBOS still runs this module's workflows/steps (their rules are off): keep DBOS configured and launched
        return self.converts_durable_functions()

    @property
    def _in_async(self) -> bool:
        return bool(self.frame and self.frame.is_async and self.frame.kind == "function")

    def _in_entry(self) -> bool:
        f = self.frame
        return f is not None and f.kind == "function" and f.module_level and self.becomes_async(f.name)

    def _expr_call(self, node: cst.SimpleStatementLine) -> tuple[str | None, cst.Call | None]:
        if len(node.body) == 1 and isinstance(node.body[0], cst.Expr) and isinstance(node.body[0].value, cst.Call):
            c = node.body[0].value
            return self.facts.resolve(c.func), c
        return None, None

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.BaseStatement | cst.RemovalSentinel:
        api, c = self._expr_call(original_node)
        if api == "DBOS" and c is not None:
            for arg in c.args:
                kw = arg.keyword.value if arg.keyword else None
                if kw not in ("config", None):
                    self._notes.append(f"DBOS({kw}=...) has no Resonate counterpart; wire it by hand")
            self._created = True
            self.mark_applied()
            return cst.RemoveFromParent()
        if api == "DBOS.launch" and c is not None and not c.args:
            self.mark_applied()
            self.uses_instance()
            if not self._in_async:
                self.todo(self.CODE, f"{INSTANCE}.start() needs a running asyncio loop: call it from async code "
                          "(for example the first line of an `async def main()` run by asyncio.run, or a web "
                          "framework's startup or lifespan hook)")
            return updated_node.with_changes(body=[cst.Expr(build.call(f"{INSTANCE}.start"))])
        if api == "DBOS.destroy" and c is not None:
            if self._in_async:
                self.mark_applied()
                return updated_node.with_changes(body=[cst.Expr(cst.Await(build.call(f"{INSTANCE}.stop")))])
            self.todo(self.CODE, f"`await {INSTANCE}.stop()` replaces DBOS.destroy() but needs async code")
        return updated_node

    def leave_AnnAssign(self, original_node: cst.AnnAssign, updated_node: cst.AnnAssign) -> cst.BaseSmallStatement:
        # ``config: DBOSConfig = {...}`` keeps the dict and drops the DBOS type
        if self.facts.resolve(original_node.annotation.annotation) == "DBOSConfig" and updated_node.value is not None:
            self.mark_applied()
            return cst.Assign([cst.AssignTarget(updated_node.target)], updated_node.value)
        return updated_node

    # ── the entry point: the plain function that launched DBOS becomes ``async def`` ──

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        name = original_node.name.value
        if len(self._frames) != 1 or original_node.asynchronous is not None or not self.becomes_async(name):
            return updated_node
        self.mark_applied()
        if name not in self.facts.module_level_calls:
            self.todo(self.CODE, f"`{name}` launched DBOS and is now `async def` ({INSTANCE}.start() needs a running "
                      f"event loop): its callers run it with `asyncio.run({name}())` or await it")
        return updated_node.with_changes(asynchronous=cst.Asynchronous())

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        func = original_node.func
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value == "run"
            and isinstance(func.value, cst.Name)
            and func.value.value in self.facts.asyncio_names
            and self._in_entry()
            and len(updated_node.args) == 1
            and updated_node.args[0].keyword is None
            and not updated_node.args[0].star
        ):
            # the entry point now runs on the event loop: asyncio.run(coro) there is ``await coro``
            self.mark_applied()
            self.context.scratch.setdefault(DROPPED_USES_KEY, set()).add("asyncio")
            return self.awaited(original_node, updated_node.args[0].value)
        if isinstance(func, cst.Name) and self.becomes_async(func.value):
            self.mark_applied()
            if not self._frames:
                self.add_needed_import("asyncio")
                return build.call("asyncio.run", updated_node)
            if self._in_async:
                return self.awaited(original_node, updated_node)
            self.todo(self.CODE, f"`{func.value}` is now `async def`: call it from async code with `await`, "
                      f"or run it with `asyncio.run({func.value}())`")
        return updated_node

    def leave_If(
        self, original_node: cst.If, updated_node: cst.If
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement]:
        # ``if __name__ == "__main__":`` that launched DBOS: its body becomes ``async def main()``, run by asyncio
        if len(self._frames) != 0 and not (len(self._frames) == 1 and self.run.main_block_converts(original_node)):
            return updated_node
        if not self._frames:
            if self.facts.main_block_why and is_main_guard(original_node.test):
                self.todo(self.CODE, "this block launches DBOS: move it into an `async def main()` run by "
                          f"`asyncio.run(main())` (not done: {self.facts.main_block_why})")
            return updated_node
        name = self.facts.main_block
        assert name is not None and isinstance(updated_node.body, cst.IndentedBlock)
        self.mark_applied()
        self.add_needed_import("asyncio")
        function = cst.FunctionDef(
            name=cst.Name(name),
            params=cst.Parameters(),
            body=updated_node.body,
            returns=cst.Annotation(cst.Name("None")),
            asynchronous=cst.Asynchronous(),
            leading_lines=updated_node.leading_lines,
        )
        run = cst.SimpleStatementLine([cst.Expr(build.call("asyncio.run", build.call(name)))])
        guard = updated_node.with_changes(
            body=cst.IndentedBlock([run]), leading_lines=(cst.EmptyLine(), cst.EmptyLine())
        )
        return cst.FlattenSentinel([function, guard])

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        if not self._created:
            return updated_node
        self.add_needed_import("resonate.resonate", "Resonate")
        self.add_needed_import("resonate.retry", "Never")
        # a module with server schedules has one TODO about the server, which also says where the state goes
        first = todo_comment("D2R110", NEEDS_SERVER) if self.context.scratch.get(SERVER_SCHEDULES_KEY) else \
            todo_comment(self.CODE, IN_MEMORY)
        stmt = with_comments(instance_statement(), [first, *(todo_comment(self.CODE, n) for n in self._notes)])
        return insert_after_imports(updated_node, [stmt])  # type: ignore[list-item]


RULE = Rule(
    code="D2R102",
    name="config-launch",
    summary="Turn `DBOS(config=...)` and `DBOS.launch()` into a local `Resonate(...)` instance",
    explanation=(
        "DBOS is configured once (`DBOS(config=...)`) and started with `DBOS.launch()`. Resonate is an instance. "
        "The rule writes, after the imports,\n\n"
        "    resonate = Resonate(env={}, retry_policy=Never(), autostart=False)\n\n"
        "- `env={}`: without it an exported `RESONATE_URL` silently switches the program to a server;\n"
        "- `retry_policy=Never()`: DBOS runs steps and workflows once unless a step asks for retries "
        "(Resonate's own default retries ~30 times);\n"
        "- `autostart=False`: constructing needs no event loop; `DBOS.launch()` becomes `resonate.start()`, "
        "which needs a running asyncio loop.\n\n"
        "The plain `def` function that calls `DBOS.launch()` (the program's entry point, often `main`) becomes "
        "`async def`, so the workflow calls in it can be awaited: `asyncio.run(coro)` inside it becomes "
        "`await coro`, a module-level call of it (`if __name__ == \"__main__\": main()`) becomes "
        "`asyncio.run(main())`, and a call from async code is awaited. An entry point this module never calls gets "
        "a TODO, since its callers elsewhere must now run it with `asyncio.run`. `DBOS.launch()` anywhere else in "
        "synchronous code gets a TODO.\n\n"
        "A script that launches DBOS in its `if __name__ == \"__main__\":` block gets that block's body moved into "
        "`async def main() -> None` (or `_main` if the name is taken), and the block becomes "
        "`asyncio.run(main())`. The body's variables become the function's locals, so a block that sets a name "
        "the module's functions read, or that has an `else:`, is left with a TODO instead.\n\n"
        "The instance is local and in memory: state does not survive the process, unlike DBOS's system database. "
        "The TODO on it says so; pass `url=` to use a Resonate server. `config: DBOSConfig = {...}` keeps its dict "
        "without the DBOS type; other `DBOS(...)` arguments (`fastapi=`, `flask=`, `conductor_key=`) get a TODO. "
        "`DBOS.destroy()` becomes `await resonate.stop()` in async code."
    ),
    examples=(
        Example(
            title="Configure and launch",
            before='''
            from dbos import DBOS, DBOSConfig

            config: DBOSConfig = {"name": "app", "system_database_url": "sqlite:///app.sqlite"}
            DBOS(config=config)

            async def main() -> None:
                DBOS.launch()
            ''',
            after='''
            from resonate.resonate import Resonate
            from resonate.retry import Never

            # TODO(dbos2resonate): D2R102 local Resonate keeps its state in memory: unlike DBOS's system database it does not survive the process; pass url= to use a Resonate server. See docs/rules/D2R102.md
            resonate = Resonate(env={}, retry_policy=Never(), autostart=False)

            config = {"name": "app", "system_database_url": "sqlite:///app.sqlite"}

            async def main() -> None:
                resonate.start()
            ''',
        ),
        Example(
            title="The entry point becomes async",
            before='''
            from dbos import DBOS

            DBOS(config={"name": "app"})

            @DBOS.workflow()
            def greet(name: str) -> str:
                return f"hello {name}"

            def main() -> None:
                DBOS.launch()
                print(greet("ada"))
                DBOS.destroy()

            if __name__ == "__main__":
                main()
            ''',
            after='''
            import asyncio
            import uuid

            from resonate.context import Context
            from resonate.resonate import Resonate
            from resonate.retry import Never

            # TODO(dbos2resonate): D2R102 local Resonate keeps its state in memory: unlike DBOS's system database it does not survive the process; pass url= to use a Resonate server. See docs/rules/D2R102.md
            resonate = Resonate(env={}, retry_policy=Never(), autostart=False)

            @resonate.register
            async def greet(ctx: Context, name: str) -> str:
                return f"hello {name}"

            async def main() -> None:
                resonate.start()
                print(await resonate.run(str(uuid.uuid4()), greet, "ada").result())
                await resonate.stop()

            if __name__ == "__main__":
                asyncio.run(main())
            ''',
        ),
        Example(
            title="A script that launches DBOS in its __main__ block",
            before='''
            from dbos import DBOS

            @DBOS.workflow()
            def hello(name: str) -> str:
                return f"hello {name}"

            if __name__ == "__main__":
                DBOS(config={"name": "app"})
                DBOS.launch()
                print(hello("ada"))
            ''',
            after='''
            import asyncio
            import uuid

            from resonate.context import Context
            from resonate.resonate import Resonate
            from resonate.retry import Never

            # TODO(dbos2resonate): D2R102 local Resonate keeps its state in memory: unlike DBOS's system database it does not survive the process; pass url= to use a Resonate server. See docs/rules/D2R102.md
            resonate = Resonate(env={}, retry_policy=Never(), autostart=False)

            @resonate.register
            async def hello(ctx: Context, name: str) -> str:
                return f"hello {name}"

            async def main() -> None:
                resonate.start()
                print(await resonate.run(str(uuid.uuid4()), hello, "ada").result())


            if __name__ == "__main__":
                asyncio.run(main())
            ''',
        ),
    ),
    transformer=ConfigLaunch,
    todo_reason="DBOS itself has no counterpart in Resonate: use the `resonate` instance",
)
