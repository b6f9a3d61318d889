"""D2R112 events: ``DBOS.set_event`` / ``DBOS.get_event`` become versioned durable promises."""

from __future__ import annotations

from codemod.rules._promises import Form, PromiseRewrite
from codemod.rules.base import Example, Rule

GET = ("workflow_id", "key", "timeout_seconds")



class Events(PromiseRewrite):
    CODE = "D2R112"
    TRIGGERS = ("event",)
    DESCRIPTION = "Turn DBOS events into versioned durable promises (set_event writes, get_event reads the last)."
    FORMS = {
        "DBOS.set_event": Form("set_event", ("key", "value"), "workflow"),
        "DBOS.set_event_async": Form("set_event", ("key", "value"), "workflow", awaited_by_user=True),
        "DBOS.get_event": Form("get_event", GET, "anywhere"),
        "DBOS.get_event_async": Form("get_event", GET, "anywhere", awaited_by_user=True),
        "DBOS.get_all_events": Form("get_all_events", ("workflow_id",), "anywhere"),
        "DBOS.get_all_events_async": Form("get_all_events", ("workflow_id",), "anywhere", awaited_by_user=True),
    }


RULE = Rule(
    code="D2R112",
    name="events",
    summary="Turn `DBOS.set_event`/`DBOS.get_event` into versioned durable promises",
    explanation=(
        "DBOS events are last-writer-wins key/value pairs attached to a workflow, readable while it runs; "
        "`get_event` waits up to a timeout and returns `None`. A Resonate promise settles once, so each value is "
        "a new *version*, the promise `{workflow_id}:event/{key}/{v}` (the shim's ids, docs/messaging.md):\n\n"
        "- `DBOS.set_event(key, value)` directly in a workflow becomes `await set_event(ctx, key, value)`: a durable "
        "step that resolves the first version not yet settled, so a replay does not write again.\n"
        "- `DBOS.get_event(workflow_id, key, timeout_seconds=T)` becomes `await get_event(workflow_id, key, "
        "timeout_seconds=T)` in async code (in a workflow, `await ctx.run(as_step, get_event, ...)`, one durable "
        "operation as in DBOS): it waits up to `T` for version 0 (`None` if none comes, also for a workflow that "
        "does not exist) and returns the last resolved version.\n"
        "- `DBOS.get_all_events(workflow_id)` becomes `await get_all_events(workflow_id)`: `set_event` lists each "
        "key once in `{workflow_id}:event-keys/{i}` (the local store cannot search promises), and the read "
        "returns the last version of each listed key, sorted by key as DBOS's store returns them.\n\n"
        "The functions are added to the migrated module (see D2R111, which shares them). Left with a TODO: "
        "`set_event` outside a module-level workflow (DBOS also allows it in a step), `get_event` in sync code "
        "(it must be awaited) and `serialization_type=`. Values cross Resonate's JSON codec."
    ),
    examples=(
        Example(
            title='A workflow publishes its state; async code reads it',
            before='''
            from dbos import DBOS

            @DBOS.workflow()
            def checkout(order: str) -> str:
                DBOS.set_event("status", "paid")
                return order

            async def status(workflow_id: str):
                return await DBOS.get_event_async(workflow_id, "status", timeout_seconds=10)
            ''',
            after='''
            import asyncio
            import time
            import uuid
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


            async def publish_event(ctx: Context, workflow_id: str, key: str, value: Any) -> None:
                """A durable step: write the next version ``{workflow_id}:event/{key}/{v}`` of an event."""
                v = 0
                while not await fill_slot(f"{workflow_id}:event/{promise_segment(key)}/{v}", value):
                    v += 1
                await index_event_key(workflow_id, key)


            async def index_event_key(workflow_id: str, key: str) -> None:
                """List ``key`` once among the workflow's event keys ``{workflow_id}:event-keys/{i}`` (get_all_events)."""
                i = 0
                while True:
                    promise_id = f"{workflow_id}:event-keys/{i}"
                    record = await open_slot(promise_id)
                    if record.state == "pending":
                        record = await resonate.promises.resolve(promise_id, Value(data={"key": key}))
                    if record.state == "resolved" and record.value.data == {"key": key}:
                        return
                    i += 1


            async def set_event(ctx: Context, key: str, value: Any) -> None:
                """DBOS.set_event: a new version of the workflow's event; readers see the last one (last writer wins)."""
                await ctx.run(publish_event, ctx.info.id, key, value)


            async def get_event(workflow_id: str, key: str, timeout_seconds: float = 60) -> Any:
                """DBOS.get_event: the event's last version, waiting up to the timeout for a first one (else None)."""
                first = f"{workflow_id}:event/{promise_segment(key)}/0"
                if (await open_slot(first)).state == "pending":
                    try:
                        await asyncio.wait_for((await resonate.get(first)).result(), timeout_seconds)
                    except TimeoutError:
                        return None
                value, v = None, 0
                while (record := await open_slot(f"{workflow_id}:event/{promise_segment(key)}/{v}")).state == "resolved":
                    value, v = slot_value(record.value.data), v + 1
                return value

            @resonate.register
            async def checkout(ctx: Context, order: str) -> str:
                # TODO(dbos2resonate): D2R102 this module uses the Resonate instance `resonate` but neither creates nor imports it: import it from the module that replaced DBOS(config=...). See docs/rules/D2R102.md
                await set_event(ctx, "status", "paid")
                return order

            async def status(workflow_id: str):
                return await get_event(workflow_id, "status", timeout_seconds=10)
            ''',
        ),
        Example(
            title='A read in sync code must be awaited: a TODO',
            before='''
            from dbos import DBOS

            def status(workflow_id: str):
                return DBOS.get_event(workflow_id, "status", timeout_seconds=10)
            ''',
            after='''
            from dbos import DBOS

            def status(workflow_id: str):
                # TODO(dbos2resonate): D2R112 DBOS.get_event in sync code: it becomes `await get_event(...)` (a function migrate adds once a call is converted; see the rule's docs), which needs an async caller; make this function `async def` and await it where it is called. See docs/rules/D2R112.md
                return DBOS.get_event(workflow_id, "status", timeout_seconds=10)
            ''',
        ),
    ),
    transformer=Events,
    todo_reason="the call is not in a place where the durable-promise rewrite applies (the TODO says which)",
)
