"""A ``dbos2resonate serve`` in a subprocess, for tests that need a Resonate server.

    with running_server(tmp_path / "app.sqlite") as url:    # None = in memory
        resonate = Resonate(url=url, env={}, ...)
        ...
        kill_server(url)          # kill -9, as a crash
        restart_server(url)       # same store, same port: the workers reconnect by themselves

The server starts on port 0; the helper waits for its first stdout line
(``listening on http://HOST:PORT``), never for a fixed time. A server that
fails to start raises :class:`ServerStartError` with its stderr.
"""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = [
    "ServerProcess",
    "ServerStartError",
    "kill_server",
    "restart_server",
    "running_server",
    "serving",
]

_ROOT = Path(__file__).resolve().parents[2]
_LISTENING = re.compile(r"^listening on (http://\S+):(\d+)$")
#: Generous: a cold interpreter on a loaded 2-core machine. Not a wait: the line usually comes in ~1 s.
_START_TIMEOUT = 60.0
_STOP_TIMEOUT = 30.0


class ServerStartError(RuntimeError):
    """The server exited or stayed silent instead of announcing its URL."""


class ServerProcess:
    """One store served by a subprocess that can be killed and restarted on the same port."""

    def __init__(self, store: Path | None) -> None:
        self.store = store
        self.port = 0
        self.url = ""
        self._proc: subprocess.Popen[str] | None = None
        self._stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115  # lives as long as the server

    def start(self) -> str:
        """Start serving (on the previous port after a kill, else a free one); return the URL."""
        args = [sys.executable, "-m", "cli.serve", "--port", str(self.port)]
        args += ["--memory"] if self.store is None else ["--store", str(self.store)]
        self._stderr.seek(0)
        self._stderr.truncate()
        proc = subprocess.Popen(
            args,
            cwd=_ROOT,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self._proc = proc
        line = _first_line(proc, _START_TIMEOUT)
        match = _LISTENING.match(line.strip())
        if match is None:
            self.kill()
            raise ServerStartError(f"server did not start: {line!r}\n{self.stderr()}")
        self.port = int(match.group(2))
        self.url = f"{match.group(1)}:{self.port}"
        _SERVERS[self.url] = self
        return self.url

    def kill(self) -> None:
        """``kill -9``: no snapshot, no unlock (the kernel drops the lock with the process)."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        self._reap()

    def terminate(self) -> int:
        """SIGTERM and wait: the clean stop (snapshot + unlock). Returns the exit code."""
        proc = self._proc
        if proc is None:
            return 0
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
        self._reap()
        return code

    def restart(self) -> str:
        """Kill (if running) and start again on the same store and port."""
        self.kill()
        return self.start()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def stderr(self) -> str:
        self._stderr.flush()
        self._stderr.seek(0)
        return self._stderr.read()

    def close(self) -> None:
        self.terminate()
        _SERVERS.pop(self.url, None)
        self._stderr.close()

    def _reap(self) -> None:
        proc = self._proc
        if proc is None:
            return
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


_SERVERS: dict[str, ServerProcess] = {}


@contextmanager
def serving(store: Path | None) -> Iterator[ServerProcess]:
    """A started :class:`ServerProcess`; terminated (SIGTERM) on exit."""
    server = ServerProcess(store)
    server.start()
    try:
        yield server
    finally:
        server.close()


@contextmanager
def running_server(store: Path | None) -> Iterator[str]:
    """The URL of a server on ``store`` (``None``: in memory), stopped on exit."""
    with serving(store) as server:
        yield server.url


def kill_server(url: str) -> None:
    """``kill -9`` the server a :func:`running_server` started at ``url``."""
    _SERVERS[url].kill()


def restart_server(url: str) -> str:
    """Start the server at ``url`` again (killing it first if it still runs): same store, same URL."""
    return _SERVERS[url].restart()


def _first_line(proc: subprocess.Popen[str], timeout: float) -> str:
    stdout = proc.stdout
    assert stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            return ""
    return stdout.readline()
