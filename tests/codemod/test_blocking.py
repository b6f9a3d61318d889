"""Which calls in a plain step's body D2R104 names as blocking Resonate's event loop."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from codemod.rules._blocking import blocking_calls, imported_names

HEADER = """\
import time
import time as clock
import urllib.request
from subprocess import check_output
from requests import post as send
import httpx
"""


def _calls(body: str, header: str = HEADER) -> list[str]:
    module = cst.parse_module(header + "def step():\n" + textwrap.indent(textwrap.dedent(body), "    "))
    step = module.body[-1]
    assert isinstance(step, cst.FunctionDef)
    return blocking_calls(step, imported_names(module))


@pytest.mark.parametrize(("body", "found"), [
    ("time.sleep(1)", ["time.sleep"]),
    ("clock.sleep(1)", ["time.sleep"]),
    ("urllib.request.urlopen(u)", ["urllib.request.urlopen"]),
    ("check_output(['ls'])", ["subprocess.check_output"]),
    ("send(u, json={})", ["requests.post"]),
    ("httpx.get(u)\nhttpx.get(v)\ntime.sleep(1)", ["httpx.get", "time.sleep"]),  # each once, in order
    ("x = [time.sleep(i) for i in range(2)]", ["time.sleep"]),
])
def test_blocking_calls_are_found_through_the_modules_imports(body: str, found: list[str]) -> None:
    assert _calls(body) == found


@pytest.mark.parametrize("body", [
    "def later():\n    time.sleep(5)",  # runs when something else calls it
    "f = lambda: time.sleep(5)",
    "asyncio.sleep(1)",
    "sleep(1)",  # not imported: some other sleep
    "x.time.sleep(1)",
])
def test_calls_that_do_not_block_the_step_itself_are_not_named(body: str) -> None:
    assert _calls(body) == []


def test_a_local_name_shadowing_nothing_imported_is_ignored() -> None:
    assert _calls("time.sleep(1)", header="") == []
