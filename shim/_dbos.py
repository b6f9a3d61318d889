"""The ``DBOS`` class: DBOS's public surface, carried out on Resonate.

Decorators record specs in a registry that outlives ``DBOS`` instances (as DBOS's does);
``launch`` builds the Resonate side and registers every workflow with it; ``destroy`` tears it down.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
from collections.abc import AsyncGenerator, Callable, Generator
from datetime import datetime
from typing import Any, TypedDict, TypeVar

from shim import (
    _app_version,
    _backend,
    _classes,
    _config,
    _events,
    _management,
    _messaging,
    _queues,
    _roles,
    _scheduler,
    _streams,
    _tracing,
)
from shim._auth import classproperty
from shim._context import current_step, current_workflow
from shim._dbos_methods import QueueAndManagementAPI
from shim._engine import Engine
from shim._handles import WorkflowHandle, WorkflowHandleAsync
from shim._operations import Operations, active_frame
from shim._runtime import Bridge
from shim._specs import (
    DEFAULT_MAX_RECOVERY_ATTEMPTS,
    Registry,
    StepSpec,
    WorkflowSpec,
    is_async_function,
    qualified_name,
)
from shim._status import WorkflowStatus
from shim._temp_workflows import register_temp_workflow
from shim.errors import (
    DBOSException,
    DBOSInitializationError,
    DBOSWorkflowFunctionNotFoundError,
    ShimUnsupportedError,
)
from shim.store import StoreCorruptError

F = TypeVar("F", bound=Callable[..., Any])

logger = logging.getLogger("dbos")
if not logger.handlers:
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(asctime)s [%(levelname)8s] (dbos2resonate) %(message)s", "%H:%M:%S"))
    logger.addHandler(_handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False

# How long destroy() lets Resonate drain work that is finishing anyway.
STOP_GRACE_SECONDS = 1.0

_registry = Registry()


class _Launched:
    """Everything that exists between ``launch`` and ``destroy``."""

    def __init__(self, backend: _backend.Backend) -> None:
        self.bridge = Bridge()
        try:
            self.opened = self.bridge.call(_backend.open_backend(backend))
        except StoreCorruptError as exc:
            self.bridge.close()
            if not any(table in exc.reason for table in ("dbos_migrations", "workflow_status", "operation_outputs")):
                raise
            path = backend.path if isinstance(backend, _backend.EmbeddedStore) else None
            raise DBOSInitializationError(
                f"{path} is DBOS's own system database; the shim keeps its state in a store of its "
                "own. Point system_database_url at another file, e.g. sqlite:///app.resonate.sqlite "
                "(the DBOS file is left as it is)."
            ) from exc
        except BaseException:
            self.bridge.close()
            raise
        self.store = self.opened.store  # the embedded store, for tools that inspect it; None on a server
        shared = self.opened.shared
        route = backend.group if isinstance(backend, _backend.Server) else None
        self.engine = Engine(self.bridge, _registry, self.opened.resonate, shared=shared, route=route)
        self.operations = Operations(self.engine)
        self.scheduler: _scheduler.Scheduler | None = None

    def start(self) -> None:
        """Start Resonate; recovered workflows begin to run here, so ``DBOS`` must already see us."""
        self.bridge.call(self._register_all_and_start())
        _registry.listeners.append(self._register_later)
        self.bridge.call(self.engine.lifecycle.launch())  # queues: earlier processes' work, dispatching
        self.scheduler = _scheduler.Scheduler.launch(self.operations, _registry, DBOS.config.get("name"))

    async def _register_all_and_start(self) -> None:
        for spec in _registry.workflows.values():
            self.engine.register(spec)
        self.engine.resonate.start()

    def _register_later(self, spec: WorkflowSpec) -> None:
        self.bridge.loop.call_soon_threadsafe(self.engine.register, spec)

    def close(self, completion_timeout: float = 0) -> None:
        """Stop. Workflows still running after ``completion_timeout`` seconds are left pending in the
        store (as a crash would leave them) and resume at the next launch."""
        if self.scheduler is not None:
            self.scheduler.stop()
        self.engine.lifecycle.close()
        if self._register_later in _registry.listeners:
            _registry.listeners.remove(self._register_later)
        # DBOS stops its background loop, cancelling the async workflows on it (they end in ERROR);
        # before Resonate stops, so that their rejections reach the store.
        self.bridge.cancel_background_tasks(completion_timeout)
        try:
            self.bridge.submit(self._stop(completion_timeout)).result(timeout=completion_timeout + 10)
        except Exception:  # noqa: BLE001 - stopping is best effort; the loop is closed next anyway
            logger.debug("Resonate did not stop cleanly", exc_info=True)
            self.opened.close()
        self.bridge.close()

    async def _stop(self, completion_timeout: float) -> None:
        try:
            # stopping drains in-flight work into the store; a workflow still waiting is not waited for
            await asyncio.wait_for(self.engine.resonate.stop(), max(completion_timeout, STOP_GRACE_SECONDS))
        except TimeoutError:
            logger.debug("workflows still running at destroy() stay pending in the store")
        finally:
            await self.opened.aclose()
            await _cancel_other_tasks()


async def _cancel_other_tasks() -> None:
    """Unwind what still runs on Resonate's loop; with the store closed, nothing more is recorded."""
    others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in others:
        task.cancel()
    await asyncio.gather(*others, return_exceptions=True)


class _Instance:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.launched: _Launched | None = None
        self.app_version = _app_version.configured(config)  # computed at launch when ""


_instance: _Instance | None = None


def _operations(*, direct_call: bool = False) -> Operations:
    """The launched runtime. DBOS words the refusal by what is missing and, oddly, by whether a
    workflow function was called directly; the messages are kept because programs match on them."""
    if _instance is None and not direct_call:
        raise DBOSException("No DBOS was created yet")
    if _instance is None or _instance.launched is None:
        raise DBOSException("System database accessed before DBOS was launched")
    return _instance.launched.operations


def _unsupported(feature: str, reason: str) -> Callable[..., Any]:
    def refuse(*_: Any, **__: Any) -> Any:
        raise ShimUnsupportedError(feature, reason)

    return refuse


class _DBOSMeta(type):
    def __getattr__(cls, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return _unsupported(f"DBOS.{name}", "the shim does not implement it yet.")


class DBOS(QueueAndManagementAPI, metaclass=_DBOSMeta):
    """Drop-in for ``dbos.DBOS``: the same decorators and calls, run on Resonate."""

    def __new__(cls, *, config: _config.DBOSConfig, fastapi: Any = None, flask: Any = None,
                conductor_url: str | None = None, conductor_key: str | None = None) -> DBOS:
        global _instance
        if fastapi is not None or flask is not None:
            raise ShimUnsupportedError("DBOS(fastapi=..., flask=...)", "web framework middleware is pending.")
        if _instance is not None and _instance.launched is not None:
            raise DBOSException("DBOS is already launched; call DBOS.destroy() before creating another")
        _instance = _Instance(_config.validate(config))
        return super().__new__(cls)

    def __init__(self, *, config: _config.DBOSConfig, fastapi: Any = None, flask: Any = None,
                 conductor_url: str | None = None, conductor_key: str | None = None) -> None:
        pass

    # -- lifecycle -----------------------------------------------------------------------------

    @classmethod
    def launch(cls) -> None:
        if _instance is None:
            raise DBOSException("No DBOS was created yet")
        if _instance.launched is None:
            if not _instance.app_version:
                _instance.app_version = _app_version.computed(_registry, _instance.config["name"])
            launched = _instance.launched = _Launched(_backend.select(_instance.config))
            try:
                launched.start()
            except BaseException:
                _instance.launched = None
                launched.close()
                raise
            logger.info("DBOS launched on Resonate")

    @classmethod
    def destroy(cls, *, destroy_registry: bool = False, workflow_completion_timeout_sec: int = 0) -> None:
        global _instance, _registry
        if _instance is not None and _instance.launched is not None:
            _instance.launched.close(workflow_completion_timeout_sec)
        _instance = None
        if destroy_registry:
            _registry = Registry()
            _queues.clear_registry()

    @classproperty
    def logger(cls) -> logging.Logger:
        return logger

    @classproperty
    def config(cls) -> dict[str, Any]:
        if _instance is None:
            raise DBOSException("No DBOS was created yet")
        return _instance.config

    @classproperty
    def executor_id(cls) -> str:
        config = _instance.config if _instance is not None else {}
        return config.get("executor_id") or "local"

    @classproperty
    def application_version(cls) -> str:
        return _instance.app_version if _instance is not None else _app_version.configured({})

    # -- decorators ----------------------------------------------------------------------------

    @staticmethod
    def workflow(*, name: str | None = None, max_recovery_attempts: int | None = DEFAULT_MAX_RECOVERY_ATTEMPTS,
                 serialization_type: Any = None, validate_args: Any = None) -> Callable[[F], F]:
        if serialization_type is not None:
            raise ShimUnsupportedError("@DBOS.workflow(serialization_type=...)", "values are always pickled.")
        if validate_args is not None:
            raise ShimUnsupportedError("@DBOS.workflow(validate_args=...)", "argument validation is pending.")

        def decorate(fn: F) -> F:
            _roles.register_function(fn, name or qualified_name(fn))
            spec = WorkflowSpec(
                name=name or qualified_name(fn),
                fn=fn,
                is_async=is_async_function(fn),
                max_recovery_attempts=max_recovery_attempts,
            )
            wrapper = _workflow_wrapper(spec)
            _registry.add_workflow(spec, wrapper)
            return wrapper  # type: ignore[return-value]

        return decorate

    @staticmethod
    def step(*, name: str | None = None, retries_allowed: bool = False, interval_seconds: float = 1.0,
             max_attempts: int = 3, backoff_rate: float = 2.0,
             should_retry: Callable[[BaseException], Any] | None = None, preemptible: bool = False,
             timeout_seconds: float | None = None) -> Callable[[F], F]:
        options = StepOptions(name=name, retries_allowed=retries_allowed, interval_seconds=interval_seconds,
                              max_attempts=max_attempts, backoff_rate=backoff_rate, should_retry=should_retry,
                              preemptible=preemptible, timeout_seconds=timeout_seconds)
        _check_step_options(options, "@DBOS.step")

        def decorate(fn: F) -> F:
            spec = _step_spec(fn, options)
            _roles.register_function(fn, spec.name)
            _registry.add_step(spec)
            wrapper = _step_wrapper(spec)
            register_temp_workflow(_registry, spec, wrapper)
            return wrapper  # type: ignore[return-value]

        return decorate

    @staticmethod
    def run_step(dbos_step_options: StepOptions | None, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run ``func`` as a step of the current workflow (a plain call elsewhere)."""
        _messaging.check_async("run_step")
        options = dbos_step_options or StepOptions()
        _check_step_options(options, "DBOS.run_step")
        return _step_wrapper(_step_spec(func, options))(*args, **kwargs)

    @staticmethod
    async def run_step_async(dbos_step_options: StepOptions | None, func: Callable[..., Any], *args: Any,
                             **kwargs: Any) -> Any:
        options = dbos_step_options or StepOptions()
        _check_step_options(options, "DBOS.run_step_async")
        result = _step_wrapper(_step_spec(func, options))(*args, **kwargs)
        return await result if inspect.isawaitable(result) else result

    @staticmethod
    def dbos_class(class_name: str | None = None) -> Callable[[type[Any]], type[Any]]:
        return _classes.dbos_class(class_name)

    @staticmethod
    def register_instance(inst: object) -> None:
        _classes.register_instance(inst)

    @staticmethod
    def transaction(isolation_level: str = "SERIALIZABLE", *, name: str | None = None) -> Callable[[F], F]:
        raise ShimUnsupportedError(
            "@DBOS.transaction", "Resonate has no application database; make the function a @DBOS.step."
        )

    @staticmethod
    def required_roles(roles: list[str]) -> Callable[[F], F]:
        return _roles.required_roles(roles)

    @staticmethod
    def default_required_roles(roles: list[str]) -> Callable[[type[Any]], type[Any]]:
        return _roles.default_required_roles(roles, _classes.ensure_registered)

    # -- scheduling (shim/_scheduler.py) -------------------------------------------------------

    @staticmethod
    def scheduled(cron: str) -> Callable[[F], F]:
        return _scheduler.scheduled(_registry, cron)

    @staticmethod
    def create_schedule(*, schedule_name: str, workflow_fn: Callable[..., Any], schedule: str, context: Any = None,
                        automatic_backfill: bool = False, cron_timezone: str | None = None,
                        queue_name: str | None = None) -> None:
        _scheduler.create_schedule(schedule_name=schedule_name, workflow_fn=workflow_fn, schedule=schedule,
                                   context=context, automatic_backfill=automatic_backfill,
                                   cron_timezone=cron_timezone, queue_name=queue_name)

    @staticmethod
    async def create_schedule_async(*, schedule_name: str, workflow_fn: Callable[..., Any], schedule: str,
                                    context: Any = None, automatic_backfill: bool = False,
                                    cron_timezone: str | None = None, queue_name: str | None = None) -> None:
        await _scheduler.in_thread(_scheduler.create_schedule, schedule_name=schedule_name,
                                   workflow_fn=workflow_fn, schedule=schedule, context=context,
                                   automatic_backfill=automatic_backfill, cron_timezone=cron_timezone,
                                   queue_name=queue_name)

    @staticmethod
    def apply_schedules(schedules: list[Any]) -> None:
        _scheduler.apply_schedules(schedules)

    @staticmethod
    async def apply_schedules_async(schedules: list[Any]) -> None:
        await _scheduler.in_thread(_scheduler.apply_schedules, schedules)

    @staticmethod
    def list_schedules(*, status: str | list[str] | None = None, workflow_name: str | list[str] | None = None,
                       schedule_name_prefix: str | list[str] | None = None,
                       application_name: str | list[str] | None = None) -> list[dict[str, Any]]:
        return _scheduler.list_schedules(status=status, workflow_name=workflow_name,
                                         schedule_name_prefix=schedule_name_prefix,
                                         application_name=application_name)

    @staticmethod
    async def list_schedules_async(*, status: str | list[str] | None = None,
                                   workflow_name: str | list[str] | None = None,
                                   schedule_name_prefix: str | list[str] | None = None,
                                   application_name: str | list[str] | None = None) -> list[dict[str, Any]]:
        return await _scheduler.in_thread(_scheduler.list_schedules, status=status, workflow_name=workflow_name,
                                          schedule_name_prefix=schedule_name_prefix,
                                          application_name=application_name)

    @staticmethod
    def get_schedule(name: str) -> dict[str, Any] | None:
        return _scheduler.get_schedule(name)

    @staticmethod
    async def get_schedule_async(name: str) -> dict[str, Any] | None:
        return await _scheduler.in_thread(_scheduler.get_schedule, name)

    @staticmethod
    def delete_schedule(name: str) -> None:
        _scheduler.delete_schedule(name)

    @staticmethod
    async def delete_schedule_async(name: str) -> None:
        await _scheduler.in_thread(_scheduler.delete_schedule, name)

    @staticmethod
    def pause_schedule(name: str) -> None:
        _scheduler.pause_schedule(name)

    @staticmethod
    def resume_schedule(name: str) -> None:
        _scheduler.resume_schedule(name)

    @staticmethod
    def trigger_schedule(schedule_name: str) -> WorkflowHandle[None]:
        return _scheduler.trigger_schedule(schedule_name)

    @staticmethod
    def backfill_schedule(schedule_name: str, start: datetime, end: datetime) -> list[WorkflowHandle[None]]:
        return _scheduler.backfill_schedule(schedule_name, start, end)

    # -- workflows -----------------------------------------------------------------------------

    @staticmethod
    def start_workflow(func: Callable[..., Any], *args: Any, **kwargs: Any) -> WorkflowHandle[Any]:
        spec, args = _spec_of(func, args)
        return _operations().start_workflow(spec, args, kwargs)

    @staticmethod
    async def start_workflow_async(func: Callable[..., Any], *args: Any, **kwargs: Any) -> WorkflowHandleAsync[Any]:
        spec, args = _spec_of(func, args)
        return await _operations().start_workflow_async(spec, args, kwargs)

    @staticmethod
    def retrieve_workflow(workflow_id: str, existing_workflow: bool = True) -> WorkflowHandle[Any]:
        _messaging.check_async("retrieve_workflow")
        return _operations().retrieve_workflow(workflow_id, existing_workflow)

    @staticmethod
    async def retrieve_workflow_async(workflow_id: str, existing_workflow: bool = True) -> WorkflowHandleAsync[Any]:
        return await _operations().retrieve_workflow_async(workflow_id, existing_workflow)

    @staticmethod
    def get_result(workflow_id: str) -> Any:
        _messaging.check_async("get_result")
        return _operations().get_result(workflow_id)

    @staticmethod
    async def get_result_async(workflow_id: str) -> Any:
        return await _operations().get_result_async(workflow_id)

    @staticmethod
    def get_workflow_status(workflow_id: str) -> WorkflowStatus | None:
        _messaging.check_async("get_workflow_status")
        return _operations().get_status(workflow_id)

    @staticmethod
    async def get_workflow_status_async(workflow_id: str) -> WorkflowStatus | None:
        return await _operations().get_status_async(workflow_id)

    @staticmethod
    def sleep(seconds: float) -> None:
        _messaging.check_async("sleep")
        _operations().sleep(seconds)

    @staticmethod
    async def sleep_async(seconds: float) -> None:
        await _operations().sleep_async(seconds)

    # -- queues (shim/_queues.py) and workflow management (shim/_management.py) ---------------

    @staticmethod
    def register_queue(name: str, *, worker_concurrency: int | None = None, global_concurrency: int | None = None,
                       partition_concurrency: int | None = None, partition_worker_concurrency: int | None = None,
                       partition_limiter: Any = None, limiter: Any = None, polling_interval_sec: float = 1.0,
                       on_conflict: str = "update_if_latest_version", concurrency: int | None = None,
                       priority_enabled: bool = False, partition_queue: bool = False) -> Any:
        return _queues.register_queue(**locals())

    @staticmethod
    async def register_queue_async(name: str, *, worker_concurrency: int | None = None, global_concurrency: int | None = None,
                                   partition_concurrency: int | None = None, partition_worker_concurrency: int | None = None,
                                   partition_limiter: Any = None, limiter: Any = None, polling_interval_sec: float = 1.0,
                                   on_conflict: str = "update_if_latest_version", concurrency: int | None = None,
                                   priority_enabled: bool = False, partition_queue: bool = False) -> Any:
        return _queues.register_queue(**locals())

    @staticmethod
    def enqueue_workflow(queue_name: str, func: Callable[..., Any], *args: Any, **kwargs: Any) -> WorkflowHandle[Any]:
        return _queues.enqueue_workflow(queue_name, func, *args, **kwargs)

    @staticmethod
    async def enqueue_workflow_async(queue_name: str, func: Callable[..., Any], *args: Any,
                                     **kwargs: Any) -> WorkflowHandleAsync[Any]:
        return await _queues.enqueue_workflow_async(queue_name, func, *args, **kwargs)

    @staticmethod
    def list_workflows(*, workflow_ids: list[str] | None = None, status: str | list[str] | None = None,
                       start_time: str | None = None, end_time: str | None = None, completed_after: str | None = None,
                       completed_before: str | None = None, dequeued_after: str | None = None,
                       dequeued_before: str | None = None, name: str | list[str] | None = None,
                       app_version: str | list[str] | None = None, forked_from: str | list[str] | None = None,
                       parent_workflow_id: str | list[str] | None = None, user: str | list[str] | None = None,
                       queue_name: str | list[str] | None = None, limit: int | None = None, offset: int | None = None,
                       sort_desc: bool = False, workflow_id_prefix: str | list[str] | None = None, load_input: bool = True,
                       load_output: bool = True, executor_id: str | list[str] | None = None,
                       queues_only: bool = False, was_forked_from: bool | None = None,
                       has_parent: bool | None = None, attributes: dict[str, Any] | None = None,
                       schedule_name: str | list[str] | None = None,
                       application_name: str | list[str] | None = None) -> list[WorkflowStatus]:
        return _management.list_workflows(**locals())

    @staticmethod
    async def list_workflows_async(*, workflow_ids: list[str] | None = None, status: str | list[str] | None = None,
                                   start_time: str | None = None, end_time: str | None = None, completed_after: str | None = None,
                                   completed_before: str | None = None, dequeued_after: str | None = None,
                                   dequeued_before: str | None = None, name: str | list[str] | None = None,
                                   app_version: str | list[str] | None = None, forked_from: str | list[str] | None = None,
                                   parent_workflow_id: str | list[str] | None = None, user: str | list[str] | None = None,
                                   queue_name: str | list[str] | None = None, limit: int | None = None, offset: int | None = None,
                                   sort_desc: bool = False, workflow_id_prefix: str | list[str] | None = None, load_input: bool = True,
                                   load_output: bool = True, executor_id: str | list[str] | None = None,
                                   queues_only: bool = False, was_forked_from: bool | None = None,
                                   has_parent: bool | None = None, attributes: dict[str, Any] | None = None,
                                   schedule_name: str | list[str] | None = None,
                                   application_name: str | list[str] | None = None) -> list[WorkflowStatus]:
        return await _management.list_workflows_async(**locals())

    @staticmethod
    def list_queued_workflows(*, workflow_ids: list[str] | None = None, status: str | list[str] | None = None,
                              start_time: str | None = None, end_time: str | None = None, completed_after: str | None = None,
                              completed_before: str | None = None, dequeued_after: str | None = None,
                              dequeued_before: str | None = None, name: str | list[str] | None = None,
                              app_version: str | list[str] | None = None, forked_from: str | list[str] | None = None,
                              parent_workflow_id: str | list[str] | None = None, user: str | list[str] | None = None,
                              queue_name: str | list[str] | None = None, limit: int | None = None, offset: int | None = None,
                              sort_desc: bool = False, workflow_id_prefix: str | list[str] | None = None, load_input: bool = True,
                              load_output: bool = True, executor_id: str | list[str] | None = None,
                              has_parent: bool | None = None, attributes: dict[str, Any] | None = None,
                              application_name: str | list[str] | None = None) -> list[WorkflowStatus]:
        return _management.list_queued_workflows(**locals())

    @staticmethod
    async def list_queued_workflows_async(*, workflow_ids: list[str] | None = None, status: str | list[str] | None = None,
                                          start_time: str | None = None, end_time: str | None = None, completed_after: str | None = None,
                                          completed_before: str | None = None, dequeued_after: str | None = None,
                                          dequeued_before: str | None = None, name: str | list[str] | None = None,
                                          app_version: str | list[str] | None = None, forked_from: str | list[str] | None = None,
                                          parent_workflow_id: str | list[str] | None = None, user: str | list[str] | None = None,
                                          queue_name: str | list[str] | None = None, limit: int | None = None, offset: int | None = None,
                                          sort_desc: bool = False, workflow_id_prefix: str | list[str] | None = None, load_input: bool = True,
                                          load_output: bool = True, executor_id: str | list[str] | None = None,
                                          has_parent: bool | None = None, attributes: dict[str, Any] | None = None,
                                          application_name: str | list[str] | None = None) -> list[WorkflowStatus]:
        return await _management.list_queued_workflows_async(**locals())

    @staticmethod
    def list_workflow_steps(workflow_id: str, *, load_output: bool = True, limit: int | None = None,
                            offset: int | None = None) -> list[dict[str, Any]]:
        return _management.list_workflow_steps(workflow_id, load_output=load_output, limit=limit, offset=offset)

    @staticmethod
    async def list_workflow_steps_async(workflow_id: str, *, load_output: bool = True, limit: int | None = None,
                                        offset: int | None = None) -> list[dict[str, Any]]:
        return await _management.list_workflow_steps_async(workflow_id, load_output=load_output, limit=limit,
                                                           offset=offset)

    @staticmethod
    def cancel_workflow(workflow_id: str, *, cancel_children: bool = False) -> None:
        _management.cancel_workflows([workflow_id], cancel_children=cancel_children)

    @staticmethod
    async def cancel_workflow_async(workflow_id: str, *, cancel_children: bool = False) -> None:
        await _management.cancel_workflows_async([workflow_id], cancel_children=cancel_children)

    @staticmethod
    def cancel_workflows(workflow_ids: list[str], *, cancel_children: bool = False) -> None:
        _management.cancel_workflows(workflow_ids, cancel_children=cancel_children)

    @staticmethod
    async def cancel_workflows_async(workflow_ids: list[str], *, cancel_children: bool = False) -> None:
        await _management.cancel_workflows_async(workflow_ids, cancel_children=cancel_children)

    @staticmethod
    def resume_workflow(workflow_id: str, *, queue_name: str | None = None) -> WorkflowHandle[Any]:
        return _management.resume_workflow(workflow_id, queue_name=queue_name)

    @staticmethod
    async def resume_workflow_async(workflow_id: str, *, queue_name: str | None = None) -> WorkflowHandleAsync[Any]:
        return await _management.resume_workflow_async(workflow_id, queue_name=queue_name)

    @staticmethod
    def resume_workflows(workflow_ids: list[str], *, queue_name: str | None = None) -> list[WorkflowHandle[Any]]:
        return _management.resume_workflows(workflow_ids, queue_name=queue_name)

    @staticmethod
    async def resume_workflows_async(workflow_ids: list[str], *,
                                     queue_name: str | None = None) -> list[WorkflowHandleAsync[Any]]:
        return await _management.resume_workflows_async(workflow_ids, queue_name=queue_name)

    @staticmethod
    def fork_workflow(workflow_id: str, start_step: int, *, application_version: str | None = None,
                      queue_name: str | None = None, queue_partition_key: str | None = None,
                      replacement_children: dict[str, str] | None = None,
                      timeout_seconds: float | None = None) -> WorkflowHandle[Any]:
        return _management.fork_workflow(**locals())

    @staticmethod
    async def fork_workflow_async(workflow_id: str, start_step: int, *, application_version: str | None = None,
                                  queue_name: str | None = None, queue_partition_key: str | None = None,
                                  replacement_children: dict[str, str] | None = None,
                                  timeout_seconds: float | None = None) -> WorkflowHandleAsync[Any]:
        return await _management.fork_workflow_async(**locals())

    # -- messages, events and streams (shim/_messaging.py, _events.py, _streams.py) ------------

    @staticmethod
    def send(destination_id: str, message: Any, topic: str | None = None, *, idempotency_key: str | None = None,
             serialization_type: Any = None, send_to_forks: bool = False) -> None:
        _messaging.send(_operations(), destination_id, message, topic, idempotency_key, serialization_type)

    @staticmethod
    async def send_async(destination_id: str, message: Any, topic: str | None = None, *,
                         idempotency_key: str | None = None, serialization_type: Any = None,
                         send_to_forks: bool = False) -> None:
        await _messaging.send_async(_operations(), destination_id, message, topic, idempotency_key,
                                    serialization_type)

    @staticmethod
    def send_bulk(messages: list[Any], *, serialization_type: Any = None, send_to_forks: bool = False) -> None:
        _messaging.send_bulk(_operations(), messages, serialization_type)

    @staticmethod
    async def send_bulk_async(messages: list[Any], *, serialization_type: Any = None,
                              send_to_forks: bool = False) -> None:
        await _messaging.send_bulk_async(_operations(), messages, serialization_type)

    @staticmethod
    def recv(topic: str | None = None, timeout_seconds: float = 60) -> Any:
        return _messaging.recv(_operations(), topic, timeout_seconds)

    @staticmethod
    async def recv_async(topic: str | None = None, timeout_seconds: float = 60) -> Any:
        return await _messaging.recv_async(_operations(), topic, timeout_seconds)

    @staticmethod
    def set_event(key: str, value: Any, *, serialization_type: Any = None) -> None:
        _events.set_event(_operations(), key, value, serialization_type)

    @staticmethod
    async def set_event_async(key: str, value: Any, *, serialization_type: Any = None) -> None:
        await _events.set_event_async(_operations(), key, value, serialization_type)

    @staticmethod
    def get_event(workflow_id: str, key: str, timeout_seconds: float = 60) -> Any:
        return _events.get_event(_operations(), workflow_id, key, timeout_seconds)

    @staticmethod
    async def get_event_async(workflow_id: str, key: str, timeout_seconds: float = 60) -> Any:
        return await _events.get_event_async(_operations(), workflow_id, key, timeout_seconds)

    @staticmethod
    def get_all_events(workflow_id: str) -> dict[str, Any]:
        return _events.get_all_events(_operations(), workflow_id)

    @staticmethod
    async def get_all_events_async(workflow_id: str) -> dict[str, Any]:
        return await _events.get_all_events_async(_operations(), workflow_id)

    @staticmethod
    def write_stream(key: str, value: Any, *, serialization_type: Any = None) -> None:
        _streams.write_stream(_operations(), key, value, serialization_type)

    @staticmethod
    async def write_stream_async(key: str, value: Any, *, serialization_type: Any = None) -> None:
        await _streams.write_stream_async(_operations(), key, value, serialization_type)

    @staticmethod
    def close_stream(key: str) -> None:
        _streams.close_stream(_operations(), key)

    @staticmethod
    async def close_stream_async(key: str) -> None:
        await _streams.close_stream_async(_operations(), key)

    @staticmethod
    def read_stream(workflow_id: str, key: str, *, offset: int = 0, polling_interval_sec: float | None = None,
                    timeout_seconds: float | None = None) -> Generator[Any, Any, None]:
        _messaging.check_async("read_stream")
        yield from _streams.read_stream(_operations(), workflow_id, key, offset=offset,
                                        polling_interval_sec=polling_interval_sec, timeout_seconds=timeout_seconds)

    @staticmethod
    async def read_stream_async(workflow_id: str, key: str, *, offset: int = 0,
                                polling_interval_sec: float | None = None,
                                timeout_seconds: float | None = None) -> AsyncGenerator[Any, None]:
        values = _streams.read_stream_async(_operations(), workflow_id, key, offset=offset,
                                            polling_interval_sec=polling_interval_sec,
                                            timeout_seconds=timeout_seconds)
        try:
            async for value in values:
                yield value
        finally:
            await values.aclose()

    @staticmethod
    def read_stream_offset(workflow_id: str, key: str, offset: int, *, polling_interval_sec: float | None = None,
                           timeout_seconds: float | None = None) -> Any:
        _messaging.check_async("read_stream_offset")
        return _streams.read_stream_offset(_operations(), workflow_id, key, offset,
                                           polling_interval_sec=polling_interval_sec, timeout_seconds=timeout_seconds)

    @staticmethod
    async def read_stream_offset_async(workflow_id: str, key: str, offset: int, *,
                                       polling_interval_sec: float | None = None,
                                       timeout_seconds: float | None = None) -> Any:
        return await _streams.read_stream_offset_async(_operations(), workflow_id, key, offset,
                                                       polling_interval_sec=polling_interval_sec,
                                                       timeout_seconds=timeout_seconds)

    # -- where am I ----------------------------------------------------------------------------

    @classproperty
    def workflow_id(cls) -> str | None:
        step = current_step.get()
        if step is not None:
            return step.workflow_id
        frame = current_workflow.get()
        return frame.workflow_id if frame is not None else None

    @classproperty
    def step_id(cls) -> int | None:
        step = current_step.get()
        return step.step_id if step is not None else None

    @classproperty
    def step_status(cls) -> Any:
        step = current_step.get()
        if step is None:
            return None
        return StepStatus(step.step_id, step.attempt - 1 if step.max_attempts else None, step.max_attempts)

    @classproperty
    def span(cls) -> None:
        return _tracing.current_span()

    @classproperty
    def tracer(cls) -> _tracing.DBOSTracer:
        return _tracing.tracer


class StepStatus:
    def __init__(self, step_id: int, current_attempt: int | None, max_attempts: int | None) -> None:
        self.step_id = step_id
        self.current_attempt = current_attempt
        self.max_attempts = max_attempts

    def __repr__(self) -> str:
        return f"StepStatus(step_id={self.step_id}, current_attempt={self.current_attempt}, max_attempts={self.max_attempts})"


class StepOptions(TypedDict, total=False):
    """The options of ``@DBOS.step``, as ``DBOS.run_step`` takes them."""

    name: str | None
    retries_allowed: bool
    interval_seconds: float
    max_attempts: int
    backoff_rate: float
    should_retry: Callable[[BaseException], Any] | None
    preemptible: bool
    timeout_seconds: float | None


def _check_step_options(options: StepOptions, where: str) -> None:
    if options.get("timeout_seconds") is not None:
        raise ShimUnsupportedError(f"{where}(timeout_seconds=...)", "step timeouts are pending.")
    if options.get("preemptible"):
        raise ShimUnsupportedError(f"{where}(preemptible=True)", "preemptible steps are pending.")


def _step_spec(fn: Callable[..., Any], options: StepOptions) -> StepSpec:
    return StepSpec(
        name=options.get("name") or qualified_name(fn),
        fn=fn,
        is_async=is_async_function(fn),
        retries_allowed=options.get("retries_allowed", False),
        interval_seconds=options.get("interval_seconds", 1.0),
        max_attempts=options.get("max_attempts", 3),
        backoff_rate=options.get("backoff_rate", 2.0),
        should_retry=options.get("should_retry"),
    )


def _spec_of(func: Callable[..., Any], args: tuple[Any, ...]) -> tuple[WorkflowSpec, tuple[Any, ...]]:
    """The workflow behind ``func``; a bound method contributes its instance (or class) as first argument."""
    if inspect.ismethod(func):
        func, args = func.__func__, (func.__self__, *args)
    spec = _registry.workflow_for(func)
    if spec is None:
        raise DBOSWorkflowFunctionNotFoundError(
            "<none>", f"{qualified_name(func)} is not a registered workflow function"
        )
    return spec, args


def _workflow_wrapper(spec: WorkflowSpec) -> Callable[..., Any]:
    if spec.is_async:
        @functools.wraps(spec.fn)
        def run_async(*args: Any, **kwargs: Any) -> Any:
            role = _roles.check_caller_roles(spec.fn)  # DBOS checks when called, not when awaited

            async def called() -> Any:
                with _roles.assuming(role):
                    handle = await _operations(direct_call=True).start_workflow_async(spec, args, kwargs)
                    return await handle.get_result()

            return called()

        return inspect.markcoroutinefunction(run_async)

    @functools.wraps(spec.fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        with _roles.assumed_if_required(spec.fn):
            return _operations(direct_call=True).start_workflow(spec, args, kwargs).get_result()

    return run


def _step_wrapper(spec: StepSpec) -> Callable[..., Any]:
    if spec.is_async:
        @functools.wraps(spec.fn)
        async def call_async(*args: Any, **kwargs: Any) -> Any:
            frame = active_frame()
            if frame is None:
                return await spec.fn(*args, **kwargs)
            with _roles.assumed_if_required(spec.fn):
                return await _operations().call_step_async(frame, spec, args, kwargs)

        return call_async

    @functools.wraps(spec.fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        frame = active_frame()
        if frame is None:
            return spec.fn(*args, **kwargs)
        with _roles.assumed_if_required(spec.fn):
            return _operations().call_step(frame, spec, args, kwargs)

    return call


__all__ = ["DBOS", "StepStatus"]
