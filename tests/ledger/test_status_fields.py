'''The ledger's marks on WorkflowStatus's fields, measured against real DBOS.

One program reads the status of a parent and its child, a failed workflow, a configured-instance
method, an enqueued workflow with a deduplication id and a workflow with a timeout, under real DBOS and
under the shim (tests/differential's harness). Every field PARAMS["WorkflowStatus"] marks honoured must
read the same in both (timestamps only as "set" or "not set"); every field marked pending must differ
somewhere, so a pending mark cannot outlive the fix. KNOWN_FIELD_DIFFERENCES lists honoured fields
known to differ in a corner, each with its entry in docs/DEVIATIONS.md.
'''

from __future__ import annotations

from typing import Any

import pytest

from codemod.apis import ShimSupport, params_of
from tests.differential.harness import run_fixture

PROGRAM = """\
import os
from dbos import DBOS, DBOSConfiguredInstance, Queue, SetEnqueueOptions, SetWorkflowID, SetWorkflowTimeout

DBOS(config={"name": "status-fields", "system_database_url": os.environ["D2R_DB_URL"]})
queue = Queue("fields-queue")


@DBOS.workflow()
def child(x):
    return x + 1


@DBOS.workflow()
def parent(x):
    return DBOS.start_workflow(child, x).get_result()


@DBOS.workflow()
def failing():
    raise ValueError("no")


@DBOS.dbos_class()
class Configured(DBOSConfiguredInstance):
    def __init__(self):
        super().__init__("cfg")

    @DBOS.workflow()
    def method(self, x):
        return x


def fields(workflow_id):
    out = {}
    for name, value in vars(DBOS.get_workflow_status(workflow_id)).items():
        if isinstance(value, BaseException):
            value = [type(value).__name__, str(value)]
        elif not isinstance(value, (str, int, float, bool, type(None), list, dict)):
            value = repr(value)
        out[name] = value
    return out


def main():
    DBOS.launch()
    try:
        with SetWorkflowID("f-parent"):
            parent(1)
        with SetWorkflowID("f-failing"):
            try:
                failing()
            except ValueError:
                pass
        with SetWorkflowID("f-method"):
            Configured().method(3)
        with SetWorkflowID("f-queued"):
            with SetEnqueueOptions(deduplication_id="dedup-1"):
                queue.enqueue(child, 5).get_result()
        with SetWorkflowID("f-timeout"):
            with SetWorkflowTimeout(30):
                child(7)
        return {wid: fields(wid) for wid in ("f-parent", "f-parent-1", "f-failing", "f-method", "f-queued", "f-timeout")}
    finally:
        DBOS.destroy()
"""

# Milliseconds since the epoch: equal only by chance, so compared as set / not set.
TIMESTAMPS = frozenset({"created_at", "updated_at", "completed_at", "dequeued_at", "workflow_deadline_epoch_ms"})

# Honoured fields that differ in a corner: field -> heading anchor in docs/DEVIATIONS.md.
KNOWN_FIELD_DIFFERENCES: dict[str, str] = {}


def _normalised(value: Any, field: str) -> Any:
    return ("set" if value is not None else None) if field in TIMESTAMPS else value


def _differences() -> dict[str, list[str]]:
    dbos, shim = run_fixture(PROGRAM, "dbos"), run_fixture(PROGRAM, "shim")
    found: dict[str, list[str]] = {}
    for workflow_id, theirs in dbos.items():
        ours = shim[workflow_id]
        for field in theirs.keys() | ours.keys():
            want, got = _normalised(theirs.get(field, "<absent>"), field), _normalised(ours.get(field, "<absent>"), field)
            if want != got:
                found.setdefault(field, []).append(f"{workflow_id}: DBOS {want!r}, shim {got!r}")
    return found


@pytest.mark.slow
def test_workflow_status_fields_are_marked_as_measured() -> None:
    differences = _differences()
    problems = []
    for field, entry in params_of("WorkflowStatus").items():
        if entry.only == "3.x":
            continue
        differs = field in differences
        if entry.shim is ShimSupport.HONOURED and differs and field not in KNOWN_FIELD_DIFFERENCES:
            problems.append(f"{field} is marked honoured but differs: {differences[field]}")
        if entry.shim is ShimSupport.HONOURED and not differs and field in KNOWN_FIELD_DIFFERENCES:
            problems.append(f"{field} now matches DBOS: delete it from KNOWN_FIELD_DIFFERENCES (and DEVIATIONS.md)")
        if entry.shim is ShimSupport.PENDING and not differs:
            problems.append(f"{field} is marked pending but reads as in DBOS: mark it honoured in codemod/apis.py")
    assert not problems, "\n".join(problems)


def test_known_field_differences_link_to_deviations() -> None:
    from pathlib import Path

    from tests.dbos_suite.test_dbos_suite import heading_anchors

    anchors = heading_anchors((Path(__file__).resolve().parents[2] / "docs" / "DEVIATIONS.md").read_text("utf-8"))
    assert set(KNOWN_FIELD_DIFFERENCES.values()) <= anchors
