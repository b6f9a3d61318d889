"""``dbos2resonate serve``: a Resonate-protocol server on the project's durable store.

The first line on stdout is ``listening on http://HOST:PORT`` (the real port when ``--port 0``);
point workers at it with ``Resonate(url=...)`` or ``RESONATE_URL``. SIGTERM or SIGINT stops it
cleanly: the store is snapshotted and unlocked. Exit status: 0 stopped, 2 the store cannot be
opened (locked, corrupt, unreadable) or the options are wrong. See docs/server.md.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import typer

from shim.store import DEFAULT_TICK_INTERVAL, StoreError
from shim.store.server import JournaledState, ProtocolServer, open_served_store, serve

EXIT_ERROR = 2


def serve_command(
    store: Path | None = typer.Option(None, "--store", metavar="FILE", help="The store file (created if missing)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8001, "--port", min=0, max=65535, help="Port to listen on; 0 picks a free one."),
    memory: bool = typer.Option(False, "--memory", help="Keep everything in memory (no file, lost on exit)."),
) -> None:
    """Serve the Resonate protocol (HTTP + SSE) from a durable store file, for many workers."""
    if (store is None) == (not memory):
        typer.echo("dbos2resonate serve: error: give exactly one of --store FILE or --memory", err=True)
        raise typer.Exit(EXIT_ERROR)
    try:
        journaled = open_served_store(None if memory else store)
    except StoreError as error:
        typer.echo(f"dbos2resonate serve: error: {error}", err=True)
        raise typer.Exit(EXIT_ERROR) from None
    try:
        asyncio.run(_serve_until_signalled(journaled, host, port))
        # A clean stop leaves a snapshot, so the next start replays nothing.
        journaled.checkpoint()
    except OSError as error:  # the address is in use, or the host does not resolve
        typer.echo(f"dbos2resonate serve: error: cannot listen on {host}:{port}: {error}", err=True)
        raise typer.Exit(EXIT_ERROR) from None
    finally:
        journaled.close()


async def _serve_until_signalled(store: JournaledState, host: str, port: int) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    server = ProtocolServer(store, tick_interval=DEFAULT_TICK_INTERVAL)
    await serve(server, host, port, stopping, _announce)


def _announce(url: str) -> None:
    # Flushed at once: whoever started the server waits for this line to connect.
    print(f"listening on {url}", flush=True)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)


if __name__ == "__main__":  # ``python -m cli.serve --store FILE``: the same command, no sub-command name
    typer.run(serve_command)
