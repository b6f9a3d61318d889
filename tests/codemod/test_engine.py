"""The engine's contract: skip, re-parse before write, isolate failures, a second run changes nothing."""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst
import pytest
from libcst.codemod import Codemod

import codemod.engine as engine
from codemod.engine import FileResult, Options, iter_python_files, migrate_file, migrate_source, run
from codemod.rules import RULES, Target

PROGRAM = textwrap.dedent(
    '''\
    """A DBOS app."""
    # a comment the codemod must keep
    from dbos import DBOS, SetWorkflowID

    DBOS(config={"name": "app"})


    @DBOS.step()
    def fetch(url: str) -> str:  # trailing comment
        DBOS.logger.info("fetching %s", url)
        return url


    @DBOS.workflow()
    def work(url: str) -> str:
        body = fetch(url)
        DBOS.sleep(1)
        DBOS.set_event("status", "done")
        return body


    async def main() -> None:
        DBOS.launch()
        with SetWorkflowID("w-1"):
            print(work("x"))
    '''
)


def test_file_without_dbos_is_skipped_before_parsing() -> None:
    r = migrate_source("def broken(:\n", "x.py")
    assert r.skipped and not r.changed and r.error is None


def test_program_is_migrated_and_comments_kept() -> None:
    r = migrate_source(PROGRAM, "app.py")
    assert r.error is None and r.changed and r.after is not None
    assert "# a comment the codemod must keep" in r.after
    assert "# trailing comment" in r.after
    assert '"""A DBOS app."""' in r.after.splitlines()[0]
    assert 'print(await resonate.run("w-1", work, "x").result())' in r.after
    assert 'await set_event(ctx, "status", "done")' in r.after
    assert set(r.rules) >= {"D2R102", "D2R103", "D2R104", "D2R106", "D2R107", "D2R108", "D2R112"}
    assert "D2R112" not in r.todos and "D2R102" in r.todos
    compile(r.after, "app.py", "exec")


def test_second_run_changes_nothing() -> None:
    first = migrate_source(PROGRAM, "app.py")
    assert first.after is not None
    second = migrate_source(first.after, "app.py")
    assert not second.changed and second.error is None


@pytest.mark.parametrize("code", [c for c, r in RULES.items() if r.examples])
def test_examples_are_idempotent_through_the_engine(code: str) -> None:
    for ex in RULES[code].examples:
        src = textwrap.dedent(ex.before).lstrip("\n")
        first = migrate_source(src, "x.py", Options(target=ex.target))
        assert first.error is None
        out = first.after if first.changed else src
        assert not migrate_source(out, "x.py", Options(target=ex.target)).changed


def test_shim_mode_rewrites_only_imports() -> None:
    r = migrate_source(PROGRAM, "app.py", Options(target=Target.SHIM))
    assert r.after is not None
    assert r.after == PROGRAM.replace("from dbos import", "from shim import")
    assert r.rules == ("D2R101",) and r.todos == ()


def test_select_and_ignore() -> None:
    only_logger = migrate_source(PROGRAM, "app.py", Options(select=("D2R108",)))
    assert only_logger.rules == ("D2R108",)
    assert "@DBOS.workflow()" in (only_logger.after or "")
    no_sleep = migrate_source(PROGRAM, "app.py", Options(ignore=("D2R107",)))
    assert "DBOS.sleep(1)" in (no_sleep.after or "")
    with pytest.raises(KeyError):
        Options(select=("D2R999",)).validate()


def test_ignored_workflow_rule_leaves_workflow_bodies_alone() -> None:
    r = migrate_source(PROGRAM, "app.py", Options(ignore=("D2R103",)))
    assert r.after is not None and "    body = fetch(url)" in r.after and "@DBOS.workflow()" in r.after
    assert 'resonate.run("w-1"' not in r.after and "DBOS.launch()" in r.after
    compile(r.after, "app.py", "exec")


def test_unparseable_file_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import dbos\ndef f(:\n")
    r = migrate_file(bad)
    assert r.error and r.error.startswith("cannot parse")
    assert bad.read_text() == "import dbos\ndef f(:\n"


class _Breaks(Codemod):
    """A rule gone wrong: writes code that does not compile."""

    def __init__(self, context, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(context)

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        return cst.parse_module(tree.code + "await dbos_thing()\n")


def test_output_that_does_not_compile_is_not_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "app.py"
    f.write_text(PROGRAM)
    monkeypatch.setattr(engine, "Migrate", _Breaks)
    r = migrate_file(f)
    assert r.error and "would not compile" in r.error and not r.changed
    assert f.read_text() == PROGRAM


def test_one_bad_file_does_not_stop_the_others(tmp_path: Path) -> None:
    (tmp_path / "a_bad.py").write_text("import dbos\nclass (:\n")
    (tmp_path / "b_app.py").write_text(PROGRAM)
    (tmp_path / "c_plain.py").write_text("x = 1\n")
    results = run(iter_python_files([tmp_path]))
    assert [Path(r.path).name for r in results] == ["a_bad.py", "b_app.py", "c_plain.py"]
    assert results[0].error and results[1].changed and results[2].skipped
    assert "resonate" in (tmp_path / "b_app.py").read_text()


def test_parallel_run_matches_serial(tmp_path: Path) -> None:
    for i in range(6):
        (tmp_path / f"m{i}.py").write_text(PROGRAM.replace("work", f"work{i}"))
    files = list(iter_python_files([tmp_path]))
    serial = run(files, write=False)
    parallel = run(files, write=False, jobs=2)
    strip = lambda rs: [(r.path, r.changed, r.rules, r.todos, r.after) for r in rs]  # noqa: E731
    assert strip(serial) == strip(parallel)


def test_crlf_and_dry_run(tmp_path: Path) -> None:
    f = tmp_path / "app.py"
    f.write_bytes(PROGRAM.replace("\n", "\r\n").encode())
    r = migrate_file(f, write=False)
    assert r.changed and f.read_bytes() == PROGRAM.replace("\n", "\r\n").encode()
    migrate_file(f)
    data = f.read_bytes()
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")


def test_excludes(tmp_path: Path) -> None:
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "x.py").write_text("import dbos\n")
    (tmp_path / "gen").mkdir()
    (tmp_path / "gen" / "y.py").write_text("import dbos\n")
    (tmp_path / "z.py").write_text("import dbos\n")
    assert [p.name for p in iter_python_files([tmp_path], ["*/gen/*"])] == ["z.py"]


def test_result_type() -> None:
    assert FileResult("x").changed is False


def test_comments_above_a_removed_import_are_kept() -> None:
    src = "# keep me\nfrom dbos import DBOS\nimport os\n\nx = DBOS.logger\n"
    r = migrate_source(src, "x.py")
    assert r.after is not None and r.after.startswith("# keep me\n") and "dbos" not in r.after


def test_main_block_whose_names_functions_read_is_left_with_a_todo() -> None:
    src = textwrap.dedent(
        """\
        from dbos import DBOS

        @DBOS.workflow()
        def hello(name: str) -> str:
            return f"hello {name} from {app_name}"

        if __name__ == "__main__":
            app_name = "demo"
            DBOS.launch()
            print(hello("ada"))
        """
    )
    r = migrate_source(src, "app.py")
    assert r.after is not None and "async def main()\n" not in r.after
    assert "D2R102 this block launches DBOS: move it into an `async def main()`" in r.after
    assert "module code reads `app_name`, which it sets" in r.after
    assert not migrate_source(r.after, "app.py").changed


def test_workflows_and_steps_of_other_files_are_known(tmp_path: Path) -> None:
    """Steps in one module, a workflow calling them in another, a route module (no dbos import) calling it."""
    pkg = tmp_path / "app"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "steps.py").write_text(textwrap.dedent(
        """\
        from dbos import DBOS

        @DBOS.step()
        def fetch(url: str) -> str:
            return url
        """
    ))
    (pkg / "flows.py").write_text(textwrap.dedent(
        """\
        from dbos import DBOS

        from .steps import fetch as get

        @DBOS.workflow()
        def crawl(url: str) -> str:
            return get(url)
        """
    ))
    (pkg / "routes.py").write_text(textwrap.dedent(
        """\
        from app.flows import crawl

        async def handler(url: str) -> str:
            return crawl(url)

        def unrelated() -> int:
            return 1
        """
    ))
    (pkg / "other.py").write_text("def crawling() -> None:\n    pass\n")
    results = {Path(r.path).name: r for r in run(iter_python_files([tmp_path]))}
    assert all(r.error is None for r in results.values())
    assert results["other.py"].skipped and results["__init__.py"].skipped
    assert "    return await ctx.run(get, url)\n" in (pkg / "flows.py").read_text()
    assert "def fetch(ctx: Context, url: str) -> str:" in (pkg / "steps.py").read_text()
    routes = (pkg / "routes.py").read_text()
    assert "    return await resonate.run(str(uuid.uuid4()), crawl, url).result()\n" in routes
    assert "D2R102 this module uses the Resonate instance `resonate` but neither creates nor imports it" in routes
    # a second run (the files now migrated) changes nothing
    assert not any(r.changed for r in run(iter_python_files([tmp_path]), write=False))


ASYNCIO_RUN = textwrap.dedent(
    """\
    import asyncio

    from dbos import DBOS


    @DBOS.workflow()
    async def work(n: int) -> int:
        return n


    def main() -> int:
        DBOS.launch()
        return asyncio.run(work(1))
    """
)


def test_import_of_asyncio_goes_with_its_last_use() -> None:
    r = migrate_source(ASYNCIO_RUN, "app.py")
    assert r.error is None and r.after is not None
    assert "return await resonate.run(" in r.after
    assert "asyncio" not in r.after.split("# TODO")[0] and r.after.startswith("import uuid\n")


def test_import_of_asyncio_stays_while_used() -> None:
    source = ASYNCIO_RUN.replace("    return n\n", "    await asyncio.sleep(0)\n    return n\n")
    assert source != ASYNCIO_RUN
    r = migrate_source(source, "app.py")
    assert r.error is None and r.after is not None
    assert "return await resonate.run(" in r.after and r.after.startswith("import asyncio\n")
