"""DBOS's custom workflow attributes: ``SetWorkflowAttributes``, ``DBOS.update_workflow_attributes``
(+async), ``WorkflowStatus.attributes`` and ``list_workflows(attributes=...)``.

As in DBOS 2.31, the attributes set in a ``SetWorkflowAttributes`` block are recorded on every
workflow started or enqueued in it (not on that workflow's children), and an update replaces them
whole. A root promise's tags cannot change, so the attributes at creation are a tag and each update
is one marker promise ``<root>:attributes.<n>``; the highest ``n`` holds the current attributes.
A resumed or forked run starts with its original's current attributes, as DBOS copies them.
"""

from __future__ import annotations

import contextvars
import json
import uuid
from collections.abc import Iterable
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any

from resonate.types import PromiseRecord

from shim import _records as rec
from shim.errors import DBOSException

if TYPE_CHECKING:
    from shim._lifecycle import Lifecycle

Attributes = dict[str, Any] | None

_ATTRIBUTES_KIND = "attributes"

workflow_attributes: ContextVar[Attributes] = ContextVar("d2r_workflow_attributes", default=None)


def validate(attributes: Any) -> None:
    """DBOS's check (``validate_workflow_attributes``) and messages: a JSON-serializable dict, or None."""
    if attributes is not None and not isinstance(attributes, dict):
        raise DBOSException(f"Invalid workflow attributes {attributes}. Attributes must be a dict.")
    if attributes is not None:
        try:
            json.dumps(attributes)
        except (TypeError, ValueError) as exc:
            raise DBOSException(
                f"Invalid workflow attributes {attributes}. Attributes must be JSON-serializable."
            ) from exc


class SetWorkflowAttributes:
    """``with SetWorkflowAttributes({...}):`` records the attributes on the workflows started in the block."""

    def __init__(self, attributes: Attributes) -> None:
        validate(attributes)
        self.attributes = attributes
        self._token: Token[Attributes] | None = None

    def __enter__(self) -> SetWorkflowAttributes:
        self._token = workflow_attributes.set(self.attributes)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            workflow_attributes.reset(self._token)
            self._token = None


def creation_tags(context: contextvars.Context | None) -> dict[str, str]:
    """The attributes a workflow started from ``context`` records when it is created."""
    return tags_of(context.get(workflow_attributes) if context is not None else None)


def tags_of(attributes: Attributes) -> dict[str, str]:
    return {} if attributes is None else {rec.TAG_ATTRIBUTES: json.dumps(attributes)}


def _update_id(root_id: str, n: int) -> str:
    return f"{root_id}:attributes.{n}"


def _recorded(root: PromiseRecord) -> Attributes:
    tag = root.tags.get(rec.TAG_ATTRIBUTES)
    return json.loads(tag) if tag is not None else None


async def current(lifecycle: Lifecycle, root: PromiseRecord) -> Attributes:
    """A run's attributes now: its latest update's, else those it was created with."""
    attributes, n = _recorded(root), 1
    while (update := await lifecycle.get(_update_id(root.id, n))) is not None:
        attributes = _updated(update)
        n += 1
    return attributes


async def replace(lifecycle: Lifecycle, root: PromiseRecord, attributes: Attributes) -> None:
    """Record ``attributes`` as the run's current ones, in the first free update slot (a slot another
    update took holds that update's token, so this one moves on to the next). The caller has validated them."""
    data = json.dumps([uuid.uuid4().hex, attributes])
    n = 1
    while True:
        marker = await lifecycle.create(_update_id(root.id, n), data, update_search_tags())
        if marker.param.data == data:
            return
        n += 1


def _updated(marker: PromiseRecord) -> Attributes:
    _token, attributes = json.loads(marker.param.data)
    return attributes


def latest_updates(markers: Iterable[PromiseRecord]) -> dict[str, Attributes]:
    """Root promise id -> its latest update, from one search of all update markers (for listings)."""
    latest: dict[str, tuple[int, Attributes]] = {}
    for marker in markers:
        root_id, _, n = marker.id.rpartition(":attributes.")
        if root_id and n.isdigit() and (root_id not in latest or latest[root_id][0] < int(n)):
            latest[root_id] = (int(n), _updated(marker))
    return {root_id: attributes for root_id, (_, attributes) in latest.items()}


def update_search_tags() -> dict[str, str]:
    return {rec.TAG_KIND: _ATTRIBUTES_KIND}


def contains(document: Any, wanted: Any) -> bool:
    """Postgres's JSONB containment (``@>``), which DBOS's ``list_workflows(attributes=...)`` uses."""
    if isinstance(wanted, dict):
        return isinstance(document, dict) and all(
            key in document and contains(document[key], value) for key, value in wanted.items())
    if isinstance(wanted, list):
        return isinstance(document, list) and all(
            any(contains(element, item) for element in document) for item in wanted)
    if _is_number(document) and _is_number(wanted):
        return bool(document == wanted)
    return type(document) is type(wanted) and document == wanted


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
