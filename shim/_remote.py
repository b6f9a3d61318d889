"""A ``DBOSClient``'s own connection to a Resonate server, for code outside the application's
processes (a script, an HTTP handler).

The client runs the same coroutines as the application (shim/_operations.py) on an engine of its
own that never executes a workflow: it joins a group no workflow is routed to, and the workflows it
starts (enqueue, resume, fork) are sent to the application's group, where a worker runs them. It
knows workflows by name only, so its registry answers for any name; the worker that receives the
workflow checks that it is registered there.
"""

from __future__ import annotations

from typing import Any

from shim import _backend
from shim._engine import Engine
from shim._operations import Operations
from shim._runtime import Bridge
from shim._specs import Registry, WorkflowSpec
from shim.errors import ShimUnsupportedError


def _runs_on_a_worker(*_: Any, **__: Any) -> Any:
    raise ShimUnsupportedError("running a workflow in a DBOSClient", "a client only starts workflows on workers.")


class _AnyWorkflow(dict[str, WorkflowSpec]):
    """Every name is a workflow as far as the client knows; workers refuse names they lack."""

    def get(self, name: str, default: Any = None) -> WorkflowSpec:  # type: ignore[override]
        return self[name]

    def __missing__(self, name: str) -> WorkflowSpec:
        return WorkflowSpec(name=name, fn=_runs_on_a_worker, is_async=False)


class _ClientRegistry(Registry):
    def __init__(self) -> None:
        super().__init__()
        self.workflows = _AnyWorkflow()


class RemoteClient:
    """A bridge, a Resonate connection and an engine, from construction until ``close``."""

    def __init__(self, server: _backend.Server) -> None:
        if not server.group:
            raise ShimUnsupportedError(
                "DBOSClient on a Resonate server without the application's name",
                "pass application_name= (the workers' resonate_group, by default their app name) or add "
                "?group=<name> to the resonate+http:// URL, so the workflows it starts reach those workers.",
            )
        self.bridge = Bridge()
        try:
            opened = self.bridge.call(_backend.open_server(server, client=True))
            self.bridge.call(self._start(opened.resonate))
        except BaseException:
            self.bridge.close()
            raise
        engine = Engine(self.bridge, _ClientRegistry(), opened.resonate, shared=True, route=server.group)
        self.operations = Operations(engine)

    @staticmethod
    async def _start(resonate: Any) -> None:
        resonate.start()

    def close(self) -> None:
        try:
            self.bridge.submit(self.operations.engine.resonate.stop()).result(timeout=10)
        finally:
            self.bridge.close()
