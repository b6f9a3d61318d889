"""``DBOSClient``: DBOS's client for code outside the workflows (an HTTP handler, a script).

In this slice a client shares the engine of the ``DBOS`` launched in the same process: it reaches
the same Resonate store, so it can send messages, read events and streams, and look workflows up.
A client in another process needs the durable store to be reachable from that process (pending;
see docs/messaging.md). Until then a client used where no DBOS is launched raises
``ShimUnsupportedError`` on its first call. Client calls are never durable operations, even when
made inside a workflow, as in DBOS (the client has its own connection).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Generator
from typing import TYPE_CHECKING, Any

from shim import _events, _messaging, _streams
from shim._client_management import ClientManagement
from shim._handles import WorkflowHandle, WorkflowHandleAsync
from shim._messaging import SendMessage
from shim.errors import DBOSException, DBOSNonExistentWorkflowError, ShimUnsupportedError

if TYPE_CHECKING:
    from shim._operations import Operations

_NO_ENGINE = (
    "in this version a client works in the process that launched DBOS (it shares its Resonate store); "
    "a client in another process needs the durable store to be shared across processes, which is pending."
)


class DBOSClient(ClientManagement):
    """Drop-in for ``dbos.DBOSClient``: the same constructor; ``send``, ``get_event``,
    ``retrieve_workflow``, ``read_stream``; ``enqueue`` and the management calls
    (shim/_client_management.py)."""

    def __init__(self, database_url: str | None = None, *, system_database_url: str | None = None,
                 system_database_engine: Any = None, application_database_url: str | None = None,
                 dbos_system_schema: str | None = "dbos", serializer: Any = None,
                 system_database_pool_size: int | None = None,
                 system_database_polling_concurrency: int | None = None, use_listen_notify: bool = False,
                 application_name: str | None = None, lazy: bool = False,
                 retry_connection_errors: bool = True) -> None:
        # The URLs name DBOS's system database; the shim keeps its state in Resonate's store, so
        # they are kept for reference only.
        self.system_database_url = system_database_url or database_url
        self.application_name = application_name

    def _ops(self) -> Operations:
        from shim import _dbos

        try:
            return _dbos._operations()
        except DBOSException:
            raise ShimUnsupportedError("DBOSClient without a launched DBOS in this process", _NO_ENGINE) from None

    def destroy(self) -> None:
        """Nothing to close: the client borrows the launched DBOS's engine."""

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


__all__ = ["DBOSClient", "SendMessage"]
