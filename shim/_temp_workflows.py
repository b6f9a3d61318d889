"""A step started as a workflow: ``DBOS.start_workflow(step, ...)`` and ``queue.enqueue(step, ...)``.

DBOS registers, next to every step, a workflow named ``<temp>.<step name>`` whose only operation is
that step, and starts it when a step function is passed where a workflow is expected; its status,
its listing and its one recorded step read as such. The shim registers the same workflow, keyed by
the step's wrapper, so every path that starts a workflow from a function finds it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shim._specs import Registry, StepSpec, WorkflowSpec

TEMP_PREFIX = "<temp>."


def register_temp_workflow(registry: Registry, step: StepSpec, step_wrapper: Callable[..., Any]) -> None:
    """Register ``<temp>.<step name>``, the workflow that runs ``step`` once as its step 1."""
    if step.is_async:
        async def run_step_async(*args: Any, **kwargs: Any) -> Any:
            return await step_wrapper(*args, **kwargs)

        body: Callable[..., Any] = run_step_async
    else:
        def run_step(*args: Any, **kwargs: Any) -> Any:
            return step_wrapper(*args, **kwargs)

        body = run_step
    name = TEMP_PREFIX + step.name
    # A step decorated again replaces its temp workflow; DBOS warns once, for the step itself.
    registry.workflows.pop(name, None)
    registry.add_workflow(WorkflowSpec(name=name, fn=body, is_async=step.is_async), step_wrapper)
