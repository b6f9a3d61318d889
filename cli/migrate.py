"""``dbos2resonate migrate PATH...``: rewrite DBOS programs for Resonate (native async API, or the shim).

Exit codes (as Ruff): 0 done / nothing to do, 1 ``--check`` found files that would change, 2 a file could not be
migrated (it is left untouched; the others are still migrated) or the arguments are wrong.
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from codemod.engine import FileResult, Options, iter_python_files, run
from codemod.rules import Target

PROGRESS_THRESHOLD = 50  # files; below this a bar is noise


def _codes(values: list[str] | None) -> tuple[str, ...]:
    return tuple(c.strip() for v in values or () for c in v.split(",") if c.strip())


def _label(side: str, path: str) -> str:
    return path if Path(path).is_absolute() else f"{side}/{path}"


def _diff(r: FileResult) -> str:
    assert r.before is not None and r.after is not None
    return "".join(
        difflib.unified_diff(
            r.before.splitlines(keepends=True), r.after.splitlines(keepends=True), _label("a", r.path), _label("b", r.path)
        )
    )


def _summary(results: list[FileResult], console: Console, verb: str) -> None:
    changed = [r for r in results if r.changed]
    errors = [r for r in results if r.error]
    if changed or errors:
        table = Table(title=None, show_lines=False, highlight=False)
        table.add_column("file", overflow="fold")
        table.add_column("status")
        table.add_column("rules")
        table.add_column("TODOs", justify="right")
        for r in results:
            if not (r.changed or r.error):
                continue
            status = Text("error", style="red") if r.error else Text(verb, style="green")
            table.add_row(Text(r.path), status, Text(" ".join(r.rules)), Text(str(len(r.todos))))
        console.print(table)
    for r in errors:
        console.print(Text(f"{r.path}: {r.error}", style="red"))
    todos = sum(len(r.todos) for r in changed)
    skipped = sum(1 for r in results if r.skipped)
    console.print(
        Text(
            f"{len(results)} files: {len(changed)} {verb}, {len(errors)} failed, {skipped} without DBOS; "
            f"{todos} TODOs added (grep 'TODO(dbos2resonate)')"
        )
    )


def migrate(
    paths: list[Path] = typer.Argument(..., help="Files or directories to migrate.", exists=True),
    diff: bool = typer.Option(False, "--diff", help="Print unified diffs; write nothing."),
    check: bool = typer.Option(False, "--check", help="Write nothing; exit 1 if any file would change."),
    to: Target = typer.Option(Target.NATIVE, "--to", help="native: resonate-sdk's async API. shim: imports only."),
    select: Optional[list[str]] = typer.Option(None, "--select", help="Rule codes or prefixes to apply (D2R103,D2R1)."),
    ignore: Optional[list[str]] = typer.Option(None, "--ignore", help="Rule codes or prefixes to skip."),
    exclude: Optional[list[str]] = typer.Option(None, "--exclude", help="Glob of paths to skip (repeatable)."),
    jobs: int = typer.Option(1, "-j", "--jobs", min=1, help="Files migrated in parallel (processes)."),
) -> None:
    """Rewrite DBOS programs to run on Resonate. Anything that cannot be converted faithfully gets a
    '# TODO(dbos2resonate): CODE ...' comment at the spot; see 'dbos2resonate rules CODE'."""
    options = Options(target=to, select=_codes(select), ignore=_codes(ignore))
    err = Console(stderr=True, highlight=False, markup=False)
    try:
        options.validate()
    except KeyError as exc:
        err.print(Text(str(exc.args[0])))
        raise typer.Exit(2) from None
    files = list(iter_python_files(paths, exclude or ()))
    write = not (diff or check)
    show_bar = len(files) >= PROGRESS_THRESHOLD and err.is_terminal
    if show_bar:
        with Progress(
            TextColumn("migrating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=err, transient=True,
        ) as bar:
            task = bar.add_task("migrate", total=len(files))
            results = run(files, options, write=write, jobs=jobs, progress=lambda _r: bar.advance(task))
    else:
        results = run(files, options, write=write, jobs=jobs)
    if diff:
        for r in results:
            if r.changed:
                sys.stdout.write(_diff(r))
        sys.stdout.flush()
    verb = "migrated" if write else "would change"
    _summary(results, err, verb)
    if any(r.error for r in results):
        raise typer.Exit(2)
    if check and any(r.changed for r in results):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("migrate")(migrate)
