"""``dbos2resonate cron EXPR``: convert one DBOS cron expression for Resonate and list its fire times.

Exit codes: 0 exact (with or without a seconds offset), 1 not expressible as a 5-field cron, 2 invalid.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import typer

from shim.cron import CronError, ExactWithOffset, NotExpressible, next_fire_times, parse, to_resonate


def cron(
    expression: str = typer.Argument(..., metavar="EXPR", help="A DBOS cron expression (quote it)."),
    count: int = typer.Option(5, "--count", "-n", min=0, max=1000, help="How many fire times to list."),
    start: str | None = typer.Option(
        None, "--from", metavar="ISO-DATETIME", help="List fire times after this instant (default now; naive = UTC)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of text."),
) -> None:
    """Convert a DBOS cron expression to Resonate's 5-field cron, with a verdict and the next fire times."""
    try:
        after = _instant(start)
        spec = parse(expression)
        conversion = to_resonate(spec)
    except CronError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    try:
        times = next_fire_times(spec, count, after)
    except CronError:  # R fields: no fixed fire times
        times = []

    record: dict[str, object] = {
        "expression": expression,
        "verdict": conversion.verdict.value,
        "cron": None if isinstance(conversion, NotExpressible) else conversion.cron,
        "offset_seconds": conversion.offset_seconds if isinstance(conversion, ExactWithOffset) else 0,
        "reason": conversion.reason if isinstance(conversion, NotExpressible) else None,
        "fire_times": [t.isoformat() for t in times],
    }
    if as_json:
        typer.echo(json.dumps(record, indent=2))
    else:
        typer.echo(f"verdict: {record['verdict']}")
        if record["cron"] is not None:
            typer.echo(f"cron:    {record['cron']}")
        if record["offset_seconds"]:
            typer.echo(f"offset:  +{record['offset_seconds']} s after each tick")
        if record["reason"]:
            typer.echo(f"reason:  {record['reason']}")
        typer.echo(f"next {len(times)} fire times as DBOS schedules them (UTC):" if times else "no fire times")
        for t in times:
            typer.echo(f"  {t.isoformat()}")
    raise typer.Exit(1 if isinstance(conversion, NotExpressible) else 0)


def _instant(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CronError(f"--from {text!r} is not an ISO datetime (for example 2025-01-01T09:30:00Z)") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def register(app: typer.Typer) -> None:
    app.command("cron")(cron)
