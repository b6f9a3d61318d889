"""Where the shim's Resonate keeps its state: the embedded store (the default) or a Resonate server.

Which one, in this order (the first that says something wins):

1. the config: ``resonate_url`` (``http://host:port``), or a ``system_database_url`` of the form
   ``resonate+http://host:port`` (``resonate+https://`` too);
2. the environment, as resonate-sdk reads it: ``RESONATE_URL``, else ``RESONATE_HOST`` with
   ``RESONATE_SCHEME`` (http) and ``RESONATE_PORT`` (8001); ``RESONATE_TOKEN`` is sent as the token;
3. the embedded store named by ``system_database_url`` (``<name>.sqlite`` by default).

The SDK itself is always told explicitly what to use (a ``network`` or a ``url``, and ``env={}``),
so no variable other than those above can move the shim off its store.

On a server, the worker's identity is DBOS's: ``executor_id`` is the Resonate pid (a fresh one
per process when unset, since a pid names one live process) and ``resonate_group`` (default: the
app name) is the group its workflows are routed to. A workflow holds its task under a lease that
the SDK's heartbeat renews every half lease; when a worker dies, the server hands the workflow to
another worker of the group once the lease (``resonate_lease_seconds``, default 15) has lapsed.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from resonate.resonate import Resonate
from resonate.retry import Never

from shim._config import store_path
from shim.errors import DBOSInitializationError
from shim.store import DurableLocalConnection, open_store

# Leases are for detecting dead workers; in-process, a workflow waiting on a long step is not dead.
LOCAL_LEASE = timedelta(days=365)
# On a server, how long a dead worker's workflows wait before another worker takes them over.
DEFAULT_SERVER_LEASE_SECONDS = 15.0
# A blocked parent holds a task slot while its children run, so the slot count bounds nesting depth.
MAX_CONCURRENT_TASKS = 1 << 20
# How often a server-mode Resonate re-registers listeners of pending promises, should an SSE
# stream drop; a wait whose notification was lost ends at most this late.
SERVER_LISTENER_REFRESH_SECONDS = 5.0
# A DBOSClient listens under a group no workflow is routed to, so it is never handed one to run.
CLIENT_GROUP = "dbos2resonate-clients"

_SCHEMES = ("resonate+http://", "resonate+https://")


@dataclass(frozen=True, slots=True)
class EmbeddedStore:
    """The SQLite store file at ``path`` (``None``: in memory)."""

    path: str | None


@dataclass(frozen=True, slots=True)
class Server:
    """A Resonate server at ``url``; this process is worker ``pid`` of ``group``."""

    url: str
    group: str
    pid: str
    lease: timedelta
    token: str | None = None


Backend = EmbeddedStore | Server


def server_url(value: str | None) -> str | None:
    """``http(s)://...`` from a ``resonate+http(s)://`` URL; ``None`` for any other URL."""
    if value and value.startswith(_SCHEMES):
        return value.removeprefix("resonate+")
    return None


def env_url(env: Mapping[str, str]) -> str | None:
    """The server the environment names, read as resonate-sdk reads it."""
    if env.get("RESONATE_URL"):
        return env["RESONATE_URL"]
    host = env.get("RESONATE_HOST")
    if not host:
        return None
    return f"{env.get('RESONATE_SCHEME', 'http')}://{host}:{env.get('RESONATE_PORT', '8001')}"


def select(config: Mapping[str, Any], env: Mapping[str, str] | None = None) -> Backend:
    """The backend a ``DBOS(config=...)`` runs on (precedence in the module docstring)."""
    environ = os.environ if env is None else env
    url = config.get("resonate_url") or server_url(config.get("system_database_url")) or env_url(environ)
    if not url:
        return EmbeddedStore(store_path(dict(config)))
    lease = config.get("resonate_lease_seconds") or DEFAULT_SERVER_LEASE_SECONDS
    if not isinstance(lease, (int, float)) or lease <= 0:
        raise DBOSInitializationError(f"resonate_lease_seconds must be a positive number, not {lease!r}")
    return Server(
        url=_without_query(url),
        group=config.get("resonate_group") or config["name"],
        pid=config.get("executor_id") or f"{config['name']}-{uuid.uuid4().hex[:12]}",
        lease=timedelta(seconds=float(lease)),
        token=environ.get("RESONATE_TOKEN"),
    )


def client_server(system_database_url: str | None, application_name: str | None,
                  env: Mapping[str, str] | None = None) -> Server | None:
    """The server a ``DBOSClient`` talks to, or ``None`` when it names none (it then borrows the
    launched DBOS of its process). Workflows it starts go to ``application_name``'s workers (or a
    ``?group=`` in the URL)."""
    environ = os.environ if env is None else env
    url = server_url(system_database_url) or env_url(environ)
    if url is None:
        return None
    group = parse_qs(urlsplit(url).query).get("group", [application_name or ""])[0]
    return Server(url=_without_query(url), group=group, pid=f"client-{uuid.uuid4().hex}",
                  lease=timedelta(seconds=DEFAULT_SERVER_LEASE_SECONDS), token=environ.get("RESONATE_TOKEN"))


def _without_query(url: str) -> str:
    return url.split("?", 1)[0]


# -- opening ----------------------------------------------------------------------------------


@dataclass(slots=True)
class Opened:
    """A Resonate instance (not started) and what must be closed after it stops."""

    resonate: Resonate
    store: DurableLocalConnection | None = None

    @property
    def shared(self) -> bool:
        """Whether other processes reach the same state (a server) or this one owns it."""
        return self.store is None

    def close(self) -> None:
        if self.store is not None:
            self.store.close()

    async def aclose(self) -> None:
        if self.store is not None:
            await self.store.aclose()


async def open_embedded(backend: EmbeddedStore) -> Opened:
    """Resonate on the embedded store: a SQLite file that survives crashes, or memory."""
    store = open_store(backend.path)
    resonate = Resonate(
        network=store,
        retry_policy=Never(),
        ttl=LOCAL_LEASE,
        max_concurrent_tasks=MAX_CONCURRENT_TASKS,
        subscription_refresh_secs=0,
        env={},
        autostart=False,
    )
    return Opened(resonate, store)


async def open_server(backend: Server, *, client: bool = False) -> Opened:
    """Resonate on a server. A worker joins ``backend.group``; a client joins a group of its own
    and routes the workflows it starts to ``backend.group``."""
    resonate = Resonate(
        url=backend.url,
        group=CLIENT_GROUP if client else backend.group,
        pid=backend.pid,
        token=backend.token,
        retry_policy=Never(),
        ttl=backend.lease,
        max_concurrent_tasks=MAX_CONCURRENT_TASKS,
        subscription_refresh_secs=SERVER_LISTENER_REFRESH_SECONDS,
        env={},
        autostart=False,
    )
    return Opened(resonate)


async def open_backend(backend: Backend) -> Opened:
    if isinstance(backend, Server):
        return await open_server(backend)
    return await open_embedded(backend)
