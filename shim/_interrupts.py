"""A ``KeyboardInterrupt`` or ``SystemExit`` raised by user code, carried back to whoever called the workflow.

In DBOS such an exception is no failure: it unwinds the step and the workflow without recording
anything, so the workflow stays PENDING (the next launch recovers it), and reaches the code that called
the workflow. The shim runs user code in thread pools and on other event loops, and asyncio lets a
``KeyboardInterrupt`` end the loop it reaches rather than travel through it. So the exception crosses
pools and loops wrapped in :class:`Interrupted` (an ``Exception``), the durable operation it interrupted
is left unsettled, and the original is raised again where control returns to user code.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from resonate.context import ResonateFuture

T = TypeVar("T")

INTERRUPTS = (KeyboardInterrupt, SystemExit)


class Interrupted(Exception):
    """Carries ``original`` (a ``KeyboardInterrupt`` or ``SystemExit``) across the shim's loops."""

    def __init__(self, original: BaseException) -> None:
        super().__init__(original)
        self.original = original


def call_carrying(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    try:
        return fn(*args, **kwargs)
    except INTERRUPTS as exc:
        raise Interrupted(exc) from None


async def await_carrying(coro: Awaitable[T]) -> T:
    try:
        return await coro
    except INTERRUPTS as exc:
        raise Interrupted(exc) from None


async def first_of(work: Awaitable[T], interrupt: asyncio.Future[Interrupted], *,
                   abandon: bool = False) -> T:
    """``work``'s outcome, unless ``interrupt`` comes first: then raise it. ``work`` stays running
    unless ``abandon`` (an interrupted operation stays unsettled; a mere wait can go)."""
    task = _as_future(work)
    try:
        await asyncio.wait({task, interrupt}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if not task.done():
        if abandon:
            task.cancel()
        raise interrupt.result()
    return task.result()


def _as_future(work: Awaitable[T]) -> asyncio.Future[T]:
    """A ``ctx.run`` future already wraps a task: awaiting that task directly spares the task
    (and the loop turn) that ``ensure_future`` would add around it for every durable operation."""
    inner = getattr(work, "_task", None) if isinstance(work, ResonateFuture) else None
    # the SDK's private field: a release without it (pinned below 0.9) falls back to a wrapping task
    return inner if isinstance(inner, asyncio.Future) else asyncio.ensure_future(work)


async def never_settle() -> None:
    """Where interrupted code stops: it stays pending, as DBOS leaves an interrupted workflow."""
    await asyncio.Event().wait()

