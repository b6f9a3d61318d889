"""D2R112 events: ``DBOS.set_event`` / ``DBOS.get_event`` need durable promises; each use gets a precise TODO."""

from __future__ import annotations

from codemod.rules._marker import ApiMarker
from codemod.rules.base import Example, Rule

SET = (
    "DBOS.set_event publishes a value under a key, last writer wins, readable while the workflow runs. Resonate: "
    "a promise settles once; for a value published once, resolve a promise with a well-known id "
    "(`await resonate.promises.resolve(f\"{wf_id}.{key}\", ...)` from a step); for a changing value keep it in "
    "your own store"
)
GET = (
    "DBOS.get_event waits up to a timeout and returns None if unset. Resonate: "
    "`await (await resonate.get(f\"{wf_id}.{key}\")).result()` waits for the promise the workflow resolves; "
    "wrap it in asyncio.wait_for for the timeout"
)


class Events(ApiMarker):
    CODE = "D2R112"
    TRIGGERS = ("event",)
    DESCRIPTION = "Mark DBOS events with how to express them as durable promises."
    REASONS = {
        "DBOS.set_event": SET,
        "DBOS.set_event_async": SET,
        "DBOS.get_event": GET,
        "DBOS.get_event_async": GET,
        "DBOS.get_all_events": GET,
        "DBOS.get_all_events_async": GET,
    }


RULE = Rule(
    code="D2R112",
    name="events",
    summary="`DBOS.set_event`/`DBOS.get_event` need durable promises: marked with a TODO",
    explanation=(
        "DBOS events are last-writer-wins key/value pairs attached to a workflow, readable while it runs; "
        "`get_event` waits up to a timeout and returns `None`. A Resonate promise settles once, so an event "
        "written once maps onto a promise with a well-known id, and one written several times does not. Each "
        "call is marked with a TODO that says which."
    ),
    examples=(
        Example(
            before='''
            from dbos import DBOS

            def status(workflow_id: str):
                return DBOS.get_event(workflow_id, "status", timeout_seconds=10)
            ''',
            after='''
            from dbos import DBOS

            def status(workflow_id: str):
                # TODO(dbos2resonate): D2R112 DBOS.get_event waits up to a timeout and returns None if unset. Resonate: `await (await resonate.get(f"{wf_id}.{key}")).result()` waits for the promise the workflow resolves; wrap it in asyncio.wait_for for the timeout. See docs/rules/D2R112.md
                return DBOS.get_event(workflow_id, "status", timeout_seconds=10)
            ''',
        ),
    ),
    fixable=False,
    transformer=Events,
    todo_reason="a DBOS event (last writer wins) is not a once-settled promise",
)
