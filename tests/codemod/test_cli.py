from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cli.main import app
from tests.codemod.test_engine import PROGRAM

runner = CliRunner()


def test_diff_prints_and_writes_nothing(tmp_path: Path) -> None:
    f = tmp_path / "app.py"
    f.write_text(PROGRAM)
    result = runner.invoke(app, ["migrate", str(f), "--diff"])
    assert result.exit_code == 0, result.output
    assert "+resonate = Resonate(env={}, retry_policy=Never(), autostart=False)" in result.stdout
    assert f.read_text() == PROGRAM


def test_check_exits_1_when_something_would_change(tmp_path: Path) -> None:
    f = tmp_path / "app.py"
    f.write_text(PROGRAM)
    assert runner.invoke(app, ["migrate", str(f), "--check"]).exit_code == 1
    assert f.read_text() == PROGRAM
    assert runner.invoke(app, ["migrate", str(f)]).exit_code == 0
    assert runner.invoke(app, ["migrate", str(f), "--check"]).exit_code == 0


def test_errors_exit_2_and_others_still_migrate(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("import dbos\ndef f(:\n")
    (tmp_path / "app.py").write_text(PROGRAM)
    result = runner.invoke(app, ["migrate", str(tmp_path), "-j", "2"])
    assert result.exit_code == 2
    assert "resonate.register" in (tmp_path / "app.py").read_text()


def test_to_shim_and_unknown_code(tmp_path: Path) -> None:
    f = tmp_path / "app.py"
    f.write_text(PROGRAM)
    assert runner.invoke(app, ["migrate", str(f), "--to", "shim"]).exit_code == 0
    assert "from shim import DBOS, SetWorkflowID" in f.read_text()
    assert runner.invoke(app, ["migrate", str(f), "--select", "D2R999"]).exit_code == 2


def test_summary_never_reads_paths_as_markup(tmp_path: Path) -> None:
    d = tmp_path / "[red]x"
    d.mkdir()
    (d / "app.py").write_text(PROGRAM)
    result = runner.invoke(app, ["migrate", str(d), "--check"])
    assert "[red]x" in result.output.replace("\n", "")


def test_rules_list_and_show() -> None:
    listing = runner.invoke(app, ["rules"])
    assert listing.exit_code == 0 and "D2R104" in listing.output
    one = runner.invoke(app, ["rules", "d2r107"])
    assert one.exit_code == 0 and "await ctx.sleep(timedelta(seconds=5))" in one.output
    md = runner.invoke(app, ["rules", "D2R107", "--markdown"])
    assert md.output.startswith("# D2R107 sleep")
    assert runner.invoke(app, ["rules", "D2R999"]).exit_code == 2
