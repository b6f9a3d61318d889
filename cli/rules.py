"""``dbos2resonate rules [CODE]``: list the rule registry, or show one rule with its examples."""

from __future__ import annotations

import textwrap
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from codemod import docs
from codemod.rules import RULES, get


def rules(
    code: Optional[str] = typer.Argument(None, help="A rule code, e.g. D2R104."),
    markdown: bool = typer.Option(False, "--markdown", help="Print the rule's docs page (Markdown)."),
) -> None:
    """List the migration rules, or show one rule with its before/after examples."""
    out = Console(highlight=False, markup=False)
    if code is None:
        if markdown:
            typer.echo(docs.render_index(), nl=False)
            return
        table = Table(highlight=False)
        table.add_column("code")
        table.add_column("name")
        table.add_column("fix")
        table.add_column("summary", overflow="fold")
        for rule in RULES.values():
            table.add_row(Text(rule.code), Text(rule.name), Text("yes" if rule.fixable else "TODO"), Text(rule.summary))
        out.print(table)
        return
    try:
        rule = get(code)
    except KeyError as exc:
        Console(stderr=True, markup=False).print(Text(str(exc.args[0])))
        raise typer.Exit(2) from None
    if markdown:
        typer.echo(docs.render(rule), nl=False)
        return
    # plain text: source code is printed verbatim, never read as markup
    typer.echo(f"{rule.code} {rule.name}: {rule.summary}")
    typer.echo(f"fixable: {'yes' if rule.fixable else 'no (migrate leaves a TODO)'}")
    typer.echo("")
    typer.echo(rule.explanation.strip())
    for i, ex in enumerate(rule.examples, 1):
        typer.echo("")
        typer.echo(f"--- example {i}{': ' + ex.title if ex.title else ''} (--to {ex.target.value}) ---")
        typer.echo("before:")
        typer.echo(textwrap.indent(textwrap.dedent(ex.before).strip("\n"), "    "))
        typer.echo("after:")
        typer.echo(textwrap.indent(textwrap.dedent(ex.after).strip("\n"), "    "))


def register(app: typer.Typer) -> None:
    app.command("rules")(rules)
