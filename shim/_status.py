"""DBOS's ``WorkflowStatus``, read off a workflow's Resonate promise."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal

from resonate.codec import _deserialize_error
from resonate.types import PromiseRecord

from shim import _serialization as ser
from shim.errors import DBOSAwaitedWorkflowMaxRecoveryAttemptsExceeded

class WorkflowStatusString(Enum):
    """The values of ``WorkflowStatus.status`` (a plain string there, as in DBOS)."""

    PENDING = "PENDING"
    SUCCESS = "SUCCESS"
    ERROR = "ERROR"
    MAX_RECOVERY_ATTEMPTS_EXCEEDED = "MAX_RECOVERY_ATTEMPTS_EXCEEDED"
    CANCELLED = "CANCELLED"
    ENQUEUED = "ENQUEUED"
    DELAYED = "DELAYED"


StatusName = Literal[
    "PENDING", "SUCCESS", "ERROR", "MAX_RECOVERY_ATTEMPTS_EXCEEDED", "CANCELLED", "ENQUEUED", "DELAYED"
]

_STATUS_OF_STATE: dict[str, StatusName] = {
    "pending": "PENDING",
    "resolved": "SUCCESS",
    "rejected": "ERROR",
    "rejected_canceled": "CANCELLED",
    "rejected_timedout": "CANCELLED",
}


@dataclass
class WorkflowStatus:
    workflow_id: str
    status: StatusName
    name: str
    class_name: str | None = None
    config_name: str | None = None
    authenticated_user: str | None = None
    assumed_role: str | None = None
    authenticated_roles: list[str] | None = None
    input: dict[str, Any] | None = None
    output: Any = None
    error: Exception | None = None
    created_at: int | None = None
    updated_at: int | None = None
    queue_name: str | None = None
    executor_id: str | None = None
    app_version: str | None = None
    app_id: str | None = None
    recovery_attempts: int | None = None
    workflow_timeout_ms: int | None = None
    workflow_deadline_epoch_ms: int | None = None
    deduplication_id: str | None = None
    priority: int | None = None
    queue_partition_key: str | None = None
    forked_from: str | None = None
    was_forked_from: bool = False
    parent_workflow_id: str | None = None
    dequeued_at: int | None = None
    delay_until_epoch_ms: int | None = None
    completed_at: int | None = None
    attributes: dict[str, Any] | None = None
    schedule_name: str | None = None
    application_name: str | None = None


def status_from_record(workflow_id: str, record: PromiseRecord) -> WorkflowStatus:
    data = record.param.data
    name = data.get("func", "") if isinstance(data, dict) else getattr(data, "func", "")
    packed = (data.get("args") if isinstance(data, dict) else getattr(data, "args", None)) or []
    inputs: dict[str, Any] | None = None
    instance = None
    if packed and isinstance(packed[0], str):
        args, kwargs, instance = ser.loads(packed[0])
        inputs = {"args": tuple(args), "kwargs": dict(kwargs)}
    status = WorkflowStatus(
        workflow_id=workflow_id,
        status=_STATUS_OF_STATE.get(record.state, "PENDING"),
        name=name,
        input=inputs,
        class_name=instance.class_name if instance is not None else None,
        config_name=instance.config_name if instance is not None else None,
        created_at=record.created_at or None,
        updated_at=record.settled_at or record.created_at or None,
        completed_at=record.settled_at,
    )
    _apply_tags(status, record.tags)
    if record.state == "resolved" and isinstance(record.value.data, str):
        status.output = _loaded_or_serialized(record.value.data)
    elif record.state == "rejected":
        # promises.get has already decoded the payload; only the exception remains to rebuild
        stored = _deserialize_error(record.value.data)
        status.error = (_loaded_or_serialized(stored.payload) if isinstance(stored, ser.StoredError)
                        else stored)
        if isinstance(status.error, DBOSAwaitedWorkflowMaxRecoveryAttemptsExceeded):
            status.status = "MAX_RECOVERY_ATTEMPTS_EXCEEDED"
    return status


def _loaded_or_serialized(payload: str) -> Any:
    """A recorded value, or, when it cannot be rebuilt, its serialized form: DBOS's status reads (unlike
    a handle's result) return the string rather than raise, so a listing never fails on one value."""
    try:
        return ser.loads(payload)
    except Exception:  # noqa: BLE001 - unpickling user objects can fail in any way, as in DBOS
        return payload


def _apply_tags(status: WorkflowStatus, tags: dict[str, str]) -> None:
    """What the shim records in a workflow root's tags (shim/_records.py)."""
    from shim import _records as rec

    def number(tag: str) -> int | None:
        value = tags.get(tag)
        return int(value) if value is not None and value.lstrip("-").isdigit() else None

    status.queue_name = tags.get(rec.TAG_QUEUE)
    status.parent_workflow_id = tags.get(rec.TAG_PARENT)
    status.queue_partition_key = tags.get(rec.TAG_PARTITION)
    status.forked_from = tags.get(rec.TAG_FORKED_FROM)
    status.app_version = tags.get(rec.TAG_APP_VERSION)
    status.schedule_name = tags.get(rec.TAG_SCHEDULE)
    status.authenticated_user = tags.get(rec.TAG_AUTH_USER)
    roles = tags.get(rec.TAG_AUTH_ROLES)
    status.authenticated_roles = json.loads(roles) if roles else None
    status.assumed_role = tags.get(rec.TAG_ASSUMED_ROLE)
    attributes = tags.get(rec.TAG_ATTRIBUTES)
    status.attributes = json.loads(attributes) if attributes is not None else None
    status.app_id = tags.get(rec.TAG_APP_ID, "")
    status.workflow_timeout_ms = number(rec.TAG_TIMEOUT_MS)
    status.workflow_deadline_epoch_ms = number(rec.TAG_DEADLINE_MS)
    status.priority = number(rec.TAG_PRIORITY) or 0
    dedup = tags.get(rec.TAG_DEDUP)
    status.deduplication_id = dedup.partition("/")[2] if dedup else None
    created = number(rec.TAG_CREATED_MS)
    if created is not None:
        status.created_at = created
