"""The harness itself: traces come back intact, failures say why, runtimes resolve as promised.

These inline programs do not start DBOS, so each run is cheap.
"""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from tests.differential.harness import (
    PROGRAMS_DIR,
    ROOT,
    FixtureRunError,
    _run_subprocess,
    program_names,
)

PRINTS_A_LOT = '''
import os, sys
print("noise on stdout")
os.write(1, b"raw noise on fd 1\\n")
print("noise on stderr", file=sys.stderr)

def main():
    print("more noise")
    return {"answer": 42, "items": [1, "two", None, True]}
'''

RAISES = '''
def main():
    raise LookupError("the program failed on purpose")
'''

NOT_JSON = '''
def main():
    return {"a set": {1, 2}}
'''

HANGS_AFTER_TRACE = '''
import threading, time

def main():
    threading.Thread(target=time.sleep, args=(30,)).start()  # not a daemon: blocks exit
    return "done"
'''

WHICH_DBOS = '''
import sys
import dbos

def main():
    return {
        "dbos": dbos.__name__,
        "dbos.error": sys.modules["dbos.error"].__name__ if "dbos.error" in sys.modules else None,
        "sqlite3": sys.modules["sqlite3"].__name__ if "sqlite3" in sys.modules else None,
    }
'''

WHERE_AM_I = '''
import os
import sys

LOADED = sorted(m for m in sys.modules if m.startswith("fixtures.programs."))

def main():
    return {
        "pid": os.getpid(),
        "cwd": os.path.realpath(os.getcwd()),
        "db_url": os.environ["D2R_DB_URL"].replace(os.getcwd(), os.path.realpath(os.getcwd())),
        "program_modules_loaded_before": LOADED,
    }
'''

ASYNC_MAIN = '''
import asyncio

async def main():
    await asyncio.sleep(0)
    return ["async", "main"]
'''


@pytest.mark.slow
def test_program_output_never_mixes_into_the_trace():
    assert _run_subprocess(PRINTS_A_LOT, "dbos", timeout=60) == {"answer": 42, "items": [1, "two", None, True]}


@pytest.mark.slow
def test_async_main_is_awaited():
    assert _run_subprocess(ASYNC_MAIN, "dbos", timeout=60) == ["async", "main"]


@pytest.mark.slow
def test_a_crash_reports_the_program_stderr():
    with pytest.raises(FixtureRunError) as info:
        _run_subprocess(RAISES, "dbos", timeout=60)
    message = str(info.value)
    assert "exited with code 1" in message
    assert "LookupError: the program failed on purpose" in message


@pytest.mark.slow
def test_a_trace_that_is_not_json_is_an_error():
    with pytest.raises(FixtureRunError, match="not JSON serializable"):
        _run_subprocess(NOT_JSON, "dbos", timeout=60)


@pytest.mark.slow
def test_a_process_that_does_not_exit_is_reported():
    with pytest.raises(FixtureRunError, match="did not exit"):
        _run_subprocess(HANGS_AFTER_TRACE, "dbos", timeout=5)


@pytest.mark.slow
@pytest.mark.parametrize("fork", [True, False], ids=["forked", "new-interpreter"])
def test_dbos_runtime_is_real_dbos_on_pysqlite3(fork: bool):
    trace = _run_subprocess(WHICH_DBOS, "dbos", timeout=60, fork=fork)
    assert trace["dbos"] == "dbos"
    assert trace["sqlite3"] == "pysqlite3"


@pytest.mark.slow
@pytest.mark.parametrize("fork", [True, False], ids=["forked", "new-interpreter"])
def test_shim_runtime_resolves_dbos_imports_to_the_shim(fork: bool):
    trace = _run_subprocess(WHICH_DBOS, "shim", timeout=60, fork=fork)
    assert trace["dbos"] == "shim"
    assert trace["dbos.error"] == "shim.errors"


@pytest.mark.slow
@pytest.mark.parametrize("fork", [True, False], ids=["forked", "new-interpreter"])
def test_each_run_is_a_new_process_with_its_own_directory(fork: bool):
    first = _run_subprocess(WHERE_AM_I, "dbos", timeout=60, fork=fork)
    second = _run_subprocess(WHERE_AM_I, "dbos", timeout=60, fork=fork)
    assert first["pid"] != second["pid"]
    assert first["cwd"] != second["cwd"]
    assert first["db_url"] == f"sqlite:///{first['cwd']}/system.sqlite"
    assert first["program_modules_loaded_before"] == []


@pytest.mark.slow
def test_forked_and_new_interpreter_runs_give_the_same_dbos_trace():
    assert _run_subprocess("step_retries", "dbos", timeout=60, fork=True) == _run_subprocess(
        "step_retries", "dbos", timeout=60, fork=False
    )


def test_unknown_program_or_runtime_is_refused():
    with pytest.raises(ValueError):
        _run_subprocess("no_such_program", "dbos", timeout=5)
    with pytest.raises(ValueError):
        _run_subprocess("programming_model", "temporal", timeout=5)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", program_names())
def test_programs_are_plain_dbos_programs(name: str):
    """Each program imports DBOS as a user does, defines main(), and reads D2R_DB_URL."""
    source = (PROGRAMS_DIR / f"{name}.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    imported = {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    }
    assert "dbos" in imported
    assert not any(m == "shim" or m.startswith("shim.") for m in imported)
    assert any(isinstance(n, ast.FunctionDef) and n.name == "main" for n in tree.body)
    assert 'os.environ["D2R_DB_URL"]' in source
    assert "DBOS.destroy()" in source


@pytest.mark.slow
def test_run_example_prints_the_programming_model_trace_from_the_shim():
    """The README's first command: the bundled example through the shim, no server."""
    proc = subprocess.run(
        [sys.executable, "-m", "fixtures.run_example"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "Trace of fixtures.programs.programming_model on shim:" in proc.stdout
    assert '  step_runs: {"bar": 3, "baz": 3' in proc.stdout
