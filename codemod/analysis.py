"""What the codemod knows about a module before it rewrites anything, from the ORIGINAL source.

Two products, both computed with Python's own ``ast`` (about a tenth of the cost of a libcst parse):

- :class:`Facts`: how the module imports DBOS and which functions are workflows, steps and entry points.
  Every rule reads these instead of re-deriving them from a tree earlier rules have already rewritten.
  No libcst metadata providers: scope analysis costs ~8x a parse, and DBOS code names its API through a
  handful of import forms that are resolved here by name.
- :class:`Relevance`: which statements can need a rule at all. The rewriting pass descends only into
  statements whose lines mention a name some rule acts on (a DBOS name, a workflow, a handle variable...);
  the rest (most of a real module) is kept as parsed, untouched and unvisited.
"""

from __future__ import annotations

import ast
import bisect
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import libcst as cst
from libcst.codemod import CodemodContext

from codemod import async_callers

SCRATCH_KEY = "dbos2resonate.facts"
SOURCE_KEY = "dbos2resonate.source"  # the module's text, when the caller has it (saves a codegen)

# Modules whose names resolve to DBOS API names (``DBOS``, ``SetWorkflowID``, ...).
_API_MODULES = frozenset({"dbos"})
# Modules whose names are DBOS's exception classes (mirrored by shim.errors).
ERROR_MODULES = frozenset({"dbos.error", "dbos._error"})
START_APIS = ("DBOS.start_workflow", "DBOS.start_workflow_async")
# Words that make a statement relevant whatever the module's names: methods of DBOS workflow handles.
# A DBOSClient in the program that launched DBOS reaches the same system database as DBOS's own calls; these
# of its methods take DBOS's parameters, so ``client.send(...)`` is migrated as ``DBOS.send(...)`` is
CLIENT_METHODS = {
    m: f"DBOS.{m}"
    for m in ("send", "send_async", "get_event", "get_event_async", "retrieve_workflow", "retrieve_workflow_async")
}
CLIENT_DESTROY = "DBOSClient.destroy"  # the client's release, dropped with the client (D2R116)
HANDLE_WORDS = ("get_result", "get_status", "get_workflow_id")
# DBOS calls that make a workflow handle (a variable bound from one is followed: D2R105 rewrites its uses)
HANDLE_SOURCES = (
    "start_workflow", "start_workflow_async", "retrieve_workflow", "retrieve_workflow_async",
    "enqueue", "enqueue_async", "enqueue_workflow", "enqueue_workflow_async",
)


def dotted(node: cst.BaseExpression) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    parts: list[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if not isinstance(node, cst.Name):
        return None
    parts.append(node.value)
    return ".".join(reversed(parts))


def module_name(node: cst.BaseExpression | None) -> str | None:
    return None if node is None else dotted(node)


def _ast_dotted(node: ast.expr) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


@dataclass(frozen=True, slots=True)
class StepRetry:
    """DBOS's step retry parameters as written (None where not a literal)."""

    retries_allowed: bool | None  # None: not a literal
    interval_seconds: float | None
    max_attempts: int | None
    backoff_rate: float | None
    literal: bool  # every given parameter was a literal


@dataclass(slots=True)
class FunctionFacts:
    name: str
    is_async: bool
    kind: str  # "workflow" | "step" | "transaction"
    retry: StepRetry | None = None
    has_ctx_param: bool = False  # already has a parameter named ``ctx``
    scheduled: bool = False


@dataclass(slots=True)
class QueueFacts:
    """A module-level ``name = Queue("queue-name", ...)``: what D2R113 needs to replace it."""

    params: tuple[str, ...]  # its flow-control parameters (concurrency, limiter, ...), as written
    removable: bool  # every use of the variable is an enqueue that D2R113 converts


@dataclass(slots=True)
class Facts:
    # local name -> DBOS API name, from ``from dbos import X as Y`` (Y -> X)
    names: dict[str, str] = field(default_factory=dict)
    # local names bound to the dbos module itself (``import dbos``, ``import dbos as d``)
    modules: set[str] = field(default_factory=set)
    # local name -> exception class name, from ``from dbos.error import X``
    errors: dict[str, str] = field(default_factory=dict)
    # module-level functions decorated as workflows / steps / transactions
    functions: dict[str, FunctionFacts] = field(default_factory=dict)
    constructs_dbos: bool = False  # a ``DBOS(...)`` call somewhere
    module_names: set[str] = field(default_factory=set)  # names bound at module level
    # module-level plain ``def`` functions that call ``DBOS.launch()`` in their own body: the program's entry
    # points, which D2R102 makes ``async def`` (``resonate.start()`` needs a running event loop)
    entry_points: set[str] = field(default_factory=set)
    # names called by module-level code outside function and class bodies (``if __name__ == "__main__": main()``)
    module_level_calls: set[str] = field(default_factory=set)
    # every local name an import statement binds (anywhere in the module)
    imported_names: set[str] = field(default_factory=set)
    # local names bound to the asyncio module (``import asyncio``, ``import asyncio as aio``)
    asyncio_names: set[str] = field(default_factory=set)
    # workflows that a module-level workflow calls or starts: they also run as children, under Resonate ids
    # (``{parent}:{n}``) that differ from DBOS's (``{parent}-{n}``)
    child_workflows: set[str] = field(default_factory=set)
    # ``if __name__ == "__main__":`` launching DBOS in its own body: the name D2R102 gives the ``async def`` it
    # moves that body into (None: no such block, or one it cannot move, see main_block_why)
    main_block: str | None = None
    main_block_why: str = ""
    # module-level queues (``q = Queue(...)``), and whether every ``DBOS.enqueue_workflow`` D2R113 converts
    queues: dict[str, QueueFacts] = field(default_factory=dict)
    enqueue_workflow_removable: bool = False
    # plain module-level functions D2R114 makes ``async def`` (their DBOS calls become awaits, every call of
    # them can be awaited), and those holding such calls that stay sync, with why (``codemod.async_callers``)
    async_helpers: set[str] = field(default_factory=set)
    async_declined: dict[str, str] = field(default_factory=dict)
    # variables bound only to ``DBOSClient(...)`` in a module that constructs DBOS, every use of which is a
    # method in CLIENT_METHODS or a ``.destroy()`` statement (D2R116 migrates them as DBOS's own calls)
    clients: set[str] = field(default_factory=set)
    _resolved: dict[int, tuple[cst.CSTNode, str | None]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def imports_dbos(self) -> bool:
        return bool(self.names or self.modules or self.errors)

    @property
    def dbos_names(self) -> set[str]:
        """Every local name that is a DBOS binding (what an import remover must look for)."""
        return {*self.names, *self.modules, *self.errors, *self.clients}

    def resolve(self, node: cst.BaseExpression) -> str | None:
        """The DBOS API name an expression refers to (``DBOS.sleep``, ``SetWorkflowID``), else None."""
        head = node
        while type(head) is cst.Attribute:
            head = head.value  # type: ignore[attr-defined]
        if type(head) is not cst.Name or (
            head.value not in self.names and head.value not in self.modules and head.value not in self.clients  # type: ignore[attr-defined]
        ):
            return None  # the common case, decided without building the dotted name
        # several rules ask about the same node: remember the answer (the node is kept, so its id stays its own)
        hit = self._resolved.get(id(node))
        if hit is not None and hit[0] is node:
            return hit[1]
        name = dotted(node)
        api = None if name is None else self.resolve_name(name)
        self._resolved[id(node)] = (node, api)
        return api

    def resolve_name(self, name: str) -> str | None:
        head, _, rest = name.partition(".")
        if head in self.names:
            api = self.names[head]
            return f"{api}.{rest}" if rest else api
        if head in self.clients:
            return CLIENT_DESTROY if rest == "destroy" else CLIENT_METHODS.get(rest)
        if head in self.modules and rest:
            # ``dbos.DBOS.sleep`` -> ``DBOS.sleep``; ``dbos.error.X`` stays as written
            return rest
        return None

    def workflow(self, name: str) -> FunctionFacts | None:
        f = self.functions.get(name)
        return f if f is not None and f.kind == "workflow" else None

    def step(self, name: str) -> FunctionFacts | None:
        f = self.functions.get(name)
        return f if f is not None and f.kind == "step" else None


# ── facts ────────────────────────────────────────────────────────────────────────────────────────────


def _literal(node: ast.expr) -> object:
    if isinstance(node, ast.Constant) and isinstance(node.value, (bool, int, float)):
        return node.value
    raise ValueError


def step_retry(keywords: Sequence[tuple[str | None, ast.expr]]) -> StepRetry:
    values: dict[str, object] = {}
    literal = True
    for key, value in keywords:
        if key is None:
            literal = False
            continue
        try:
            values[key] = _literal(value)
        except ValueError:
            literal = False
            values[key] = None

    def num(key: str) -> float | None:
        v = values.get(key)
        return None if isinstance(v, bool) or not isinstance(v, (int, float)) else v

    allowed = values.get("retries_allowed", False if "retries_allowed" not in values else None)
    max_attempts = values.get("max_attempts")
    return StepRetry(
        retries_allowed=allowed if isinstance(allowed, bool) else None,
        interval_seconds=num("interval_seconds") if "interval_seconds" in values else 1.0,
        max_attempts=(max_attempts if isinstance(max_attempts, int) and not isinstance(max_attempts, bool) else None)
        if "max_attempts" in values
        else 3,
        backoff_rate=num("backoff_rate") if "backoff_rate" in values else 2.0,
        literal=literal,
    )


_FUNCTION_TYPES = (ast.FunctionDef, ast.AsyncFunctionDef)
_SCOPE_TYPES = frozenset({ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda})
_STATEMENT_LISTS = frozenset({"body", "orelse", "finalbody", "handlers", "cases"})


@dataclass(frozen=True, slots=True)
class _Stmt:
    node: ast.AST  # a statement, an except handler or a match case
    top: ast.stmt  # the module-level statement it is in
    nested: bool  # inside a def or class below the module-level statement (another scope)
    first: int  # its lines: decorators and header, and its body for a simple statement
    last: int


def first_line(node: ast.AST) -> int:
    """The first line of a statement, its decorators included."""
    return min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])  # type: ignore[attr-defined]


def _statements(tree: ast.Module) -> list[_Stmt]:
    """Every statement of the module (with except handlers and match cases), nested blocks included."""
    out: list[_Stmt] = []
    stack: list[tuple[ast.AST, ast.stmt | None, bool]] = [(n, None, False) for n in reversed(tree.body)]
    while stack:
        node, top, nested = stack.pop()
        top = top if top is not None else node  # type: ignore[assignment]
        first = first_line(node)
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.AST):
            last = max(first, body[0].lineno - 1) if isinstance(node, ast.stmt) or True else first
            if body[0].lineno == node.lineno:  # type: ignore[attr-defined]
                last = node.end_lineno or node.lineno  # type: ignore[attr-defined]  (``if x: y`` on one line)
        else:
            last = node.end_lineno or node.lineno  # type: ignore[attr-defined]
        out.append(_Stmt(node, top, nested, first, last))  # type: ignore[arg-type]
        inner = nested or (node is not top and type(node) in _SCOPE_TYPES) or type(node) is ast.ClassDef
        for name in ("cases", "finalbody", "orelse", "handlers", "body"):
            block = getattr(node, name, None)
            if block and isinstance(block, list):
                stack.extend((n, top, inner) for n in reversed(block))
    out.sort(key=lambda st: (st.first, st.node.col_offset))  # type: ignore[attr-defined]
    return out


def _own_nodes(node: ast.AST) -> Iterator[ast.AST]:
    """The expressions of a statement's own code (not its nested blocks, not lambdas' bodies)."""
    stack = [child for name, child in ast.iter_fields(node) if name not in _STATEMENT_LISTS]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, ast.AST):
            yield item
            if type(item) is not ast.Lambda:
                stack.extend(child for _, child in ast.iter_fields(item))


Imported = Callable[[list[ast.ImportFrom]], dict[str, "FunctionFacts"]]


def _collect(tree: ast.Module, mentions: _Mentions, imported: Imported | None = None) -> tuple[Facts, list[_Stmt]]:
    facts = Facts()
    statements = _statements(tree)
    # imports (anywhere: DBOS code sometimes imports inside functions)
    for st in statements:
        node = st.node
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            facts.imported_names.update((a.asname or a.name).partition(".")[0] for a in node.names)
        if isinstance(node, ast.Import):
            for alias in node.names:
                mod = alias.name
                if mod == "asyncio":
                    facts.asyncio_names.add(alias.asname or "asyncio")
                if mod == "dbos" or mod.startswith("dbos."):
                    if alias.asname is not None:
                        if mod == "dbos":
                            facts.modules.add(alias.asname)
                    else:
                        facts.modules.add("dbos")
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            if node.module in _API_MODULES:
                target = facts.names
            elif node.module in ERROR_MODULES:
                target = facts.errors
            else:
                continue
            for alias in node.names:
                if alias.name != "*":
                    target[alias.asname or alias.name] = alias.name
    if imported is not None:
        # workflows and steps other files of the project define, imported here (codemod.project)
        facts.functions.update(imported([st.node for st in statements if type(st.node) is ast.ImportFrom]))  # type: ignore[misc]
    if not facts.imports_dbos and not facts.functions:
        return facts, statements
    for stmt in tree.body:
        if isinstance(stmt, (*_FUNCTION_TYPES, ast.ClassDef)):
            facts.module_names.add(stmt.name)
        elif isinstance(stmt, ast.Assign):
            facts.module_names.update(t.id for t in stmt.targets if isinstance(t, ast.Name))
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            facts.module_names.add(stmt.target.id)
        if isinstance(stmt, _FUNCTION_TYPES):
            _record_function(facts, stmt)
    # calls of DBOS's API (only statements whose lines name DBOS can hold one), calls of workflows by workflows
    # (children), and calls made by module-level code (of entry points, say)
    heads = facts.dbos_names
    workflows = {n for n, f in facts.functions.items() if f.kind == "workflow"}
    dbos_lines = mentions.flags(heads)
    workflow_lines = mentions.flags(workflows)
    calls: set[str] = set()
    for st in statements:
        top = st.top
        module_level = not st.nested and not isinstance(top, (*_FUNCTION_TYPES, ast.ClassDef))
        names_dbos = any(dbos_lines[st.first:st.last + 1])
        in_workflow = (
            not st.nested and type(top) in (ast.FunctionDef, ast.AsyncFunctionDef)
            and top.name in workflows  # type: ignore[attr-defined]
            and any(workflow_lines[st.first:st.last + 1])
        )
        if not (names_dbos or in_workflow or module_level):
            continue
        for node in _own_nodes(st.node):
            if type(node) is not ast.Call:
                continue
            func = node.func  # type: ignore[attr-defined]
            name = _ast_dotted(func)
            api = facts.resolve_name(name) if name is not None and name.partition(".")[0] in heads else None
            if api == "DBOS":
                facts.constructs_dbos = True
            elif api == "DBOS.launch" and not st.nested and type(top) is ast.FunctionDef:
                if top.name not in facts.functions:  # type: ignore[attr-defined]
                    facts.entry_points.add(top.name)  # type: ignore[attr-defined]
            if module_level and type(func) is ast.Name:
                facts.module_level_calls.add(func.id)  # type: ignore[attr-defined]
            if in_workflow:
                target = node.args[0] if api in START_APIS and node.args else func  # type: ignore[attr-defined]
                if type(target) is ast.Name and target.id in workflows:  # type: ignore[attr-defined]
                    calls.add(target.id)  # type: ignore[attr-defined]
    facts.child_workflows = calls
    if facts.constructs_dbos and "DBOSClient" in facts.names.values():
        facts.clients = _in_app_clients(facts, tree)
    _collect_queues(facts, tree, mentions, statements)
    main_block = _collect_main_block(facts, tree)
    _collect_async_callers(facts, tree, main_block, dbos_lines, workflow_lines, mentions.flags(facts.queues))
    return facts, statements


def _collect_async_callers(
    facts: Facts, tree: ast.Module, main_block: ast.If | None, *flagged_lines: list[int]
) -> None:
    """D2R114's plain functions that become async: only looked for when a plain function names DBOS or a
    workflow (the search walks every function of the module)."""
    lines = [max(flags) for flags in zip(*flagged_lines)]
    if not any(
        type(s) is ast.FunctionDef and s.name not in facts.functions and any(lines[s.lineno:(s.end_lineno or 0) + 1])
        for s in tree.body
    ):
        return
    found = async_callers.find(async_callers.ModuleView(
        tree=tree,
        resolve=lambda node: facts.resolve_name(_ast_dotted(node) or ""),
        workflows=frozenset(n for n, f in facts.functions.items() if f.kind == "workflow"),
        durable=frozenset(facts.functions),
        queues=frozenset(facts.queues),
        entry_points=frozenset(facts.entry_points),
        main_block=main_block if facts.main_block is not None else None,
        imported_names=frozenset(facts.imported_names),
    ))
    facts.async_helpers, facts.async_declined = found.helpers, found.declined


def is_main_guard(test: ast.expr) -> bool:
    """``__name__ == "__main__"`` (either way round)."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    return any(isinstance(x, ast.Name) and x.id == "__name__" for x in sides) and any(
        isinstance(x, ast.Constant) and x.value == "__main__" for x in sides
    )


def _collect_main_block(facts: Facts, tree: ast.Module) -> ast.If | None:
    """A module-level ``if __name__ == "__main__":`` that calls ``DBOS.launch()`` in its own body."""
    for stmt in tree.body:
        if not (isinstance(stmt, ast.If) and is_main_guard(stmt.test)):
            continue
        calls = [n for child in stmt.body for n in _own_nodes_of_block(child) if isinstance(n, ast.Call)]
        apis = {facts.resolve_name(_ast_dotted(n.func) or "") for n in calls}
        if "DBOS.launch" not in apis:
            continue
        # only a block that runs workflows itself: one that launches DBOS and then serves (uvicorn.run(app))
        # would start a second event loop inside the first
        workflows = {n for n, f in facts.functions.items() if f.kind == "workflow"}
        if not (apis & set(START_APIS + ENQUEUE_APIS) or any(
            isinstance(n.func, ast.Name) and n.func.id in workflows for n in calls
        )):
            return None
        # its body becomes a function's: a name it binds must not be one that functions read as a global
        bound = {
            n.id for child in stmt.body for n in _own_nodes_of_block(child)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
        } | {
            child.name for child in stmt.body if isinstance(child, (*_FUNCTION_TYPES, ast.ClassDef))
        }
        read = {
            n.id for top in tree.body if isinstance(top, (*_FUNCTION_TYPES, ast.ClassDef))
            for n in ast.walk(top) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
        }
        shared = sorted(bound & (read | facts.module_names))
        if stmt.orelse:
            facts.main_block_why = "it has an `else:`"
        elif shared:
            facts.main_block_why = f"module code reads {', '.join(f'`{n}`' for n in shared)}, which it sets"
        else:
            name = "main"
            while name in facts.module_names:
                name = "_" + name
            facts.main_block = name
        return stmt
    return None


def _own_nodes_of_block(stmt: ast.stmt) -> Iterator[ast.AST]:
    """Every node of a statement, nested blocks included, but not inside defs, classes or lambdas."""
    stack: list[ast.AST] = [stmt]
    while stack:
        node = stack.pop()
        yield node
        if type(node) in _SCOPE_TYPES and node is not stmt:
            continue
        if isinstance(node, (*_FUNCTION_TYPES, ast.ClassDef)):
            continue
        stack.extend(ast.iter_child_nodes(node))


ENQUEUE_METHODS = ("enqueue", "enqueue_async")
ENQUEUE_APIS = ("DBOS.enqueue_workflow", "DBOS.enqueue_workflow_async")


def _collect_queues(facts: Facts, tree: ast.Module, mentions: _Mentions, statements: list[_Stmt]) -> None:
    """Module-level queues, and whether each is used only by enqueues that D2R113 converts."""
    for stmt in tree.body:
        if (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
            and isinstance(stmt.value, ast.Call)
            and facts.resolve_name(_ast_dotted(stmt.value.func) or "") == "Queue"
        ):
            params = tuple(k.arg or "**" for k in stmt.value.keywords) + (("...",) if len(stmt.value.args) > 1 else ())
            facts.queues[stmt.targets[0].id] = QueueFacts(params, False)
    if not facts.queues and "enqueue_workflow" not in mentions.source:
        return
    # an enqueue converts when it is called directly by a workflow, an async function or an entry point
    workflows = {n for n, f in facts.functions.items() if f.kind == "workflow"}
    convertible_tops = workflows | facts.entry_points | {
        s.name for s in tree.body if isinstance(s, ast.AsyncFunctionDef) and s.name not in facts.functions
    }
    children_with_ids = _statements_under_set_workflow_id(facts, tree, workflows)
    uses = dict.fromkeys(facts.queues, 0)
    converts = dict.fromkeys(facts.queues, 0)
    api_uses = api_converts = 0
    lines = mentions.flags({*facts.queues, "enqueue_workflow", "enqueue_workflow_async"})
    for st in statements:
        if not any(lines[st.first:st.last + 1]):
            continue
        direct = not st.nested and isinstance(st.top, _FUNCTION_TYPES) and st.top.name in convertible_tops
        if direct and id(st.node) in children_with_ids:
            direct = False  # D2R113 leaves an enqueue under SetWorkflowID in a workflow: ctx.run takes no id
        own = set(map(id, _own_nodes(st.node)))  # not inside a lambda
        for node in (n for child in _own_children(st.node) for n in ast.walk(child)):
            if type(node) is ast.Name and node.id in uses and isinstance(node.ctx, ast.Load):
                uses[node.id] += 1
            elif type(node) is ast.Call and id(node) in own and direct:
                func = node.func
                if isinstance(func, ast.Attribute) and func.attr in ENQUEUE_METHODS and isinstance(func.value, ast.Name):
                    if func.value.id in converts and node.args and not isinstance(node.args[0], ast.Starred):
                        converts[func.value.id] += 1
                elif facts.resolve_name(_ast_dotted(func) or "") in ENQUEUE_APIS:
                    api_converts += len(node.args) > 1 and not any(isinstance(a, ast.Starred) for a in node.args[:2])
            if type(node) is ast.Call and facts.resolve_name(_ast_dotted(node.func) or "") in ENQUEUE_APIS:
                api_uses += 1
    for name, queue in facts.queues.items():
        queue.removable = uses[name] == converts[name] and uses[name] > 0
    facts.enqueue_workflow_removable = 0 < api_uses == api_converts


def _statements_under_set_workflow_id(facts: Facts, tree: ast.Module, workflows: set[str]) -> set[int]:
    """ids of the statements inside a ``with SetWorkflowID(...):`` block in a module-level workflow (one of
    ``workflows``, or one migrated before)."""
    found: set[int] = set()
    for top in tree.body:
        if not (isinstance(top, _FUNCTION_TYPES) and (top.name in workflows or _takes_context(top))):
            continue
        for node in ast.walk(top):
            if isinstance(node, (ast.With, ast.AsyncWith)) and any(
                isinstance(i.context_expr, ast.Call)
                and facts.resolve_name(_ast_dotted(i.context_expr.func) or "") == "SetWorkflowID"
                for i in node.items
            ):
                found.update(id(n) for stmt in node.body for n in ast.walk(stmt) if isinstance(n, ast.stmt))
    return found


def _takes_context(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """``node`` takes ``ctx: Context`` first, as a Resonate function does (a workflow migrated before)."""
    params = [*node.args.posonlyargs, *node.args.args]
    hint = params[0].annotation if params and params[0].arg == "ctx" else None
    return (isinstance(hint, ast.Name) and hint.id == "Context") or (
        isinstance(hint, ast.Attribute) and hint.attr == "Context"
    )


def _own_children(node: ast.AST) -> list[ast.AST]:
    """A statement's own direct children (its nested blocks are statements of their own)."""
    out: list[ast.AST] = []
    for name, value in ast.iter_fields(node):
        if name in _STATEMENT_LISTS:
            continue
        if isinstance(value, list):
            out.extend(v for v in value if isinstance(v, ast.AST))
        elif isinstance(value, ast.AST):
            out.append(value)
    return out


def _record_function(facts: Facts, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
    kind: str | None = None
    keywords: list[tuple[str | None, ast.expr]] = []
    scheduled = False
    for dec in node.decorator_list:
        expr, dec_keywords = dec, []
        if isinstance(dec, ast.Call):
            expr = dec.func
            dec_keywords = [(None, a) for a in dec.args] + [(k.arg, k.value) for k in dec.keywords]
        api = facts.resolve_name(_ast_dotted(expr) or "")
        if api == "DBOS.workflow":
            kind, keywords = "workflow", dec_keywords
        elif api == "DBOS.step":
            kind, keywords = "step", dec_keywords
        elif api == "DBOS.transaction":
            kind, keywords = "transaction", dec_keywords
        elif api == "DBOS.scheduled":
            scheduled = True
    if kind is None:
        return
    args = node.args
    params = [*args.posonlyargs, *args.args, *args.kwonlyargs, *filter(None, [args.vararg, args.kwarg])]
    facts.functions[node.name] = FunctionFacts(
        name=node.name,
        is_async=isinstance(node, ast.AsyncFunctionDef),
        kind=kind,
        retry=step_retry(keywords) if kind == "step" else None,
        has_ctx_param=any(p.arg == "ctx" for p in params if p is not args.kwarg),
        scheduled=scheduled,
    )


# ── relevance: which statements the rewriting pass must visit ─────────────────────────────────────────

_COMPOUND_BODIES: dict[type, tuple[str, ...]] = {
    ast.FunctionDef: ("body",), ast.AsyncFunctionDef: ("body",), ast.ClassDef: ("body",),
    ast.With: ("body",), ast.AsyncWith: ("body",),
    ast.For: ("body", "orelse"), ast.AsyncFor: ("body", "orelse"), ast.While: ("body", "orelse"),
    ast.If: ("body", "orelse"), ast.Try: ("body", "orelse", "finalbody"),
}
if hasattr(ast, "TryStar"):
    _COMPOUND_BODIES[ast.TryStar] = ("body", "orelse", "finalbody")

# libcst compound statement -> the ast types it parses as
_CST_TO_AST: dict[type, tuple[type, ...]] = {
    cst.FunctionDef: (ast.FunctionDef, ast.AsyncFunctionDef),
    cst.ClassDef: (ast.ClassDef,),
    cst.With: (ast.With, ast.AsyncWith),
    cst.For: (ast.For, ast.AsyncFor),
    cst.While: (ast.While,),
    cst.If: (ast.If,),
    cst.Try: (ast.Try,),
    cst.Match: (ast.Match,),
}
if hasattr(ast, "TryStar"):
    _CST_TO_AST[cst.TryStar] = (ast.TryStar,)


def _blocks(node: cst.CSTNode, tree: ast.stmt) -> list[tuple[Sequence[cst.BaseStatement], list[ast.stmt]]] | None:
    """The statement blocks of a compound statement, paired with the ast's (None: they do not match)."""
    out: list[tuple[Sequence[cst.BaseStatement], list[ast.stmt]]] = []

    def suite(s: cst.BaseSuite, body: list[ast.stmt]) -> None:
        if isinstance(s, cst.IndentedBlock):
            out.append((s.body, body))

    if isinstance(node, cst.Match):
        assert isinstance(tree, ast.Match)
        if len(node.cases) != len(tree.cases):
            return None
        for c, a in zip(node.cases, tree.cases):
            suite(c.body, a.body)
        return out
    suite(node.body, tree.body)  # type: ignore[attr-defined]
    if isinstance(node, (cst.Try, cst.TryStar)):
        handlers = tree.handlers  # type: ignore[attr-defined]
        if len(node.handlers) != len(handlers):
            return None
        for h, a in zip(node.handlers, handlers):
            suite(h.body, a.body)
        if node.finalbody is not None:
            suite(node.finalbody.body, tree.finalbody)  # type: ignore[attr-defined]
    orelse = getattr(node, "orelse", None)
    if isinstance(orelse, cst.If):  # elif
        out.append(([orelse], tree.orelse))  # type: ignore[attr-defined]
    elif isinstance(orelse, cst.Else):
        suite(orelse.body, tree.orelse)  # type: ignore[attr-defined]
    return out


class Relevance:
    """Which statements of a module can need a rule: those whose lines mention a relevant word."""

    def __init__(self, tree: ast.Module, lines: list[int]) -> None:
        self._tree = tree
        # before[i]: how many of lines 1..i-1 mention a word
        before = [0] * (len(lines) + 1)
        for i in range(1, len(before)):
            before[i] = before[i - 1] + lines[i - 1]
        self._before = before
        self._ast: dict[int, tuple[ast.stmt, ...]] = {}
        # names of the placeholder lines that stand for statements left out of the parse (codemod.elide)
        self.placeholders: frozenset[str] = frozenset()

    @classmethod
    def for_words(cls, source: str, tree: ast.Module, words: set[str]) -> Relevance:
        return cls(tree, _lines_mentioning(source, words))

    def mentions(self, first: int, last: int) -> bool:
        """Whether one of lines ``first``..``last`` mentions a relevant word."""
        last = min(last, len(self._before) - 2)
        return self._before[last + 1] - self._before[first] > 0

    def _placeholder(self, stmt: cst.SimpleStatementLine) -> bool:
        small = stmt.body[0] if len(stmt.body) == 1 else None
        return (
            isinstance(small, cst.Expr) and isinstance(small.value, cst.Name) and small.value.value in self.placeholders
        )

    def pair(self, statements: Sequence[cst.BaseStatement], body: list[ast.stmt]) -> None:
        """Remember which ast statements each of ``statements`` parsed as (nothing if they do not match)."""
        paired: list[tuple[int, tuple[ast.stmt, ...]]] = []
        i = 0
        for stmt in statements:
            if isinstance(stmt, cst.SimpleStatementLine) and self.placeholders and self._placeholder(stmt):
                group = tuple(body[i:i + 1])  # the statement it stands for
                if not group:
                    return
                i += 1
            elif isinstance(stmt, cst.SimpleStatementLine):
                n = len(stmt.body)
                group = tuple(body[i:i + n])
                if len(group) != n or any(type(a) in _COMPOUND_BODIES or isinstance(a, ast.Match) for a in group):
                    return
                i += n
            else:
                if i >= len(body) or not isinstance(body[i], _CST_TO_AST.get(type(stmt), ())):
                    return
                group = (body[i],)
                i += 1
            paired.append((id(stmt), group))
        if i == len(body):
            self._ast.update(paired)

    def pair_module(self, module: cst.Module) -> None:
        self.pair(module.body, self._tree.body)

    def relevant(self, stmt: cst.CSTNode) -> bool:
        """Whether ``stmt`` (a statement of the module being visited) can need a rule; pairs its blocks if so."""
        group = self._ast.get(id(stmt))
        if group is None:
            return True  # not paired (or a statement a rule made): visit it
        first = first_line(group[0])
        last = group[-1].end_lineno or group[-1].lineno
        if not self.mentions(first, last):
            return False
        if not isinstance(stmt, cst.SimpleStatementLine):
            blocks = _blocks(stmt, group[0])
            for statements, body in blocks or ():
                self.pair(statements, body)
        return True


@dataclass(slots=True)
class Analysis:
    source: str
    tree: ast.Module
    facts: Facts
    relevance: Relevance | None  # None: the module does not import DBOS


_BINDERS = (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor, ast.With, ast.AsyncWith)


def _in_app_clients(facts: Facts, tree: ast.Module) -> set[str]:
    """The variables holding a DBOSClient that D2R116 can replace by the program's own Resonate calls."""
    constructors = {local for local, api in facts.names.items() if api == "DBOSClient"}
    bound: set[str] = set()
    ok: set[int] = set()  # ids of the Name nodes that are a client's construction or a use D2R116 converts
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = node.value
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in constructors:
                bound.add(node.targets[0].id)
                ok.add(id(node.targets[0]))
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.attr in CLIENT_METHODS:
            ok.add(id(node.value))
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and not node.value.args:
            func = node.value.func
            if isinstance(func, ast.Attribute) and func.attr == "destroy" and isinstance(func.value, ast.Name):
                ok.add(id(func.value))
    if not bound:
        return set()
    refused: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in bound and id(node) not in ok:
            refused.add(node.id)  # bound or used some other way
        elif isinstance(node, ast.arg) and node.arg in bound:
            refused.add(node.arg)
    return bound - refused - facts.imported_names


def _relevant_words(mentions: _Mentions, facts: Facts, statements: list[_Stmt]) -> tuple[set[str], list[int]]:
    """The words that make a statement relevant, and the lines mentioning one (1 = mentions, by line number).

    Besides DBOS's names and the module's workflows and steps, the variables that may hold a workflow handle
    are relevant too (bound on a line that starts or retrieves a workflow, or from such a variable: lists of
    handles, loop variables over those), to a fixed point: a statement using ``handle.workflow_id`` must be
    visited wherever ``handle`` came from.
    (A comprehension's variables live in its own statement, which is visited with it.)
    """
    words = {
        *facts.dbos_names, *facts.functions, *facts.entry_points, *facts.queues, *facts.async_helpers, *HANDLE_WORDS
    }
    if facts.entry_points:
        words |= facts.asyncio_names
    # the variables that may hold a workflow handle: bound from a call that makes one, or from such a variable
    handles = set(HANDLE_SOURCES)
    binders: list[tuple[int, int, set[str]]] = []  # (first line, last line, names bound)
    for st in statements:
        node = st.node
        if not isinstance(node, _BINDERS):
            continue
        if isinstance(node, ast.Assign):
            targets: list[ast.expr] = node.targets
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            targets = [i.optional_vars for i in node.items if i.optional_vars is not None]
        else:
            targets = [node.target]
        bound = {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        if bound:
            binders.append((st.first, st.last, bound))
    handle_lines = mentions.flags(handles)
    while True:
        new = set()
        for first, last, bound in binders:
            if not bound <= handles and any(handle_lines[first:last + 1]):
                new |= bound - handles
        if not new:
            break
        handles |= new
        more = mentions.flags(new)
        handle_lines = [a | b for a, b in zip(handle_lines, more)]
    words |= handles - set(HANDLE_SOURCES)
    lines = mentions.flags(words)
    return words, [a | b for a, b in zip(lines, handle_lines)]


class _Mentions:
    """Which lines of a module mention which words (each word looked for once, however often it is asked)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._starts = [0]
        self._starts.extend(m.end() for m in re.finditer("\n", source))
        self._lines: dict[str, list[int]] = {}

    def flags(self, words: Iterable[str]) -> list[int]:
        """``out[n]`` is 1 when line n (1-based) mentions one of ``words`` as a whole word."""
        words = set(words)
        missing = [w for w in words if w not in self._lines]
        if missing:
            for w in missing:
                self._lines[w] = []
            pattern = re.compile(r"\b(" + "|".join(sorted(map(re.escape, missing), key=len, reverse=True)) + r")\b")
            starts = self._starts
            for m in pattern.finditer(self.source):
                self._lines[m.group(1)].append(bisect.bisect_right(starts, m.start()))
        out = [0] * (len(self._starts) + 2)
        for w in words:
            for line in self._lines[w]:
                out[line] = 1
        return out


def _lines_mentioning(source: str, words: set[str]) -> list[int]:
    """``out[n]`` is 1 when line n (1-based) mentions one of ``words`` as a whole word."""
    return _Mentions(source).flags(words)


def parse_python(source: str) -> ast.Module | None:
    """The ``ast`` tree of ``source``; None when Python cannot parse it."""
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


def analyse_source(source: str, imported: Imported | None = None, tree: ast.Module | None = None) -> Analysis | None:
    """Facts and relevance for a module's text; None when Python cannot parse it. ``imported`` says which
    workflows and steps of other project files the module imports (``codemod.project``); ``tree`` is the
    text's ``ast`` tree when the caller has parsed it already (the analysis only reads it)."""
    if tree is None:
        tree = parse_python(source)
        if tree is None:
            return None
    mentions = _Mentions(source)
    facts, statements = _collect(tree, mentions, imported)
    if not facts.imports_dbos and not facts.functions:
        return Analysis(source, tree, facts, None)
    _, lines = _relevant_words(mentions, facts, statements)
    return Analysis(source, tree, facts, Relevance(tree, lines))


def defined_functions(source: str, tree: ast.Module) -> dict[str, FunctionFacts]:
    """The workflows and steps the module ``tree`` (of ``source``) defines at top level (a cheap subset of the
    analysis, for a project scan)."""
    facts = Facts()
    for node in ast.walk(tree) if "import dbos" in source else tree.body:
        if isinstance(node, ast.ImportFrom) and not node.level and node.module in _API_MODULES:
            facts.names.update((a.asname or a.name, a.name) for a in node.names if a.name != "*")
        elif isinstance(node, ast.Import):
            facts.modules.update(a.asname or "dbos" for a in node.names if a.name == "dbos")
    if not facts.imports_dbos:
        return {}
    for stmt in tree.body:
        if isinstance(stmt, _FUNCTION_TYPES) and stmt.decorator_list:
            _record_function(facts, stmt)
    return {n: f for n, f in facts.functions.items() if f.kind in ("workflow", "step")}


def analyse(module: cst.Module) -> Facts:
    """The facts of a libcst module (by its code)."""
    result = analyse_source(module.code)
    return result.facts if result is not None else Facts()


def analysis_for(context: CodemodContext, module: cst.Module) -> Analysis | None:
    source = context.scratch.get(SOURCE_KEY)
    return analyse_source(source if isinstance(source, str) else module.code)


def facts_for(context: CodemodContext, module: cst.Module) -> Facts:
    """The facts stored by the pipeline, or computed now."""
    facts = context.scratch.get(SCRATCH_KEY)
    if facts is None:
        facts = analyse(module)
        context.scratch[SCRATCH_KEY] = facts
    return facts
