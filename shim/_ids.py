"""DBOS workflow ids as Resonate root promise ids.

Resonate reserves ``:`` in root ids (it separates a root from its children), while DBOS allows any
string; ``%`` and ``:`` are percent-encoded so every DBOS id maps to exactly one root id and back.
"""

from __future__ import annotations


def to_promise_id(workflow_id: str) -> str:
    return workflow_id.replace("%", "%25").replace(":", "%3A")


def to_workflow_id(promise_id: str) -> str:
    return promise_id.replace("%3A", ":").replace("%25", "%")


def child_workflow_id(parent_id: str, function_id: int) -> str:
    """DBOS names a child workflow after its parent and the operation that started it."""
    return f"{parent_id}-{function_id}"
