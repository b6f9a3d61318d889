"""One owner per store file: a second opener gets StoreLockedError, never a shared file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from shim.store import StoreLockedError, open_store
from tests.store.helpers import digest

REPO = str(Path(__file__).resolve().parents[2])

OPEN_IN_CHILD = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, sys.argv[1])
    from shim.store import StoreLockedError, open_store
    try:
        conn = open_store(sys.argv[2])
    except StoreLockedError as exc:
        print(exc, flush=True)
        sys.exit(3)
    print("opened", flush=True)
    if sys.argv[3] == "hold":
        time.sleep(600)
    conn.close()
    """
)


def _child(path: Path, mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", OPEN_IN_CHILD, REPO, str(path), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_second_open_in_the_same_process(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    conn = open_store(path)
    try:
        with pytest.raises(StoreLockedError) as info:
            open_store(path)
        assert str(path) in str(info.value)
        assert "already open in this process" in str(info.value)
        # Through another spelling of the same file, too.
        with pytest.raises(StoreLockedError):
            open_store(tmp_path / "." / "store.db")
    finally:
        conn.close()
    open_store(path).close()  # free again once closed


def test_second_open_from_another_process(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    conn = open_store(path)
    try:
        before = digest(path)
        proc = _child(path, "close")
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 3, err
        assert str(path) in out
        assert f"locked by another process (pid {os.getpid()}" in out
        assert digest(path) == before
    finally:
        conn.close()
    proc = _child(path, "close")
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert out.strip() == "opened"


def test_a_killed_owner_releases_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    proc = _child(path, "hold")
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "opened"  # blocks until the child holds it
    with pytest.raises(StoreLockedError):
        open_store(path)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    proc.communicate()
    open_store(path).close()
