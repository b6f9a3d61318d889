"""What the decorators record about each workflow and step."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shim.errors import DBOSConflictingRegistrationError

DEFAULT_MAX_RECOVERY_ATTEMPTS = 100
MAX_RETRY_INTERVAL_SECONDS = 3600.0  # DBOS never waits longer than an hour between a step's attempts

logger = logging.getLogger("dbos")


@dataclass(frozen=True, slots=True)
class WorkflowSpec:
    name: str
    fn: Callable[..., Any]
    is_async: bool
    max_recovery_attempts: int | None = DEFAULT_MAX_RECOVERY_ATTEMPTS  # None: unlimited, as in DBOS


@dataclass(frozen=True, slots=True)
class StepSpec:
    name: str
    fn: Callable[..., Any]
    is_async: bool
    retries_allowed: bool = False
    interval_seconds: float = 1.0
    max_attempts: int = 3
    backoff_rate: float = 2.0
    should_retry: Callable[[BaseException], Any] | None = None

    def attempts(self) -> int:
        return max(self.max_attempts, 1) if self.retries_allowed else 1

    def delay_after(self, attempt: int) -> float:
        """Seconds to wait after failed attempt ``attempt`` (1-based), as DBOS computes it."""
        return min(self.interval_seconds * self.backoff_rate ** (attempt - 1), MAX_RETRY_INTERVAL_SECONDS)


def qualified_name(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", repr(fn))


def is_async_function(fn: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(fn)


class Registry:
    """Workflows by registered name and by the wrapper the user holds."""

    def __init__(self) -> None:
        self.workflows: dict[str, WorkflowSpec] = {}
        # keyed by the function objects themselves: ids are reused once a function is collected
        self._by_function: dict[Callable[..., Any], WorkflowSpec] = {}
        self.step_names: set[str] = set()
        self.listeners: list[Callable[[WorkflowSpec], None]] = []

    def add_step(self, spec: StepSpec) -> None:
        if spec.name in self.workflows:
            raise DBOSConflictingRegistrationError(spec.name)
        self.step_names.add(spec.name)

    def add_workflow(self, spec: WorkflowSpec, wrapper: Callable[..., Any]) -> None:
        if spec.name in self.step_names:
            raise DBOSConflictingRegistrationError(spec.name)
        existing = self.workflows.get(spec.name)
        if existing is not None and existing.fn is not spec.fn:
            logger.warning(
                "Duplicate registration of function '%s'. All functions registered with DBOS "
                "must have unique names.", spec.name,
            )
        self.workflows[spec.name] = spec
        self._by_function[wrapper] = spec
        self._by_function[spec.fn] = spec
        for listener in self.listeners:
            listener(spec)

    def workflow_for(self, fn: Callable[..., Any]) -> WorkflowSpec | None:
        """The workflow ``fn`` is, or wraps (``@DBOS.required_roles`` over ``@DBOS.workflow``)."""
        current: Any = fn
        while current is not None:
            spec = self._by_function.get(current)
            if spec is not None:
                return spec
            current = getattr(current, "__wrapped__", None)
        return None
