"""The ``dbos2resonate`` command: one Typer app, one module per sub-command.

Each sub-command module exposes ``register(app)``; adding a command is one line in ``COMMANDS``.
"""

from __future__ import annotations

import importlib
from importlib.metadata import version as package_version

import typer

app = typer.Typer(
    name="dbos2resonate",
    help="Move DBOS Python programs onto Resonate: migrate, check, and run on the shim.",
    no_args_is_help=True,
    rich_markup_mode=None,  # help text and messages may quote code; never read it as markup
    pretty_exceptions_enable=False,
)

# Sub-command modules under cli/, each with a register(app) function.
COMMANDS: tuple[str, ...] = (
    "cron",
    "check",
    "migrate",
    "rules",
    "serve",
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"dbos2resonate {package_version('dbos2resonate')}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Move DBOS Python programs onto Resonate."""


for _module in COMMANDS:
    importlib.import_module(f"cli.{_module}").register(app)
