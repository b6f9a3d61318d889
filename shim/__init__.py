"""Run a DBOS program on Resonate by changing only its imports.

    from shim import DBOS, DBOSConfig, SetWorkflowID     # instead of: from dbos import ...
    import shim as DBOS                                  # or use the module itself as DBOS

Both forms work: the module forwards every attribute it does not define to the ``DBOS`` class and
is itself callable, so ``DBOS(config=...)`` works on the module too.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from shim import errors
from shim._classes import DBOSConfiguredInstance
from shim._client import DBOSClient, SendMessage
from shim._config import DBOSConfig
from shim._context import SetWorkflowID
from shim._dbos import DBOS, StepStatus
from shim._handles import WorkflowHandle, WorkflowHandleAsync
from shim._status import WorkflowStatus, WorkflowStatusString
from shim.errors import (
    DBOSAwaitedWorkflowCancelledError,
    DBOSConflictingWorkflowError,
    DBOSException,
    DBOSMaxStepRetriesExceeded,
    DBOSNonExistentWorkflowError,
    ShimUnsupportedError,
)

error = errors  # ``from dbos import error`` has a counterpart

__all__ = [
    "DBOS",
    "DBOSAwaitedWorkflowCancelledError",
    "DBOSClient",
    "DBOSConfig",
    "DBOSConfiguredInstance",
    "DBOSConflictingWorkflowError",
    "DBOSException",
    "DBOSMaxStepRetriesExceeded",
    "DBOSNonExistentWorkflowError",
    "SendMessage",
    "SetWorkflowID",
    "ShimUnsupportedError",
    "StepStatus",
    "WorkflowHandle",
    "WorkflowHandleAsync",
    "WorkflowStatus",
    "WorkflowStatusString",
    "error",
    "errors",
]


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(DBOS, name)


class _CallableModule(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> DBOS:
        return DBOS(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
