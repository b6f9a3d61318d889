"""Differential harness: run a DBOS program under real DBOS and under the shim, compare traces.

Each run is a fresh ``sys.executable -m fixtures.runner`` subprocess with its own temporary
directory (its working directory and its SQLite database, passed as ``D2R_DB_URL``). The trace comes
back as JSON on stdout; a failed run raises :class:`FixtureRunError` carrying the tail of its stderr.

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
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, Iterable, Literal

Runtime = Literal["dbos", "shim"]
RUNTIMES: tuple[Runtime, ...] = ("dbos", "shim")

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS_DIR = ROOT / "fixtures" / "programs"
GOLDEN_DIR = ROOT / "fixtures" / "traces"

DEFAULT_TIMEOUT = float(os.environ.get("D2R_FIXTURE_TIMEOUT", "60"))
# DBOS spends most of a run idle (about 1 s of it in DBOS.destroy), so 8 at a time fit 2 cores.
JOBS = int(os.environ.get("D2R_JOBS", "8"))
STDERR_TAIL = 6000

# Variables that would quietly change where either runtime keeps its state.
_HERMETIC_DROP = ("RESONATE_URL", "RESONATE_HOST", "DBOS_SYSTEM_DATABASE_URL", "DBOS_DATABASE_URL")


class FixtureRunError(AssertionError):
    """A program run did not produce a trace (crash, bad output, or timeout)."""


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


def _run_subprocess(program: str, runtime: Runtime, timeout: float) -> Any:
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime must be one of {RUNTIMES}, not {runtime!r}")
    with tempfile.TemporaryDirectory(prefix=f"d2r-{runtime}-") as tmp:
        cmd = [sys.executable, "-m", "fixtures.runner", "--runtime", runtime]
        if _is_source(program):
            path = Path(tmp) / "inline_program.py"
            path.write_text(program, encoding="utf-8")
            cmd += ["--file", str(path)]
        else:
            if not (PROGRAMS_DIR / f"{program}.py").is_file():
                raise ValueError(f"no program named {program!r} in {PROGRAMS_DIR}")
            cmd += ["--program", program]
        env = {k: v for k, v in os.environ.items() if k not in _HERMETIC_DROP}
        env["PYTHONPATH"] = os.pathsep.join(
            [str(ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
        )
        env["D2R_DB_URL"] = f"sqlite:///{Path(tmp) / 'system.sqlite'}"
        env["PYTHONUNBUFFERED"] = "1"
        what = f"{_label(program)} under {runtime}"
        try:
            proc = subprocess.run(
                cmd, cwd=tmp, env=env, capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
            err = exc.stderr.decode() if isinstance(exc.stderr, bytes) else (exc.stderr or "")
            finished = " (main() had returned and printed its trace: the process did not exit)" if out.strip() else ""
            raise FixtureRunError(
                f"{what}: timed out after {timeout:g} s{finished}\n"
                f"--- stdout ---\n{_tail(out)}\n--- stderr ---\n{_tail(err)}"
            ) from None
        if proc.returncode != 0:
            raise FixtureRunError(
                f"{what}: exited with code {proc.returncode}\n--- stderr ---\n{_tail(proc.stderr)}"
            )
        try:
            return json.loads(proc.stdout)
        except json.JSONDecodeError as exc:
            raise FixtureRunError(
                f"{what}: stdout is not one JSON trace ({exc})\n--- stdout ---\n{_tail(proc.stdout)}"
                f"\n--- stderr ---\n{_tail(proc.stderr)}"
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
    """Forget every memoised run and stop the pool (runs not yet started are cancelled)."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
        _futures.clear()
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def run_fixture(program: str, runtime: Runtime, *, timeout: float = DEFAULT_TIMEOUT) -> Any:
    """The trace of ``program`` under ``runtime``, from a fresh subprocess (memoised).

    ``program`` is the name of a file in fixtures/programs, or Python source text (anything with a
    newline in it) for an inline program. Raises FixtureRunError if the run yields no trace.
    """
    return _submit(program, runtime, timeout).result()


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
