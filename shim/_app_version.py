"""The application version DBOS records on every workflow it creates (``WorkflowStatus.app_version``,
``DBOS.application_version``, ``list_workflows(app_version=)``).

As DBOS 2.31: ``DBOS__APPVERSION`` from the environment, replaced by the config's
``application_version`` (unless ``DBOS__CLOUD`` is ``"true"``); when neither is set, ``launch()``
computes the MD5 of the sorted sources of every registered workflow, followed by DBOS's version and
the application's name. The registry DBOS hashes also holds workflows of its own (the temporary
workflow behind every step, and a legacy send workflow); their sources are DBOS's, reproduced here,
so that a program gets the same version under the shim as under DBOS 2.31.1.
"""

from __future__ import annotations

import hashlib
import inspect
import os
from collections.abc import Mapping
from typing import Any

from shim._specs import Registry
from shim._temp_workflows import TEMP_PREFIX

# The DBOS release whose application versions the shim reproduces (it is hashed in).
DBOS_VERSION = "2.31.1"

# inspect.getsource of the workflows DBOS registers itself, as DBOS 2.31.1's sources read.
_DBOS_SEND_WORKFLOW = (
    "        def send_temp_workflow(\n"
    "            destination_id: str, message: Any, topic: Optional[str]\n"
    "        ) -> None:\n"
    "            self.send(destination_id, message, topic)\n"
)
_DBOS_STEP_WORKFLOW = (
    "        def temp_wf_sync(*args: Any, **kwargs: Any) -> Any:\n"
    "            return wrapper(*args, **kwargs)\n"
)
_DBOS_ASYNC_STEP_WORKFLOW = (
    "        async def temp_wf_async(*args: Any, **kwargs: Any) -> Any:\n"
    "            return await wrapper(*args, **kwargs)\n"
)


def configured(config: Mapping[str, Any]) -> str:
    """The version before ``launch()``: the environment's, or the config's; "" when neither is set."""
    version = os.environ.get("DBOS__APPVERSION", "")
    if os.environ.get("DBOS__CLOUD") != "true":
        if config.get("enable_patching") == True:  # patched code serves every version's workflows
            version = "PATCHING_ENABLED"
        if config.get("application_version") is not None:
            version = str(config["application_version"])
    return version


def computed(registry: Registry, app_name: str) -> str:
    """The version ``launch()`` computes when none is configured."""
    try:
        sources = sorted([_DBOS_SEND_WORKFLOW, *(_source(name, spec.fn, spec.is_async)
                                                 for name, spec in registry.workflows.items())])
    except (OSError, TypeError):
        # As DBOS: a workflow without source (defined in a REPL, by exec) leaves a default per app.
        return f"DEFAULT_VERSION-{app_name}"
    digest = hashlib.md5()  # noqa: S324 - DBOS's choice; a fingerprint, not a security measure
    for text in (*sources, DBOS_VERSION, app_name):
        digest.update(text.encode("utf-8"))
    return digest.hexdigest()


def _source(name: str, fn: Any, is_async: bool) -> str:
    if name.startswith(TEMP_PREFIX):
        return _DBOS_ASYNC_STEP_WORKFLOW if is_async else _DBOS_STEP_WORKFLOW
    return inspect.getsource(fn)
