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
            title="A webhook delivered through a DBOSClient in the same program",
            before='''
            from dbos import DBOS, DBOSClient

            DBOS(config={"name": "shop"})

            async def deliver(workflow_id: str) -> None:
                client = DBOSClient(system_database_url="sqlite:///shop.sqlite")
                await client.send_async(workflow_id, "paid", "payment_status")
                client.destroy()
            ''',
            after='''
            import time
            import uuid
            from resonate.resonate import Resonate
            from resonate.retry import Never
            from resonate.types import PromiseRecord, Value
            from typing import Any

            # TODO(dbos2resonate): D2R102 local Resonate keeps its state in memory: unlike DBOS's system database it does not survive the process; pass url= to use a Resonate server. See docs/rules/D2R102.md
            resonate = Resonate(env={}, retry_policy=Never(), autostart=False)


            def promise_segment(text: str | None) -> str:
                """A topic or event key as one promise-id segment (docs/rules/D2R111.md); the None topic is ``~``."""
                if text is None:
                    return "~"
                return "".join(
                    c if c.isascii() and (c.isalnum() or c in "_-") else "".join(f"%{b:02X}" for b in c.encode())
                    for c in text
                )


            async def open_slot(promise_id: str) -> PromiseRecord:
                """Create-or-get a message or event slot: the sender, the receiver or a reader may come first."""
                keep_ms = 10 * 365 * 86_400_000  # DBOS keeps messages and events until the workflow is deleted
                return await resonate.promises.create(promise_id, int(time.time() * 1000) + keep_ms, Value(), {})


            async def fill_slot(promise_id: str, value: Any) -> bool:
                """Resolve a slot with ``value`` unless it is settled: True when the slot holds this write."""
                record = await open_slot(promise_id)
                if record.state != "pending":
                    return False
                tag = str(uuid.uuid4())
                record = await resonate.promises.resolve(promise_id, Value(data={"d2r": 1, "tag": tag, "json": value}))
                data = record.value.data
                return isinstance(data, dict) and data.get("tag") == tag


            async def send_message(destination_id: str, message: Any, topic: str | None = None) -> None:
                """DBOS.send: fill the first free slot ``{destination_id}:msg/{topic}/{k}`` (FIFO per topic)."""
                k = 0
                while not await fill_slot(f"{destination_id}:msg/{promise_segment(topic)}/{k}", message):
                    k += 1

            async def deliver(workflow_id: str) -> None:
                await send_message(workflow_id, "paid", "payment_status")
            ''',
        ),
    ),
    transformer=InAppClient,
)
