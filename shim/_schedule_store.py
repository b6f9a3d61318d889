"""DBOS's ``workflow_schedules`` table, kept as a chain of durable promises in the Resonate store
(docs/scheduling.md, "Where schedules are stored")."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from resonate.error import ResonateError
from resonate.types import Value

from shim import _serialization as ser
from shim._records import get_record

if TYPE_CHECKING:
    from resonate.resonate import Resonate
    from resonate.types import PromiseRecord

#: Promise ids of the schedule table's versions: ``dbos2resonate-schedules/1``, ``/2``, ...
STORE_PREFIX = "dbos2resonate-schedules/"
STORE_TAGS = {"dbos2resonate": "schedules"}
# A store entry must not time out; target-less promises never do locally, this covers a server.
_STORE_LIFETIME_MS = 100 * 365 * 24 * 3600 * 1000


class ScheduleStore:
    """DBOS's ``workflow_schedules`` table, kept as durable promises in the Resonate store.

    Version n of the whole table is the promise ``dbos2resonate-schedules/<n>``; every change
    creates version n+1, which makes the latest version the table. Creating a promise is atomic
    (an existing id is returned, never overwritten), and each version names its writer, so two
    writers racing for n+1 are told apart and the loser re-reads and retries: changes are atomic
    and never lost, with only ``promises.create`` and ``promises.get``. Versions are contiguous,
    so the latest is found with O(log n) reads on open and one read per refresh afterwards.

    Every method runs on Resonate's event loop.
    """

    def __init__(self, resonate: Resonate) -> None:
        self.resonate = resonate
        self.version = 0
        self.table: dict[str, dict[str, Any]] = {}

    async def _entry(self, n: int) -> PromiseRecord | None:
        return await get_record(self.resonate, f"{STORE_PREFIX}{n}")

    async def read(self) -> dict[str, dict[str, Any]]:
        """The latest table (rows by schedule name, context still serialized)."""
        n = self.version
        record = await self._entry(n + 1)
        if record is None:
            return self.table
        # Gallop past the cached version, then bisect: versions 1..N all exist.
        low, high, step = n + 1, None, 1
        latest = record
        while high is None:
            probe = low + step
            found = await self._entry(probe)
            if found is None:
                high = probe
            else:
                low, latest, step = probe, found, step * 2
        while high - low > 1:
            middle = (low + high) // 2
            found = await self._entry(middle)
            if found is None:
                high = middle
            else:
                low, latest = middle, found
        self.version, self.table = low, ser.loads(latest.param.data["table"])
        return self.table

    async def update(self, change: Callable[[dict[str, dict[str, Any]]], Any]) -> Any:
        """Apply ``change`` (mutating a copy of the table; it may raise) as one new version."""
        while True:
            current = await self.read()
            table = {name: dict(row) for name, row in current.items()}
            outcome = change(table)
            if table == current:
                return outcome  # nothing to write
            writer = uuid.uuid4().hex
            n = self.version + 1
            data = {"writer": writer, "table": ser.dumps(table)}
            timeout_at = int(time.time() * 1000) + _STORE_LIFETIME_MS
            try:
                record = await self.resonate.promises.create(f"{STORE_PREFIX}{n}", timeout_at, Value(data=data),
                                                             dict(STORE_TAGS))
            except ResonateError:
                record = None  # a server refuses an existing id: someone else wrote version n
            if record is not None and isinstance(record.param.data, dict) and record.param.data.get("writer") == writer:
                self.version, self.table = n, table
                return outcome
            # Lost the race for version n: read what won and apply the change again on top of it.
