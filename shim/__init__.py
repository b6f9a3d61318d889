"""Run a DBOS program on Resonate by changing only its imports.

    from shim import DBOS, DBOSConfig, SetWorkflowID     # instead of: from dbos import ...
    import shim as DBOS                                  # or use the module itself as DBOS

Both forms work: the module forwards every attribute it does not define to the ``DBOS`` class and
is itself callable, so ``DBOS(config=...)`` works on the module too.

Names load on first use, so tools that only need ``shim.cron`` or ``shim.store`` do not pay for
starting Resonate's SDK.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

# public name -> the module that defines it
_EXPORTS: dict[str, str] = {
    "DBOS": "shim._dbos",
    "StepStatus": "shim._dbos",
    "StepOptions": "shim._dbos",
    "DBOSConfig": "shim._config",
    "DBOSConfiguredInstance": "shim._classes",
    "DBOSClient": "shim._client",
    "SendMessage": "shim._client",
    "SetWorkflowID": "shim._context",
    "DBOSContextEnsure": "shim._auth",
    "DBOSContextSetAuth": "shim._auth",
    "SetWorkflowTimeout": "shim._lifecycle",
    "SetWorkflowAttributes": "shim._attributes",
    "Queue": "shim._queues",
    "SetEnqueueOptions": "shim._queues",
    "EnqueueOptions": "shim._enqueue",
    "DuplicationPolicy": "shim._enqueue",
    "Debouncer": "shim._debouncer",
    "DebouncerClient": "shim._debouncer",
    "StepInfo": "shim._management",
    "WorkflowSchedule": "shim._schedule_types",
    "ScheduleInput": "shim._schedule_types",
    "ClientScheduleInput": "shim._schedule_types",
    "WorkflowHandle": "shim._handles",
    "WorkflowHandleAsync": "shim._handles",
    "WorkflowStatus": "shim._status",
    "WorkflowStatusString": "shim._status",
    "DBOSAwaitedWorkflowCancelledError": "shim.errors",
    "DBOSConflictingWorkflowError": "shim.errors",
    "DBOSException": "shim.errors",
    "DBOSMaxStepRetriesExceeded": "shim.errors",
    "DBOSNonExistentWorkflowError": "shim.errors",
    "ShimUnsupportedError": "shim.errors",
}
# ``from dbos import error`` has a counterpart
_MODULES: dict[str, str] = {"errors": "shim.errors", "error": "shim.errors", "_error": "shim.errors"}

__all__ = sorted([*_EXPORTS, "errors", "error"])


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
    elif name in _MODULES:
        value = importlib.import_module(_MODULES[name])
    elif name.startswith("__"):
        raise AttributeError(name)
    else:
        return getattr(__getattr__("DBOS"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


class _CallableModule(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return __getattr__("DBOS")(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
