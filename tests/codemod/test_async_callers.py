"""D2R114: which plain helpers become ``async def`` (every call of them awaited) and which keep ``def``, and why."""

from __future__ import annotations

import textwrap

import pytest

from codemod.engine import migrate_source

HEADER = '''
from dbos import DBOS

@DBOS.workflow()
def wf(x: int) -> int:
    return x

'''
ENTRY = '''
def main() -> None:
    DBOS.launch()
'''


def migrate(body: str) -> str:
    source = textwrap.dedent(HEADER) + textwrap.dedent(body)
    result = migrate_source(source, "app.py")
    assert result.error is None and result.after is not None, result.error
    again = migrate_source(result.after, "app.py")
    assert again.error is None and not again.changed, again.after  # a second run changes nothing
    compile(result.after, "app.py", "exec")
    return result.after


def test_helpers_called_from_the_entry_point_become_async_to_a_fixed_point() -> None:
    out = migrate(ENTRY + '''
    report(notify("a"))

def notify(target: str) -> int:
    DBOS.send(target, "hi")
    return relay(target)

def relay(target: str) -> int:
    return notify(target) if not target else wf(1)

def report(value: int) -> None:
    print(value)
''')
    assert "async def notify(target: str) -> int:" in out
    assert "async def relay(target: str) -> int:" in out
    assert "return await notify(target) if not target else await resonate.run(" in out
    assert "report(await notify(\"a\"))" in out
    assert "def report(value: int) -> None:" in out and "async def report" not in out  # it awaits nothing


def test_a_helper_of_an_async_function_becomes_async() -> None:
    out = migrate('''
async def handler(target: str) -> None:
    [notify(t) for t in (target, target)]

def notify(target: str) -> None:
    DBOS.send(target, "hi")
''')
    assert "async def notify" in out and "[await notify(t) for t in (target, target)]" in out


@pytest.mark.parametrize(
    ("use", "why"),
    [
        ("    callbacks = [notify]\n", "`main` uses it as a value"),
        ("    run_later = lambda: notify('x')\n", "calls it in a lambda"),
        ("    gen = (notify(t) for t in 'ab')\n", "calls it in a lambda, a generator expression"),
        ("\nnotify('x')\n", "module-level code calls it"),
        ("\ndef sync_caller() -> None:\n    notify('x')\n\nsync_caller()\n", "`sync_caller` calls it and stays"),
        ("\n@DBOS.workflow()\ndef other() -> None:\n    notify('x')\n", "the workflow or step `other` calls it"),
        ("\n__all__ = ['notify']\n", "it is listed in `__all__`"),
        ("    notify = print\n", "the name `notify` is bound again"),
    ],
)
def test_a_helper_keeps_def_with_a_todo_naming_what_holds_it_back(use: str, why: str) -> None:
    out = migrate(ENTRY + "    notify('y')\n" + use + '''
def notify(target: str) -> None:
    DBOS.send(target, "hi")
''')
    assert "async def notify" not in out
    todo = next(line for line in out.splitlines() if "D2R114" in line)
    assert "`notify` stays `def`" in todo and why in todo, todo
    assert "await notify" not in out


def test_generators_and_decorated_helpers_keep_def() -> None:
    out = migrate(ENTRY + '''
    list(events())
    traced()

def events():
    yield DBOS.get_event("w", "k")

@print
def traced() -> None:
    DBOS.send("w", 1)
''')
    assert "async def events" not in out and "it is a generator" in out
    assert "async def traced" not in out and "it is decorated" in out


def test_an_uncalled_helper_keeps_def_and_only_the_call_todos() -> None:
    out = migrate('''
def notify(target: str) -> None:
    DBOS.send(target, "hi")
''')
    assert "async def notify" not in out and "D2R114" not in out
    assert "make this function `async def`" in out


def test_without_d2r114_nothing_becomes_async() -> None:
    from codemod.engine import Options

    source = textwrap.dedent(HEADER) + textwrap.dedent(ENTRY + "    notify('y')\n" + '''
def notify(target: str) -> None:
    DBOS.send(target, "hi")
''')
    result = migrate_source(source, "app.py", Options(ignore=("D2R114",)))
    assert result.after is not None and "async def notify" not in result.after and "D2R114" not in result.after
