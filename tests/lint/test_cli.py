"""``dbos2resonate check`` through a real subprocess: exit codes, every format, configuration."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from codemod.rules import RULES

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SARIF_SCHEMA = REPO / "tests" / "data" / "sarif-schema-2.1.0.json"
ANSI = re.compile(r"\x1b\[")

APP = """\
from dbos import DBOS, Queue

queue = Queue("q")


@DBOS.workflow()
def wf(x):
    DBOS.sleep(1)
    return DBOS.recv("topic")
"""

MIGRATED = """\
from shim import DBOS

# TODO(dbos2resonate): D2R201 Transactions have no [str] counterpart. See docs/rules/D2R201.md
@DBOS.workflow()
def wf():
    pass
"""


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content), encoding="utf-8")
    return root


def check(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in {"FORCE_COLOR", "CLICOLOR_FORCE", "TTY_COMPATIBLE", "NO_COLOR"}}
    base["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), base.get("PYTHONPATH")]))
    base.update(env or {})
    return subprocess.run(
        [sys.executable, "-c", "from cli.main import app; app()", "check", *args],
        cwd=cwd, env=base, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return write(tmp_path, {"app.py": APP, "pkg/done.py": MIGRATED, "pkg/plain.py": "x = 1\n"})


# -- exit codes ---------------------------------------------------------------------------------------
def test_clean_tree_exits_0(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": "from shim import DBOS\n", "b.py": "print('dbos is gone')\n"})
    proc = check(tmp_path, ".")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "No DBOS constructs left in 2 files.\n", "")


def line(where: str, code: str, name: str) -> str:
    """A text-format line as the registry says it reads today (summaries and fixability may change)."""
    rule = RULES[code]
    return f"{where}: {code} {'[*] ' if rule.fixable else ''}`{name}`: {rule.summary}"


# (position, code, API name) of APP's findings, and how many of the tree's 6 findings are fixable.
APP_FINDINGS = [
    ("app.py:1:1", "D2R101", "from dbos import DBOS, Queue"),
    ("app.py:3:9", "D2R113", "Queue"),
    ("app.py:6:2", "D2R103", "DBOS.workflow"),
    ("app.py:8:5", "D2R107", "DBOS.sleep"),
    ("app.py:9:12", "D2R111", "DBOS.recv"),
]
FIXABLE = sum(RULES[code].fixable for _, code, _ in APP_FINDINGS)
FOUND = f"Found 6 findings in 2 files ({FIXABLE} fixable with `dbos2resonate migrate`, marked [*])"


def test_findings_exit_1_in_ruff_text_format(tree: Path) -> None:
    proc = check(tree)  # default path: .
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.splitlines() == [
        *(line(*finding) for finding in APP_FINDINGS),
        "pkg/done.py:3:1: D2R201 migration TODO: Transactions have no [str] counterpart.",
        FOUND + ".",
    ]
    assert not ANSI.search(proc.stdout)  # not a terminal: no colour


def test_exit_zero(tree: Path) -> None:
    proc = check(tree, ".", "--exit-zero")
    assert proc.returncode == 0 and "Found 6 findings" in proc.stdout


def test_missing_path_exits_2_with_a_clear_message(tree: Path) -> None:
    proc = check(tree, "app.py", "nope.py")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.strip() == "dbos2resonate check: error: no such file or directory: nope.py"


def test_unparsable_files_are_reported_the_rest_still_checked_and_exit_2(tree: Path) -> None:
    write(tree, {"bad.py": "from dbos import DBOS\ndef broken(:\n", "latin.py": b"import dbos\nx = '\xe9'\n"})
    proc = check(tree, ".", "--exit-zero")
    assert proc.returncode == 2  # even with --exit-zero: those files were not checked
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("bad.py:2:") and ": error: syntax error:" in lines[0]
    assert lines[1].startswith("latin.py:2:6: error: not UTF-8")
    assert "app.py:9:12: D2R111" in proc.stdout
    assert lines[-1] == FOUND + "; 2 files could not be checked."


def test_syntax_errors_in_files_without_dbos_are_not_read(tmp_path: Path) -> None:
    write(tmp_path, {"template.py": "{{ cookiecutter.name }} = 1\n"})
    assert check(tmp_path, ".").returncode == 0


@pytest.mark.parametrize("args", [["--format", "xml"], ["--select", "E501"], ["--ignore", "D2R999"], ["--bogus"]])
def test_usage_errors_exit_2(tree: Path, args: list[str]) -> None:
    proc = check(tree, ".", *args)
    assert proc.returncode == 2 and proc.stdout == "" and proc.stderr


# -- selection, exclusion -----------------------------------------------------------------------------
def test_select_and_ignore_take_prefixes(tree: Path) -> None:
    proc = check(tree, ".", "--select", "D2R1", "--ignore", "D2R101,D2R113")
    assert [line.split()[1] for line in proc.stdout.splitlines()[:-1]] == ["D2R103", "D2R107", "D2R111"]
    only_todos = check(tree, ".", "--select", "D2R2")
    assert only_todos.stdout.splitlines()[0].startswith("pkg/done.py:3:1: D2R201")
    assert check(tree, ".", "--select", "D2R111", "--ignore", "D2R1").stdout.count("D2R111") == 1  # most specific wins


def test_exclude_glob(tree: Path) -> None:
    proc = check(tree, ".", "--exclude", "pkg")
    assert "pkg/" not in proc.stdout and "app.py" in proc.stdout
    proc = check(tree, ".", "--exclude", "*.py")
    assert (proc.returncode, proc.stdout) == (0, "No DBOS constructs left in 0 files.\n")


def test_default_excludes_skip_virtualenvs(tree: Path) -> None:
    write(tree, {".venv/lib/dbos_thing.py": APP, "build/x.py": APP})
    assert ".venv" not in check(tree, ".").stdout


# -- formats ------------------------------------------------------------------------------------------
def test_json_format(tree: Path) -> None:
    proc = check(tree, ".", "--format", "json")
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert doc["version"] == 1 and doc["tool"]["name"] == "dbos2resonate"
    first = doc["findings"][0]
    assert first == {
        "path": "app.py", "line": 1, "column": 1, "end_line": 1, "end_column": 29, "code": "D2R101",
        "rule": "imports", "name": "dbos", "kind": "import",
        "message": f"`from dbos import DBOS, Queue`: {RULES['D2R101'].summary}",
        "fixable": RULES["D2R101"].fixable, "docs": "docs/rules/D2R101.md",
    }  # fmt: skip
    assert doc["findings"][-1]["kind"] == "todo"
    summary = doc["summary"]
    assert (summary["files_checked"], summary["files_depending_on_dbos"], summary["findings"], summary["fixable"]) == (3, 1, 6, FIXABLE)
    assert summary["by_code"]["D2R111"] == 1
    assert {"code": "D2R107", "name": "DBOS.sleep", "count": 1} in summary["by_name"]
    assert doc["errors"] == []


def test_github_format(tree: Path) -> None:
    proc = check(tree, ".", "--format", "github")
    lines = proc.stdout.splitlines()
    assert lines[0] == (
        "::warning file=app.py,line=1,col=1,endLine=1,endColumn=29,title=D2R101::D2R101 "
        f"`from dbos import DBOS, Queue`: {RULES['D2R101'].summary}"
    )
    assert len(lines) == 6 and all(line.startswith("::warning file=") for line in lines)
    write(tree, {"bad.py": "import dbos\nif:\n"})
    assert check(tree, "bad.py", "--format", "github").stdout.startswith("::error file=bad.py,line=2,")


def test_sarif_format_is_valid_sarif_2_1_0(tree: Path) -> None:
    write(tree, {"bad.py": "import dbos\nif:\n"})
    proc = check(tree, ".", "--format", "sarif")
    assert proc.returncode == 2
    doc = json.loads(proc.stdout)
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema validates SARIF (test extra)")
    # tests/data/sarif-schema-2.1.0.json: OASIS SARIF 2.1.0 (errata 01) schema, see tests/data/README.md.
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker()).validate(doc)
    [run] = doc["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in run["results"])
    assert {r["ruleId"] for r in run["results"]} == {"D2R101", "D2R103", "D2R107", "D2R111", "D2R113", "D2R201"}
    assert rules[0]["help"]["text"].endswith("See docs/rules/D2R101.md")
    location = run["results"][0]["locations"][0]["physicalLocation"]
    assert location == {"artifactLocation": {"uri": "app.py", "uriBaseId": "%SRCROOT%"},
                        "region": {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 29}}  # fmt: skip
    [invocation] = run["invocations"]
    assert invocation["executionSuccessful"] is False
    assert invocation["toolExecutionNotifications"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "bad.py"


def test_statistics_show_migration_progress(tree: Path) -> None:
    proc = check(tree, ".", "--statistics")
    assert proc.returncode == 1
    mark = {code: "[*]" if RULES[code].fixable else "   " for code in RULES}
    by_rule = [(code, RULES[code].name) for code in ("D2R101", "D2R103", "D2R107", "D2R111", "D2R113", "D2R201")]
    assert proc.stdout.splitlines() == [
        "Remaining, by rule:",
        *(f"  1  {code}  {mark[code]}  {name}" for code, name in by_rule),
        "Remaining, by construct:",
        "  1  DBOS.recv      D2R111",
        "  1  DBOS.sleep     D2R107",
        "  1  DBOS.workflow  D2R103",
        "  1  Queue          D2R113",
        "  1  TODO           D2R201",
        "  1  dbos           D2R101",
        f"Files: 1 of 3 checked still import dbos; 6 findings in 2 files, {FIXABLE} fixable by `migrate`, 0 suppressed by noqa.",
    ]
    sarif = check(tree, ".", "--format", "sarif", "--statistics")
    assert json.loads(sarif.stdout)["version"] == "2.1.0" and "Remaining, by rule:" in sarif.stderr


def test_source_text_is_never_markup_even_in_colour(tree: Path) -> None:
    proc = check(tree, "pkg", env={"FORCE_COLOR": "1"})
    assert ANSI.search(proc.stdout)  # colours when asked for
    assert "Transactions have no [str] counterpart." in ANSI.sub("", re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout))


def test_output_file(tree: Path) -> None:
    proc = check(tree, ".", "--format", "json", "-o", "report.json")
    assert proc.returncode == 1 and proc.stdout == ""
    assert json.loads((tree / "report.json").read_text())["summary"]["findings"] == 6


# -- configuration ------------------------------------------------------------------------------------
def test_pyproject_config_applies_and_flags_override_it(tree: Path) -> None:
    write(tree, {"pyproject.toml": '[tool.dbos2resonate]\nignore = ["D2R1"]\nexclude = ["app.py"]\nformat = "json"\n'})
    sub = tree / "pkg"
    doc = json.loads(check(sub, ".").stdout)  # found from a subdirectory
    assert [f["code"] for f in doc["findings"]] == ["D2R201"]
    doc = json.loads(check(tree, ".").stdout)
    assert [f["path"] for f in doc["findings"]] == ["pkg/done.py"]  # app.py excluded
    proc = check(tree, ".", "--format", "text", "--ignore", "D2R2", "--exclude", "pkg")
    assert proc.stdout.splitlines()[0].startswith("app.py:1:1: D2R101")


def test_a_pyproject_without_the_table_is_passed_over(tree: Path) -> None:
    write(tree, {"pyproject.toml": '[tool.dbos2resonate]\nselect = ["D2R2"]\n', "pkg/pyproject.toml": "[project]\nname = 'x'\n"})
    proc = check(tree / "pkg", ".")
    assert proc.stdout.splitlines()[0].startswith("done.py:3:1: D2R201")


@pytest.mark.parametrize(
    "toml, message",
    [
        ('[tool.dbos2resonate]\nselect = "D2R1"\n', "select must be a list of strings"),
        ('[tool.dbos2resonate]\nformat = "xml"\n', "format must be one of text, json, github, sarif"),
        ('[tool.dbos2resonate]\nignore = ["X1"]\n', "unknown rule selector 'X1'"),
        ("[tool.dbos2resonate\n", "not valid TOML"),
    ],
)
def test_bad_config_exits_2_naming_the_problem(tree: Path, toml: str, message: str) -> None:
    write(tree, {"pyproject.toml": toml})
    proc = check(tree, ".")
    assert proc.returncode == 2 and proc.stdout == ""
    assert message in proc.stderr and "pyproject.toml" in proc.stderr


def test_explicit_config_file(tree: Path) -> None:
    write(tree, {"ci.toml": '[tool.dbos2resonate]\nselect = ["D2R111"]\n'})
    proc = check(tree, ".", "--config", "ci.toml")
    assert [line.split()[1] for line in proc.stdout.splitlines()[:-1]] == ["D2R111"]
    assert check(tree, ".", "--config", "missing.toml").returncode == 2
