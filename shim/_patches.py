"""``DBOS.patch`` / ``DBOS.deprecate_patch`` (+async): DBOS 2.31's workflow patching.

A patch lets new code take a new path while workflows recorded by the old code replay the old one:
``DBOS.patch("name")`` is True in a run that reaches it for the first time (it records the operation
``DBOS.patch-name``) or that recorded it before, and False where the run recorded another operation
at that position. ``deprecate_patch`` replays a recorded marker and records none. Both need
``enable_patching`` in the config and a workflow body (shim/_engine.py, ``Engine.patch``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shim._context import WorkflowFrame
from shim._management import _ops
from shim._messaging import check_async, workflow_frame
from shim.errors import DBOSException

if TYPE_CHECKING:
    from shim._operations import Operations


def _patching(call: str) -> tuple[Operations, WorkflowFrame]:
    from shim import _dbos

    ops = _ops()  # as in DBOS, a launched DBOS comes first
    config = _dbos._instance.config if _dbos._instance is not None else {}
    if config.get("enable_patching") != True:  # DBOS compares with True, so 1 enables it too
        raise DBOSException("enable_patching must be True in DBOS configuration")
    frame = workflow_frame()
    if frame is None:
        raise DBOSException(f"DBOS.{call} must be called from a workflow")
    return ops, frame


def _marker(patch_name: str) -> str:
    return f"DBOS.patch-{patch_name}"


def patch(patch_name: str) -> bool:
    check_async("patch")
    ops, frame = _patching("patch")
    return ops._block(ops.engine.patch(frame, _marker(patch_name), deprecated=False))


async def patch_async(patch_name: str) -> bool:
    ops, frame = _patching("patch_async")
    return await ops._await(ops.engine.patch(frame, _marker(patch_name), deprecated=False))


def deprecate_patch(patch_name: str) -> bool:
    check_async("deprecate_patch")
    ops, frame = _patching("deprecate_patch")
    return ops._block(ops.engine.patch(frame, _marker(patch_name), deprecated=True))


async def deprecate_patch_async(patch_name: str) -> bool:
    ops, frame = _patching("deprecate_patch_async")
    return await ops._await(ops.engine.patch(frame, _marker(patch_name), deprecated=True))
