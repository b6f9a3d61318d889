"""One cheap pass over the ORIGINAL module: how it imports DBOS and which functions are workflows and steps.

Every rule reads these facts (from ``context.scratch``) instead of re-deriving them from a tree that earlier
rules have already rewritten. No libcst metadata providers: scope analysis costs ~8x a parse, and DBOS code
names its API through a handful of import forms that are resolved here by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst
from libcst.codemod import CodemodContext

SCRATCH_KEY = "dbos2resonate.facts"

# Modules whose names resolve to DBOS API names (``DBOS``, ``SetWorkflowID``, ...).
_API_MODULES = frozenset({"dbos"})
# Modules whose names are DBOS's exception classes (mirrored by shim.errors).
ERROR_MODULES = frozenset({"dbos.error", "dbos._error"})


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


@dataclass(frozen=True, slots=True)
class StepRetry:
    """DBOS's step retry parameters as written (expressions' source, None when not given)."""

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
    decorator_args: tuple[cst.Arg, ...] = ()
    retry: StepRetry | None = None
    has_ctx_param: bool = False  # already has a parameter named ``ctx``
    scheduled: bool = False


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
    # local names bound to the asyncio module (``import asyncio``, ``import asyncio as aio``)
    asyncio_names: set[str] = field(default_factory=set)
    # workflows that a module-level workflow calls or starts: they also run as children, under Resonate ids
    # (``{parent}:{n}``) that differ from DBOS's (``{parent}-{n}``)
    child_workflows: set[str] = field(default_factory=set)

    @property
    def imports_dbos(self) -> bool:
        return bool(self.names or self.modules or self.errors)

    def resolve(self, node: cst.BaseExpression) -> str | None:
        """The DBOS API name an expression refers to (``DBOS.sleep``, ``SetWorkflowID``), else None."""
        name = dotted(node)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        if head in self.names:
            api = self.names[head]
            return f"{api}.{rest}" if rest else api
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


def _literal(node: cst.BaseExpression) -> object:
    if isinstance(node, cst.Integer):
        return int(node.value.replace("_", ""), 0)
    if isinstance(node, cst.Float):
        return float(node.value.replace("_", ""))
    if isinstance(node, cst.Name) and node.value in ("True", "False"):
        return node.value == "True"
    raise ValueError


def step_retry(args: tuple[cst.Arg, ...]) -> StepRetry:
    values: dict[str, object] = {}
    literal = True
    for arg in args:
        if arg.keyword is None:
            literal = False
            continue
        try:
            values[arg.keyword.value] = _literal(arg.value)
        except ValueError:
            literal = False
            values[arg.keyword.value] = None

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


class _Collector(cst.CSTVisitor):
    def __init__(self) -> None:
        self.facts = Facts()
        self._depth = 0  # function/class nesting
        self._top: cst.FunctionDef | None = None  # the module-level function being visited
        self._calls: list[tuple[str, str]] = []  # (module-level function, name it calls or starts)

    # imports (anywhere: DBOS code sometimes imports inside functions)
    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            mod = dotted(alias.name)
            if mod is None:
                continue
            if mod == "asyncio":
                asname = alias.asname.name if alias.asname is not None else None
                self.facts.asyncio_names.add(asname.value if isinstance(asname, cst.Name) else "asyncio")
            if mod == "dbos" or mod.startswith("dbos."):
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    if mod == "dbos":
                        self.facts.modules.add(alias.asname.name.value)
                else:
                    self.facts.modules.add("dbos")

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.relative:
            return
        mod = module_name(node.module)
        if mod is None or isinstance(node.names, cst.ImportStar):
            return
        if mod in _API_MODULES:
            target = self.facts.names
        elif mod in ERROR_MODULES:
            target = self.facts.errors
        else:
            return
        for alias in node.names:
            if not isinstance(alias.name, cst.Name):
                continue
            local = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else None
            target[local or alias.name.value] = alias.name.value

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if self._depth == 0:
            self.facts.module_names.add(node.name.value)
        self._depth += 1

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._depth -= 1

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if self._depth == 0:
            self.facts.module_names.add(node.name.value)
            self._record_function(node)
            self._top = node
        self._depth += 1

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._top = None

    def visit_Assign(self, node: cst.Assign) -> None:
        if self._depth == 0:
            for t in node.targets:
                if isinstance(t.target, cst.Name):
                    self.facts.module_names.add(t.target.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if self._depth == 0 and isinstance(node.target, cst.Name):
            self.facts.module_names.add(node.target.value)

    def visit_Call(self, node: cst.Call) -> None:
        api = self.facts.resolve(node.func)
        if api == "DBOS":
            self.facts.constructs_dbos = True
        elif api == "DBOS.launch" and self._depth == 1 and self._top is not None:
            top = self._top
            if top.asynchronous is None and top.name.value not in self.facts.functions:
                self.facts.entry_points.add(top.name.value)
        if self._top is not None:
            target = node.func
            if api in ("DBOS.start_workflow", "DBOS.start_workflow_async") and node.args:
                target = node.args[0].value
            if isinstance(target, cst.Name):
                self._calls.append((self._top.name.value, target.value))

    def _record_function(self, node: cst.FunctionDef) -> None:
        kind: str | None = None
        args: tuple[cst.Arg, ...] = ()
        scheduled = False
        for dec in node.decorators:
            expr = dec.decorator
            call_args: tuple[cst.Arg, ...] = ()
            if isinstance(expr, cst.Call):
                call_args = tuple(expr.args)
                expr = expr.func
            api = self.facts.resolve(expr)
            if api == "DBOS.workflow":
                kind, args = "workflow", call_args
            elif api == "DBOS.step":
                kind, args = "step", call_args
            elif api == "DBOS.transaction":
                kind, args = "transaction", call_args
            elif api == "DBOS.scheduled":
                scheduled = True
        if kind is None:
            return
        params = node.params
        all_params = (*params.posonly_params, *params.params, *params.kwonly_params)
        self.facts.functions[node.name.value] = FunctionFacts(
            name=node.name.value,
            is_async=node.asynchronous is not None,
            kind=kind,
            decorator_args=args,
            retry=step_retry(args) if kind == "step" else None,
            has_ctx_param=any(p.name.value == "ctx" for p in all_params)
            or isinstance(params.star_arg, cst.Param) and params.star_arg.name.value == "ctx",
            scheduled=scheduled,
        )


def analyse(module: cst.Module) -> Facts:
    collector = _Collector()
    module.visit(collector)
    facts = collector.facts
    facts.child_workflows = {
        callee for caller, callee in collector._calls if facts.workflow(caller) and facts.workflow(callee)
    }
    return facts


def facts_for(context: CodemodContext, module: cst.Module) -> Facts:
    """The facts stored by the pipeline, or computed now (a rule run on its own, as in a unit test)."""
    facts = context.scratch.get(SCRATCH_KEY)
    if facts is None:
        facts = analyse(module)
        context.scratch[SCRATCH_KEY] = facts
    return facts
