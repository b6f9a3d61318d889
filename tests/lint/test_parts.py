"""The pieces around the engine, in-process: selection, file walking, formats, config, hooks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cli.config import ConfigError, load_config
from codemod.lint import CheckResult, Finding, Kind, Selection, SelectorError, check_paths
from codemod.lint.files import MissingPathError, iter_python_files
from codemod.lint.formats import render_github, render_text

REPO = Path(__file__).resolve().parents[2]


# -- selection ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "select, ignore, code, expected",
    [
        (None, None, "D2R111", True),
        (["D2R2"], None, "D2R111", False),
        (["D2R2"], None, "D2R201", True),
        (None, ["D2R1"], "D2R111", False),
        (["D2R111"], ["D2R1"], "D2R111", True),  # the more specific selector wins
        (["D2R1"], ["D2R1"], "D2R101", False),  # a tie goes to ignore
        (["all"], ["d2r101"], "D2R101", False),  # case-insensitive
        (["ALL"], ["d2r101"], "D2R102", True),
    ],
)
def test_selection(select, ignore, code, expected) -> None:
    assert (code in Selection.of(select, ignore)) is expected


@pytest.mark.parametrize("selector", ["E501", "D2R3", "D2R999", "D2R1111", "X"])
def test_unknown_selectors_are_rejected(selector: str) -> None:
    with pytest.raises(SelectorError):
        Selection.of([selector], None)


# -- files --------------------------------------------------------------------------------------------
def test_walk_order_excludes_and_duplicates(tmp_path: Path) -> None:
    for name in ["b.py", "a.py", "sub/c.pyi", "sub/notes.txt", ".venv/x.py", "x.egg-info/y.py", "gen/z_pb2.py"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    (tmp_path / "script").write_text("")
    files = iter_python_files([tmp_path, tmp_path / "a.py", tmp_path / "script"], exclude=["*_pb2.py"], root=tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in files] == ["a.py", "b.py", "sub/c.pyi", "script"]
    assert "sub" not in {p.parent.name for p in iter_python_files([tmp_path], exclude=["sub"], root=tmp_path)}
    assert list(iter_python_files([tmp_path / "a.py"], exclude=["a.py"], root=tmp_path)) == []


def test_missing_paths_raise_before_anything_is_read(tmp_path: Path) -> None:
    with pytest.raises(MissingPathError, match="nope"):
        check_paths([tmp_path, tmp_path / "nope"])


def test_unreadable_file_is_an_io_error(tmp_path: Path) -> None:
    (tmp_path / "dir.py").mkdir()  # a directory named like a module is walked
    (tmp_path / "dir.py" / "ok.py").write_text("import dbos\n")
    (tmp_path / "dir.py" / "link.py").symlink_to(tmp_path / "gone.py")  # listed by the walk, unreadable
    result = check_paths([tmp_path / "dir.py"], root=tmp_path)
    [error] = result.errors
    assert error.kind == "io" and error.path.endswith("link.py")
    assert [f.code for f in result.findings] == ["D2R101"]


# -- formats ------------------------------------------------------------------------------------------
def finding(path: str = "a.py", message: str = "m") -> Finding:
    return Finding(path, 3, 5, 3, 9, "D2R111", "DBOS.recv", Kind.API, message, True)


def test_github_escapes_properties_and_data() -> None:
    out = render_github(CheckResult(findings=[finding("we,ird:dir/a.py", "50% done\nnext")]))
    assert out == "::warning file=we%2Cird%3Adir/a.py,line=3,col=5,endLine=3,endColumn=9,title=D2R111::D2R111 50%25 done%0Anext\n"


def test_text_keeps_markup_like_text_literal() -> None:
    out = render_text(CheckResult(findings=[finding(message="[bold]x[/bold] list[str]")]))
    assert out.splitlines()[0] == "a.py:3:5: D2R111 [*] [bold]x[/bold] list[str]"


# -- config -------------------------------------------------------------------------------------------
def test_config_is_the_nearest_pyproject_with_the_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.dbos2resonate]\nexclude = ["gen/*"]\ntarget = "shim"\n')
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / "sub" / "pyproject.toml").write_text("[tool.other]\nx = 1\n")
    config = load_config(start=tmp_path / "sub" / "deeper")
    assert config.path == (tmp_path / "pyproject.toml").resolve() and config.root == tmp_path.resolve()
    assert config.exclude == ["gen/*"] and config.select is None
    assert config.get("target", str, "native") == "shim"  # a key another command owns
    assert config.choice("format", ("text", "json"), "text") == "text"
    assert load_config(start=tmp_path.parent).path is None or load_config(start=tmp_path.parent).path != config.path


def test_config_type_errors_name_file_and_key(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.dbos2resonate]\nexclude = [1]\ntarget = 3\n")
    config = load_config(start=tmp_path)
    with pytest.raises(ConfigError, match=r"pyproject.toml: \[tool.dbos2resonate\] exclude must be a list of strings"):
        _ = config.exclude
    with pytest.raises(ConfigError, match="target must be a str"):
        config.get("target", str, "native")
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_config(tmp_path / "missing.toml")


# -- CLI, in-process ----------------------------------------------------------------------------------
def test_an_internal_error_exits_2_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cli import check as check_module

    def boom(*_a, **_k):
        raise RuntimeError("kaput")

    monkeypatch.setattr(check_module, "check_paths", boom)
    app = typer.Typer()
    check_module.register(app)
    app.command("noop")(lambda: None)  # two commands, so "check" is a sub-command as in the real app
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["check", "."])
    assert result.exit_code == 2
    assert "internal error: RuntimeError: kaput" in result.output


# -- pre-commit hooks ---------------------------------------------------------------------------------
def test_pre_commit_hooks_name_real_commands() -> None:
    yaml = pytest.importorskip("yaml")
    from cli.main import app

    hooks = {hook["id"]: hook for hook in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    assert hooks["dbos2resonate-check"]["entry"] == "dbos2resonate check"
    commands = {command.name for command in app.registered_commands}
    for hook in hooks.values():
        program, command, *_ = hook["entry"].split()
        assert program == "dbos2resonate" and hook["language"] == "python"
        assert command in commands


def test_json_round_trips_the_result(tmp_path: Path) -> None:
    from codemod.lint.formats import render_json

    (tmp_path / "a.py").write_text("from dbos import DBOS\nDBOS.recv()  # noqa: D2R111\n")
    result = check_paths([tmp_path / "a.py"], root=tmp_path)
    doc = json.loads(render_json(result))
    assert doc["summary"]["suppressed"] == 1 and doc["summary"]["findings"] == 1


def test_an_engine_bug_on_one_file_is_that_files_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from codemod.lint import runner

    real = runner.check_source

    def flaky(data: bytes, path: str):
        if path.endswith("boom.py"):
            raise AssertionError("unexpected node")
        return real(data, path)

    monkeypatch.setattr(runner, "check_source", flaky)
    (tmp_path / "boom.py").write_text("import dbos\n")
    (tmp_path / "fine.py").write_text("import dbos\n")
    result = check_paths([tmp_path], root=tmp_path)
    [error] = result.errors
    assert error.kind == "internal" and "AssertionError: unexpected node" in error.message
    assert [f.path.rsplit("/", 1)[-1] for f in result.findings] == ["fine.py"]
