"""DBOS messages and events on durable promises with deterministic ids: what D2R111 and D2R112 share.

The rewrites call small async functions the rules add to the migrated module (``recv_message``,
``send_message``, ``set_event``, ``get_event``, ``as_step``), so the migrated program depends on resonate-sdk
alone and a reader finds the whole scheme in one place. The ids are the shim's (docs/messaging.md), so a
program outside Python that can reach the Resonate store sends a message or reads an event the same way for
both:

- ``{workflow_id}:msg/{topic}/{k}``: the k-th message on a topic. A sender fills the first slot that is not
  settled yet (create-or-get, then resolve; Resonate keeps the first settlement, so of two racing senders one
  wins and the other moves on), which keeps DBOS's FIFO per topic, also for messages sent before ``recv``.
  The workflow's k-th ``recv`` on a topic waits for slot k in a durable step; at its timeout it rejects the
  slot (a message that won that race is still taken, as DBOS's last read takes it) and returns None, and the
  next sender skips the rejected slot.
- ``{workflow_id}:event/{key}/{v}``: the v-th value set for an event; the value is the last resolved version
  (last writer wins). ``get_event`` waits up to its timeout for version 0 and returns None without one.
- ``{workflow_id}:event-keys/{i}``: ``{"key": K}``, the i-th event key the workflow set (once each), which
  ``get_all_events`` walks, as the local store cannot search promises by id.

Topics and keys are one id segment: ASCII letters, digits, ``_`` and ``-`` kept, anything else percent-encoded
(the None topic is ``~``). Values are written as the shim writes them, ``{"d2r": 1, "tag": ..., "json": v}``;
any other JSON value written from outside is the message itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import libcst as cst

from codemod import build
from codemod.rules._helpers import HelperBlock
from codemod.transform import INSTANCE, RuleTransformer

_TEMPLATE = f'''
def promise_segment(text: str | None) -> str:
    """A topic or event key as one promise-id segment (docs/rules/D2R111.md); the None topic is ``~``."""
    if text is None:
        return "~"
    return "".join(
        c if c.isascii() and (c.isalnum() or c in "_-") else "".join(f"%{{b:02X}}" for b in c.encode())
        for c in text
    )


async def open_slot(promise_id: str) -> PromiseRecord:
    """Create-or-get a message or event slot: the sender, the receiver or a reader may come first."""
    keep_ms = 10 * 365 * 86_400_000  # DBOS keeps messages and events until the workflow is deleted
    return await {INSTANCE}.promises.create(promise_id, int(time.time() * 1000) + keep_ms, Value(), {{}})


def slot_value(data: Any) -> Any:
    """The value in a settled slot: written by this program (or the shim), or any JSON written from outside."""
    return data.get("json") if isinstance(data, dict) and "d2r" in data else data


async def fill_slot(promise_id: str, value: Any) -> bool:
    """Resolve a slot with ``value`` unless it is settled: True when the slot holds this write."""
    record = await open_slot(promise_id)
    if record.state != "pending":
        return False
    tag = str(uuid.uuid4())
    record = await {INSTANCE}.promises.resolve(promise_id, Value(data={{"d2r": 1, "tag": tag, "json": value}}))
    data = record.value.data
    return isinstance(data, dict) and data.get("tag") == tag


async def as_step(ctx: Context, operation: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any:
    """Run a send or a read as a durable step of the calling workflow: a replay returns its recorded outcome."""
    return await operation(*args, **kwargs)


async def send_message(destination_id: str, message: Any, topic: str | None = None) -> None:
    """DBOS.send: fill the first free slot ``{{destination_id}}:msg/{{topic}}/{{k}}`` (FIFO per topic)."""
    k = 0
    while not await fill_slot(f"{{destination_id}}:msg/{{promise_segment(topic)}}/{{k}}", message):
        k += 1


async def wait_for_slot(ctx: Context, promise_id: str, timeout_seconds: float) -> Any:
    """A durable step: the message in a slot, or None when none came in time (the slot is then rejected)."""
    record = await open_slot(promise_id)
    if record.state == "pending":
        try:
            await asyncio.wait_for((await {INSTANCE}.get(promise_id)).result(), timeout_seconds)
        except TimeoutError:
            pass
        record = await {INSTANCE}.promises.reject(promise_id, Value())  # settled already: what it holds
    return slot_value(record.value.data) if record.state == "resolved" else None


# how many messages each running workflow execution has taken per topic (a replay starts a new execution)
messages_taken: weakref.WeakKeyDictionary[Context, dict[str | None, int]] = weakref.WeakKeyDictionary()


async def recv_message(ctx: Context, topic: str | None = None, timeout_seconds: float = 60) -> Any:
    """DBOS.recv: the k-th call on a topic takes slot ``{{workflow_id}}:msg/{{topic}}/{{k}}``; None at the timeout."""
    taken = messages_taken.setdefault(ctx, {{}})
    k = taken.get(topic, 0)
    taken[topic] = k + 1
    return await ctx.run(wait_for_slot, f"{{ctx.info.id}}:msg/{{promise_segment(topic)}}/{{k}}", timeout_seconds)


async def publish_event(ctx: Context, workflow_id: str, key: str, value: Any) -> None:
    """A durable step: write the next version ``{{workflow_id}}:event/{{key}}/{{v}}`` of an event."""
    v = 0
    while not await fill_slot(f"{{workflow_id}}:event/{{promise_segment(key)}}/{{v}}", value):
        v += 1
    await index_event_key(workflow_id, key)


async def index_event_key(workflow_id: str, key: str) -> None:
    """List ``key`` once among the workflow's event keys ``{{workflow_id}}:event-keys/{{i}}`` (get_all_events)."""
    i = 0
    while True:
        promise_id = f"{{workflow_id}}:event-keys/{{i}}"
        record = await open_slot(promise_id)
        if record.state == "pending":
            record = await {INSTANCE}.promises.resolve(promise_id, Value(data={{"key": key}}))
        if record.state == "resolved" and record.value.data == {{"key": key}}:
            return
        i += 1


async def set_event(ctx: Context, key: str, value: Any) -> None:
    """DBOS.set_event: a new version of the workflow's event; readers see the last one (last writer wins)."""
    await ctx.run(publish_event, ctx.info.id, key, value)


async def get_event(workflow_id: str, key: str, timeout_seconds: float = 60) -> Any:
    """DBOS.get_event: the event's last version, waiting up to the timeout for a first one (else None)."""
    first = f"{{workflow_id}}:event/{{promise_segment(key)}}/0"
    if (await open_slot(first)).state == "pending":
        try:
            await asyncio.wait_for((await {INSTANCE}.get(first)).result(), timeout_seconds)
        except TimeoutError:
            return None
    value, v = None, 0
    while (record := await open_slot(f"{{workflow_id}}:event/{{promise_segment(key)}}/{{v}}")).state == "resolved":
        value, v = slot_value(record.value.data), v + 1
    return value


async def get_all_events(workflow_id: str) -> dict[str, Any]:
    """DBOS.get_all_events: the last value of every event the workflow set, by key as DBOS orders them."""
    events: dict[str, Any] = {{}}
    i = 0
    while (record := await open_slot(f"{{workflow_id}}:event-keys/{{i}}")).state != "pending":
        data = record.value.data
        if record.state == "resolved" and isinstance(data, dict) and isinstance(data.get("key"), str):
            events[data["key"]] = await get_event(workflow_id, data["key"], timeout_seconds=0)
        i += 1
    return dict(sorted(events.items()))


async def append_to_stream(ctx: Context, workflow_id: str, key: str, value: Any) -> None:
    """A durable step: write ``value`` to the first free entry ``{{workflow_id}}:stream/{{key}}/{{i}}``."""
    i = 0
    while not await fill_slot(f"{{workflow_id}}:stream/{{promise_segment(key)}}/{{i}}", value):
        i += 1


async def end_stream(ctx: Context, workflow_id: str, key: str) -> None:
    """A durable step: reject the first free entry of a stream, the end its readers stop at."""
    i = 0
    while True:
        entry = f"{{workflow_id}}:stream/{{promise_segment(key)}}/{{i}}"
        if (await open_slot(entry)).state == "pending" and (
            await {INSTANCE}.promises.reject(entry, Value())
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
        await (await {INSTANCE}.get(promise_id)).result()


async def read_stream(workflow_id: str, key: str) -> AsyncIterator[Any]:
    """DBOS.read_stream: the stream's values in order, until it is closed or its workflow ends."""
    i = 0
    while True:
        entry = f"{{workflow_id}}:stream/{{promise_segment(key)}}/{{i}}"
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
'''

# a name the helpers use -> the import that binds it
_IMPORTS: dict[str, tuple[str, str | None]] = {
    "asyncio": ("asyncio", None),
    "contextlib": ("contextlib", None),
    "AsyncIterator": ("collections.abc", "AsyncIterator"),
    "time": ("time", None),
    "uuid": ("uuid", None),
    "weakref": ("weakref", None),
    "Any": ("typing", "Any"),
    "Awaitable": ("collections.abc", "Awaitable"),
    "Callable": ("collections.abc", "Callable"),
    "Context": ("resonate.context", "Context"),
    "PromiseRecord": ("resonate.types", "PromiseRecord"),
    "Value": ("resonate.types", "Value"),
}

PROMISE_HELPERS = HelperBlock("dbos2resonate.promise_helpers", _TEMPLATE, _IMPORTS)


@dataclass(frozen=True, slots=True)
class Form:
    """How one DBOS call becomes a helper call."""

    helper: str  # the helper it calls
    params: tuple[str, ...]  # DBOS's parameters the helper takes too (others get a TODO)
    where: str  # "workflow": only directly in a workflow (gets ctx); "anywhere": also in async code outside
    awaited_by_user: bool = False  # the ``_async`` variant: the caller already awaits it


class PromiseRewrite(RuleTransformer):
    """A rule whose rewrites call the helpers above; the module gets the helpers it needs once, at its end."""

    FORMS: ClassVar[dict[str, Form]] = {}
    # DBOS API -> why a use it leaves is not converted (APIs with a form get their reason from ``_declined``)
    REASONS: ClassVar[dict[str, str]] = {}

    def start(self, module: cst.Module) -> None:
        bound = self.facts.module_names | self.facts.imported_names
        # a module migrated before defines the helpers itself (a second run adds only the missing ones)
        ours = "promise_segment" in self.facts.module_names
        # (the helpers' names come from parsing their template: once per process, when a module needs them)
        clash = sorted(PROMISE_HELPERS.names & bound) if not ours else []
        self._clash = clash[0] if clash else None

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        api = self.facts.resolve(original_node.func)
        if api is None:
            return updated_node
        form = self.FORMS.get(api)
        if form is None:
            if api in self.REASONS:
                self.todo(self.CODE, self.REASONS[api])
            return updated_node
        why = self._declined(api, form, updated_node)
        if why is not None:
            self.todo(self.CODE, why)
            return updated_node
        args = build.clean_args(updated_node.args)
        if self.in_workflow and form.where == "workflow":
            call = build.call(form.helper, build.name("ctx"), *args)
        elif self.in_workflow:  # a durable step of the workflow, as DBOS records it
            call = build.ctx_run(build.name("as_step"), [cst.Arg(build.name(form.helper)), *args])
            self.need("as_step")
        else:
            call = build.call(form.helper, *args)
        self.need(form.helper)
        self.uses_instance()
        return call if form.awaited_by_user else self.awaited(original_node, call)

    def _declined(self, api: str, form: Form, call: cst.Call) -> str | None:
        helper = f"`await {form.helper}(...)` (a function migrate adds once a call is converted; see the rule's docs)"
        if self._clash is not None:
            return (f"the module already binds `{self._clash}`, a name the {api} rewrite adds; rename it and run "
                    "migrate again")
        for arg in call.args:
            if arg.star:
                return f"{api} with *args or **kwargs is not converted: write {helper} with its arguments"
            if arg.keyword is not None and arg.keyword.value not in form.params:
                return f"{api}'s `{arg.keyword.value}=` has no Resonate counterpart here: {helper} takes " + (
                    ", ".join(form.params))
        if len(call.args) > len(form.params):
            return f"unexpected arguments to {api}"
        if self.in_workflow or (form.where == "anywhere" and self.in_async_plain):
            return None
        if form.where == "workflow":
            return (f"{api} is only converted directly in a workflow, where it becomes "
                    f"`await {form.helper}(ctx, ...)`; elsewhere there is no workflow ctx to record it")
        f = self.frame
        if f is not None and f.module_level and f.name in self.facts.async_declined:
            return f"{api} in sync code: it becomes {helper}, which needs an async caller (D2R114 says why not here)"
        return (f"{api} in sync code: it becomes {helper}, which needs an async caller; make this function "
                "`async def` and await it where it is called")

    def need(self, *helpers: str) -> None:
        PROMISE_HELPERS.need(self.context, *helpers)
        self.mark_applied()

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        return PROMISE_HELPERS.insert(self, updated_node)
