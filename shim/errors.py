"""DBOS's exception names, hierarchy, codes and messages, so ``except DBOSException:`` keeps working.

Mirrors ``dbos.error`` (2.x and 3.x). Every class pickles back to itself, because the shim stores
exceptions raised by steps and workflows and re-raises them later with their original type.
``ShimUnsupportedError`` is the shim's own: it names a DBOS feature the shim does not run and the
page of the docs that says what to do instead.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

DOCS = "docs/compatibility.md"


class _DBOSError:
    """Message and code handling shared by both DBOS exception roots."""

    def __init__(self, message: str, dbos_error_code: int | None = None) -> None:
        self.message = message
        self.dbos_error_code = dbos_error_code
        self.status_code: int | None = None
        super().__init__(self.message)  # type: ignore[call-arg]

    def __str__(self) -> str:
        if self.dbos_error_code:
            return f"DBOS Error {self.dbos_error_code}: {self.message}"
        return f"DBOS Error: {self.message}"


class DBOSException(_DBOSError, Exception):
    """Base class of DBOS exceptions."""


class DBOSBaseException(_DBOSError, BaseException):
    """For DBOS exceptions user code should not catch by accident (not an ``Exception``)."""


class DBOSErrorCode(Enum):
    ConflictingIDError = 1
    RecoveryError = 2
    InitializationError = 3
    WorkflowFunctionNotFound = 4
    NonExistentWorkflowError = 5
    MaxRecoveryAttemptsExceeded = 6
    MaxStepRetriesExceeded = 7
    NotAuthorized = 8
    ConflictingWorkflowError = 9
    WorkflowCancelled = 10
    UnexpectedStep = 11
    QueueDeduplicated = 12
    AwaitedWorkflowCancelled = 13
    AwaitedWorkflowMaxRecoveryAttemptsExceeded = 14
    PatchNondeterminism = 15
    StreamTimeout = 16
    StreamNondeterminism = 17
    StepTimeout = 18
    ConflictingRegistrationError = 25
    UnsupportedByShim = 900


class _Rebuilt:
    """Pickles an exception as ``cls(*inputs)``; DBOS's constructors do not take the message."""

    inputs: tuple[Any, ...]

    def __reduce__(self) -> Any:
        return (self.__class__, self.inputs)


class DBOSConflictingWorkflowError(_Rebuilt, DBOSException):
    """Different workflows started with the same workflow ID."""

    def __init__(self, workflow_id: str, message: str | None = None) -> None:
        self.inputs = (workflow_id, message)
        super().__init__(
            f"Conflicting workflow invocation with the same ID ({workflow_id}): {message}",
            DBOSErrorCode.ConflictingWorkflowError.value,
        )


class DBOSRecoveryError(_Rebuilt, DBOSException):
    def __init__(self, workflow_id: str, message: str | None = None) -> None:
        self.inputs = (workflow_id, message)
        super().__init__(
            f"Recovery error for workflow ID {workflow_id}: {message}",
            DBOSErrorCode.RecoveryError.value,
        )


class DBOSInitializationError(_Rebuilt, DBOSException):
    def __init__(self, message: str) -> None:
        self.inputs = (message,)
        super().__init__(
            f"Error initializing DBOS Transact: {message}", DBOSErrorCode.InitializationError.value
        )


class DBOSWorkflowFunctionNotFoundError(_Rebuilt, DBOSException):
    def __init__(self, workflow_id: str, message: str | None = None) -> None:
        self.inputs = (workflow_id, message)
        super().__init__(
            f"Could not execute workflow {workflow_id}: {message}",
            DBOSErrorCode.WorkflowFunctionNotFound.value,
        )


class DBOSNonExistentWorkflowError(_Rebuilt, DBOSException):
    def __init__(self, destination: str, destination_id: str) -> None:
        self.inputs = (destination, destination_id)
        super().__init__(
            f"Non-existent {destination} workflow ID: {destination_id}",
            DBOSErrorCode.NonExistentWorkflowError.value,
        )


class DBOSStreamTimeoutError(_Rebuilt, DBOSException):
    """No value arrived on a stream within its timeout."""

    def __init__(self, workflow_id: str, key: str, timeout_seconds: float | None = None) -> None:
        self.inputs = (workflow_id, key, timeout_seconds)
        self.workflow_id = workflow_id
        self.key = key
        self.timeout_seconds = timeout_seconds
        within = f" within {timeout_seconds} seconds" if timeout_seconds is not None else ""
        super().__init__(
            f"No value arrived on stream {key} of workflow {workflow_id}{within}",
            DBOSErrorCode.StreamTimeout.value,
        )


class DBOSStreamNondeterminismError(_Rebuilt, DBOSException):
    def __init__(self, workflow_id: str, key: str) -> None:
        self.inputs = (workflow_id, key)
        self.workflow_id = workflow_id
        self.key = key
        super().__init__(
            f"Cannot deterministically read stream {key} in workflow {workflow_id}: another stream read in "
            "the same workflow is still in progress, so which read records which value would depend on "
            "task scheduling. Read streams from sequential workflow code, or read them from a step.",
            DBOSErrorCode.StreamNondeterminism.value,
        )


class MaxRecoveryAttemptsExceededError(_Rebuilt, DBOSException):
    def __init__(self, wf_id: str, max_retries: int | None = None) -> None:
        self.inputs = (wf_id, max_retries)
        limit = "its maximum" + (f" of {max_retries}" if max_retries is not None else " number of")
        super().__init__(
            f"Workflow {wf_id} has exceeded {limit} execution or recovery attempts. "
            "Further attempts to execute or recover it will fail.",
            DBOSErrorCode.MaxRecoveryAttemptsExceeded.value,
        )


class DBOSNotAuthorizedError(_Rebuilt, DBOSException):
    def __init__(self, msg: str) -> None:
        self.inputs = (msg,)
        self.msg = msg
        super().__init__(msg, DBOSErrorCode.NotAuthorized.value)
        self.status_code = 403


class DBOSMaxStepRetriesExceeded(_Rebuilt, DBOSException):
    """A step failed on every one of its allowed attempts; ``errors`` holds each attempt's exception."""

    def __init__(self, step_name: str, max_retries: int, errors: list[Exception]) -> None:
        self.inputs = (step_name, max_retries, errors)
        self.step_name = step_name
        self.max_retries = max_retries
        self.errors = errors
        super().__init__(
            f"Step {step_name} has exceeded its maximum of {max_retries} retries",
            DBOSErrorCode.MaxStepRetriesExceeded.value,
        )


class DBOSStepTimeoutError(_Rebuilt, DBOSException):
    def __init__(self, step_name: str, timeout_seconds: float) -> None:
        self.inputs = (step_name, timeout_seconds)
        self.step_name = step_name
        self.timeout_seconds = timeout_seconds
        super().__init__(
            f"Step {step_name} was cancelled after exceeding its timeout of {timeout_seconds} seconds",
            DBOSErrorCode.StepTimeout.value,
        )


class DBOSConflictingRegistrationError(_Rebuilt, DBOSException):
    def __init__(self, name: str) -> None:
        self.inputs = (name,)
        super().__init__(
            f"Operation (Name: {name}) is already registered with a conflicting function type",
            DBOSErrorCode.ConflictingRegistrationError.value,
        )


class DBOSUnexpectedStepError(_Rebuilt, DBOSException):
    def __init__(self, workflow_id: str, step_id: int, expected_name: str, recorded_name: str) -> None:
        self.inputs = (workflow_id, step_id, expected_name, recorded_name)
        super().__init__(
            f"During execution of workflow {workflow_id} step {step_id}, function {recorded_name} "
            f"was recorded when {expected_name} was expected. Check that your workflow is deterministic.",
            DBOSErrorCode.UnexpectedStep.value,
        )


class DBOSPatchNondeterminismError(_Rebuilt, DBOSException):
    def __init__(self, workflow_id: str, patch_name: str, details: str) -> None:
        self.inputs = (workflow_id, patch_name, details)
        super().__init__(
            f"Cannot deterministically apply patch {patch_name} in workflow {workflow_id}: {details}. "
            "Check that your workflow is deterministic.",
            DBOSErrorCode.PatchNondeterminism.value,
        )


class DBOSQueueDeduplicatedError(_Rebuilt, DBOSException):
    def __init__(self, workflow_id: str, queue_name: str, deduplication_id: str) -> None:
        self.inputs = (workflow_id, queue_name, deduplication_id)
        self.workflow_id = workflow_id
        self.queue_name = queue_name
        self.deduplication_id = deduplication_id
        super().__init__(
            f"Workflow {workflow_id} was deduplicated due to an existing workflow in queue "
            f"{queue_name} with deduplication ID {deduplication_id}.",
            DBOSErrorCode.QueueDeduplicated.value,
        )


class DBOSAwaitedWorkflowCancelledError(_Rebuilt, DBOSException):
    def __init__(self, workflow_id: str) -> None:
        self.inputs = (workflow_id,)
        self.workflow_id = workflow_id
        super().__init__(
            f"Awaited workflow {workflow_id} was cancelled", DBOSErrorCode.AwaitedWorkflowCancelled.value
        )


class DBOSAwaitedWorkflowMaxRecoveryAttemptsExceeded(_Rebuilt, DBOSException):
    def __init__(self, workflow_id: str) -> None:
        self.inputs = (workflow_id,)
        self.workflow_id = workflow_id
        super().__init__(
            f"Awaited workflow {workflow_id} exceeded its maximum recovery attempts",
            DBOSErrorCode.AwaitedWorkflowMaxRecoveryAttemptsExceeded.value,
        )


class DBOSWorkflowCancelledError(_Rebuilt, DBOSBaseException):
    def __init__(self, msg: str) -> None:
        self.inputs = (msg,)
        super().__init__(msg, DBOSErrorCode.WorkflowCancelled.value)


class DBOSWorkflowConflictIDError(_Rebuilt, DBOSBaseException):
    def __init__(self, workflow_id: str) -> None:
        self.inputs = (workflow_id,)
        super().__init__(f"Conflicting workflow ID {workflow_id}", DBOSErrorCode.ConflictingIDError.value)


class ShimUnsupportedError(_Rebuilt, DBOSException):
    """A DBOS feature the shim does not run (yet, or at all). Never a silent change of behaviour."""

    def __init__(self, feature: str, reason: str) -> None:
        self.inputs = (feature, reason)
        self.feature = feature
        super().__init__(
            f"{feature} is not supported by the dbos2resonate shim: {reason} See {DOCS}.",
            DBOSErrorCode.UnsupportedByShim.value,
        )
