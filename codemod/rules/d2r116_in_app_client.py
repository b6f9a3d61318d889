"""D2R116 in-app-client: a ``DBOSClient`` in the program that launched DBOS becomes the program's own calls."""

from __future__ import annotations

import libcst as cst

from codemod.analysis import CLIENT_DESTROY
from codemod.rules.base import Example, Rule
from codemod.transform import RuleTransformer


class InAppClient(RuleTransformer):
    CODE = "D2R116"
    TRIGGERS = ("DBOSClient",)
    DESCRIPTION = "Drop a DBOSClient of the program that launched DBOS; its calls are migrated as DBOS's own."

    def start(self, module: cst.Module) -> bool | None:
        return bool(self.facts.clients)

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine | cst.RemovalSentinel:
        if len(original_node.body) != 1:
            return updated_node
        small = original_node.body[0]
        if (  # ``client = DBOSClient(...)``: every use of ``client`` is converted (Facts.clients)
            isinstance(small, cst.Assign)
            and len(small.targets) == 1
            and isinstance(small.targets[0].target, cst.Name)
            and small.targets[0].target.value in self.facts.clients
            and isinstance(small.value, cst.Call)
            and self.facts.resolve(small.value.func) == "DBOSClient"
        ) or (  # ``client.destroy()``
            isinstance(small, cst.Expr)
            and isinstance(small.value, cst.Call)
            and self.facts.resolve(small.value.func) == CLIENT_DESTROY
        ):
            self.mark_applied()
            return cst.RemoveFromParent()
        return updated_node


RULE = Rule(
    code="D2R116",
    name="in-app-client",
    summary="Drop a `DBOSClient` of the program that launched DBOS: its calls become the program's own",
    explanation=(
        "A `DBOSClient` created in the program that also constructs `DBOS(...)` reaches the same system database "
        "as DBOS's own calls. In the migrated program that store is its `Resonate` instance, and the client's "
        "`send`, `get_event` and `retrieve_workflow` (and their `_async` forms), which take DBOS's parameters, "
        "are migrated exactly as `DBOS.send`, `DBOS.get_event` and `DBOS.retrieve_workflow` are (D2R111, D2R112, "
        "D2R105): the same durable-promise ids, so the messages and events are the ones the workflows use. The "
        "`client = DBOSClient(...)` line and `client.destroy()` are removed.\n\n"
        "Only a variable bound to nothing but `DBOSClient(...)`, every use of which is one of those methods or "
        "`.destroy()`, is converted; any other client (another process, `enqueue`, a client passed around) keeps "
        "its D2R205 TODO: a process outside the application uses its own `Resonate(url=...)`."
    ),
    examples=(
        Example(
            title="A client of the program itself reads a workflow's result",
            before='''
            from dbos import DBOS, DBOSClient

            DBOS(config={"name": "shop"})

            async def order_result(workflow_id: str):
                client = DBOSClient(system_database_url="sqlite:///shop.sqlite")
                result = client.retrieve_workflow(workflow_id).get_result()
                client.destroy()
                return result
            ''',
            after='''
            from resonate.resonate import Resonate
            from resonate.retry import Never

            # TODO(dbos2resonate): D2R102 local Resonate keeps its state in memory: unlike DBOS's system database it does not survive the process; pass url= to use a Resonate server. See docs/rules/D2R102.md
            resonate = Resonate(env={}, retry_policy=Never(), autostart=False)

            async def order_result(workflow_id: str):
                result = await (await resonate.get(workflow_id)).result()
                return result
            ''',
        ),
    ),
    transformer=InAppClient,
)
