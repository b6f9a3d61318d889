"""Errors raised by the durable store.

Every error names the store file. Open-time errors (:class:`StoreLockedError`,
:class:`StoreCorruptError`) are raised straight to the caller of
:func:`~shim.store.open_store`. Failures while the SDK is talking to the store
(:class:`StoreUnavailableError`) travel through Resonate's ``Network`` seam, so
they also derive from :class:`resonate_base.error.ConnectorError`: the SDK then
treats them as a platform failure (the task is released) instead of crashing.
"""

from __future__ import annotations

from resonate_base.error import ConnectorError

__all__ = [
    "StoreCorruptError",
    "StoreError",
    "StoreLockedError",
    "StoreUnavailableError",
]


class StoreError(Exception):
    """Base class of every store error. ``path`` is the store file, ``reason`` what is wrong."""

    def __init__(self, path: str, reason: str) -> None:
        Exception.__init__(self, path, reason)  # not super(): see StoreUnavailableError's MRO
        self.path = path
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.reason} (store file: {self.path})"


class StoreLockedError(StoreError):
    """The store file is already open, in another process or in this one.

    A store has exactly one owner at a time: two owners would each replay the
    journal into their own memory and then write diverging histories.
    """


class StoreCorruptError(StoreError):
    """The store file cannot be read back as a store.

    Raised for a file that is not SQLite, a damaged SQLite file, a SQLite file
    that is not a store, or a journal entry / snapshot that fails its checksum
    or does not decode. The file is never modified, repaired or deleted.
    """


class StoreUnavailableError(StoreError, ConnectorError):
    """The store can no longer accept requests (closed, or a write failed).

    Once a journal write has failed, the in-memory state is ahead of the file,
    so the connection refuses every later request instead of acknowledging
    work that would be lost on restart. Reopen the store to continue from the
    last durable entry.
    """

    def __init__(self, path: str, reason: str) -> None:
        StoreError.__init__(self, path, reason)
        self.error = self

    def __str__(self) -> str:
        return StoreError.__str__(self)
