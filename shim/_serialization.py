"""Values cross Resonate's JSON boundary as base64 pickles, so they come back as the same Python
objects DBOS (which pickles too) would return: tuples stay tuples, dataclasses stay dataclasses."""

from __future__ import annotations

import base64
import pickle
from typing import Any


def dumps(value: Any) -> str:
    return base64.b64encode(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)).decode("ascii")


def loads(text: str) -> Any:
    return pickle.loads(base64.b64decode(text))  # noqa: S301 - only the shim's own store is read


class StoredError(Exception):
    """An exception on its way through Resonate's store, pickled by the shim as DBOS pickles it.

    Resonate's codec would turn an exception it cannot rebuild into its own ``ApplicationError``;
    DBOS instead raises whatever rebuilding raises. Carrying our own pickle keeps DBOS's behaviour.
    """

    def __init__(self, payload: str, summary: str) -> None:
        super().__init__(payload, summary)
        self.payload = payload
        self.summary = summary

    def __str__(self) -> str:
        return self.summary

    def rebuild(self) -> BaseException:
        """The stored exception; what unpickling raises if it cannot be rebuilt (as in DBOS)."""
        try:
            return loads(self.payload)
        except Exception as exc:  # noqa: BLE001 - DBOS surfaces exactly this error
            return exc


def to_storable(exc: BaseException) -> BaseException:
    """``exc`` wrapped for the store; unpicklable exceptions go as they are (Resonate keeps their message)."""
    try:
        return StoredError(dumps(exc), f"{type(exc).__name__}: {exc}")
    except Exception:  # noqa: BLE001 - pickling arbitrary user objects can fail in any way
        return exc


def rebuilt(exc: BaseException) -> BaseException:
    return exc.rebuild() if isinstance(exc, StoredError) else exc
