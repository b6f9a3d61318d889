"""The SQLite file behind a durable store: lock, schema, journal, snapshot.

Layout (``format`` 1)::

    store_meta(key TEXT PRIMARY KEY, value TEXT)        -- magic, format, owner
    store_journal(seq INTEGER PRIMARY KEY, at, op, body, crc)
    store_snapshot(id = 1, seq, data, crc, sdk)          -- at most one row

``store_journal`` holds every state transition after the snapshot, in order:
``seq`` is contiguous, ``at`` is the clock reading (ms) the transition ran
with, ``op`` says what it was, ``body`` is the request exactly as the SDK sent
it, and ``crc`` is a CRC-32 over all of them. The snapshot is the whole state
as of ``seq``; taking one deletes the entries it covers in the same
transaction.

The file is locked with ``flock`` on the database file itself for as long as
the store is open, so a second owner (another process, or another connection
in this process) is refused instead of writing a diverging history.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import threading
import zlib
from collections.abc import Iterator
from typing import Literal

from shim.store._errors import StoreCorruptError, StoreError, StoreLockedError

try:  # POSIX only; see docs/store.md
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["OP_APPLY", "OP_POLICY", "OP_RAISED", "OP_TICK", "Journal", "Synchronous"]

#: ``op`` values. ``OP_RAISED`` is or-ed in when the transition raised.
OP_APPLY = 0
OP_TICK = 2
OP_RAISED = 1
#: The state's policy changed (embedded <-> served); ``body`` is the new policy as JSON.
OP_POLICY = 4

MAGIC = "dbos2resonate-store"
FORMAT = 1

type Synchronous = Literal["NORMAL", "FULL"]

_SQLITE_HEADER = b"SQLite format 3\x00"

_SCHEMA = (
    "CREATE TABLE store_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE store_journal(seq INTEGER PRIMARY KEY, at INTEGER NOT NULL,"
    " op INTEGER NOT NULL, body BLOB NOT NULL, crc INTEGER NOT NULL)",
    "CREATE TABLE store_snapshot(id INTEGER PRIMARY KEY CHECK (id = 1),"
    " seq INTEGER NOT NULL, data BLOB NOT NULL, crc INTEGER NOT NULL, sdk TEXT NOT NULL)",
)
_TABLES = {"store_meta", "store_journal", "store_snapshot"}

_INSERT = "INSERT INTO store_journal(seq, at, op, body, crc) VALUES (?, ?, ?, ?, ?)"

# Stores open in this process, by (st_dev, st_ino). flock alone would also
# refuse a second open here, but checking first avoids opening a second file
# descriptor on a database SQLite already has open: closing it would drop the
# POSIX locks SQLite holds on that file.
_open_files: dict[tuple[int, int], str] = {}
_open_lock = threading.Lock()


def entry_crc(seq: int, at: int, op: int, body: bytes) -> int:
    return zlib.crc32(body, zlib.crc32(b"%d %d %d" % (seq, at, op)))


def snapshot_crc(seq: int, data: bytes) -> int:
    return zlib.crc32(data, zlib.crc32(b"snapshot %d" % seq))


class Journal:
    """An open, locked store file. Not thread-safe: use from one thread."""

    def __init__(
        self,
        path: str,
        db: sqlite3.Connection,
        fd: int,
        key: tuple[int, int],
        seq: int,
        synchronous: Synchronous,
    ) -> None:
        self.path = path
        self._db = db
        self._fd = fd
        self._key = key
        #: Last journal sequence number written (or covered by the snapshot).
        self.seq = seq
        self._closed = False
        self._pending = False
        self._claimed = False
        self._synchronous = synchronous
        #: resonate-sdk version recorded by the previous owner ("" if none).
        self.previous_sdk = ""

    # -- opening -------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        synchronous: Synchronous = "NORMAL",
        verify: bool = True,
    ) -> Journal:
        """Open (creating if missing) and lock the store file at ``path``.

        Nothing is written to an existing file until :meth:`claim`; the
        resonate-sdk version recorded by the previous owner is left in
        :attr:`previous_sdk`.
        """
        if synchronous not in ("NORMAL", "FULL"):
            msg = f"synchronous must be 'NORMAL' or 'FULL', not {synchronous!r}"
            raise ValueError(msg)
        shown = os.path.abspath(os.fspath(path))
        if fcntl is None:  # pragma: no cover - Windows
            raise StoreError(shown, "the durable store needs POSIX file locks (fcntl)")

        with _open_lock:
            with contextlib.suppress(OSError):
                st = os.stat(shown)
                if (st.st_dev, st.st_ino) in _open_files:
                    raise StoreLockedError(
                        shown, "the store is already open in this process; close it first"
                    )
            try:
                fd = os.open(shown, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError as exc:
                raise StoreError(shown, f"cannot open the store file: {exc.strerror}") from exc
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                owner = _read_owner(shown)
                who = f" ({owner})" if owner else ""
                raise StoreLockedError(
                    shown, f"the store is locked by another process{who}"
                ) from exc
            st = os.fstat(fd)
            key = (st.st_dev, st.st_ino)
            db: sqlite3.Connection | None = None
            try:
                _check_header(shown, fd, st.st_size)
                db = sqlite3.connect(
                    shown, isolation_level=None, check_same_thread=False, timeout=2.0
                )
                # Until claim(), nothing is written to an existing file: not even
                # the checkpoint SQLite does when its last connection closes.
                db.setconfig(sqlite3.SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, True)
                seq, previous_sdk = _prepare(shown, db, verify=verify and st.st_size > 0)
            except BaseException:
                if db is not None:
                    db.close()
                os.close(fd)  # after db.close(): see _open_files
                raise
            _open_files[key] = shown
        journal = cls(shown, db, fd, key, seq, synchronous)
        journal.previous_sdk = previous_sdk
        return journal

    def claim(self, sdk_version: str) -> None:
        """Take ownership after a successful replay: the first write to the file.

        Records who holds the store (shown to a process that finds it locked)
        and which resonate-sdk writes its journal from here on.
        """
        db = self._db
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(f"PRAGMA synchronous={self._synchronous}")
            db.executemany(
                "INSERT OR REPLACE INTO store_meta(key, value) VALUES (?, ?)",
                [("owner", f"pid {os.getpid()} on {socket.gethostname()}"), ("sdk", sdk_version)],
            )
            db.setconfig(sqlite3.SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, False)
        except _DAMAGE as exc:
            raise _translate(self.path, exc, "claiming the store") from exc
        self._claimed = True

    # -- reading -------------------------------------------------------------

    def read_snapshot(self) -> tuple[int, bytes, str] | None:
        """``(seq, data, sdk_version)`` of the snapshot, checksum verified, or ``None``."""
        with self._reading("the snapshot"):
            row = self._db.execute(
                "SELECT seq, data, crc, sdk FROM store_snapshot WHERE id = 1"
            ).fetchone()
        if row is None:
            return None
        seq, data, crc, sdk = row
        if not isinstance(seq, int) or not isinstance(data, bytes) or not isinstance(crc, int):
            raise StoreCorruptError(self.path, "the snapshot row has wrong column types")
        if snapshot_crc(seq, data) != crc:
            raise StoreCorruptError(self.path, f"the snapshot (at entry {seq}) fails its checksum")
        return seq, data, str(sdk)

    def entries(self, after: int) -> Iterator[tuple[int, int, int, bytes]]:
        """Journal entries after ``after`` as ``(seq, at, op, body)``, each verified."""
        expected = after + 1
        with self._reading("the journal"):
            cursor = self._db.execute(
                "SELECT seq, at, op, body, crc FROM store_journal ORDER BY seq"
            )
            for seq, at, op, body, crc in cursor:
                if not (
                    isinstance(seq, int)
                    and isinstance(at, int)
                    and isinstance(op, int)
                    and isinstance(body, bytes)
                    and isinstance(crc, int)
                ):
                    raise StoreCorruptError(
                        self.path, f"journal entry {seq!r} has wrong column types"
                    )
                if seq != expected:
                    what = (
                        f"journal entries {expected}..{seq - 1} are missing"
                        if seq > expected
                        else f"journal entry {seq} is already covered by the snapshot"
                    )
                    raise StoreCorruptError(self.path, what)
                if entry_crc(seq, at, op, body) != crc:
                    raise StoreCorruptError(self.path, f"journal entry {seq} fails its checksum")
                expected += 1
                yield seq, at, op, body

    @contextlib.contextmanager
    def _reading(self, what: str) -> Iterator[None]:
        try:
            yield
        except _DAMAGE as exc:
            raise _translate(self.path, exc, f"reading {what}") from exc

    # -- writing -------------------------------------------------------------

    def append(self, at: int, op: int, body: bytes, *, commit: bool = True) -> None:
        """Append one entry; with ``commit``, make it and every entry before it durable.

        Without ``commit`` the entry waits in an open transaction for the next
        committing append (or :meth:`flush`): a crash loses it, and only it and
        the other uncommitted entries after the last commit. Raises
        ``sqlite3.Error``.
        """
        seq = self.seq + 1
        row = (seq, at, op, body, entry_crc(seq, at, op, body))
        db = self._db
        if self._pending:
            db.execute(_INSERT, row)
            if commit:
                db.execute("COMMIT")
                self._pending = False
        elif commit:
            db.execute(_INSERT, row)  # autocommit: its own transaction
        else:
            db.execute("BEGIN IMMEDIATE")
            self._pending = True
            db.execute(_INSERT, row)
        self.seq = seq

    def flush(self) -> None:
        """Commit entries appended without ``commit``. Raises ``sqlite3.Error``."""
        if self._pending:
            self._db.execute("COMMIT")
            self._pending = False

    @property
    def pending(self) -> bool:
        """Whether appended entries are waiting for a commit."""
        return self._pending

    def write_snapshot(self, data: bytes, sdk_version: str) -> None:
        """Store ``data`` as the state as of the last entry; drop the entries it covers."""
        self.flush()
        seq = self.seq
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute(
                "INSERT OR REPLACE INTO store_snapshot(id, seq, data, crc, sdk)"
                " VALUES (1, ?, ?, ?, ?)",
                (seq, data, snapshot_crc(seq, data), sdk_version),
            )
            db.execute("DELETE FROM store_journal WHERE seq <= ?", (seq,))
            db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if self._claimed:
                with contextlib.suppress(sqlite3.Error):
                    self.flush()
                    self._db.execute("DELETE FROM store_meta WHERE key = 'owner'")
            self._db.close()
        finally:
            with _open_lock:
                _open_files.pop(self._key, None)
                os.close(self._fd)  # releases the flock


def _check_header(path: str, fd: int, size: int) -> None:
    if size == 0:
        return
    head = os.pread(fd, 100, 0)
    if not head.startswith(_SQLITE_HEADER):
        raise StoreCorruptError(path, f"not a SQLite database (the file starts with {head[:16]!r})")
    if len(head) < 100:
        raise StoreCorruptError(path, f"truncated SQLite file ({size} bytes)")


def _prepare(path: str, db: sqlite3.Connection, *, verify: bool) -> tuple[int, str]:
    """Validate (or, for an empty file, create) the schema, without writing otherwise.

    Returns the last sequence number and the resonate-sdk version recorded by
    the previous owner.
    """
    try:
        if verify:
            rows = db.execute("PRAGMA quick_check").fetchall()
            if rows != [("ok",)]:
                problems = "; ".join(str(r[0]) for r in rows[:3])
                raise StoreCorruptError(path, f"damaged SQLite file: {problems}")
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not tables:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("BEGIN IMMEDIATE")
            for statement in _SCHEMA:
                db.execute(statement)
            db.executemany(
                "INSERT INTO store_meta(key, value) VALUES (?, ?)",
                [("magic", MAGIC), ("format", str(FORMAT))],
            )
            db.execute("COMMIT")
        elif not tables.issuperset(_TABLES):
            listed = ", ".join(sorted(tables)[:8])
            raise StoreCorruptError(
                path, f"a SQLite database, but not a dbos2resonate store (tables: {listed})"
            )
        meta = dict(db.execute("SELECT key, value FROM store_meta").fetchall())
        if meta.get("magic") != MAGIC:
            raise StoreCorruptError(path, "a SQLite database, but not a dbos2resonate store")
        fmt = meta.get("format", "")
        if fmt != str(FORMAT):
            raise StoreCorruptError(
                path, f"store format {fmt!r} is not supported (this version reads {FORMAT})"
            )
        last = db.execute("SELECT max(seq) FROM store_journal").fetchone()[0]
        if last is None:
            row = db.execute("SELECT seq FROM store_snapshot WHERE id = 1").fetchone()
            last = row[0] if row is not None else 0
        if not isinstance(last, int):
            raise StoreCorruptError(path, f"journal sequence number {last!r} is not an integer")
        return last, str(meta.get("sdk", ""))
    except _DAMAGE as exc:
        raise _translate(path, exc, "opening") from exc


#: What reading a damaged file can raise: SQLite errors, and undecodable text
#: (a garbled error message or TEXT value fails UTF-8 decoding in sqlite3).
_DAMAGE = (sqlite3.Error, ValueError, OverflowError)


def _translate(path: str, exc: Exception, doing: str) -> StoreError:
    if not isinstance(exc, sqlite3.Error):
        return StoreCorruptError(
            path, f"damaged SQLite file while {doing}: {type(exc).__name__}: {exc}"
        )
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return StoreLockedError(path, f"the SQLite file is locked by another program ({exc})")
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or (type(exc) is sqlite3.DatabaseError):
        return StoreCorruptError(path, f"damaged SQLite file while {doing}: {exc}")
    return StoreError(path, f"SQLite error while {doing}: {exc}")


def _read_owner(path: str) -> str | None:
    """Best effort: who holds the store (read-only peek at ``store_meta``)."""
    try:
        uri = "file:" + path.replace("?", "%3f").replace("#", "%23") + "?mode=ro"
        db = sqlite3.connect(uri, uri=True, timeout=0.2)
        try:
            row = db.execute("SELECT value FROM store_meta WHERE key = 'owner'").fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        return None
    return str(row[0]) if row else None
