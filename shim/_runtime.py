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
        return self.submit(coro).result()

    async def acall(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` on Resonate's loop from any other event loop."""
        return await asyncio.wrap_future(self.submit(coro))

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
                        make_coro: Callable[[], Awaitable[T]]) -> T:
        """From Resonate's loop: run a user coroutine as a task on ``loop`` inside ``context``."""
        done: concurrent.futures.Future[T] = concurrent.futures.Future()

        def start() -> None:
            task = loop.create_task(_as_coroutine(make_coro), context=context)
            task.add_done_callback(lambda t: _transfer(t, done))

        loop.call_soon_threadsafe(start)
        return await asyncio.wrap_future(done)

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


async def _as_coroutine(make_coro: Callable[[], Awaitable[T]]) -> T:
    return await make_coro()


def _transfer(task: asyncio.Task[T], done: concurrent.futures.Future[T]) -> None:
    if task.cancelled():
        done.cancel()
    elif (exc := task.exception()) is not None:
        done.set_exception(exc)
    else:
        done.set_result(task.result())
