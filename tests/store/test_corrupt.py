"""A damaged store file raises StoreCorruptError naming the file, and is left untouched."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from pathlib import Path

import pytest

from shim.store import StoreCorruptError, open_store
from shim.store._journal import entry_crc, snapshot_crc
from tests.store.helpers import digest, make_store, normalized, populate


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pristine") / "store.db"
    make_store(path)
    assert not Path(f"{path}-wal").exists()  # closed cleanly: everything is in the file
    return path


@pytest.fixture
def store(pristine: Path, tmp_path: Path) -> Path:
    path = tmp_path / "store.db"
    path.write_bytes(pristine.read_bytes())
    return path


def _expect_corrupt(path: Path, *fragments: str) -> StoreCorruptError:
    before = digest(path)
    with pytest.raises(StoreCorruptError) as info:
        open_store(path)
    err = info.value
    assert type(err) is StoreCorruptError
    assert str(path) in str(err)
    assert err.path == str(path)
    for fragment in fragments:
        assert fragment in str(err), str(err)
    assert digest(path) == before  # never modified, repaired or deleted
    # ... and nothing stays locked: a second attempt gives the same answer.
    with pytest.raises(StoreCorruptError):
        open_store(path)
    return err


def _sql(path: Path, *statements: tuple[str, tuple[object, ...]]) -> None:
    db = sqlite3.connect(path, isolation_level=None)
    for sql, params in statements:
        db.execute(sql, params)
    db.close()


def test_pristine_copy_opens(store: Path) -> None:
    conn = open_store(store)
    try:
        assert conn.replayed > 0
        assert {"done-1", "sleepy-1", "waits-1"} <= set(conn.state.promises)
    finally:
        conn.close()


def test_truncated_file(store: Path) -> None:
    data = store.read_bytes()
    store.write_bytes(data[: len(data) // 2])
    _expect_corrupt(store, "damaged SQLite file")


def test_truncated_header(store: Path) -> None:
    store.write_bytes(store.read_bytes()[:50])
    _expect_corrupt(store, "truncated")


def test_garbage_header(store: Path) -> None:
    data = bytearray(store.read_bytes())
    data[:100] = random.Random(1).randbytes(100)
    store.write_bytes(bytes(data))
    _expect_corrupt(store, "not a SQLite database")


def test_not_sqlite_at_all(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("these are my notes, not a store\n" * 10)
    _expect_corrupt(path, "not a SQLite database")


def test_some_other_sqlite_database(tmp_path: Path) -> None:
    path = tmp_path / "dbos.sqlite"
    _sql(
        path,
        ("CREATE TABLE workflow_status(id TEXT)", ()),
        ("INSERT INTO workflow_status VALUES ('x')", ()),
    )
    _expect_corrupt(path, "not a dbos2resonate store", "workflow_status")


def test_journal_entry_that_fails_to_decode(store: Path) -> None:
    seq, at, op = _sql_one(
        store, "SELECT seq, at, op FROM store_journal WHERE op = 0 LIMIT 1 OFFSET 5"
    )
    body = b'{"kind": "task.fence", "broken'
    _sql(
        store,
        (
            "UPDATE store_journal SET body = ?, crc = ? WHERE seq = ?",
            (body, entry_crc(seq, at, op, body), seq),
        ),
    )
    _expect_corrupt(store, f"journal entry {seq} does not decode")


def test_journal_entry_with_flipped_bytes(store: Path) -> None:
    seq, body = _sql_one(store, "SELECT seq, body FROM store_journal LIMIT 1 OFFSET 7")
    flipped = body.replace(b"done-1", b"done-9") if b"done-1" in body else body[:-2] + b"~}"
    _sql(store, ("UPDATE store_journal SET body = ? WHERE seq = ?", (flipped, seq)))
    _expect_corrupt(store, f"journal entry {seq} fails its checksum")


def test_missing_journal_entry(store: Path) -> None:
    (seq,) = _sql_one(store, "SELECT seq FROM store_journal LIMIT 1 OFFSET 3")
    _sql(store, ("DELETE FROM store_journal WHERE seq = ?", (seq,)))
    _expect_corrupt(store, f"journal entries {seq}..{seq} are missing")


def test_snapshot_that_fails_to_decode(store: Path) -> None:
    conn = open_store(store, compact_after=0)  # writes a snapshot on open
    conn.close()
    (seq,) = _sql_one(store, "SELECT seq FROM store_snapshot")
    data = b'{"promises": 42}'
    _sql(store, ("UPDATE store_snapshot SET data = ?, crc = ?", (data, snapshot_crc(seq, data))))
    _expect_corrupt(store, "snapshot", "does not decode")


def test_random_damage_never_escapes_as_another_error(store: Path, tmp_path: Path) -> None:
    """Overwrite random spans: either the state is intact or StoreCorruptError, nothing else."""
    conn = open_store(store)
    expected = normalized(conn.state)
    conn.close()
    original = store.read_bytes()
    rng = random.Random(4)
    outcomes = {"intact": 0, "corrupt": 0}
    for i in range(25):
        data = bytearray(original)
        start = rng.randrange(100, len(data) - 64)
        data[start : start + rng.randrange(1, 64)] = rng.randbytes(64)[: rng.randrange(1, 64)]
        path = tmp_path / f"damaged-{i}.db"
        path.write_bytes(bytes(data[: len(original)]))
        try:
            conn = open_store(path)
        except StoreCorruptError as err:
            assert str(path) in str(err)
            outcomes["corrupt"] += 1
            continue
        try:
            assert normalized(conn.state) == expected
        finally:
            conn.close()
        outcomes["intact"] += 1
    assert outcomes["corrupt"] > 0


def _sql_one(path: Path, sql: str) -> tuple:  # type: ignore[type-arg]
    db = sqlite3.connect(path)
    try:
        row = db.execute(sql).fetchone()
    finally:
        db.close()
    assert row is not None
    return tuple(row)


def test_crashed_store_with_damage_keeps_its_wal(tmp_path: Path) -> None:
    """A store left by a crash (journal still in the -wal file): damage refuses, touches nothing."""
    live = tmp_path / "live.db"
    conn = open_store(live)
    asyncio.run(populate(conn))  # still open: its -wal holds the journal, as after kill -9
    crashed = tmp_path / "crashed.db"
    wal = Path(f"{live}-wal")
    assert wal.stat().st_size > 0
    crashed.write_bytes(live.read_bytes())
    Path(f"{crashed}-wal").write_bytes(wal.read_bytes())
    conn.close()

    # Undamaged, the copy opens and recovers from its -wal.
    copy = tmp_path / "copy.db"
    copy.write_bytes(crashed.read_bytes())
    Path(f"{copy}-wal").write_bytes(Path(f"{crashed}-wal").read_bytes())
    recovered = open_store(copy)
    try:
        assert recovered.state.promises["done-1"].state == "resolved"
    finally:
        recovered.close()

    # A damaged journal entry inside the -wal: refused, and neither file changes.
    db = sqlite3.connect(crashed)
    db.setconfig(sqlite3.SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, True)
    seq, body = db.execute("SELECT seq, body FROM store_journal LIMIT 1 OFFSET 9").fetchone()
    db.execute("UPDATE store_journal SET body = ? WHERE seq = ?", (body + b" ", seq))
    db.commit()
    db.close()
    wal_before = digest(Path(f"{crashed}-wal"))
    _expect_corrupt(crashed, f"journal entry {seq} fails its checksum")
    assert digest(Path(f"{crashed}-wal")) == wal_before
