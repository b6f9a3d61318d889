"""D2R115 streams: ``DBOS.write_stream``/``close_stream`` append to durable promise entries; ``read_stream`` reads them."""

from __future__ import annotations

import libcst as cst

from codemod import build
from codemod.rules._promises import Form, PromiseRewrite
from codemod.rules.base import Example, Rule

READS = ("DBOS.read_stream", "DBOS.read_stream_async")
READ_PARAMS = ("workflow_id", "key")


class Streams(PromiseRewrite):
    CODE = "D2R115"
    TRIGGERS = ("_stream",)
    DESCRIPTION = "Turn DBOS streams into durable promise entries `{workflow_id}:stream/{key}/{i}`."
    FORMS = {
        "DBOS.write_stream": Form("write_stream", ("key", "value"), "workflow"),
        "DBOS.write_stream_async": Form("write_stream", ("key", "value"), "workflow", awaited_by_user=True),
        "DBOS.close_stream": Form("close_stream", ("key",), "workflow"),
        "DBOS.close_stream_async": Form("close_stream", ("key",), "workflow", awaited_by_user=True),
    }

    def start(self, module: cst.Module) -> None:
        super().start(module)
        self._iterated: set[int] = set()  # ids of calls that are a ``for`` loop's iterable or ``list(...)``'s argument
        self._reads: set[int] = set()  # ids of the read calls converted

    def visit_For(self, node: cst.For) -> None:
        self._iterated.add(id(node.iter))

    def visit_Call(self, node: cst.Call) -> None:
        if type(node.func) is cst.Name and node.func.value == "list" and len(node.args) == 1:  # type: ignore[attr-defined]
            self._iterated.add(id(node.args[0].value))

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        api = self.facts.resolve(original_node.func)
        if api in READS:
            return self._read(original_node, updated_node, api)
        arg = original_node.args[0].value if len(original_node.args) == 1 else None
        func = original_node.func
        if arg is not None and id(arg) in self._reads and type(func) is cst.Name and func.value == "list":  # type: ignore[attr-defined]
            # ``list(DBOS.read_stream(...))``: the values of the async iterator, as a list
            value = cst.Name("value")
            return cst.ListComp(value, cst.CompFor(value, updated_node.args[0].value, asynchronous=cst.Asynchronous()))
        return super().leave_Call(original_node, updated_node)

    def leave_For(self, original_node: cst.For, updated_node: cst.For) -> cst.For:
        if id(original_node.iter) in self._reads:
            return updated_node.with_changes(asynchronous=cst.Asynchronous())
        return updated_node

    def _read(self, original: cst.Call, updated: cst.Call, api: str) -> cst.BaseExpression:
        why = self._declined(api, Form("read_stream", READ_PARAMS, "anywhere"), updated)
        if why is None and self.in_workflow:
            why = (f"{api} in a workflow is not converted: DBOS records each value read as a step of the workflow; "
                   "read the stream's entries in a step of your own, or outside the workflow")
        if why is None and api == "DBOS.read_stream" and id(original) not in self._iterated:
            why = (f"{api} is converted where it is a `for` loop's iterable or `list(...)`'s argument: it becomes the "
                   "async iterator `read_stream(...)`, read with `async for`")
        if why is not None:
            self.todo(self.CODE, why)
            return updated
        self._reads.add(id(original))
        self.need("read_stream")
        self.uses_instance()
        return build.call("read_stream", *build.clean_args(updated.args))


RULE = Rule(
    code="D2R115",
    name="streams",
    summary="Turn DBOS streams into durable promise entries written by the workflow and read in order",
    explanation=(
        "A DBOS stream is an ordered list of values a workflow writes (`write_stream`) and ends (`close_stream`), "
        "read by anyone while it grows (`read_stream`). The rewrite keeps it on durable promises with the shim's "
        "ids (docs/messaging.md): entry i of stream `K` of workflow `W` is the promise `W:stream/K/i`.\n\n"
        "- `DBOS.write_stream(key, value)` directly in a workflow becomes `await write_stream(ctx, key, value)`: "
        "a durable step (`ctx.run`) that fills the first free entry, so a replay does not write again.\n"
        "- `DBOS.close_stream(key)` becomes `await close_stream(ctx, key)`: a durable step that rejects the first "
        "free entry, the end readers stop at (values written after it are not read, as in DBOS; the shim's own "
        "end marker, a resolved `{\"closed\": true}` envelope, ends a stream too).\n"
        "- `DBOS.read_stream(workflow_id, key)` in async code outside workflows, as a `for` loop's iterable or in "
        "`list(...)`, becomes the async iterator `read_stream(workflow_id, key)` (`async for`, or "
        "`[value async for value in read_stream(...)]`): it yields the entries in order, waiting for each one, "
        "and ends at the end marker or, once the workflow has finished, at the first entry it did not write. "
        "`DBOS.read_stream_async` becomes the same iterator.\n\n"
        "The functions are added to the migrated module (resonate-sdk only). Left with a TODO: writes outside a "
        "module-level workflow (DBOS allows them in steps too; a Resonate step is synchronous here), "
        "`serialization_type=`, reads in a workflow (DBOS records each value read as a step), reads with "
        "`timeout_seconds=` or `polling_interval_sec=` and other uses of the read, `read_stream_offset` (D2R204). "
        "Differences from DBOS: values cross Resonate's JSON codec (a tuple comes back a list); reading a stream "
        "of a workflow that does not exist yields nothing instead of raising DBOSNonExistentWorkflowError."
    ),
    examples=(
        Example(
            title="A workflow streams its progress; async code reads it",
            before='''
            from dbos import DBOS

            @DBOS.workflow()
            def build(parts: list[str]) -> int:
                for part in parts:
                    DBOS.write_stream("progress", part)
                DBOS.close_stream("progress")
                return len(parts)

            async def watch(workflow_id: str) -> list[str]:
                seen = list(DBOS.read_stream(workflow_id, "progress"))
                async for part in DBOS.read_stream_async(workflow_id, "progress"):
                    print(part)
                return seen
            ''',
            after='''
            import asyncio
            import contextlib
            import time
            import uuid
            from collections.abc import AsyncIterator
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


            async def append_to_stream(ctx: Context, workflow_id: str, key: str, value: Any) -> None:
                """A durable step: write ``value`` to the first free entry ``{workflow_id}:stream/{key}/{i}``."""
                i = 0
                while not await fill_slot(f"{workflow_id}:stream/{promise_segment(key)}/{i}", value):
                    i += 1


            async def end_stream(ctx: Context, workflow_id: str, key: str) -> None:
                """A durable step: reject the first free entry of a stream, the end its readers stop at."""
                i = 0
                while True:
                    entry = f"{workflow_id}:stream/{promise_segment(key)}/{i}"
                    if (await open_slot(entry)).state == "pending" and (
                        await resonate.promises.reject(entry, Value())
                    ).state != "resolved":
                        return
                    i += 1


            async def write_stream(ctx: Context, key: str, value: Any) -> None:
                """DBOS.write_stream: append ``value`` to the workflow's stream ``key``."""
                await ctx.run(append_to_stream, ctx.info.id, key, value)


            async def close_stream(ctx: Context, key: str) -> None:
                """DBOS.close_stream: end the workflow's stream ``key``; values written after it are not read."""
                await ctx.run(end_stream, ctx.info.id, key)


            async def settled(promise_id: str) -> None:
                """Wait until a promise is settled, whichever way: its record says how."""
                with contextlib.suppress(Exception):
                    await (await resonate.get(promise_id)).result()


            async def read_stream(workflow_id: str, key: str) -> AsyncIterator[Any]:
                """DBOS.read_stream: the stream's values in order, until it is closed or its workflow ends."""
                i = 0
                while True:
                    entry = f"{workflow_id}:stream/{promise_segment(key)}/{i}"
                    record = await open_slot(entry)
                    if record.state == "pending":
                        waits = [asyncio.ensure_future(settled(entry)), asyncio.ensure_future(settled(workflow_id))]
                        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                        for wait in waits:
                            wait.cancel()
                        record = await open_slot(entry)  # still pending: the workflow ended without writing it
                    data = record.value.data if record.state == "resolved" else None
                    if record.state != "resolved" or (isinstance(data, dict) and "d2r" in data and data.get("closed")):
                        return
                    yield slot_value(data)
                    i += 1

            @resonate.register
            async def build(ctx: Context, parts: list[str]) -> int:
                for part in parts:
                    # TODO(dbos2resonate): D2R102 this module uses the Resonate instance `resonate` but neither creates nor imports it: import it from the module that replaced DBOS(config=...). See docs/rules/D2R102.md
                    await write_stream(ctx, "progress", part)
                await close_stream(ctx, "progress")
                return len(parts)

            async def watch(workflow_id: str) -> list[str]:
                seen = [value async for value in read_stream(workflow_id, "progress")]
                async for part in read_stream(workflow_id, "progress"):
                    print(part)
                return seen
            ''',
        ),
    ),
    transformer=Streams,
    todo_reason="the stream call is not in a place where the durable-promise rewrite applies (the TODO says which)",
)
