"""A durable embedded store for Resonate: local mode, journaled to one SQLite file.

    from resonate.resonate import Resonate
    from shim.store import open_store

    conn = open_store("app.resonate.db")      # None or ":memory:" -> in memory
    resonate = Resonate(network=conn)         # inside a running event loop
    resonate.register(my_workflow)            # register before yielding to the loop
    ...
    await resonate.stop()
    conn.close()                              # snapshot + release the file lock

Every state transition of Resonate's in-process server is written to the file
before the SDK sees its answer, and replayed when the file is opened again, so
workflows survive ``kill -9`` and resume on the next open. See docs/store.md.

:mod:`shim.store.server` serves the same file to many worker processes over
Resonate's HTTP + SSE protocol (``dbos2resonate serve``; see docs/server.md).

This package imports nothing from the rest of ``shim``.
"""

from shim.store._connection import (
    DEFAULT_CHECKPOINT_EVERY,
    DEFAULT_COMPACT_AFTER,
    DEFAULT_TICK_INTERVAL,
    DurableLocalConnection,
    open_store,
)
from shim.store._errors import (
    StoreCorruptError,
    StoreError,
    StoreLockedError,
    StoreUnavailableError,
)
from shim.store._journal import Synchronous

__all__ = [
    "DEFAULT_CHECKPOINT_EVERY",
    "DEFAULT_COMPACT_AFTER",
    "DEFAULT_TICK_INTERVAL",
    "DurableLocalConnection",
    "StoreCorruptError",
    "StoreError",
    "StoreLockedError",
    "StoreUnavailableError",
    "Synchronous",
    "open_store",
]
