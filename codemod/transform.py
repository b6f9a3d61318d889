"""The base every rule's transformer derives from: where am I, and how to leave a TODO here.

A rule transformer is a plain ``VisitorBasedCodemodCommand`` (no matcher decorators: they cost ~4x on hot
paths). This base adds three things all rules need, kept here so each rule is only its own concern:

- ``self.facts``: what the analysis pass learned about the ORIGINAL module (``codemod.analysis``);
- ``self.frame``: the innermost function (workflow, step, plain, lambda) the visitor is in;
- ``self.todo(code, reason)``: a coded TODO comment above the statement being visited. Comments are
  deduplicated against the statement's existing comments, so a second run adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import libcst as cst
from libcst.codemod import Codemod, CodemodContext, VisitorBasedCodemodCommand

from codemod.analysis import Facts, facts_for
from codemod.todo import TODO_PATTERN, todo_comment

ENABLED_KEY = "dbos2resonate.enabled"  # frozenset of rule codes the run applies
APPLIED_KEY = "dbos2resonate.applied"  # set of rule codes that changed something
INSTANCE = "resonate"  # the module-level Resonate instance that replaces DBOS


@dataclass(frozen=True, slots=True)
class Frame:
    kind: str  # "function" | "lambda" | "genexp" | "class"
    name: str = ""
    is_async: bool = False
    module_level: bool = False


_STATEMENTS = (cst.SimpleStatementLine, cst.BaseCompoundStatement)

# exact node type -> what the base tracks for it
_KIND: dict[type, str] = {
    cst.SimpleStatementLine: "stmt",
    cst.If: "stmt", cst.For: "stmt", cst.While: "stmt", cst.Try: "stmt", cst.TryStar: "stmt", cst.Match: "stmt",
    cst.FunctionDef: "def",
    cst.ClassDef: "class",
    cst.With: "with",
    cst.Lambda: "lambda",
    cst.GeneratorExp: "genexp",
    cst.Attribute: "value",
    cst.Subscript: "value",
    cst.Call: "call",
}
_COMPOUND = {
    v for v in vars(cst).values()
    if isinstance(v, type) and issubclass(v, cst.BaseCompoundStatement) and v is not cst.BaseCompoundStatement
}
assert _COMPOUND <= set(_KIND), f"compound statement types missing from _KIND: {_COMPOUND - set(_KIND)}"

_METHODS: dict[tuple[type, str, type], object] = {}


def _method(cls: type, prefix: str, node_type: type):  # type: ignore[no-untyped-def]
    """``cls.visit_X`` / ``cls.leave_X`` for node type X (a plain function), or None; cached per class."""
    key = (cls, prefix, node_type)
    try:
        return _METHODS[key]
    except KeyError:
        fn = getattr(cls, prefix + node_type.__name__, None)
        _METHODS[key] = fn
        return fn


class RuleTransformer(VisitorBasedCodemodCommand):
    CODE: ClassVar[str] = ""
    DESCRIPTION: ClassVar[str] = ""
    # The rule runs only on source containing one of these strings (empty: always). A pass costs about a
    # parse, so skipping rules a file cannot need is most of the engine's speed on real code.
    TRIGGERS: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def should_run(cls, facts: Facts, source: str) -> bool:
        return not cls.TRIGGERS or any(t in source for t in cls.TRIGGERS)

    def __init__(self, context: CodemodContext) -> None:
        # Skip MatcherDecoratableTransformer.__init__: it introspects every method for matcher decorators
        # (~50 ms per instance, more than migrating a small file). No rule uses them, and on_visit/on_leave
        # below bypass the matcher dispatch, so only the two plain bases need initialising.
        Codemod.__init__(self, context)
        cst.CSTTransformer.__init__(self)

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        self.facts: Facts = facts_for(self.context, tree)
        self._frames: list[Frame] = []
        self._pending: list[list[str]] = []
        self._orphans: list[str] = []
        self._primary: set[int] = set()  # ids of nodes that are the value of an attribute/subscript/call
        self._set_id_depth = 0  # inside ``with SetWorkflowID(...)``
        if not self.facts.imports_dbos:
            return tree
        return tree.visit(self)

    # ── where am I ────────────────────────────────────────────────────────

    def enabled(self, code: str) -> bool:
        enabled = self.context.scratch.get(ENABLED_KEY)
        return enabled is None or code in enabled

    def mark_applied(self) -> None:
        self.context.scratch.setdefault(APPLIED_KEY, set()).add(self.CODE)

    def converts_durable_functions(self) -> bool:
        """Workflows and steps become Resonate functions (D2R103/D2R104 on): DBOS is no longer launched."""
        kinds = {f.kind for f in self.facts.functions.values()}
        return not (("workflow" in kinds and not self.enabled("D2R103")) or ("step" in kinds and not self.enabled("D2R104")))

    def becomes_async(self, name: str) -> bool:
        """The module-level plain function ``name`` is an entry point D2R102 turns into ``async def``."""
        return name in self.facts.entry_points and self.enabled("D2R102") and self.converts_durable_functions()

    @property
    def frame(self) -> Frame | None:
        return self._frames[-1] if self._frames else None

    def _durable(self, kind: str, code: str) -> bool:
        f = self.frame
        if f is None or f.kind != "function" or not f.module_level or not self.enabled(code):
            return False
        facts = self.facts.functions.get(f.name)
        return facts is not None and facts.kind == kind and not facts.has_ctx_param

    @property
    def in_workflow(self) -> bool:
        """Directly inside a module-level workflow that D2R103 turns into ``async def f(ctx, ...)``."""
        return self._durable("workflow", "D2R103")

    @property
    def in_step(self) -> bool:
        """Directly inside a module-level step that D2R104 gives a ``ctx`` parameter."""
        return self._durable("step", "D2R104")

    @property
    def in_async_plain(self) -> bool:
        """Directly inside an ``async def`` that is neither a workflow nor a step: ``await`` is allowed."""
        f = self.frame
        if f is None or f.kind != "function" or not f.is_async:
            return False
        facts = self.facts.functions.get(f.name) if f.module_level else None
        return facts is None

    @property
    def in_set_workflow_id(self) -> bool:
        return self._set_id_depth > 0

    def awaited(self, original: cst.BaseExpression, expr: cst.BaseExpression) -> cst.Await:
        """``await expr``, parenthesised where ``original`` was the value of ``.attr``, ``[i]`` or ``(...)``."""
        if id(original) in self._primary:
            return cst.Await(expr, lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
        return cst.Await(expr)

    # ── frames and statements ─────────────────────────────────────────────

    # Dispatch by exact node type through per-class caches: ``isinstance`` against libcst's abstract base
    # classes and CSTTransformer's ``getattr(self, f"visit_{name}")`` per node were most of a pass's cost.
    def on_visit(self, node: cst.CSTNode) -> bool:
        t = type(node)
        kind = _KIND.get(t)
        if kind is not None:
            if kind == "stmt":
                self._pending.append([])
            elif kind == "value":
                self._primary.add(id(node.value))  # type: ignore[attr-defined]
            elif kind == "call":
                self._primary.add(id(node.func))  # type: ignore[attr-defined]
            elif kind == "def":
                self._pending.append([])
                name = node.name.value  # type: ignore[attr-defined]
                top = not self._frames
                is_async = node.asynchronous is not None or (top and self.becomes_async(name))  # type: ignore[attr-defined]
                self._frames.append(Frame("function", name, is_async, top))
            elif kind == "class":
                self._pending.append([])
                self._frames.append(Frame("class", node.name.value))  # type: ignore[attr-defined]
            elif kind == "lambda":
                self._frames.append(Frame("lambda"))
            elif kind == "genexp":
                self._frames.append(Frame("genexp"))
            elif kind == "with":
                self._pending.append([])
                if self._sets_workflow_id(node):  # type: ignore[arg-type]
                    self._set_id_depth += 1
        fn = _method(type(self), "visit_", t)
        return fn is None or fn(self, node) is not False

    def _sets_workflow_id(self, node: cst.With) -> bool:
        return any(
            isinstance(i.item, cst.Call) and self.facts.resolve(i.item.func) == "SetWorkflowID" for i in node.items
        )

    # The matcher-decorator machinery of ContextAwareTransformer costs ~4x per node, and no rule uses
    # per-attribute hooks: skip both.
    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        pass

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        pass

    def on_leave(
        self, original_node: cst.CSTNode, updated_node: cst.CSTNode
    ) -> cst.CSTNode | cst.RemovalSentinel | cst.FlattenSentinel[cst.CSTNode]:
        t = type(original_node)
        fn = _method(type(self), "leave_", t)
        result = updated_node if fn is None else fn(self, original_node, updated_node)
        kind = _KIND.get(t)
        if kind is None or kind in ("value", "call"):
            return result
        if kind in ("def", "class", "lambda", "genexp"):
            self._frames.pop()
        if kind == "with" and self._sets_workflow_id(original_node):  # type: ignore[arg-type]
            self._set_id_depth -= 1
        if kind in ("stmt", "def", "class", "with"):
            todos = self._pending.pop()
            if todos:
                result = self._attach(result, todos)
        return result

    def _attach(self, result, todos: list[str]):  # type: ignore[no-untyped-def]
        if isinstance(result, cst.FlattenSentinel):
            nodes = list(result.nodes)
            if nodes and isinstance(nodes[0], _STATEMENTS):
                nodes[0] = with_comments(nodes[0], todos)
                return cst.FlattenSentinel(nodes)
        elif isinstance(result, _STATEMENTS):
            return with_comments(result, todos)
        # removed: hand the TODOs to the enclosing statement, or to the module
        (self._pending[-1] if self._pending else self._orphans).extend(todos)
        return result

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        if self._orphans and updated_node.body:
            body = list(updated_node.body)
            body[0] = with_comments(body[0], self._orphans)
            updated_node = updated_node.with_changes(body=body)
        return updated_node

    # ── TODOs ─────────────────────────────────────────────────────────────

    def todo(self, code: str, reason: str) -> None:
        """Leave ``# TODO(dbos2resonate): CODE reason See docs/rules/CODE.md`` above the current statement."""
        text = todo_comment(code, reason)
        target = self._pending[-1] if self._pending else self._orphans
        if text not in target:
            target.append(text)


def with_comments(stmt: cst.CSTNode, comments: list[str]) -> cst.CSTNode:
    """``stmt`` with ``comments`` as comment lines above it.

    A TODO is not added when the statement already carries a TODO with the same code: a second run may
    see the code differently (the workflow it was in is no longer a DBOS workflow) and word the reason
    differently, and must still change nothing.
    """
    existing = [line.comment.value for line in stmt.leading_lines if line.comment is not None]  # type: ignore[attr-defined]
    codes = {m["code"] for c in existing if (m := TODO_PATTERN.search(c))}
    new = []
    for c in comments:
        m = TODO_PATTERN.search(c)
        if c in existing or (m is not None and m["code"] in codes):
            continue
        new.append(cst.EmptyLine(comment=cst.Comment(c)))
    if not new:
        return stmt
    return stmt.with_changes(leading_lines=(*stmt.leading_lines, *new))  # type: ignore[attr-defined]


def has_todo(stmt: cst.CSTNode, code: str) -> bool:
    return any(
        line.comment is not None and f"TODO(dbos2resonate): {code} " in line.comment.value
        for line in getattr(stmt, "leading_lines", ())
    )


def insert_after_imports(module: cst.Module, statements: list[cst.BaseStatement]) -> cst.Module:
    """Put ``statements`` after the module's leading docstring / import block."""
    body = list(module.body)
    index = 0
    for i, stmt in enumerate(body):
        if isinstance(stmt, cst.SimpleStatementLine) and all(
            isinstance(s, (cst.Import, cst.ImportFrom))
            or (i == 0 and isinstance(s, cst.Expr) and isinstance(s.value, cst.SimpleString))
            for s in stmt.body
        ):
            index = i + 1
            continue
        break
    return module.with_changes(body=[*body[:index], *statements, *body[index:]])


def insert_before_definitions(module: cst.Module, statements: list[cst.BaseStatement]) -> cst.Module:
    """Put ``statements`` (definitions) before the module's first top-level ``def``/``class``, or at its end.

    Each inserted definition gets the two blank lines PEP 8 asks for; the definition that follows keeps its own.
    """
    body = list(module.body)
    index = next((i for i, s in enumerate(body) if isinstance(s, (cst.FunctionDef, cst.ClassDef))), len(body))
    blank = (cst.EmptyLine(), cst.EmptyLine())
    spaced = [s.with_changes(leading_lines=(*blank, *s.leading_lines)) for s in statements]  # type: ignore[attr-defined]
    return module.with_changes(body=[*body[:index], *spaced, *body[index:]])
