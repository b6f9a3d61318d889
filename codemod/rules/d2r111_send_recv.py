"""D2R111 send-recv: ``DBOS.send`` / ``DBOS.recv`` become durable promises; each use gets a precise TODO."""

from __future__ import annotations

from codemod.rules._marker import ApiMarker
from codemod.rules.base import Example, Rule

RECV = (
    "DBOS.recv waits for a message sent to this workflow. Resonate: `p = ctx.promise(timeout=timedelta(seconds=60))`, "
    "hand `await p.id()` to the sender (e.g. with set_event's replacement), then `value = await p`. One value per "
    "promise, not a FIFO per topic; a timeout raises instead of returning None"
)
SEND = (
    "DBOS.send queues a message for a workflow id and topic. Resonate: resolve the promise the receiver created, "
    "`await resonate.promises.resolve(promise_id, Value(...))`; the sender needs that promise's id, not the "
    "workflow's, and a second send to the same promise is not queued"
)


class SendRecv(ApiMarker):
    CODE = "D2R111"
    TRIGGERS = ("send", "recv", "SendMessage")
    DESCRIPTION = "Mark DBOS.send/recv with how to express them as durable promises."
    REASONS = {
        "DBOS.recv": RECV,
        "DBOS.recv_async": RECV,
        "DBOS.send": SEND,
        "DBOS.send_async": SEND,
        "DBOS.send_bulk": SEND,
        "DBOS.send_bulk_async": SEND,
        "SendMessage": SEND,
    }


RULE = Rule(
    code="D2R111",
    name="send-recv",
    summary="`DBOS.send`/`DBOS.recv` need durable promises: marked with a TODO",
    explanation=(
        "DBOS messages are FIFO queues per (workflow, topic): a message sent before `recv` is kept, `recv` returns "
        "`None` on timeout. Resonate has one latent durable promise per id, resolved once: the receiver creates "
        "it (`ctx.promise(timeout=...)`) and awaits it; anyone who knows its id resolves it "
        "(`resonate.promises.resolve(id, value)`). A faithful rewrite needs the program's protocol (how the sender "
        "learns the promise id, whether several messages share a topic), so each call is marked with a TODO that "
        "gives the Resonate form and the differences."
    ),
    examples=(
        Example(
            before='''
            from dbos import DBOS

            def approve(workflow_id: str) -> None:
                DBOS.send(workflow_id, "yes", topic="approval")
            ''',
            after='''
            from dbos import DBOS

            def approve(workflow_id: str) -> None:
                # TODO(dbos2resonate): D2R111 DBOS.send queues a message for a workflow id and topic. Resonate: resolve the promise the receiver created, `await resonate.promises.resolve(promise_id, Value(...))`; the sender needs that promise's id, not the workflow's, and a second send to the same promise is not queued. See docs/rules/D2R111.md
                DBOS.send(workflow_id, "yes", topic="approval")
            ''',
        ),
    ),
    fixable=False,
    transformer=SendRecv,
    todo_reason="DBOS messages (FIFO per topic) become one durable promise per message",
)
