"""Which plain functions of a module become ``async def`` so the DBOS calls in them can be awaited (D2R114).

Outside a workflow, ``DBOS.send``, ``DBOS.get_event``, ``DBOS.start_workflow``, a workflow called directly,
``queue.enqueue`` ... become awaits (``await send_message(...)``, ``resonate.run(...)``), which need an
``async def`` around them. A module-level plain function holding such calls becomes ``async def``, and its
calls ``await f(...)``, when every use of its name in the module is a call that can be awaited: made directly
(not in a lambda, a generator expression, a nested function or class, a decorator or a default value) in the
body of a function that is or becomes async and is not a workflow or step. Async are: plain ``async def``
functions, the entry points D2R102 makes async, the ``__main__`` block it moves into ``async def main()``,
and the functions found here, to a fixed point (a function that calls one found here needs async too).

A workflow calling such a helper keeps it sync: awaited from a workflow, its sends and starts would run
outside the workflow's durable log (a replay would send again), which is not what DBOS does. A function that
is decorated, a generator, listed in ``__all__``, rebound, passed as a value, or called from code that stays
sync keeps ``def``, and the TODO ``decline_reason`` gives says which use holds it back.

Computed with ``ast`` from the original source, as the rest of ``codemod.analysis``, and only for modules
with a plain function whose lines name DBOS, a workflow or a queue (most modules stop at that check).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

# DBOS calls that a rule turns into an await in async code outside workflows
AWAITING_APIS = frozenset({
    "DBOS.start_workflow", "DBOS.retrieve_workflow", "DBOS.get_workflow_status", "DBOS.get_result",
    "DBOS.send", "DBOS.get_event", "DBOS.enqueue_workflow", "DBOS.read_stream",
})
_ENQUEUE_METHODS = ("enqueue",)
_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.GeneratorExp)


@dataclass(frozen=True, slots=True)
class Use:
    """One occurrence of a plain function's name."""

    where: str | None  # the module-level function it is in, MAIN for the ``__main__`` block, None elsewhere
    call: bool  # the function called, not a value
    direct: bool  # in that function's own frame (not a lambda, nested scope, genexp, decorator, default)


MAIN = "<main>"


@dataclass(slots=True)
class AsyncCallers:
    helpers: set[str] = field(default_factory=set)  # plain functions that become ``async def``
    declined: dict[str, str] = field(default_factory=dict)  # function holding awaiting calls -> why it stays sync


@dataclass(frozen=True, slots=True)
class ModuleView:
    """What the search needs to know about the module, from ``codemod.analysis``."""

    tree: ast.Module
    resolve: Callable[[ast.expr], str | None]  # an expression -> the DBOS API it names
    workflows: frozenset[str]  # called directly, they become ``resonate.run(...)`` in async code
    durable: frozenset[str]  # workflows, steps and transactions: never an async context here
    queues: frozenset[str]
    entry_points: frozenset[str]
    main_block: ast.If | None  # the ``__main__`` block D2R102 moves into ``async def main()``
    imported_names: frozenset[str]


def _own_body(stmts: list[ast.stmt]) -> Iterator[ast.AST]:
    """Every node of a function's body that runs in its own frame (not in nested scopes or genexps)."""
    stack: list[ast.AST] = list(reversed(stmts))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, _NESTED):
            continue
        stack.extend(reversed(list(ast.iter_child_nodes(node))))


def _is_generator(fn: ast.FunctionDef) -> bool:
    return any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in _own_body(fn.body))


def _resonate_function(fn: ast.AsyncFunctionDef) -> bool:
    """A function migrated before (``@resonate.register``, or ``ctx`` first): a workflow for this search."""
    params = [*fn.args.posonlyargs, *fn.args.args]
    decorators = [d.func if isinstance(d, ast.Call) else d for d in fn.decorator_list]
    return bool(params and params[0].arg == "ctx") or any(
        isinstance(d, ast.Attribute) and d.attr == "register" for d in decorators
    )


def _exported(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for stmt in tree.body:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(
            stmt, (ast.AnnAssign, ast.AugAssign)) else []
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets) and stmt.value is not None:
            names |= {n.value for n in ast.walk(stmt.value) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    return names


def _awaiting_call(view: ModuleView, call: ast.Call) -> bool:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id in view.workflows or func.id in view.entry_points
    if isinstance(func, ast.Attribute) and func.attr in _ENQUEUE_METHODS and isinstance(func.value, ast.Name):
        if func.value.id in view.queues:
            return True
    return view.resolve(func) in AWAITING_APIS


def find(view: ModuleView) -> AsyncCallers:
    tree = view.tree
    plain = {
        s.name: s for s in tree.body
        if type(s) is ast.FunctionDef and s.name not in view.durable and s.name not in view.entry_points
    }
    # what each plain function calls directly: DBOS calls that become awaits, and other functions by name
    awaits: set[str] = set()
    calls: dict[str, set[str]] = {}
    for name, fn in plain.items():
        for node in _own_body(fn.body):
            if type(node) is ast.Call:
                if _awaiting_call(view, node):
                    awaits.add(name)
                elif isinstance(node.func, ast.Name) and node.func.id in plain:
                    calls.setdefault(name, set()).add(node.func.id)
    if not awaits:
        return AsyncCallers()
    uses, rebound = _uses(view, set(plain))
    durable = set(view.durable) | {
        s.name for s in tree.body if type(s) is ast.AsyncFunctionDef and _resonate_function(s)
    }
    contexts = {
        s.name for s in tree.body if type(s) is ast.AsyncFunctionDef and s.name not in durable
    } | set(view.entry_points)
    exported = _exported(tree)
    held: dict[str, str] = {}
    for name, fn in plain.items():
        if fn.decorator_list:
            held[name] = "it is decorated (the decorator may call it synchronously)"
        elif _is_generator(fn):
            held[name] = "it is a generator"
        elif name in exported:
            held[name] = "it is listed in `__all__`: code outside this module may call it synchronously"
        elif name in rebound or name in view.imported_names:
            held[name] = f"the name `{name}` is bound again in this module"
        elif not uses.get(name):
            # called elsewhere, if at all: the TODOs at its DBOS calls say what to do, as without this rule
            held[name] = ""
    # the greatest set of functions that need async and are only called where an await can go
    chosen = {n for n in plain if n not in held}
    while True:
        dropped = {
            n for n in chosen
            if not (n in awaits or calls.get(n, set()) & chosen)
            or _blocking_use(uses[n], contexts | chosen, durable) is not None
        }
        if not dropped:
            break
        chosen -= dropped
    declined = {}
    for name in sorted(awaits - chosen):
        why = held[name] if name in held else _blocking_use(uses[name], contexts | chosen, durable)
        if why:
            declined[name] = why
    return AsyncCallers(chosen, declined)


def _blocking_use(uses: list[Use], contexts: set[str], durable: set[str]) -> str | None:
    """Why one of a function's uses cannot become ``await f(...)`` (None: all can)."""
    for use in uses:
        where = "module-level code" if use.where is None else (
            "the `__main__` block" if use.where == MAIN else f"`{use.where}`")
        if not use.call:
            return f"{where} uses it as a value: only a call can be awaited"
        if use.where is None:
            return "module-level code calls it, where nothing can be awaited"
        if not use.direct:
            return (f"{where} calls it in a lambda, a generator expression, a nested function or class, a decorator "
                    "or a default value, where it cannot be awaited")
        if use.where in durable:
            return (f"the workflow or step {where} calls it: awaited there, its DBOS calls would run outside the "
                    "workflow's durable steps")
        if use.where != MAIN and use.where not in contexts:
            return f"{where} calls it and stays synchronous"
    return None


def _uses(view: ModuleView, names: set[str]) -> tuple[dict[str, list[Use]], set[str]]:
    """Every load of one of ``names``, and the names bound again anywhere (assigned, a parameter, global)."""
    uses: dict[str, list[Use]] = {}
    rebound: set[str] = set()
    for stmt in view.tree.body:
        where: str | None = None
        own: list[ast.AST] = []
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            where, own = stmt.name, list(_own_body(stmt.body))
        elif stmt is view.main_block:
            where, own = MAIN, list(_own_body(stmt.body))
        direct = set(map(id, own))
        callees = {id(n.func) for n in ast.walk(stmt) if type(n) is ast.Call}
        for node in ast.walk(stmt):
            t = type(node)
            if t is ast.Name:
                if node.id in names:  # type: ignore[attr-defined]
                    if isinstance(node.ctx, ast.Load):  # type: ignore[attr-defined]
                        uses.setdefault(node.id, []).append(  # type: ignore[attr-defined]
                            Use(where, id(node) in callees, id(node) in direct)
                        )
                    else:
                        rebound.add(node.id)  # type: ignore[attr-defined]
            elif t is ast.arg:
                if node.arg in names:  # type: ignore[attr-defined]
                    rebound.add(node.arg)  # type: ignore[attr-defined]
            elif t is ast.Global or t is ast.Nonlocal:
                rebound.update(n for n in node.names if n in names)  # type: ignore[attr-defined]
            elif (t is ast.FunctionDef or t is ast.AsyncFunctionDef or t is ast.ClassDef) and node is not stmt:
                if node.name in names:  # type: ignore[attr-defined]
                    rebound.add(node.name)  # type: ignore[attr-defined]
    return uses, rebound
