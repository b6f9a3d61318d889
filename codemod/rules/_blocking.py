"""Calls that block their thread, found in the body of a plain (``def``) step.

DBOS ran a sync step in its workflow's own thread; resonate-sdk runs a plain function passed to ``ctx.run`` on
its event loop thread, so a step that sleeps or waits on the network holds up every workflow of the process
until it returns. The results are the same, the concurrency is not: D2R104 names the blocking calls it sees
and says what to use instead.
"""

from __future__ import annotations

import libcst as cst

from codemod.analysis import dotted
from codemod.transform import walk_source_order

# a blocking call -> what a step uses instead on an event loop
BLOCKING_CALLS: dict[str, str] = {
    "time.sleep": "`await asyncio.sleep(...)`",
    **{f"requests.{m}": "an async HTTP client (httpx.AsyncClient, aiohttp)"
       for m in ("get", "post", "put", "patch", "delete", "head", "options", "request")},
    **{f"httpx.{m}": "httpx.AsyncClient" for m in ("get", "post", "put", "patch", "delete", "head", "options", "request")},
    "urllib.request.urlopen": "an async HTTP client (httpx.AsyncClient, aiohttp)",
    **{f"subprocess.{m}": "`asyncio.create_subprocess_exec(...)`" for m in ("run", "call", "check_call", "check_output")},
    "socket.create_connection": "`asyncio.open_connection(...)`",
}

_NOT_HERE = (cst.FunctionDef, cst.ClassDef, cst.Lambda)  # code that runs when something else calls it


def imported_names(module: cst.Module) -> dict[str, str]:
    """Local name -> dotted name it is bound to, for the module's top-level ``import`` and ``from ... import``."""
    bound: dict[str, str] = {}
    for stmt in module.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, cst.Import):
                for alias in small.names:
                    name = dotted(alias.name) or ""
                    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                        bound[alias.asname.name.value] = name
                    else:
                        root = name.partition(".")[0]
                        bound[root] = root
            elif isinstance(small, cst.ImportFrom) and not small.relative and small.module is not None:
                if isinstance(small.names, cst.ImportStar):
                    continue
                module_name = dotted(small.module) or ""
                for alias in small.names:
                    name = dotted(alias.name) or ""
                    local = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else name
                    bound[local] = f"{module_name}.{name}"
    return bound


def blocking_imports(module: cst.Module) -> dict[str, str]:
    """The module's imported names through which it can reach a blocking call (``time``, ``requests``, ``sleep``
    from ``time`` ...); empty for most modules, whose steps then need no walk at all."""
    return {
        local: qualified for local, qualified in imported_names(module).items()
        if any(call == qualified or call.startswith(f"{qualified}.") for call in BLOCKING_CALLS)
    }


def blocking_calls(step: cst.FunctionDef, imported: dict[str, str]) -> list[str]:
    """The blocking calls (by their dotted names) the body of ``step`` makes itself, in order, each once."""
    found: list[str] = []
    for node in walk_source_order(step.body, skip=_NOT_HERE):
        if isinstance(node, cst.Call):
            written = dotted(node.func)
            if written is not None:
                head, _, rest = written.partition(".")
                qualified = imported.get(head, "") + (f".{rest}" if rest else "")
                if qualified in BLOCKING_CALLS and qualified not in found:
                    found.append(qualified)
    return found


def blocking_todo(step: str, calls: list[str]) -> str:
    uses = ", ".join(f"`{c}`" for c in calls)
    instead = "; ".join(dict.fromkeys(f"for `{c}`, {BLOCKING_CALLS[c]}" for c in calls))
    return (
        f"`{step}` calls {uses}, which {'block' if len(calls) > 1 else 'blocks'}: Resonate runs a plain `def` step on its event loop thread, where DBOS "
        f"ran it in the workflow's thread, so every workflow of this process waits meanwhile. Make the step "
        f"`async def` ({instead}), or run the blocking part with `await asyncio.to_thread(...)`"
    )
