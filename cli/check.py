"""``dbos2resonate check PATH...``: the CI lint. Reports every DBOS construct and migration TODO left.

Exit status (ruff's contract): 0 nothing found, 1 findings (0 with ``--exit-zero``), 2 a usage or
configuration error, a missing path, an internal error, or a file that mentions dbos but could not be
checked (not UTF-8, a syntax error): a tree that could not be read is not a clean tree, so that is 2 even
with ``--exit-zero``. The other files are still checked and reported.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import IO

import typer
from rich.console import Console
from rich.text import Text

from cli.config import Config, ConfigError, load_config
from codemod.lint import CheckResult, Selection, SelectorError, check_paths
from codemod.lint.files import MissingPathError
from codemod.lint.formats import FORMATS, error_parts, render, render_statistics, summary_line, text_parts

__all__ = ["register", "EXIT_CLEAN", "EXIT_FINDINGS", "EXIT_ERROR"]

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2

# Style names used by codemod.lint.formats.text_parts -> rich styles (only on a colour terminal).
_STYLES = {"path": "bold", "sep": "cyan", "pos": "", "code": "bold red", "fix": "cyan", "error": "bold red"}

HELP = """Report every DBOS construct and migration TODO left under PATHs (default: the current directory).

Exit status: 0 clean, 1 findings (0 with --exit-zero), 2 usage error, missing path, or a file that could
not be checked. Defaults come from [tool.dbos2resonate] in the nearest pyproject.toml; flags override them.
"""


def _split(values: list[str] | None) -> list[str] | None:
    """Repeatable, comma-separated option values, flattened; None when the flag was not given."""
    if values is None:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _fail(message: str) -> typer.Exit:
    typer.echo(f"dbos2resonate check: error: {message}", err=True)
    return typer.Exit(EXIT_ERROR)


def check(
    paths: list[Path] = typer.Argument(None, help="Files or directories to check (default: .).", show_default=False),
    output_format: str | None = typer.Option(
        None, "--format", "--output-format", help=f"Output format: {', '.join(FORMATS)} (default: text).",
        metavar="FORMAT", show_default=False,
    ),
    select: list[str] | None = typer.Option(
        None, "--select", help="Only these rule code prefixes, comma-separated (e.g. D2R2,D2R111).", metavar="CODES"
    ),
    ignore: list[str] | None = typer.Option(
        None, "--ignore", help="Never these rule code prefixes, comma-separated.", metavar="CODES"
    ),
    exclude: list[str] | None = typer.Option(
        None, "--exclude", help="Skip files and directories matching GLOB (repeatable; replaces the config's).",
        metavar="GLOB",
    ),
    exit_zero: bool = typer.Option(False, "--exit-zero", help="Exit 0 even when there are findings."),
    statistics: bool = typer.Option(
        False, "--statistics", help="Show migration progress (counts per rule and construct) instead of findings."
    ),
    config_file: Path | None = typer.Option(
        None, "--config", help="Read [tool.dbos2resonate] from this file instead of the nearest pyproject.toml.",
        metavar="FILE",
    ),
    output_file: Path | None = typer.Option(
        None, "--output-file", "-o", help="Write the report to FILE instead of standard output.", metavar="FILE"
    ),
) -> None:
    try:
        code = _run(paths, output_format, select, ignore, exclude, exit_zero, statistics, config_file, output_file)
    except typer.Exit:
        raise
    except Exception as exc:  # a bug: say so, keep the traceback for the report, exit 2
        traceback.print_exc(file=sys.stderr)
        raise _fail(f"internal error: {type(exc).__name__}: {exc}") from None
    raise typer.Exit(code)


def _run(
    paths: list[Path] | None,
    output_format: str | None,
    select: list[str] | None,
    ignore: list[str] | None,
    exclude: list[str] | None,
    exit_zero: bool,
    statistics: bool,
    config_file: Path | None,
    output_file: Path | None,
) -> int:
    try:
        config = load_config(config_file)
        fmt = output_format or config.choice("format", FORMATS, "text")
        if fmt not in FORMATS:
            raise _fail(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
        selection = Selection.of(
            _split(select) if select is not None else _configured(config, "select"),
            _split(ignore) if ignore is not None else _configured(config, "ignore"),
        )
        excludes = _split(exclude) if exclude is not None else config.exclude
    except (ConfigError, SelectorError) as exc:
        raise _fail(str(exc)) from None
    try:
        result = check_paths(paths or [Path(".")], selection=selection, exclude=excludes, root=_root(config, exclude))
    except MissingPathError as exc:
        raise _fail(f"no such file or directory: {exc}") from None

    if output_file is not None:
        with output_file.open("w", encoding="utf-8") as out:
            _write(result, fmt, statistics, out, colour=False)
    else:
        _write(result, fmt, statistics, sys.stdout, colour=None)
    if result.errors:
        return EXIT_ERROR
    if result.findings and not exit_zero:
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _configured(config: Config, key: str) -> list[str] | None:
    """``select``/``ignore`` from the config, each selector checked here so an error names the file."""
    values = config.get(key, list, None)
    if values is not None:
        try:
            Selection.of(values, None)
        except SelectorError as exc:
            raise ConfigError(f"{config.path}: [tool.dbos2resonate] {key}: {exc}") from None
    return values


def _root(config: Config, cli_exclude: list[str] | None) -> Path:
    """Excludes from the command line are relative to the current directory; the config's to its file."""
    return Path.cwd() if cli_exclude is not None else config.root


def _write(result: CheckResult, fmt: str, statistics: bool, out: IO[str], colour: bool | None) -> None:
    if fmt != "text":
        out.write(render(result, fmt))
        out.flush()
        if statistics:  # the machine-readable report stays clean; the summary is for the log
            sys.stderr.write(render_statistics(result))
        return
    # Source text and messages are printed as-is: no markup, no highlighting, no wrapping.
    console = Console(
        file=out,
        markup=False,
        highlight=False,
        emoji=False,
        soft_wrap=True,
        force_terminal=colour,
        no_color=colour is False or None,
    )
    if statistics:
        console.print(Text(render_statistics(result).rstrip("\n")))
        return
    for error in result.errors:
        console.print(_styled(error_parts(error)))
    for finding in result.findings:
        console.print(_styled(text_parts(finding)))
    console.print(Text(summary_line(result)))


def _styled(parts: list[tuple[str, str]]) -> Text:
    text = Text()
    for chunk, style in parts:
        text.append(chunk, style=_STYLES.get(style) or None)
    return text


def register(app: typer.Typer) -> None:
    app.command("check", help=HELP)(check)
