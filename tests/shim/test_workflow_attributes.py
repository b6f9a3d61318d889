"""``list_workflows(attributes=...)`` on the shim (shim/_attributes.py).

DBOS 2.31 filters by attributes only on a Postgres system database (JSONB containment, ``@>``); on
SQLite, the differential tests' oracle, it raises. So the filter's semantics are checked here against
what Postgres documents for ``@>``, and the recorded attributes themselves by the differential case
``workflow_attributes``.
"""

from __future__ import annotations

import pytest

from shim import DBOS, SetWorkflowAttributes, SetWorkflowID
from shim._attributes import contains


@DBOS.workflow()
def attributed(x: int) -> int:
    return x


def _listed(**attributes: object) -> list[str]:
    return sorted(w.workflow_id for w in DBOS.list_workflows(attributes=dict(attributes)))


def test_list_workflows_filters_by_contained_attributes(dbos: type[DBOS]) -> None:
    with SetWorkflowAttributes({"customer": "acme", "tags": ["a", "b"], "n": 1}), SetWorkflowID("attr-a"):
        attributed(1)
    with SetWorkflowAttributes({"customer": "other"}), SetWorkflowID("attr-b"):
        attributed(2)
    with SetWorkflowID("attr-none"):
        attributed(3)

    assert _listed(customer="acme") == ["attr-a"]
    assert _listed(customer="acme", n=1.0) == ["attr-a"]
    assert _listed(tags=["b"]) == ["attr-a"]
    assert _listed(customer="nobody") == []
    assert sorted(w.workflow_id for w in DBOS.list_workflows(attributes={})) == ["attr-a", "attr-b", "attr-none"]

    DBOS.update_workflow_attributes("attr-b", {"customer": "acme"})
    assert _listed(customer="acme") == ["attr-a", "attr-b"]
    DBOS.update_workflow_attributes("attr-a", None)
    assert _listed(customer="acme") == ["attr-b"]


@pytest.mark.parametrize(
    ("document", "wanted", "expected"),
    [
        ({"a": 1, "b": 2}, {"a": 1}, True),
        ({"a": {"x": 1, "y": 2}}, {"a": {"x": 1}}, True),
        ({"a": [1, 2, 3]}, {"a": [3, 1]}, True),
        ({"a": [1, 2]}, {"a": 1}, False),  # an array holds a scalar only at the top level
        ({"a": 1}, {"a": True}, False),
        ({"a": "1"}, {"a": 1}, False),
        (None, {"a": 1}, False),
    ],
)
def test_containment_follows_postgres_jsonb(document: object, wanted: object, expected: bool) -> None:
    assert contains(document, wanted) is expected


def test_a_client_updates_attributes(dbos: type[DBOS]) -> None:
    from shim import DBOSClient

    with SetWorkflowID("attr-client"):
        attributed(4)
    client = DBOSClient(system_database_url="sqlite:///:memory:")
    client.update_workflow_attributes("attr-client", {"by": "client"})
    assert DBOS.get_workflow_status("attr-client").attributes == {"by": "client"}  # type: ignore[union-attr]
