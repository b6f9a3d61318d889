"""How a ported case is written: a complete DBOS program (PRELUDE + body + POSTLUDE) and its expected trace.

The case modules (tests/dbos_suite/cases*.py) call :func:`case`; ``CASES`` is the one registry the
tests, the prefetch and the README's report read (through tests/dbos_suite/cases.py, which imports
every case module).
"""

from __future__ import annotations

import textwrap
from typing import Any, NamedTuple

PRELUDE = """\
import asyncio
import inspect
import os
import threading
import time

from dbos import DBOS, DBOSConfig, DBOSConfiguredInstance, SendMessage, SetWorkflowID
from dbos._error import DBOSException, DBOSMaxStepRetriesExceeded

from fixtures.tracing import Counter, describe_error, id_shape

config: DBOSConfig = {"name": "dbos-suite", "system_database_url": os.environ["D2R_DB_URL"]}
DBOS(config=config)
runs = Counter()


def took(start, at_least=None, under=None):
    \"\"\"A duration reduced to what the origin test asserts about it.\"\"\"
    spent = time.monotonic() - start
    return (at_least is None or spent >= at_least) and (under is None or spent < under)
"""

POSTLUDE = """

def main():
    DBOS.launch()
    try:
        result = scenario()
        if inspect.iscoroutine(result):
            result = asyncio.run(result)
        return result
    finally:
        DBOS.destroy()
"""


class Case(NamedTuple):
    origin: str  # "tests/<file>.py::<test>" in dbos-transact-py
    source: str
    expected: Any


CASES: dict[str, Case] = {}


def case(name: str, origin: str, body: str, expected: Any) -> None:
    assert name not in CASES, name
    source = PRELUDE + "\n" + textwrap.dedent(body).strip("\n") + "\n" + POSTLUDE
    CASES[name] = Case(origin, source, expected)
