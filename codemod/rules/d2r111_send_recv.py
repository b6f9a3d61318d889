"""D2R111 send-recv: ``DBOS.recv`` / ``DBOS.send`` become waits on and writes to durable promise slots."""

from __future__ import annotations

from codemod.rules._promises import Form, PromiseRewrite
from codemod.rules.base import Example, Rule

SEND = ("destination_id", "message", "topic")
BULK = (
    "DBOS.send_bulk sends several messages as one durable operation: call `await send_message(...)` for each "
    "(inside a workflow: `await ctx.run(as_step, send_message, ...)`), which is one operation per message"
)


class SendRecv(PromiseRewrite):
    CODE = "D2R111"
    TRIGGERS = ("send", "recv", "SendMessage")
    DESCRIPTION = "Turn DBOS.recv into a wait on a durable promise slot and DBOS.send into filling one."
    FORMS = {
        "DBOS.recv": Form("recv_message", ("topic", "timeout_seconds"), "workflow"),
        "DBOS.recv_async": Form("recv_message", ("topic", "timeout_seconds"), "workflow", awaited_by_user=True),
        "DBOS.send": Form("send_message", SEND, "anywhere"),
        "DBOS.send_async": Form("send_message", SEND, "anywhere", awaited_by_user=True),
    }
    REASONS = {"DBOS.send_bulk": BULK, "DBOS.send_bulk_async": BULK, "SendMessage": BULK}


RULE = Rule(
    code="D2R111",
    name="send-recv",
    summary="Turn `DBOS.recv` into a wait on a durable promise and `DBOS.send` into resolving it",
    explanation=(
        "DBOS messages are FIFO queues per (workflow, topic): a message sent before `recv` is kept, `recv` returns "
        "`None` on timeout. The rewrite keeps that with one durable promise per message, the *slot* "
        "`{workflow_id}:msg/{topic}/{k}` for the k-th message on a topic (the shim's ids, docs/messaging.md; the "
        "`None` topic is `~`, other characters than letters, digits, `_` and `-` are percent-encoded):\n\n"
        "- `DBOS.recv(topic, timeout_seconds=T)` directly in a workflow becomes `await recv_message(ctx, topic, "
        "timeout_seconds=T)`: the workflow's k-th `recv` on that topic waits for slot k in a durable step "
        "(`ctx.run`), so a replay returns the recorded message. At the timeout it rejects the slot and returns "
        "`None`, as DBOS does; a message that won the race is still taken.\n"
        "- `DBOS.send(destination_id, message, topic)` becomes `await send_message(destination_id, message, topic)` "
        "in async code, and `await ctx.run(as_step, send_message, ...)` in a workflow (one durable operation, as in "
        "DBOS): it creates-or-gets the first slot that is not settled and resolves it. Resonate keeps a promise's "
        "first settlement, so two racing senders never overwrite each other (each write carries a unique tag) and "
        "slots fill in order: several messages sent before the `recv`s arrive in FIFO order.\n\n"
        "The functions (`recv_message`, `send_message`, `wait_for_slot`, ... ) are added to the migrated module, "
        "so it needs resonate-sdk only, and anything that reaches the Resonate store (another language, the "
        "`resonate` CLI) can deliver a message by resolving the slot with plain JSON.\n\n"
        "Left with a TODO: `send` in sync code (it must be awaited: make the function `async def`), `recv` "
        "outside a module-level workflow, `idempotency_key=`/`serialization_type=`/`send_to_forks=`, "
        "`send_bulk`/`SendMessage`. Differences from DBOS: values cross Resonate's JSON codec (a tuple comes back "
        "a list); a receiver restarted after a crash waits its full timeout again; in local mode a wait longer "
        "than the task lease (60 s) is not renewed."
    ),
    examples=(
        Example(
            title='A workflow waits for an approval; async code sends it',
            before='''
            from dbos import DBOS

            @DBOS.workflow()
            def approval(request: str) -> str:
                decision = DBOS.recv("approval", timeout_seconds=60)
                return f"{request}: {decision}"

            async def approve(workflow_id: str) -> None:
                await DBOS.send_async(workflow_id, "yes", topic="approval")
            ''',
            after='''
            import asyncio
            import time
            import uuid
            import weakref
            from typing import Any

            from resonate.context import Context
            from resonate.types import PromiseRecord, Value


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


            def slot_value(data: Any) -> Any:
                """The value in a settled slot: written by this program (or the shim), or any JSON written from outside."""
                return data.get("json") if isinstance(data, dict) and "d2r" in data else data


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


            async def wait_for_slot(ctx: Context, promise_id: str, timeout_seconds: float) -> Any:
                """A durable step: the message in a slot, or None when none came in time (the slot is then rejected)."""
                record = await open_slot(promise_id)
                if record.state == "pending":
                    try:
                        await asyncio.wait_for((await resonate.get(promise_id)).result(), timeout_seconds)
                    except TimeoutError:
                        pass
                    record = await resonate.promises.reject(promise_id, Value())  # settled already: what it holds
                return slot_value(record.value.data) if record.state == "resolved" else None


            # how many messages each running workflow execution has taken per topic (a replay starts a new execution)
            messages_taken: weakref.WeakKeyDictionary[Context, dict[str | None, int]] = weakref.WeakKeyDictionary()


            async def recv_message(ctx: Context, topic: str | None = None, timeout_seconds: float = 60) -> Any:
                """DBOS.recv: the k-th call on a topic takes slot ``{workflow_id}:msg/{topic}/{k}``; None at the timeout."""
                taken = messages_taken.setdefault(ctx, {})
                k = taken.get(topic, 0)
                taken[topic] = k + 1
                return await ctx.run(wait_for_slot, f"{ctx.info.id}:msg/{promise_segment(topic)}/{k}", timeout_seconds)

            @resonate.register
            async def approval(ctx: Context, request: str) -> str:
                # TODO(dbos2resonate): D2R102 this module uses the Resonate instance `resonate` but neither creates nor imports it: import it from the module that replaced DBOS(config=...). See docs/rules/D2R102.md
                decision = await recv_message(ctx, "approval", timeout_seconds=60)
                return f"{request}: {decision}"

            async def approve(workflow_id: str) -> None:
                await send_message(workflow_id, "yes", topic="approval")
            ''',
        ),
        Example(
            title='A send in sync code must be awaited: a TODO',
            before='''
            from dbos import DBOS

            def approve(workflow_id: str) -> None:
                DBOS.send(workflow_id, "yes", topic="approval")
            ''',
            after='''
            from dbos import DBOS

            def approve(workflow_id: str) -> None:
                # TODO(dbos2resonate): D2R111 DBOS.send in sync code: it becomes `await send_message(...)` (a function migrate adds once a call is converted; see the rule's docs), which needs an async caller; make this function `async def` and await it where it is called. See docs/rules/D2R111.md
                DBOS.send(workflow_id, "yes", topic="approval")
            ''',
        ),
    ),
    transformer=SendRecv,
    todo_reason="the call is not in a place where the durable-promise rewrite applies (the TODO says which)",
)
