"""A Resonate-protocol server on the durable store (``dbos2resonate serve``).

resonate-sdk's remote mode speaks plain HTTP: ``POST /`` with the JSON request
envelope (``resonate/connections/http.py``) and ``GET /poll/{group}/{pid}``, a
Server-Sent Events stream of ``execute`` / ``unblock`` messages
(``resonate/connections/sse.py``). This app answers both from the same
journaled state machine the embedded store uses
(:class:`~shim.store._journaled.JournaledState`), under the served policy:
task leases lapse unless heartbeated, so the work of a worker that died is
re-delivered to another member of its group, and schedules fire.

    store = open_served_store("app.sqlite")
    server = ProtocolServer(store)
    await server.start()            # then serve server.app (aiohttp)
    ...
    await server.stop(); store.close()

See docs/server.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable
from typing import Any

import msgspec
from aiohttp import web
from resonate.connections.local import OutgoingMessage, unwrap_request_envelope
from resonate.error import DecodingError, ServerError
from resonate.timing import Clock, Sleeper, now_ms, sleep
from resonate_base import PROTOCOL_VERSION

from shim.store._connection import (
    DEFAULT_CHECKPOINT_EVERY,
    DEFAULT_COMPACT_AFTER,
    DEFAULT_TICK_INTERVAL,
)
from shim.store._delivery import Delivery, Listener
from shim.store._errors import StoreUnavailableError
from shim.store._journaled import JournaledState, sweep_forever
from shim.store._state import SERVED

__all__ = ["KEEPALIVE_SECONDS", "JournaledState", "ProtocolServer", "open_served_store", "serve"]

logger = logging.getLogger(__name__)

#: An SSE comment is written to an idle stream this often, so a listener
#: whose connection died unnoticed is found and its messages re-routed.
KEEPALIVE_SECONDS = 15.0

_SSE_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
_KEEPALIVE = b": keepalive\n\n"


def open_served_store(path: str | os.PathLike[str] | None) -> JournaledState:
    """Open (creating if missing) and lock the store at ``path`` to serve it; ``None`` = in memory.

    Raises the embedded store's errors: ``StoreLockedError``, ``StoreCorruptError``.
    """
    return JournaledState(
        path, compact_after=DEFAULT_COMPACT_AFTER, checkpoint_every=DEFAULT_CHECKPOINT_EVERY
    )


class ProtocolServer:
    """The aiohttp app (:attr:`app`) serving one journaled store to many workers."""

    def __init__(
        self,
        store: JournaledState,
        *,
        tick_interval: float = DEFAULT_TICK_INTERVAL,
        clock: Clock = now_ms,
        sleeper: Sleeper = sleep,
        keepalive: float = KEEPALIVE_SECONDS,
    ) -> None:
        self.store = store
        self._clock = clock
        self._sleeper = sleeper
        self._tick_interval = tick_interval
        self._keepalive = keepalive
        self.delivery = Delivery(store.state.deliverable)
        self._sweep: asyncio.Task[None] | None = None
        self.app = web.Application()
        self.app.router.add_post("/", self._handle_request)
        self.app.router.add_get("/poll/{group}/{pid}", self._handle_poll)
        self.app.router.add_get("/listeners/{group}", self._handle_listeners)

    async def start(self) -> None:
        """Take the store over for serving and start the deadline sweep."""
        now = self._clock()
        self.store.set_policy(now, SERVED)
        # Held under an embedded owner's never-lapsing lease: that owner is
        # gone (we hold the lock). Leases that lapse are left to lapse: their
        # worker may still be alive, and will heartbeat.
        self.store.release_orphans(now, unbounded_only=True)
        self.delivery.deliver(
            [
                OutgoingMessage(address=address, message=message)
                for address, message in self.store.state.execute_messages(now)
            ]
        )
        self._sweep = asyncio.create_task(self._run_sweep())

    async def stop(self) -> None:
        sweep, self._sweep = self._sweep, None
        if sweep is not None:
            sweep.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweep

    def tick(self) -> None:
        """Run one deadline sweep now (what the sweep task does every tick)."""
        self.delivery.deliver(self.store.tick(self._clock()))

    async def _run_sweep(self) -> None:
        await sweep_forever(
            self.store, self._clock, self._sleeper, self._tick_interval, self.delivery.deliver
        )

    # -- POST / ----------------------------------------------------------------

    async def _handle_request(self, request: web.Request) -> web.Response:
        body = await request.text()
        try:
            applied = self.store.apply(self._clock(), body)
        except DecodingError as exc:
            return _error(body, 400, str(exc))
        except ServerError as exc:
            return _error(body, exc.code, exc.message)
        except StoreUnavailableError as exc:
            return _error(body, 503, str(exc))
        except Exception as exc:  # a request must never take the server down
            logger.exception("server: request failed: %.200s", body)
            return _error(body, 500, f"{type(exc).__name__}: {exc}")
        self.delivery.deliver(applied.outgoing)
        status = applied.response.get("status")
        # The SDK reads the status from the envelope; HTTP mirrors an error for curl and proxies.
        http_status = status if isinstance(status, int) and status >= 400 else 200
        return web.Response(text=applied.envelope, status=http_status, content_type="application/json")

    # -- GET /listeners/{group} (not in the Resonate protocol) -------------------

    async def _handle_listeners(self, request: web.Request) -> web.Response:
        """The pids with an open stream in a group: lets an operator or a test see who can take work."""
        pids = self.delivery.listening(request.match_info["group"])
        return web.Response(body=msgspec.json.encode({"pids": pids}), content_type="application/json")

    # -- GET /poll/{group}/{pid} -----------------------------------------------

    async def _handle_poll(self, request: web.Request) -> web.StreamResponse:
        group, pid = request.match_info["group"], request.match_info["pid"]
        response = web.StreamResponse(headers=_SSE_HEADERS)
        await response.prepare(request)
        listener = self.delivery.connect(group, pid)
        unsent: list[str] = []
        try:
            await self._stream(listener, response, unsent)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.delivery.disconnect(listener, unsent)
        return response

    async def _stream(
        self, listener: Listener, response: web.StreamResponse, unsent: list[str]
    ) -> None:
        while True:
            try:
                text = await asyncio.wait_for(listener.queue.get(), self._keepalive)
            except TimeoutError:
                await response.write(_KEEPALIVE)
                continue
            unsent.append(text)
            await response.write(b"data: " + text.encode("utf-8") + b"\n\n")
            unsent.clear()


def _error(body: str, status: int, message: str) -> web.Response:
    """The SDK's error envelope, echoing the request's kind and corrId so it is read as an answer."""
    kind: Any = ""
    corr_id: Any = None
    with contextlib.suppress(msgspec.DecodeError):
        flat = unwrap_request_envelope(msgspec.json.decode(body))
        if isinstance(flat, dict):
            kind, corr_id = flat.get("kind", ""), flat.get("corrId")
    envelope = {
        "kind": kind,
        "head": {"corrId": corr_id, "status": status, "version": PROTOCOL_VERSION},
        "data": {"error": message},
    }
    return web.Response(
        body=msgspec.json.encode(envelope), status=status, content_type="application/json"
    )


async def serve(
    server: ProtocolServer,
    host: str,
    port: int,
    stopping: asyncio.Event,
    announce: Callable[[str], None],
) -> None:
    """Serve ``server`` on ``host:port`` (0 = any free port) until ``stopping`` is set.

    ``announce`` gets the URL actually listened on, once the socket is bound.
    The store is left open: the caller closes it (snapshot + unlock).
    """
    # Cancel a handler whose client went away, so a worker killed mid-stream
    # stops being a member of its group at once.
    runner = web.AppRunner(server.app, handler_cancellation=True)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        await server.start()
        bound_host, bound_port = runner.addresses[0][:2]
        announce(f"http://{_url_host(host, bound_host)}:{bound_port}")
        await stopping.wait()
    finally:
        await server.stop()
        await runner.cleanup()


def _url_host(requested: str, bound: str) -> str:
    shown = requested or bound
    return f"[{shown}]" if ":" in shown else shown
