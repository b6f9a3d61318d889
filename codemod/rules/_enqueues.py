"""Which calls enqueue a workflow D2R113 converts: what D2R113 and D2R106 (an enqueue under SetWorkflowID) share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst

from codemod.analysis import ENQUEUE_APIS, ENQUEUE_METHODS, Facts


@dataclass(frozen=True, slots=True)
class Enqueue:
    """An enqueue of a workflow on a queue this module defines (or a named one, through ``DBOS``)."""

    what: str  # how the code calls it: ``queue.enqueue``, ``DBOS.enqueue_workflow``
    index: int  # the position of the workflow argument
    queue: str  # the queue whose flow control is lost, with its limits

    def workflow_and_args(self, args: Sequence[cst.Arg]) -> tuple[cst.BaseExpression, list[cst.Arg]] | None:
        """The workflow and the arguments it gets, when the workflow is positional and nothing before it is keyword
        or starred; else None."""
        if len(args) <= self.index or any(a.keyword is not None or a.star for a in args[:self.index + 1]):
            return None
        return args[self.index].value, list(args[self.index + 1:])


def enqueue_of(facts: Facts, call: cst.Call) -> Enqueue | None:
    """What ``call`` enqueues, if it is an enqueue D2R113 knows the queue of."""
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value in ENQUEUE_METHODS and isinstance(func.value, cst.Name):
        queue = facts.queues.get(func.value.value)
        if queue is None:
            return None
        limits = f" ({', '.join(queue.params)})" if queue.params else ""
        return Enqueue(f"{func.value.value}.{func.attr.value}", 0, f"the queue `{func.value.value}`{limits}")
    api = facts.resolve(func)
    if api is None or api not in ENQUEUE_APIS:
        return None
    return Enqueue(api, 1, "the named queue")
