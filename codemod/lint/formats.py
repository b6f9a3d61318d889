"""The output formats of ``check``: text (like ruff), JSON, GitHub workflow commands, SARIF 2.1.0.

Each ``render_*`` function turns a :class:`CheckResult` into the exact text to write; none of them reads
the terminal. The text format also comes as styled parts (:func:`text_parts`) so the CLI can colour it.

The JSON document (``JSON_SCHEMA_VERSION`` 1) is a stable interface; fields are only ever added::

    {
      "version": 1,
      "tool": {"name": "dbos2resonate", "version": "0.1.0"},
      "findings": [{"path": "app.py", "line": 3, "column": 5, "end_line": 3, "end_column": 14,
                    "code": "D2R111", "rule": "send-recv", "name": "DBOS.recv", "kind": "api",
                    "message": "...", "fixable": true, "docs": "docs/rules/D2R111.md"}],
      "errors": [{"path": "bad.py", "line": 1, "column": 7, "kind": "syntax", "message": "..."}],
      "summary": {"files_checked": 10, "files_depending_on_dbos": 2, "files_with_findings": 2,
                  "findings": 7, "fixable": 5, "suppressed": 1, "errors": 1,
                  "by_code": {"D2R111": 2}, "by_name": [{"code": "D2R111", "name": "DBOS.recv", "count": 2}]}
    }
"""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version
from typing import Any
from urllib.parse import quote

from codemod.lint.model import CheckResult, FileError, Finding
from codemod.lint.registry import rules
from codemod.todo import docs_path

__all__ = [
    "FORMATS",
    "JSON_SCHEMA_VERSION",
    "SARIF_SCHEMA",
    "render",
    "render_github",
    "render_json",
    "render_sarif",
    "render_statistics",
    "render_text",
    "summary_line",
    "text_parts",
    "tool_version",
]

FORMATS = ("text", "json", "github", "sarif")
JSON_SCHEMA_VERSION = 1
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
TOOL_NAME = "dbos2resonate"
FIX_MARK = "[*]"  # ruff's mark for findings a fix exists for: here, ``migrate`` rewrites them


def tool_version() -> str:
    try:
        return version(TOOL_NAME)
    except PackageNotFoundError:  # run from a checkout that was not installed
        return "0+unknown"


# -- text ---------------------------------------------------------------------------------------------
# Style names the CLI maps to colours; plain rendering ignores them.
Part = tuple[str, str]


def text_parts(finding: Finding) -> list[Part]:
    """``path:line:col: CODE [*] message`` as (text, style) parts."""
    parts: list[Part] = [
        (finding.path, "path"),
        (":", "sep"),
        (str(finding.line), "pos"),
        (":", "sep"),
        (str(finding.column), "pos"),
        (": ", "sep"),
        (finding.code, "code"),
        (" ", ""),
    ]
    if finding.fixable:
        parts.append((FIX_MARK + " ", "fix"))
    parts.append((finding.message, ""))
    return parts


def error_parts(error: FileError) -> list[Part]:
    return [
        (error.path, "path"),
        (":", "sep"),
        (str(error.line), "pos"),
        (":", "sep"),
        (str(error.column), "pos"),
        (": ", "sep"),
        ("error", "error"),
        (f": {error.message}", ""),
    ]


def summary_line(result: CheckResult) -> str:
    """The closing line of the text format."""
    n = len(result.findings)
    if not n and not result.errors:
        return f"No DBOS constructs left in {_plural(result.files_checked, 'file')}."
    pieces = []
    if n:
        fixable = result.fixable
        pieces.append(
            f"Found {_plural(n, 'finding')} in {_plural(result.files_with_findings, 'file')}"
            + (f" ({fixable} fixable with `dbos2resonate migrate`, marked {FIX_MARK})" if fixable else "")
        )
    if result.errors:
        pieces.append(f"{_plural(len(result.errors), 'file')} could not be checked")
    return "; ".join(pieces) + "."


def render_text(result: CheckResult) -> str:
    lines = ["".join(text for text, _ in error_parts(e)) for e in result.errors]
    lines += ["".join(text for text, _ in text_parts(f)) for f in result.findings]
    lines.append(summary_line(result))
    return "\n".join(lines) + "\n"


def render_statistics(result: CheckResult) -> str:
    """Migration progress: how many of each rule and each construct remain, and who still imports dbos."""
    out: list[str] = []
    by_code = result.by_code()
    if by_code:
        width = max(len(str(n)) for n in by_code.values())
        out.append("Remaining, by rule:")
        for code, count in sorted(by_code.items()):
            rule = rules().get(code)
            mark = FIX_MARK if rule is not None and rule.fixable else "   "
            name = rule.name if rule is not None else "?"
            out.append(f"  {count:>{width}}  {code}  {mark}  {name}")
        by_name = result.by_name()
        width = max(len(str(n)) for n in by_name.values())
        name_width = max(len(name) for _, name in by_name)
        out.append("Remaining, by construct:")
        for (code, name), count in sorted(by_name.items(), key=lambda item: (-item[1], item[0][1], item[0][0])):
            out.append(f"  {count:>{width}}  {name:<{name_width}}  {code}")
    out.append(
        f"Files: {result.files_depending} of {result.files_checked} checked still import dbos; "
        f"{_plural(len(result.findings), 'finding')} in {_plural(result.files_with_findings, 'file')}, "
        f"{result.fixable} fixable by `migrate`, {result.suppressed} suppressed by noqa"
        + (f"; {_plural(len(result.errors), 'file')} could not be checked." if result.errors else ".")
    )
    return "\n".join(out) + "\n"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# -- JSON ---------------------------------------------------------------------------------------------
def json_document(result: CheckResult) -> dict[str, Any]:
    return {
        "version": JSON_SCHEMA_VERSION,
        "tool": {"name": TOOL_NAME, "version": tool_version()},
        "findings": [
            {
                "path": f.path,
                "line": f.line,
                "column": f.column,
                "end_line": f.end_line,
                "end_column": f.end_column,
                "code": f.code,
                "rule": rules()[f.code].name if f.code in rules() else None,
                "name": f.name,
                "kind": str(f.kind),
                "message": f.message,
                "fixable": f.fixable,
                "docs": docs_path(f.code),
            }
            for f in result.findings
        ],
        "errors": [
            {"path": e.path, "line": e.line, "column": e.column, "kind": str(e.kind), "message": e.message}
            for e in result.errors
        ],
        "summary": {
            "files_checked": result.files_checked,
            "files_depending_on_dbos": result.files_depending,
            "files_with_findings": result.files_with_findings,
            "findings": len(result.findings),
            "fixable": result.fixable,
            "suppressed": result.suppressed,
            "errors": len(result.errors),
            "by_code": dict(sorted(result.by_code().items())),
            "by_name": [
                {"code": code, "name": name, "count": count}
                for (code, name), count in sorted(result.by_name().items())
            ],
        },
    }


def render_json(result: CheckResult) -> str:
    return json.dumps(json_document(result), indent=2, ensure_ascii=False) + "\n"


# -- GitHub Actions workflow commands ------------------------------------------------------------------
def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(result: CheckResult) -> str:
    """One ``::warning`` per finding and one ``::error`` per unreadable file (annotations on the diff)."""
    lines = [
        f"::error file={_gh_property(e.path)},line={e.line},col={e.column},"
        f"title={_gh_property(TOOL_NAME + ' error')}::{_gh_data(e.message)}"
        for e in result.errors
    ]
    for f in result.findings:
        lines.append(
            f"::warning file={_gh_property(f.path)},line={f.line},col={f.column},"
            f"endLine={f.end_line},endColumn={f.end_column},title={_gh_property(f.code)}::"
            f"{_gh_data(f.code + ' ' + f.message)}"
        )
    return "".join(line + "\n" for line in lines)


# -- SARIF 2.1.0 --------------------------------------------------------------------------------------
def _sarif_rule(code: str) -> dict[str, Any]:
    rule = rules()[code]
    docs = docs_path(code)
    return {
        "id": code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.explanation},
        "help": {
            "text": f"{rule.explanation}\n\nSee {docs}",
            "markdown": f"{rule.explanation}\n\nSee [{docs}]({docs}).",
        },
        "defaultConfiguration": {"level": "warning"},
        "properties": {"fixable": rule.fixable, "docs": docs, "tags": ["dbos-migration"]},
    }


def _sarif_region(line: int, column: int, end_line: int | None = None, end_column: int | None = None) -> dict[str, int]:
    region = {"startLine": line, "startColumn": column}
    if end_line is not None and end_column is not None and (end_line, end_column) > (line, column):
        region["endLine"] = end_line
        region["endColumn"] = end_column
    return region


def _sarif_location(path: str, region: dict[str, int]) -> dict[str, Any]:
    artifact: dict[str, Any] = {"uri": quote(path)}
    if not path.startswith("/"):
        artifact["uriBaseId"] = "%SRCROOT%"
    return {"physicalLocation": {"artifactLocation": artifact, "region": region}}


def sarif_document(result: CheckResult) -> dict[str, Any]:
    """One run; ``tool.driver.rules`` is the whole registry so ``ruleIndex`` is stable across runs.
    Files that could not be checked are ``toolExecutionNotifications`` and make the run unsuccessful.
    Rule documentation is referred to by its path in the repository (``docs/rules/CODE.md``) in the help
    text: SARIF's ``helpUri`` must be absolute, and the project has no published docs URL yet."""
    codes = sorted(rules())
    index = {code: i for i, code in enumerate(codes)}
    results = []
    for f in result.findings:
        entry: dict[str, Any] = {
            "ruleId": f.code,
            "level": "warning",
            "message": {"text": f.message},
            "locations": [_sarif_location(f.path, _sarif_region(f.line, f.column, f.end_line, f.end_column))],
            "properties": {"name": f.name, "kind": str(f.kind), "fixable": f.fixable},
        }
        if f.code in index:
            entry["ruleIndex"] = index[f.code]
        results.append(entry)
    notifications = [
        {
            "level": "error",
            "message": {"text": f"{e.path}: {e.message}"},
            "locations": [_sarif_location(e.path, _sarif_region(e.line, e.column))],
            "descriptor": {"id": f"{e.kind}-error"},
        }
        for e in result.errors
    ]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "version": tool_version(),
                        "rules": [_sarif_rule(code) for code in codes],
                    }
                },
                "invocations": [
                    {"executionSuccessful": not result.errors, "toolExecutionNotifications": notifications}
                ],
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }


def render_sarif(result: CheckResult) -> str:
    return json.dumps(sarif_document(result), indent=2, ensure_ascii=False) + "\n"


def render(result: CheckResult, fmt: str) -> str:
    """The document for ``fmt`` (one of ``FORMATS``)."""
    renderers = {"text": render_text, "json": render_json, "github": render_github, "sarif": render_sarif}
    return renderers[fmt](result)
