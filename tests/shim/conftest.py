from __future__ import annotations

from collections.abc import Iterator

import pytest

from shim import DBOS


@pytest.fixture
def dbos() -> Iterator[type[DBOS]]:
    """A launched, in-memory shim for one test; destroyed afterwards so tests stay independent."""
    DBOS(config={"name": "shim-tests", "system_database_url": "sqlite:///:memory:"})
    DBOS.launch()
    yield DBOS
    DBOS.destroy()
