"""DBOS's durable operations, carried out on Resonate. Every coroutine here runs on Resonate's loop.

A DBOS workflow is a Resonate root promise whose id is the workflow id; its body is a registered
Resonate function. Each durable operation inside it (a step, a child start, a result wait, a sleep)
is one ``ctx.run`` child, so Resonate's child numbering follows DBOS's ``function_id`` and a replay
after a crash returns each completed operation's stored outcome instead of running it again.
The body never suspends: waits happen in place, so workflow code runs once per execution, as in DBOS.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import logging
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from resonate.context import Context
from resonate.resonate import Resonate
from resonate.retry import Never
from resonate.types import PromiseRecord, Value

from shim import _attributes as attributes
from shim import _records as records
from shim import _serialization as ser
from shim._auth import auth_tags, recorded_auth
from shim._classes import InstanceRef, instance_for
from shim._context import (
    Authentication,
    StepFrame,
    WorkflowFrame,
    assigned_workflow_id,
    current_auth,
    current_step,
    current_workflow,
)
from shim._interrupts import (
    Interrupted,
    await_carrying,
    call_carrying,
    first_of,
    never_settle,
)
from shim._lifecycle import (
    Lifecycle,
    Plan,
    StartOptions,
    replayed,
    split_generation,
    tagged_runner,
)
from shim._plans import cancel_marker_id
from shim._roles import check_roles
from shim._runtime import BodyCancelled, Bridge
from shim._specs import Registry, StepSpec, WorkflowSpec
from shim._status import WorkflowStatus
from shim.errors import (
    DBOSAwaitedWorkflowCancelledError,
    DBOSAwaitedWorkflowMaxRecoveryAttemptsExceeded,
    DBOSConflictingWorkflowError,
    DBOSMaxStepRetriesExceeded,
    DBOSNonExistentWorkflowError,
    DBOSWorkflowCancelledError,
    DBOSWorkflowFunctionNotFoundError,
    MaxRecoveryAttemptsExceededError,
)

logger = logging.getLogger("dbos")

NEVER = Never()
# Resonate's default deadline for a top-level run is one day; a DBOS workflow has none.
NO_DEADLINE = timedelta(days=365 * 100)
# Execution markers only ever need to exist; they never settle.
MARKER_TIMEOUT_AT = 1 << 62

#: ``record``'s operation annotations, already resolved: this module's are strings (postponed
#: annotations), which ``ctx.run`` would evaluate anew for every operation (a class built and an
#: ``eval`` per call); resolved ones are read as they are, to the same types.
_OPERATION_ANNOTATIONS: dict[str, Any] = {"child": Context, "return": str}


@dataclass(frozen=True, slots=True)
class Caller:
    """Where a workflow was called from, so its body runs as if called in place: in a copy of the
    caller's context variables and, for ``async def`` bodies, on the caller's event loop."""

    context: contextvars.Context
    loop: asyncio.AbstractEventLoop | None


class Engine:
    def __init__(self, bridge: Bridge, registry: Registry, resonate: Resonate, *, shared: bool = False,
                 route: str | None = None) -> None:
        self.bridge = bridge
        self.registry = registry
        self.resonate = resonate
        # On a Resonate server other processes read and write the same promises (shim/_backend.py):
        # cancellation is read from the store, and queued work is admitted where it runs.
        self.shared = shared
        # The group queued workflows are sent to (any of its workers runs them); None: run here.
        self.route = route
        self._callers: dict[str, Caller] = {}
        # The exception objects raised in this process, so a live caller sees the original (with its
        # traceback) rather than the copy decoded from the store; popped on first read.
        self._live_errors: dict[str, BaseException] = {}
        # Per workflow id, resolved when its body is interrupted (shim/_interrupts.py): its waiters raise it.
        self._interrupts: dict[str, asyncio.Future[Interrupted]] = {}
        # queues, timeouts, cancellation, resume and fork (shim/_lifecycle.py)
        self.lifecycle = Lifecycle(self)

    # -- registration ---------------------------------------------------------------------------

    def register(self, spec: WorkflowSpec) -> None:
        async def entry(ctx: Context, payload: str) -> str:
            return await self._execute(spec, ctx, payload)

        entry.__name__ = entry.__qualname__ = spec.name
        self.resonate.register(entry, name=spec.name, retry_policy=NEVER)

    # -- workflows ------------------------------------------------------------------------------

    async def start(self, spec: WorkflowSpec, workflow_id: str, args: tuple[Any, ...],
                    kwargs: dict[str, Any], caller: Caller | None, instance: InstanceRef | None = None,
                    options: StartOptions | None = None) -> None:
        """Create the workflow's promise unless one exists; an existing one must be the same function."""
        records.note_ref(workflow_id)
        plan = self.lifecycle.plan(spec.name, workflow_id, caller.context if caller else None, options)
        promise_id = plan.promise_id
        existing = await self._record(promise_id)
        if existing is not None:
            recorded = function_name(existing)
            if recorded != spec.name:
                raise DBOSConflictingWorkflowError(
                    workflow_id,
                    f"Workflow already exists with a different function name: {recorded}, "
                    f"but the provided function name is: {spec.name}",
                )
            return
        await self.lifecycle.before_create(plan)
        tags = plan.tags() | await self._inherited_tags(plan, caller) | _app_id_tags()
        payload = ser.dumps((args, kwargs, instance))
        if plan.queue is not None and self.route is not None:
            runner = tagged_runner(self.resonate.options(timeout=NO_DEADLINE, target=self.route), tags)
            await runner.rpc(promise_id, spec.name, payload).id()
            return
        if caller is not None:
            self._callers[workflow_id] = caller
        handle = tagged_runner(self.resonate.options(timeout=NO_DEADLINE), tags).run(
            promise_id, spec.name, payload
        )
        await handle.id()

    async def _inherited_tags(self, plan: Plan, caller: Caller | None) -> dict[str, str]:
        """The caller's user, roles and ``SetWorkflowAttributes``; a resumed or forked run keeps its
        original's user and roles and its current attributes, as in DBOS."""
        if plan.base is not None:
            base = await self._record(plan.base)
            if base is None:
                return {}
            kept = {tag: base.tags[tag] for tag in records.AUTH_TAGS if tag in base.tags}
            return kept | attributes.tags_of(await attributes.current(self.lifecycle, base))
        context = caller.context if caller is not None else None
        return (auth_tags(context.get(current_auth) if context is not None else None)
                | attributes.creation_tags(context))

    async def result_payload(self, workflow_id: str) -> str:
        """The workflow's stored result, waiting for it (also while ENQUEUED); raises its stored
        exception, or ``DBOSAwaitedWorkflowCancelledError`` if it was cancelled."""
        interrupt = self._interrupt_of(workflow_id)
        try:
            return await first_of(self.lifecycle.wait_result(workflow_id), interrupt, abandon=True)
        except Interrupted:
            raise
        except (DBOSNonExistentWorkflowError, DBOSAwaitedWorkflowCancelledError):
            self._live_errors.pop(workflow_id, None)
            raise
        except Exception as exc:
            raise self._live_errors.pop(workflow_id, None) or ser.rebuilt(exc) from None
        finally:
            if not interrupt.done():
                self._interrupts.pop(workflow_id, None)

    def _interrupt_of(self, workflow_id: str) -> asyncio.Future[Interrupted]:
        if workflow_id not in self._interrupts:
            self._interrupts[workflow_id] = asyncio.get_running_loop().create_future()
        return self._interrupts[workflow_id]

    async def status(self, workflow_id: str) -> WorkflowStatus | None:
        return await self.lifecycle.status(workflow_id)

    async def update_attributes(self, workflow_id: str, new: attributes.Attributes) -> None:
        """DBOS replaces the attributes of the workflow's status row; no row, nothing changes."""
        attributes.validate(new)
        found = await self.lifecycle.current(workflow_id)
        if found is not None:
            await attributes.replace(self.lifecycle, found[0], new)

    async def _record(self, promise_id: str) -> PromiseRecord | None:
        return await records.get_record(self.resonate, promise_id)

    async def _execute(self, spec: WorkflowSpec, ctx: Context, payload: str) -> str:
        workflow_id, _ = split_generation(ctx.info.id)
        if spec.name not in self.registry.workflows:
            raise DBOSWorkflowFunctionNotFoundError(workflow_id, f"{spec.name} is not registered")
        run = await self.lifecycle.prepare(ctx.info.id)  # waits while ENQUEUED
        try:
            # a debounced run starts with its latest debounce's inputs
            return await self._execute_body(spec, ctx, run.payload or payload, workflow_id)
        finally:
            await self.lifecycle.finished(run)

    async def _execute_body(self, spec: WorkflowSpec, ctx: Context, payload: str, workflow_id: str) -> str:
        attempt = await self._count_execution(ctx.info.id)
        if spec.max_recovery_attempts is not None and attempt > spec.max_recovery_attempts + 1:
            logger.error("%s", MaxRecoveryAttemptsExceededError(workflow_id, spec.max_recovery_attempts))
            raise ser.to_storable(DBOSAwaitedWorkflowMaxRecoveryAttemptsExceeded(workflow_id))
        args, kwargs, instance = ser.loads(payload)
        if instance is not None:
            args = (instance_for(instance), *args)
        caller = self._callers.pop(workflow_id, None)
        context = caller.context.copy() if caller is not None else contextvars.Context()
        frame = WorkflowFrame(workflow_id=workflow_id, name=spec.name, ctx=ctx,
                              auth=await self._running_auth(ctx.info.id, caller))
        try:
            # DBOS checks the roles again as the workflow executes (it may have been started, enqueued
            # or recovered): a refusal is the workflow's ERROR outcome.
            role = check_roles(spec.fn, frame.auth)
            if role is not None:
                frame.auth.assumed_role = role
            if spec.is_async:
                loop = caller.loop if caller is not None and caller.loop is not None else None
                if loop is None or loop.is_closed():
                    loop = self.bridge.background_user_loop()
                frame.user_loop = loop
                value = await self.bridge.run_async(
                    loop, context, lambda: _run_async_body(frame, spec.fn, args, kwargs), workflow_body=True
                )
            else:
                value = await self.bridge.run_sync(
                    self.bridge.workflow_pool, context, _run_sync_body, frame, spec.fn, args, kwargs
                )
        except Interrupted as interrupted:
            self._interrupt_of(workflow_id).set_result(interrupted)
            await never_settle()
        except BodyCancelled:
            # DBOS records what its blocked starter sees when destroy() cancels the body's task.
            raise ser.to_storable(concurrent.futures.CancelledError()) from None
        except (Exception, DBOSWorkflowCancelledError) as exc:
            self._live_errors[workflow_id] = exc
            raise ser.to_storable(exc) from None
        return ser.dumps(value)

    async def _running_auth(self, promise_id: str, caller: Caller | None) -> Authentication:
        """Who the body runs as: its caller's user and roles (copied, as DBOS copies its context into a
        new workflow's), or in a recovered run the recorded ones."""
        called_as = caller.context.get(current_auth) if caller is not None else None
        if called_as is not None:
            return called_as.copy()
        root = await self._record(promise_id)
        return recorded_auth(root.tags if root is not None else {})

    async def _count_execution(self, promise_id: str) -> int:
        """Which execution of this workflow this is (1 = first), counted durably, as DBOS counts
        recovery attempts: one marker promise per execution, created by exactly one of them."""
        token = uuid.uuid4().hex
        attempt = 1
        while True:
            marker = await self.resonate.promises.create(
                f"{promise_id}:attempt.{attempt}", MARKER_TIMEOUT_AT, Value(data=token), {}
            )
            if marker.param.data == token:
                return attempt
            attempt += 1

    # -- operations inside a workflow ------------------------------------------------------------

    async def record(self, frame: WorkflowFrame, name: str, produce: Callable[[], Awaitable[Any]]) -> Any:
        """Run ``produce`` once as the workflow's next durable operation; a replay returns its outcome.
        The stored value names the operation (shim/_records.py); a cancelled workflow stops here."""
        root_id = frame.ctx.info.id
        if self.shared:
            await self._notice_remote_cancel(root_id)
        self.lifecycle.check_cancelled(root_id, frame.workflow_id)

        interrupt: asyncio.Future[Interrupted] = asyncio.get_running_loop().create_future()

        async def operation(child: Context) -> str:
            ref = records.begin_op()
            copied = await self.lifecycle.copied(root_id, child.info.id)
            if copied is not None:  # a resumed or forked run replays its base run's outcome
                return replayed(copied)
            try:
                value = await produce()
            except Interrupted as interrupted:  # nothing is recorded: the next execution runs it again
                interrupt.set_result(interrupted)
                await never_settle()
            except Exception as exc:
                raise records.op_error(name, exc, ref[0]) from None
            return ser.dumps(records.OpValue(name, value, ref[0]))

        operation.__name__ = operation.__qualname__ = name
        operation.__annotations__ = _OPERATION_ANNOTATIONS
        try:
            stored = await first_of(frame.ctx.options(retry_policy=NEVER).run(operation), interrupt)
            return records.unwrap(ser.loads(stored))
        except Interrupted:
            raise
        except Exception as exc:
            raise ser.rebuilt(exc) from None

    async def _notice_remote_cancel(self, root_id: str) -> None:
        """Another process may have cancelled this run; DBOS reads the status at each operation too."""
        if root_id not in self.lifecycle.cancelled and await self._record(cancel_marker_id(root_id)) is not None:
            self.lifecycle.cancelled.add(root_id)

    async def run_step(self, frame: WorkflowFrame, spec: StepSpec, step_id: int,
                       context: contextvars.Context, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        key = f"{frame.workflow_id}#{step_id}"

        async def attempts() -> Any:
            errors: list[Exception] = []
            for attempt in range(1, spec.attempts() + 1):
                step = StepFrame(frame.workflow_id, step_id, attempt,
                                 spec.attempts() if spec.retries_allowed else None)
                try:
                    return await self._invoke_step(frame, spec, step, context, args, kwargs)
                except Interrupted:
                    raise
                except Exception as exc:
                    if not spec.retries_allowed or not await _should_retry(spec, exc):
                        self._live_errors[key] = exc
                        raise
                    errors.append(exc)
                    if attempt < spec.attempts():
                        logger.warning("Step being automatically retried (attempt %d of %d)",
                                       attempt, spec.attempts(), exc_info=exc)
                        await asyncio.sleep(spec.delay_after(attempt))
            raise DBOSMaxStepRetriesExceeded(spec.name, spec.attempts(), errors)

        try:
            return await self.record(frame, spec.name, attempts)
        except Exception as exc:
            raise self._live_errors.pop(key, None) or exc from None

    async def _invoke_step(self, frame: WorkflowFrame, spec: StepSpec, step: StepFrame,
                           context: contextvars.Context, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if spec.is_async:
            loop = frame.user_loop or self.bridge.background_user_loop()
            return await self.bridge.run_async(
                loop, context.copy(), lambda: _run_async_step(step, spec.fn, args, kwargs)
            )
        return await self.bridge.run_sync(
            self.bridge.step_pool, context.copy(), _run_sync_step, step, spec.fn, args, kwargs
        )

    async def patch(self, frame: WorkflowFrame, patch_name: str, *, deprecated: bool) -> bool:
        """DBOS.patch (``deprecated``: deprecate_patch), as DBOS 2.31 decides it from the operation
        recorded at the next position: none (a new run) records the patch marker there (a deprecated
        patch records nothing); the marker itself is replayed; another operation (a run recorded
        before the patch) takes nothing, and the old code runs."""
        root_id = frame.ctx.info.id
        child_id = f"{root_id}:{frame.upcoming_function_id()}"
        existing = await self._record(child_id) or await self.lifecycle.copied(root_id, child_id)
        recorded = None if existing is None else records.operation_name(existing)
        if recorded == patch_name or (recorded is None and not deprecated):
            frame.next_function_id()
            await self.record(frame, patch_name, _nothing)
            return True
        return deprecated

    async def sleep(self, frame: WorkflowFrame, seconds: float) -> None:
        """DBOS records the wake-up time once, then waits whatever is left of it (also after a restart)."""

        async def wake_time() -> float:
            return time.time() + seconds

        wake_at = await self.record(frame, "DBOS.sleep", wake_time)
        remaining = wake_at - time.time()
        if remaining > 0:
            await asyncio.sleep(remaining)


async def _should_retry(spec: StepSpec, exc: BaseException) -> bool:
    if spec.should_retry is None:
        return True
    verdict = spec.should_retry(exc)
    return bool(await verdict) if asyncio.iscoroutine(verdict) else bool(verdict)


async def _nothing() -> None:
    return None


def _app_id_tags() -> dict[str, str]:
    app_id = os.environ.get("DBOS__APPID", "")
    return {records.TAG_APP_ID: app_id} if app_id else {}


def function_name(record: PromiseRecord) -> str | None:
    data = record.param.data
    if isinstance(data, dict):
        return data.get("func")
    return getattr(data, "func", None)


def _enter_workflow(frame: WorkflowFrame) -> None:
    current_workflow.set(frame)
    current_step.set(None)
    current_auth.set(frame.auth)
    assigned_workflow_id.set(None)
    attributes.workflow_attributes.set(None)  # a workflow's children do not inherit its attributes


def _run_sync_body(frame: WorkflowFrame, fn: Callable[..., Any], args: tuple[Any, ...],
                   kwargs: dict[str, Any]) -> Any:
    _enter_workflow(frame)
    return call_carrying(fn, *args, **kwargs)


async def _run_async_body(frame: WorkflowFrame, fn: Callable[..., Any], args: tuple[Any, ...],
                          kwargs: dict[str, Any]) -> Any:
    _enter_workflow(frame)
    return await await_carrying(fn(*args, **kwargs))


def _enter_step(step: StepFrame) -> None:
    current_step.set(step)
    auth = current_auth.get()
    if auth is not None:  # a step's context is a copy of its workflow's, as DBOS makes it
        current_auth.set(auth.copy())


def _run_sync_step(step: StepFrame, fn: Callable[..., Any], args: tuple[Any, ...],
                   kwargs: dict[str, Any]) -> Any:
    _enter_step(step)
    return call_carrying(fn, *args, **kwargs)


async def _run_async_step(step: StepFrame, fn: Callable[..., Any], args: tuple[Any, ...],
                          kwargs: dict[str, Any]) -> Any:
    _enter_step(step)
    return await await_carrying(fn(*args, **kwargs))
