"""Differential harness: run a DBOS program under real DBOS and under the shim, compare traces.

Each run is a new process of ``fixtures.runner`` with its own temporary directory (its working
directory and its SQLite database, passed as ``D2R_DB_URL``). By default it is forked from a warm
``fixtures.runner --serve`` that has imported the runtime and nothing else, which saves the import
(most of a run's CPU); ``D2R_FORK=0`` starts each run as ``sys.executable -m fixtures.runner``
instead. The trace comes back as JSON on the run's stdout; a failed run raises
:class:`FixtureRunError` carrying the tail of its stderr.

Runs are memoised per (program, runtime) for the session, and :func:`prefetch` starts them on a
small thread pool ahead of the tests that need them (DBOS spends most of a run waiting, so several
at a time fit on two cores).

Command line, for people:
    python -m tests.differential.harness run NAME [--runtime dbos|shim]   print one trace
    python -m tests.differential.harness diff NAME                        both traces, and the diff
    python -m tests.differential.harness golden [NAME ...]                rewrite golden traces
"""

from __future__ import annotations

import argparse
import concurrent.futures
import difflib
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import warnings
from pathlib import Path
from typing import Any, Iterable, Literal, NamedTuple

Runtime = Literal["dbos", "shim"]
RUNTIMES: tuple[Runtime, ...] = ("dbos", "shim")

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS_DIR = ROOT / "fixtures" / "programs"
GOLDEN_DIR = ROOT / "fixtures" / "traces"

DEFAULT_TIMEOUT = float(os.environ.get("D2R_FIXTURE_TIMEOUT", "60"))
# DBOS spends most of a run idle (about 1 s of it in DBOS.destroy), so 8 at a time fit 2 cores.
JOBS = int(os.environ.get("D2R_JOBS", "8"))
# Fork runs from a warm runner that has imported the runtime once (fixtures/runner.py --serve)
# instead of starting each from scratch; D2R_FORK=0 starts every run as a new interpreter.
FORK = os.environ.get("D2R_FORK", "1" if hasattr(os, "fork") else "0") != "0"
STDERR_TAIL = 6000

# Variables that would quietly change where either runtime keeps its state.
_HERMETIC_DROP = ("RESONATE_URL", "RESONATE_HOST", "DBOS_SYSTEM_DATABASE_URL", "DBOS_DATABASE_URL")


class FixtureRunError(AssertionError):
    """A program run did not produce a trace (crash, bad output, or timeout)."""


class _ServerGone(Exception):
    """The warm runner died (not the run): the run is repeated in a new interpreter."""


def program_names() -> list[str]:
    """Every bundled program in fixtures/programs, sorted."""
    return sorted(p.stem for p in PROGRAMS_DIR.glob("*.py") if not p.name.startswith("_"))


def golden_path(name: str) -> Path:
    return GOLDEN_DIR / f"{name}.json"


def load_golden(name: str) -> Any:
    return json.loads(golden_path(name).read_text(encoding="utf-8"))


def _is_source(program: str) -> bool:
    return "\n" in program


def _label(program: str) -> str:
    if _is_source(program):
        return f"<inline program {hashlib.sha256(program.encode()).hexdigest()[:10]}>"
    return program


def _tail(text: str) -> str:
    return text if len(text) <= STDERR_TAIL else "...[earlier output cut]...\n" + text[-STDERR_TAIL:]


class _Outcome(NamedTuple):
    returncode: int | None  # None: killed after the timeout
    stdout: str
    stderr: str


def _run_plain(args: list[str], runtime: Runtime, cwd: str, env: dict[str, str], timeout: float) -> _Outcome:
    """``sys.executable -m fixtures.runner ...`` as a new process."""
    cmd = [sys.executable, "-m", "fixtures.runner", "--runtime", runtime, *args]
    try:
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        err = exc.stderr.decode() if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        return _Outcome(None, out, err)
    return _Outcome(proc.returncode, proc.stdout, proc.stderr)


class _Server:
    """A warm ``fixtures.runner --serve`` for one runtime: it forks a child per run (see runner.py)."""

    def __init__(self, runtime: Runtime, env: dict[str, str]) -> None:
        self.runtime = runtime
        self._log = tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "fixtures.runner", "--serve", "--runtime", runtime],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            bufsize=1,
        )
        self._lock = threading.Lock()
        self._next_id = 0
        self._pids: dict[int, concurrent.futures.Future[int]] = {}
        self._exits: dict[int, concurrent.futures.Future[int]] = {}
        self._reader = threading.Thread(target=self._read_replies, name=f"d2r-serve-{runtime}", daemon=True)
        self._reader.start()

    def _read_replies(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            reply = json.loads(line)
            with self._lock:
                if "pid" in reply:
                    self._pids[reply["id"]].set_result(reply["pid"])
                else:
                    self._exits.pop(reply["id"]).set_result(reply["returncode"])
                    self._pids.pop(reply["id"], None)
        # The server is gone: fail every run still waiting on it.
        with self._lock:
            failure = _ServerGone(f"the warm {self.runtime} runner stopped:\n{_tail(self.server_log())}")
            for fut in list(self._pids.values()) + list(self._exits.values()):
                if not fut.done():
                    fut.set_exception(failure)
            self._pids.clear()
            self._exits.clear()

    def server_log(self) -> str:
        self._log.seek(0)
        return self._log.read()

    def run(self, args: list[str], cwd: str, env: dict[str, str], timeout: float) -> _Outcome:
        out_path, err_path = Path(cwd) / "runner.stdout", Path(cwd) / "runner.stderr"
        pid_fut: concurrent.futures.Future[int] = concurrent.futures.Future()
        exit_fut: concurrent.futures.Future[int] = concurrent.futures.Future()
        with self._lock:
            if self._proc.poll() is not None:
                raise _ServerGone(f"the warm {self.runtime} runner stopped:\n{_tail(self.server_log())}")
            run_id = self._next_id
            self._next_id += 1
            self._pids[run_id] = pid_fut
            self._exits[run_id] = exit_fut
            request = {
                "id": run_id, "args": args, "cwd": cwd, "env": env,
                "stdout": str(out_path), "stderr": str(err_path),
            }
            assert self._proc.stdin is not None
            try:
                self._proc.stdin.write(json.dumps(request) + "\n")
                self._proc.stdin.flush()
            except OSError as exc:
                raise _ServerGone(f"the warm {self.runtime} runner is gone ({exc})") from None
        killed = False
        try:
            returncode: int | None = exit_fut.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            killed = True
            try:
                os.killpg(pid_fut.result(timeout=10), signal.SIGKILL)
            except (ProcessLookupError, concurrent.futures.TimeoutError):
                pass
            try:
                exit_fut.result(timeout=30)
            except concurrent.futures.TimeoutError:
                raise _ServerGone(f"the warm {self.runtime} runner did not reap a killed run") from None
            returncode = None
        read = lambda p: p.read_text(encoding="utf-8", errors="replace") if p.exists() else ""  # noqa: E731
        return _Outcome(None if killed else returncode, read(out_path), read(err_path))

    def close(self) -> None:
        try:
            if self._proc.stdin is not None:
                self._proc.stdin.close()
            self._proc.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self._proc.kill()
        self._log.close()


_servers: dict[Runtime, _Server] = {}
_servers_lock = threading.Lock()
_servers_failed: set[Runtime] = set()


def _base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _HERMETIC_DROP}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _server(runtime: Runtime) -> _Server:
    with _servers_lock:
        server = _servers.get(runtime)
        if server is None:
            server = _servers[runtime] = _Server(runtime, _base_env())
        return server


def _run_subprocess(program: str, runtime: Runtime, timeout: float, *, fork: bool | None = None,
                    extra_env: dict[str, str] | None = None) -> Any:
    """Run one program once, in a new process, and return its trace (no memo; see run_fixture)."""
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime must be one of {RUNTIMES}, not {runtime!r}")
    if not _is_source(program) and not (PROGRAMS_DIR / f"{program}.py").is_file():
        raise ValueError(f"no program named {program!r} in {PROGRAMS_DIR}")
    use_fork = FORK if fork is None else fork
    with tempfile.TemporaryDirectory(prefix=f"d2r-{runtime}-") as tmp:
        if _is_source(program):
            path = Path(tmp) / "inline_program.py"
            path.write_text(program, encoding="utf-8")
            args = ["--file", str(path)]
        else:
            args = ["--program", program]
        env = _base_env()
        env["D2R_DB_URL"] = f"sqlite:///{Path(tmp) / 'system.sqlite'}"
        env.update(extra_env or {})
        outcome = None
        if use_fork and runtime not in _servers_failed:
            try:
                outcome = _server(runtime).run(args, tmp, env, timeout)
            except _ServerGone as exc:
                with _servers_lock:
                    if runtime not in _servers_failed:
                        _servers_failed.add(runtime)
                        warnings.warn(f"{exc}\nfalling back to a new interpreter per run", stacklevel=2)
        if outcome is None:
            outcome = _run_plain(args, runtime, tmp, env, timeout)
    what = f"{_label(program)} under {runtime}"
    if outcome.returncode is None:
        finished = " (main() had returned and printed its trace: the process did not exit)" if outcome.stdout.strip() else ""
        raise FixtureRunError(
            f"{what}: timed out after {timeout:g} s{finished}\n"
            f"--- stdout ---\n{_tail(outcome.stdout)}\n--- stderr ---\n{_tail(outcome.stderr)}"
        )
    if outcome.returncode != 0:
        raise FixtureRunError(f"{what}: exited with code {outcome.returncode}\n--- stderr ---\n{_tail(outcome.stderr)}")
    try:
        return json.loads(outcome.stdout)
    except json.JSONDecodeError as exc:
        raise FixtureRunError(
            f"{what}: stdout is not one JSON trace ({exc})\n--- stdout ---\n{_tail(outcome.stdout)}"
            f"\n--- stderr ---\n{_tail(outcome.stderr)}"
        ) from None


_lock = threading.Lock()
_futures: dict[tuple[str, Runtime], concurrent.futures.Future[Any]] = {}
_pool: concurrent.futures.ThreadPoolExecutor | None = None


def _submit(program: str, runtime: Runtime, timeout: float) -> concurrent.futures.Future[Any]:
    global _pool
    with _lock:
        key = (program, runtime)
        fut = _futures.get(key)
        if fut is None:
            if _pool is None:
                _pool = concurrent.futures.ThreadPoolExecutor(max_workers=JOBS, thread_name_prefix="d2r")
            fut = _pool.submit(_run_subprocess, program, runtime, timeout)
            _futures[key] = fut
        return fut


def prefetch(jobs: Iterable[tuple[str, Runtime]], timeout: float = DEFAULT_TIMEOUT) -> None:
    """Start these runs in the background (in order); run_fixture then waits for their results."""
    for program, runtime in jobs:
        _submit(program, runtime, timeout)


def shutdown() -> None:
    """Forget every memoised run, stop the pool (runs not yet started are cancelled) and the servers."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
        _futures.clear()
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)
    with _servers_lock:
        servers = list(_servers.values())
        _servers.clear()
        _servers_failed.clear()
    for server in servers:
        server.close()


def run_fixture(program: str, runtime: Runtime, *, timeout: float = DEFAULT_TIMEOUT) -> Any:
    """The trace of ``program`` under ``runtime``, from a fresh subprocess (memoised).

    ``program`` is the name of a file in fixtures/programs, or Python source text (anything with a
    newline in it) for an inline program. Raises FixtureRunError if the run yields no trace.
    """
    return _submit(program, runtime, timeout).result()


def run_on_server(program: str, *, timeout: float = DEFAULT_TIMEOUT) -> Any:
    """The trace of ``program`` under the shim in server mode: ``RESONATE_URL`` names a fresh
    in-memory Resonate server (``dbos2resonate serve``) of its own (not memoised)."""
    from tests.support.resonate_server import running_server

    with running_server(None) as url:
        return _run_subprocess(program, "shim", timeout, extra_env={"RESONATE_URL": url})


def run_both(program: str, *, timeout: float = DEFAULT_TIMEOUT) -> tuple[Any, Any]:
    """(DBOS trace, shim trace), run concurrently. Raises if either run fails."""
    futs = [_submit(program, rt, timeout) for rt in RUNTIMES]
    return futs[0].result(), futs[1].result()


def render(trace: Any) -> str:
    return json.dumps(trace, indent=2, sort_keys=True, ensure_ascii=False)


def explain_difference(expected: Any, actual: Any, expected_name: str = "dbos", actual_name: str = "shim") -> str:
    """A unified diff of two traces, rendered as sorted, indented JSON."""
    diff = difflib.unified_diff(
        render(expected).splitlines(),
        render(actual).splitlines(),
        fromfile=expected_name,
        tofile=actual_name,
        lineterm="",
    )
    return "\n".join(diff)


def assert_same_trace(expected: Any, actual: Any, expected_name: str = "dbos", actual_name: str = "shim") -> None:
    if expected != actual:
        raise AssertionError(
            f"traces differ ({expected_name} vs {actual_name}):\n"
            + explain_difference(expected, actual, expected_name, actual_name)
        )


def _cli(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.differential.harness")
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="print one program's trace")
    p_run.add_argument("name")
    p_run.add_argument("--runtime", choices=RUNTIMES, default="shim")
    p_diff = sub.add_parser("diff", help="run a program under both runtimes and show the difference")
    p_diff.add_argument("name", nargs="?")
    p_gold = sub.add_parser("golden", help="rewrite fixtures/traces/<name>.json from real DBOS")
    p_gold.add_argument("names", nargs="*")
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            print(render(run_fixture(args.name, args.runtime)))
            return 0
        if args.command == "diff":
            names = [args.name] if args.name else program_names()
            prefetch((n, rt) for n in names for rt in RUNTIMES)
            status = 0
            for name in names:
                try:
                    dbos, shim = run_both(name)
                except FixtureRunError as exc:
                    print(f"== {name}: run failed\n{exc}\n")
                    status = 1
                    continue
                if dbos == shim:
                    print(f"== {name}: same")
                else:
                    print(f"== {name}: DIFFERENT\n{explain_difference(dbos, shim)}\n")
                    status = 1
            return status
        names = args.names or program_names()
        prefetch((n, "dbos") for n in names)
        for name in names:
            trace = run_fixture(name, "dbos")
            golden_path(name).write_text(render(trace) + "\n", encoding="utf-8")
            print(f"wrote {golden_path(name).relative_to(ROOT)}")
        return 0
    finally:
        shutdown()


if __name__ == "__main__":
    sys.exit(_cli())
