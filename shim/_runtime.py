"""The event loop Resonate lives on, and the bridges user code crosses to reach it.

Resonate's SDK is asyncio and single-threaded: anything that blocks its loop stalls every workflow.
So the loop runs in a thread of its own and only ever does Resonate's bookkeeping. Sync workflow
bodies run in one thread pool and sync steps in another (nested waits in one shared pool can
deadlock); async bodies run on the caller's loop, or on a background loop the shim owns when there
is no caller (recovery). Every durable call crosses to Resonate's loop with ``submit``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from shim.errors import DBOSWorkflowCancelledError

T = TypeVar("T")

# Workflow bodies block while they wait for children, so the pools must not cap nesting depth
# (a recursive workflow of depth n holds n threads). Threads are created on demand.
MAX_THREADS = 4096

# How long destroy() waits for cancelled background tasks to unwind (their finally blocks run).
_UNWIND_SECONDS = 10.0


class _LoopThread:
    """An asyncio loop running forever in a daemon thread."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()
        self._ready.wait()

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self._ready.set)
        self.loop.run_forever()

    @property
    def thread_id(self) -> int | None:
        return self._thread.ident

    def stop(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self.loop.close()


class Bridge:
    """Runs coroutines on Resonate's loop and user code off it."""

    def __init__(self) -> None:
        self._resonate_loop = _LoopThread("dbos2resonate-resonate")
        self._user_loop: _LoopThread | None = None
        self._user_loop_lock = threading.Lock()
        self._background_shut_down = False
        self.workflow_pool = concurrent.futures.ThreadPoolExecutor(
            MAX_THREADS, thread_name_prefix="dbos2resonate-workflow"
        )
        self.step_pool = concurrent.futures.ThreadPoolExecutor(
            MAX_THREADS, thread_name_prefix="dbos2resonate-step"
        )
        # Calls from user threads still waiting on Resonate's loop; failed on close, so that no
        # thread waits for a loop that has stopped (and the interpreter can exit).
        self._waiting: set[concurrent.futures.Future[Any]] = set()
        self._waiting_lock = threading.Lock()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._resonate_loop.loop

    def on_resonate_loop(self) -> bool:
        return threading.get_ident() == self._resonate_loop.thread_id

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        with self._waiting_lock:
            self._waiting.add(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: concurrent.futures.Future[Any]) -> None:
        with self._waiting_lock:
            self._waiting.discard(future)

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on Resonate's loop and block this (non-loop) thread for its outcome."""
        if self.on_resonate_loop():
            coro.close()
            raise RuntimeError("dbos2resonate: a blocking call was made on the Resonate event loop")
        try:
            return self.submit(_boxing_cancelled(coro)).result()
        except _BoxedCancelledError as boxed:
            raise boxed.error from None

    async def acall(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` on Resonate's loop from any other event loop."""
        try:
            return await asyncio.wrap_future(self.submit(_boxing_cancelled(coro)))
        except _BoxedCancelledError as boxed:
            raise boxed.error from None

    def background_user_loop(self) -> asyncio.AbstractEventLoop:
        """A loop for async workflow bodies that no caller is awaiting (recovered workflows)."""
        with self._user_loop_lock:
            if self._user_loop is None:
                self._user_loop = _LoopThread("dbos2resonate-async-workflows")
            return self._user_loop.loop

    async def run_sync(self, pool: concurrent.futures.Executor, context: contextvars.Context,
                       fn: Callable[..., T], *args: Any) -> T:
        """From Resonate's loop: run blocking ``fn`` in ``pool`` inside ``context``."""
        return await self.loop.run_in_executor(pool, context.run, fn, *args)

    async def run_async(self, loop: asyncio.AbstractEventLoop, context: contextvars.Context,
                        make_coro: Callable[[], Awaitable[T]], *, workflow_body: bool = False) -> T:
        """From Resonate's loop: run a user coroutine as a task on ``loop`` inside ``context``.
        A workflow body's task cancelled by ``cancel_background_tasks`` raises :class:`BodyCancelled`;
        any other cancelled task (``asyncio.run`` ending the caller's loop) cancels this call too."""
        done: concurrent.futures.Future[T] = concurrent.futures.Future()

        def start() -> None:
            task = loop.create_task(_as_coroutine(make_coro), context=context)
            task.add_done_callback(lambda t: _transfer(t, done, workflow_body and self._shut_down_on(loop)))

        loop.call_soon_threadsafe(start)
        return await asyncio.wrap_future(done)

    def _shut_down_on(self, loop: asyncio.AbstractEventLoop) -> bool:
        return self._background_shut_down and self._user_loop is not None and loop is self._user_loop.loop

    def cancel_background_tasks(self, completion_timeout: float) -> None:
        """Give the tasks on the shim's background loop ``completion_timeout`` seconds to finish, then
        cancel the rest and wait for them to unwind, as DBOS's ``destroy()`` does to its own background
        loop: an async workflow still running there ends in ERROR (``CancelledError``), not pending."""
        if self._user_loop is None or self._user_loop.loop.is_closed():
            return
        if threading.get_ident() == self._user_loop.thread_id:
            return  # destroy() called from that loop cannot wait on it; its tasks stay pending
        loop = self._user_loop.loop

        async def cancel_all() -> None:
            tasks = [task for task in asyncio.all_tasks(loop) if task is not asyncio.current_task(loop)]
            if tasks and completion_timeout > 0:
                await asyncio.wait(tasks, timeout=completion_timeout)
            self._background_shut_down = True
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        try:
            asyncio.run_coroutine_threadsafe(cancel_all(), loop).result(timeout=completion_timeout + _UNWIND_SECONDS)
        except (concurrent.futures.TimeoutError, RuntimeError):
            pass  # a task that will not unwind stays pending in the store, as after a crash

    def close(self) -> None:
        self.workflow_pool.shutdown(wait=False, cancel_futures=True)
        self.step_pool.shutdown(wait=False, cancel_futures=True)
        self._resonate_loop.stop()
        if self._user_loop is not None:
            self._user_loop.stop()
        with self._waiting_lock:
            stranded, self._waiting = list(self._waiting), set()
        for future in stranded:
            if not future.done():
                future.set_exception(DBOSWorkflowCancelledError(
                    "DBOS was destroyed while this workflow was running; it resumes at the next launch"
                ))


class _BoxedCancelledError(Exception):
    """Carries a ``concurrent.futures.CancelledError`` (an ``Exception``, e.g. a workflow's recorded
    error) across loops: asyncio turns it into ``asyncio.CancelledError``, which ``except Exception``
    in user code would not catch."""

    def __init__(self, error: concurrent.futures.CancelledError) -> None:
        super().__init__()
        self.error = error


async def _boxing_cancelled(coro: Coroutine[Any, Any, T]) -> T:
    try:
        return await coro
    except concurrent.futures.CancelledError as error:
        raise _BoxedCancelledError(error) from None


async def _as_coroutine(make_coro: Callable[[], Awaitable[T]]) -> T:
    return await make_coro()


class BodyCancelled(Exception):
    """``destroy()`` cancelled a task on the shim's background loop (see ``cancel_background_tasks``)."""


def _transfer(task: asyncio.Task[T], done: concurrent.futures.Future[T], body_shut_down: bool) -> None:
    if task.cancelled() and body_shut_down:
        # Not done.cancel(): that would cancel the Resonate side too, which then records nothing.
        done.set_exception(BodyCancelled())
    elif task.cancelled():
        done.cancel()
    elif (exc := task.exception()) is not None:
        done.set_exception(exc)
    else:
        done.set_result(task.result())
