"""``DBOSClient``: DBOS's client for code outside the workflows (an HTTP handler, a script).

Where its calls go:

* a Resonate server, when ``system_database_url`` is ``resonate+http://host:port``, or when the
  environment names one (``RESONATE_URL``; shim/_backend.py) and no DBOS is launched in this process
  (a launched one is on that server already): the client has a connection of its own
  (shim/_remote.py) and works from any process, next to workers connected to the same server; the
  workflows it enqueues go to the workers of ``application_name`` (their ``resonate_group``);
* otherwise the ``DBOS`` launched in its own process, whose store it shares (an embedded store has
  one owner process); where none is launched its first call raises ``ShimUnsupportedError``.

Client calls are never durable operations, even when made inside a workflow, as in DBOS (the
client has its own connection).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Generator
from typing import TYPE_CHECKING, Any

from shim import _backend, _events, _messaging, _streams
from shim._client_management import ClientManagement
from shim._client_schedules import ClientSchedules
from shim._handles import WorkflowHandle, WorkflowHandleAsync
from shim._messaging import SendMessage
from shim._remote import RemoteClient
from shim.errors import (
    DBOSException,
    DBOSNonExistentWorkflowError,
    ShimUnsupportedError,
)

if TYPE_CHECKING:
    from shim._operations import Operations

_NO_ENGINE = (
    "on the embedded store a client works in the process that launched DBOS (the store file has one "
    "owner); to reach workflows from another process, run them on a Resonate server and give the client "
    "system_database_url='resonate+http://host:port' (docs/server.md)."
)


class DBOSClient(ClientManagement, ClientSchedules):
    """Drop-in for ``dbos.DBOSClient``: the same constructor; ``send``, ``get_event``,
    ``retrieve_workflow``, ``read_stream``; ``enqueue`` and the management calls
    (shim/_client_management.py); the schedule calls (shim/_client_schedules.py)."""

    def __init__(self, database_url: str | None = None, *, system_database_url: str | None = None,
                 system_database_engine: Any = None, application_database_url: str | None = None,
                 dbos_system_schema: str | None = "dbos", serializer: Any = None,
                 system_database_pool_size: int | None = None,
                 system_database_polling_concurrency: int | None = None, use_listen_notify: bool = False,
                 application_name: str | None = None, lazy: bool = False,
                 retry_connection_errors: bool = True) -> None:
        self.system_database_url = system_database_url or database_url
        self.application_name = application_name
        server = _backend.client_server(self.system_database_url, application_name)
        borrow = server is not None and not _backend.server_url(self.system_database_url) and _launched_here()
        self._remote = RemoteClient(server) if server is not None and not borrow else None

    def _ops(self) -> Operations:
        if self._remote is not None:
            return self._remote.operations
        from shim import _dbos

        try:
            return _dbos._operations()
        except DBOSException:
            raise ShimUnsupportedError("DBOSClient without a launched DBOS in this process", _NO_ENGINE) from None

    def destroy(self) -> None:
        """Close the client's own server connection; a client borrowing the launched DBOS has none."""
        remote, self._remote = self._remote, None
        if remote is not None:
            remote.close()

    def check_connection(self) -> None:
        self._ops()

    async def check_connection_async(self) -> None:
        self._ops()

    # -- messages and events --------------------------------------------------------------------

    def send(self, destination_id: str, message: Any, topic: str | None = None,
             idempotency_key: str | None = None, *, serialization_type: Any = None,
             send_to_forks: bool = False) -> None:
        ops = self._ops()
        ops._block(_messaging.send_coroutine(ops, None, destination_id, message, topic, idempotency_key,
                                             serialization_type))

    async def send_async(self, destination_id: str, message: Any, topic: str | None = None,
                         idempotency_key: str | None = None, *, serialization_type: Any = None,
                         send_to_forks: bool = False) -> None:
        ops = self._ops()
        await ops._await(_messaging.send_coroutine(ops, None, destination_id, message, topic, idempotency_key,
                                                   serialization_type))

    def send_bulk(self, messages: list[SendMessage], *, serialization_type: Any = None,
                  send_to_forks: bool = False) -> None:
        ops = self._ops()
        ops._block(_messaging.send_bulk_coroutine(ops, None, list(messages), serialization_type))

    async def send_bulk_async(self, messages: list[SendMessage], *, serialization_type: Any = None,
                              send_to_forks: bool = False) -> None:
        ops = self._ops()
        await ops._await(_messaging.send_bulk_coroutine(ops, None, list(messages), serialization_type))

    def get_event(self, workflow_id: str, key: str, timeout_seconds: float = 60) -> Any:
        ops = self._ops()
        return ops._block(_events.get_event_coroutine(ops, workflow_id, key, timeout_seconds, in_workflow=False))

    async def get_event_async(self, workflow_id: str, key: str, timeout_seconds: float = 60) -> Any:
        ops = self._ops()
        return await ops._await(
            _events.get_event_coroutine(ops, workflow_id, key, timeout_seconds, in_workflow=False)
        )

    # -- workflows ------------------------------------------------------------------------------

    def retrieve_workflow(self, workflow_id: str) -> WorkflowHandle[Any]:
        ops = self._ops()
        if ops._block(ops.engine.status(workflow_id)) is None:
            raise DBOSNonExistentWorkflowError("target", workflow_id)
        return WorkflowHandle(workflow_id, ops)

    async def retrieve_workflow_async(self, workflow_id: str) -> WorkflowHandleAsync[Any]:
        ops = self._ops()
        if await ops._await(ops.engine.status(workflow_id)) is None:
            raise DBOSNonExistentWorkflowError("target", workflow_id)
        return WorkflowHandleAsync(workflow_id, ops)

    # -- streams --------------------------------------------------------------------------------

    def read_stream(self, workflow_id: str, key: str, *, offset: int = 0,
                    polling_interval_sec: float | None = None,
                    timeout_seconds: float | None = None) -> Generator[Any, Any, None]:
        yield from _streams.read_stream(self._ops(), workflow_id, key, offset=offset,
                                        polling_interval_sec=polling_interval_sec,
                                        timeout_seconds=timeout_seconds, checkpoint=False)

    async def read_stream_async(self, workflow_id: str, key: str, *, offset: int = 0,
                                polling_interval_sec: float | None = None,
                                timeout_seconds: float | None = None) -> AsyncGenerator[Any, None]:
        values = _streams.read_stream_async(self._ops(), workflow_id, key, offset=offset,
                                            polling_interval_sec=polling_interval_sec,
                                            timeout_seconds=timeout_seconds, checkpoint=False)
        try:
            async for value in values:
                yield value
        finally:
            await values.aclose()

    def read_stream_offset(self, workflow_id: str, key: str, offset: int, *,
                           polling_interval_sec: float | None = None, timeout_seconds: float | None = None) -> Any:
        return _streams.read_stream_offset(self._ops(), workflow_id, key, offset,
                                           polling_interval_sec=polling_interval_sec,
                                           timeout_seconds=timeout_seconds, checkpoint=False)

    async def read_stream_offset_async(self, workflow_id: str, key: str, offset: int, *,
                                       polling_interval_sec: float | None = None,
                                       timeout_seconds: float | None = None) -> Any:
        return await _streams.read_stream_offset_async(self._ops(), workflow_id, key, offset,
                                                       polling_interval_sec=polling_interval_sec,
                                                       timeout_seconds=timeout_seconds, checkpoint=False)

    # -- everything else DBOSClient has ---------------------------------------------------------

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)

        def refuse(*_: Any, **__: Any) -> Any:
            raise ShimUnsupportedError(f"DBOSClient.{name}", "the shim does not implement it yet.")

        return refuse


def _launched_here() -> bool:
    """A DBOS launched in this process: given the environment's server, it is connected to it too."""
    from shim import _dbos

    return _dbos._instance is not None and _dbos._instance.launched is not None


__all__ = ["DBOSClient", "SendMessage"]
