"""The rewriting pass: one libcst transformer that runs every rule's hooks in a single walk of the tree.

A rule is a :class:`RuleTransformer`: ``visit_<Node>`` / ``leave_<Node>`` methods written as if the rule were
a libcst transformer of its own, plus the rule's own per-module state. :class:`Run` walks the tree once and,
for each node type, calls the hooks of the enabled rules that can apply to this module, in the pipeline's
order; a leave hook that replaces a node with another kind of node ends the chain for that node. The pass
also keeps what every rule needs, so each rule is only its own concern:

- ``facts``: what the analysis learned about the ORIGINAL module (``codemod.analysis``);
- ``frame``: the innermost function (workflow, step, plain, lambda) being visited;
- ``todo(code, reason)``: a coded TODO comment above the statement being visited. Comments are
  deduplicated against the statement's existing comments, so a second run adds nothing;
- the safety net (``codemod.leftovers``): when a statement is left, every DBOS name still in it gets a TODO;
- ``used_dbos_names``: the DBOS bindings still referenced, so unused DBOS imports can go afterwards.

Speed: the pass visits only the statements that can need a rule (``codemod.analysis.Relevance``), dispatches
on exact node types through per-type hook tables (no matcher machinery, no ``isinstance`` against libcst's
abstract classes), and never descends into import statements.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
import functools
import inspect
import typing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import libcst as cst
import libcst._nodes.op as _op
import libcst._nodes.whitespace as _ws
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor

from codemod.analysis import Facts, Relevance
from codemod.comprehensions import as_list_comprehension, contains_await, eagerly_consumed
from codemod.todo import TODO_PATTERN, todo_comment

if TYPE_CHECKING:
    from codemod.leftovers import Leftovers

ENABLED_KEY = "dbos2resonate.enabled"  # frozenset of rule codes the run applies
APPLIED_KEY = "dbos2resonate.applied"  # set of rule codes that changed something
INSTANCE = "resonate"  # the module-level Resonate instance that replaces DBOS


@dataclass(frozen=True, slots=True)
class Frame:
    kind: str  # "function" | "lambda" | "genexp" | "class"
    name: str = ""
    is_async: bool = False
    module_level: bool = False


@dataclass(slots=True)
class SetIdBlock:
    """A ``with SetWorkflowID(id):`` block being visited (D2R106 decides what it becomes)."""

    node: cst.With  # the original block
    named: int | None = None  # id() of the original call the block's id goes to, if D2R106 converts the block
    id_expr: cst.BaseExpression | None = None  # the id, as rewritten (once the block's item has been left)
    used: bool = False  # the named call was rewritten with the id


_STATEMENTS = (cst.SimpleStatementLine, cst.BaseCompoundStatement)
_NODE_CLASSES = frozenset(
    v for v in vars(cst).values() if isinstance(v, type) and issubclass(v, cst.CSTNode) and not inspect.isabstract(v)
)
_SUITE_TYPES = frozenset({cst.IndentedBlock, cst.SimpleStatementSuite})

# exact node type -> what the pass tracks for it
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
    cst.Import: "import",
    cst.ImportFrom: "import",
}
_COMPOUND = {
    v for v in vars(cst).values()
    if isinstance(v, type) and issubclass(v, cst.BaseCompoundStatement) and v is not cst.BaseCompoundStatement
}
assert _COMPOUND <= set(_KIND), f"compound statement types missing from _KIND: {_COMPOUND - set(_KIND)}"
_STATEMENT_KINDS = frozenset({"stmt", "def", "class", "with"})
_STATEMENT_TYPES = frozenset(t for t, k in _KIND.items() if k in _STATEMENT_KINDS)
_NODE_TYPES: dict[str, type] = {
    name: v for name, v in vars(cst).items() if isinstance(v, type) and issubclass(v, cst.CSTNode)
}


class RuleTransformer:
    """One rule's hooks and per-module state; :class:`Run` calls them (see the module docstring)."""

    CODE: ClassVar[str] = ""
    DESCRIPTION: ClassVar[str] = ""
    # The rule runs only on source containing one of these strings (empty: always). Skipping rules a file
    # cannot need keeps their hooks out of the dispatch tables.
    TRIGGERS: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def should_run(cls, facts: Facts, source: str) -> bool:
        return not cls.TRIGGERS or any(t in source for t in cls.TRIGGERS)

    def __init__(self, run: Run) -> None:
        self.run = run
        self.facts: Facts = run.facts
        self.context: CodemodContext = run.context

    def start(self, module: cst.Module) -> bool | None:
        """Reset the rule's per-module state (called before the walk). False: nothing to do in this module."""
        return None

    @classmethod
    def hooks(cls) -> tuple[tuple[str, str], ...]:
        """("visit" | "leave", node type name) of every hook this rule defines."""
        return _hooks_of(cls)

    # ── where am I ────────────────────────────────────────────────────────

    @property
    def _frames(self) -> list[Frame]:
        return self.run.frames

    @property
    def _pending(self) -> list[list[str]]:
        return self.run.pending

    def enabled(self, code: str) -> bool:
        return self.run.enabled(code)

    def mark_applied(self) -> None:
        self.context.scratch.setdefault(APPLIED_KEY, set()).add(self.CODE)

    def add_needed_import(self, module: str, obj: str | None = None) -> None:
        AddImportsVisitor.add_needed_import(self.context, module, obj)

    def converts_durable_functions(self) -> bool:
        return self.run.converts_durable_functions

    def becomes_async(self, name: str) -> bool:
        return self.run.becomes_async(name)

    def helper_becomes_async(self, name: str) -> bool:
        return self.run.helper_becomes_async(name)

    @property
    def frame(self) -> Frame | None:
        frames = self.run.frames
        return frames[-1] if frames else None

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
        """Inside a ``with SetWorkflowID(...)`` block that D2R106 does not convert."""
        return any(b.named is None for b in self.run.set_id_blocks)

    def workflow_id_for(self, original: cst.Call) -> cst.BaseExpression | None:
        """The id of the SetWorkflowID block whose first workflow ``original`` starts (D2R106 unwraps the block)."""
        blocks = self.run.set_id_blocks
        if blocks and blocks[-1].named == id(original) and blocks[-1].id_expr is not None:
            blocks[-1].used = True
            return blocks[-1].id_expr
        return None

    def awaited(self, original: cst.BaseExpression, expr: cst.BaseExpression) -> cst.Await:
        """``await expr``, parenthesised where ``original`` was the value of ``.attr``, ``[i]`` or ``(...)``."""
        if id(original) in self.run.primary:
            return cst.Await(expr, lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
        return cst.Await(expr)

    def todo(self, code: str, reason: str) -> None:
        """Leave ``# TODO(dbos2resonate): CODE reason See docs/rules/CODE.md`` above the current statement."""
        self.run.todo(code, reason, self)

    def uses_instance(self) -> None:
        """The code being written calls the ``resonate`` instance: say so once if the module does not have it."""
        self.run.uses_instance(self)


Hook = Callable[..., Any]


@functools.cache
def _hooks_of(cls: type) -> tuple[tuple[str, str], ...]:
    found = []
    for name in dir(cls):
        prefix, _, node = name.partition("_")
        if prefix in ("visit", "leave") and node in _NODE_TYPES:
            found.append((prefix, node))
    return tuple(found)


def _attr_fields(cls: type) -> tuple[str, ...]:
    return tuple(f for f in getattr(cls, "__dataclass_fields__", {}))


# Nodes that hold no name and no node a rule acts on: whitespace, punctuation, operators, literals. The pass
# never descends into them (about half of a module's nodes).
_OPAQUE: frozenset[type] = frozenset(
    v
    for module in (_ws, _op)
    for v in vars(module).values()
    if isinstance(v, type) and issubclass(v, cst.CSTNode)
) | {
    cst.LeftParen, cst.RightParen, cst.LeftSquareBracket, cst.RightSquareBracket, cst.LeftCurlyBrace,
    cst.RightCurlyBrace, cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString, cst.FormattedStringText,
    cst.Ellipsis, cst.Asynchronous, cst.ParamStar, cst.ParamSlash,
}


class _FieldOrder(cst.CSTVisitor):
    """Records the order in which libcst visits a node's fields (its source order)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[str] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        return False

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        self.fields.append(attribute)


_FIELD_ORDER: dict[type, tuple[str, ...]] = {}
_OPAQUE_BASES = (
    cst.BaseParenthesizableWhitespace, cst.BaseBinaryOp, cst.BaseBooleanOp, cst.BaseCompOp, cst.BaseUnaryOp,
    cst.BaseAugOp,
)


def _hint_classes(hint: Any) -> list[Any]:
    args = typing.get_args(hint)
    if not args:
        return [hint]
    return [c for a in args for c in _hint_classes(a)]


def _opaque_field(hint: Any) -> bool:
    """The field can only hold whitespace, punctuation, operators or plain values (per its type hint)."""
    for cls in _hint_classes(hint):
        if cls in (str, bool, int, type(None), cst.MaybeSentinel, Ellipsis) or cls in _OPAQUE:
            continue
        if isinstance(cls, type) and issubclass(cls, _OPAQUE_BASES):
            continue
        return False
    return True


def _field_order(node: cst.CSTNode) -> tuple[str, ...]:
    """The fields of ``node``'s type that can hold a name, in the order libcst visits them (source order)."""
    t = type(node)
    order = _FIELD_ORDER.get(t)
    if order is None:
        recorder = _FieldOrder()
        node._visit_and_replace_children(recorder)
        try:
            hints = typing.get_type_hints(t)
        except Exception:  # noqa: BLE001 - an unresolvable hint: keep every field
            hints = {}
        order = _FIELD_ORDER[t] = tuple(
            f for f in dict.fromkeys(recorder.fields) if f not in hints or not _opaque_field(hints[f])
        )
    return order


def walk_source_order(root: cst.CSTNode, skip: tuple[type, ...] = ()) -> Iterator[cst.CSTNode]:
    """The nodes under ``root`` that can hold a name, in source order, not entering nodes of the ``skip`` types
    (libcst's ``children`` rebuilds a node's child list on every access; this reads the fields directly)."""
    stack: list[Any] = [root]
    while stack:
        item = stack.pop()
        t = type(item)
        if t in _OPAQUE or t not in _NODE_CLASSES or isinstance(item, skip):
            continue
        yield item
        for name in reversed(_field_order(item)):
            value = getattr(item, name)
            if type(value) is tuple or type(value) is list:
                stack.extend(reversed(value))
            else:
                stack.append(value)


def is_main_guard(test: cst.BaseExpression) -> bool:
    """``__name__ == "__main__"`` (either way round)."""
    if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1):
        return False
    target = test.comparisons[0]
    if not isinstance(target.operator, cst.Equal):
        return False
    sides = (test.left, target.comparator)
    return any(isinstance(x, cst.Name) and x.value == "__name__" for x in sides) and any(
        isinstance(x, cst.SimpleString) and x.evaluated_value == "__main__" for x in sides
    )


def child_nodes(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The children of ``node`` that can hold a name, in source order (a cheap ``CSTNode.children``)."""
    out: list[cst.CSTNode] = []
    for name in _field_order(node):
        value = getattr(node, name)
        t = type(value)
        if t is tuple or t is list:
            out.extend(v for v in value if type(v) in _NODE_CLASSES and type(v) not in _OPAQUE)
        elif t in _NODE_CLASSES and t not in _OPAQUE:
            out.append(value)
    return out


class Run:
    """The single pass over a module: bookkeeping, rule hooks in order, the safety net (module docstring).

    It walks the tree itself rather than through ``CSTNode.visit``: libcst rebuilds every node it visits, while
    this walk skips the nodes no rule can act on (:data:`_OPAQUE`, statements ``Relevance`` rules out) and
    rebuilds a node only when one of its children changed. Hooks see what libcst's would: ``visit_X(node)``
    before the children, ``leave_X(original, updated)`` after, in source order.
    """

    def __init__(
        self,
        context: CodemodContext,
        facts: Facts,
        rules: Iterable[type[RuleTransformer]],
        enabled: frozenset[str] | None = None,
        relevance: Relevance | None = None,
        leftovers: Leftovers | None = None,
    ) -> None:
        self.context = context
        self.facts = facts
        self._enabled = enabled
        self.relevance = relevance
        self.leftovers = leftovers
        self.frames: list[Frame] = []
        self.pending: list[list[str]] = []  # TODOs of each statement being visited (innermost last)
        self.orphans: list[str] = []  # TODOs with no statement left to carry them: the module's first one
        self.primary: set[int] = set()  # ids of nodes that are the value of an attribute/subscript/call
        self.set_id_blocks: list[SetIdBlock] = []
        # workflow handles: (function, variable) -> "future" | "root" (or "futures" | "roots": a list of them),
        # and id(original call) -> the kind of handle a rule turned it into
        self.handles: dict[tuple[str, str], str] = {}
        self.made: dict[int, str] = {}
        self.used_dbos_names: set[str] = set()  # DBOS bindings still referenced after the rewrite
        self._carries: list[list[str]] = []  # per block being walked: TODOs of statements removed from it
        self._incoming: list[str] = []  # TODOs for the next statement to be visited
        self._carried: set[str] = set()  # TODOs that moved from a removed statement to the next one
        self.instance_told = False  # a TODO already says the module lacks the ``resonate`` instance
        self._eager: set[int] = set()  # ids of generator expressions a builtin reads to the end at once
        self._shadowed = facts.module_names | facts.imported_names  # builtins the module rebinds
        self._dbos_names = facts.dbos_names
        # per statement being visited: how many DBOS names its own code (not its nested blocks) still holds
        self._mentions: list[int] = []
        self._rank: dict[str, int] = {}  # TODO text -> rank of the rule that wrote it
        self._rules_rank: dict[int, int] = {}
        kinds = {f.kind for f in facts.functions.values()}
        self.converts_durable_functions = not (
            ("workflow" in kinds and not self.enabled("D2R103")) or ("step" in kinds and not self.enabled("D2R104"))
        )
        self.rules = [cls(self) for cls in rules]
        self._visits: dict[type, tuple[Hook, ...]] = {}
        self._leaves: dict[type, tuple[Hook, ...]] = {}

    def enabled(self, code: str) -> bool:
        return self._enabled is None or code in self._enabled

    def becomes_async(self, name: str) -> bool:
        """The module-level plain function ``name`` is an entry point D2R102 turns into ``async def``."""
        return name in self.facts.entry_points and self._entry_points_convert()

    def helper_becomes_async(self, name: str) -> bool:
        """The module-level plain function ``name`` is one D2R114 turns into ``async def`` (its callers are async,
        which assumes D2R102 makes the entry points async)."""
        return name in self.facts.async_helpers and self.enabled("D2R114") and self._entry_points_convert()

    def _entry_points_convert(self) -> bool:
        return self.enabled("D2R102") and self.converts_durable_functions

    def main_block_converts(self, node: cst.If) -> bool:
        """``node`` is the ``if __name__ == "__main__":`` block D2R102 moves into ``async def main()``."""
        return (
            self.facts.main_block is not None
            and is_main_guard(node.test)
            and self.enabled("D2R102")
            and self.converts_durable_functions
        )

    def uses_instance(self, rule: RuleTransformer | None = None) -> None:
        facts = self.facts
        if self.instance_told or facts.constructs_dbos or INSTANCE in facts.module_names or INSTANCE in facts.imported_names:
            return
        self.instance_told = True
        self.todo("D2R102", f"this module uses the Resonate instance `{INSTANCE}` but neither creates nor imports it: "
                  "import it from the module that replaced DBOS(config=...)", rule)

    def todo(self, code: str, reason: str, rule: RuleTransformer | None = None) -> None:
        text = todo_comment(code, reason)
        target = self.pending[-1] if self.pending else self.orphans
        if text not in target:
            target.append(text)
            # a statement's TODOs are listed by rule, in the pipeline's order, then the safety net's
            self._rank.setdefault(text, self._rules_rank.get(id(rule), len(self._rules_rank)))

    def transform(self, module: cst.Module) -> cst.Module:
        if self.relevance is not None:
            self.relevance.pair_module(module)
        # a rule whose start() says False has nothing to do in this module: its hooks stay out of the tables
        self.rules = [rule for rule in self.rules if rule.start(module) is not False]
        self._rules_rank = {id(rule): i for i, rule in enumerate(self.rules)}
        visits: dict[type, list[Hook]] = {}
        leaves: dict[type, list[Hook]] = {}
        for rule in self.rules:
            for prefix, node in type(rule).hooks():
                table = visits if prefix == "visit" else leaves
                table.setdefault(_NODE_TYPES[node], []).append(getattr(rule, f"{prefix}_{node}"))
        self._visits = {t: tuple(h) for t, h in visits.items()}
        self._leaves = {t: tuple(h) for t, h in leaves.items()}
        hooked_opaque = (set(visits) | set(leaves)) & _OPAQUE
        if hooked_opaque:
            raise TypeError(f"rules hook node types the pass never visits: {sorted(t.__name__ for t in hooked_opaque)}")
        result = self._walk(module)
        assert isinstance(result, cst.Module)
        return result

    # ── the walk ──────────────────────────────────────────────────────────

    def _walk(self, node: cst.CSTNode) -> Any:
        t = type(node)
        kind = _KIND.get(t)
        descend = True  # False: a statement no rule can act on, kept as it is
        children = True
        if kind is not None:
            if kind == "value":
                self.primary.add(id(node.value))  # type: ignore[attr-defined]
            elif kind == "call":
                self.primary.add(id(node.func))  # type: ignore[attr-defined]
                eager = eagerly_consumed(node, self._shadowed)  # type: ignore[arg-type]
                if eager is not None:
                    self._eager.add(id(eager))
            elif kind == "import":
                children = False  # nothing in an import statement is a rule's business but the statement itself
            else:
                if kind in _STATEMENT_KINDS:
                    # TODOs carried from removed statements just before it start its list
                    self.pending.append(self._incoming)
                    self._incoming = []
                    self._mentions.append(0)
                    if self.relevance is not None and not self.relevance.relevant(node):
                        descend = False
                if kind == "def":
                    name = node.name.value  # type: ignore[attr-defined]
                    top = not self.frames
                    is_async = node.asynchronous is not None or (  # type: ignore[attr-defined]
                        top and (self.becomes_async(name) or self.helper_becomes_async(name))
                    )
                    self.frames.append(Frame("function", name, is_async, top))
                elif kind == "class":
                    self.frames.append(Frame("class", node.name.value))  # type: ignore[attr-defined]
                elif kind == "lambda":
                    self.frames.append(Frame("lambda"))
                elif kind == "genexp":
                    if id(node) in self._eager:
                        kind = "eager"  # no frame: its calls are rewritten as in a list comprehension
                    else:
                        self.frames.append(Frame("genexp"))
                elif kind == "with" and self._sets_workflow_id(node):  # type: ignore[arg-type]
                    self.set_id_blocks.append(SetIdBlock(node))  # type: ignore[arg-type]
                elif t is cst.If and not self.frames and self.main_block_converts(node):  # type: ignore[arg-type]
                    # the body of ``if __name__ == "__main__":`` becomes ``async def main()`` (D2R102)
                    self.frames.append(Frame("function", self.facts.main_block or "", True, True))
                    kind = "main"
        elif t is cst.Name:
            if node.value in self._dbos_names and self._mentions:  # type: ignore[attr-defined]
                self._mentions[-1] += 1
        if descend:
            mentions = self._mentions
            base = mentions[-1] if mentions and kind not in _STATEMENT_KINDS else 0
            hooks = self._visits.get(t)
            if hooks is not None:
                for hook in hooks:
                    hook(node)
            updated = self._children(node) if children else node
            if t is cst.Module and self.orphans and updated.body:  # type: ignore[attr-defined]
                # TODOs whose statement was removed go on the module's first statement, before rules add any
                body = list(updated.body)  # type: ignore[attr-defined]
                body[0] = with_comments(body[0], self.orphans)
                updated = updated.with_changes(body=body)
                self.orphans = []
            leaves = self._leaves.get(t)
            result: Any = updated
            if leaves is not None:
                for hook in leaves:
                    result = hook(node, result)
                    if type(result) is not t:
                        break
                if result is not updated and mentions and mentions[-1] > base:
                    # a rule replaced a node holding DBOS names: count those it kept (rules never add any)
                    mentions[-1] += self._dbos_count(result) - (mentions[-1] - base)
        else:
            result = node
        if kind is None or kind == "value" or kind == "call" or kind == "import":
            return result
        if kind == "eager":
            if type(result) is cst.GeneratorExp and contains_await(result) and not contains_await(node):
                return as_list_comprehension(result)  # an await would make it an async generator
            return result
        if kind in ("def", "class", "lambda", "genexp", "main"):
            self.frames.pop()
        elif kind == "with" and self.set_id_blocks and self.set_id_blocks[-1].node is node:
            self.set_id_blocks.pop()
        if kind in _STATEMENT_KINDS or kind == "main":
            todos = self.pending.pop()
            if self._mentions.pop() > 0 and self.leftovers is not None and type(result) in _STATEMENT_TYPES:
                self.leftovers.mark(result, todos, self.used_dbos_names, self._carried)
            if todos:
                result = self._attach(result, todos)
        return result

    def _children(self, node: cst.CSTNode) -> cst.CSTNode:
        """``node`` with its children walked; the same object if none of them changed."""
        changes: dict[str, Any] | None = None
        opaque = _OPAQUE
        nodes = _NODE_CLASSES
        order = _FIELD_ORDER.get(type(node))
        for name in order if order is not None else _field_order(node):
            value = getattr(node, name)
            vt = type(value)
            if vt in nodes:
                if vt in opaque:
                    continue
                new = self._walk(value)
                if new is not value:
                    if isinstance(new, cst.FlattenSentinel):
                        raise TypeError(f"a {type(value).__name__} in {type(node).__name__}.{name} cannot become several nodes")
                    if changes is None:
                        changes = {}
                    changes[name] = None if isinstance(new, cst.RemovalSentinel) else new
            elif vt is tuple or vt is list:
                items: list[Any] | None = None
                block = name == "body" and (type(node) is cst.IndentedBlock or type(node) is cst.Module)
                if block:
                    self._carries.append([])
                carried: list[str] = []  # TODOs of removed statements, for the next statement of the block
                lines: tuple[cst.EmptyLine, ...] = ()  # the lines above removed statements (comments are kept)
                for i, item in enumerate(value):
                    it = type(item)
                    if it in opaque or it not in nodes:
                        if items is not None:
                            items.append(item)
                        continue
                    if block:
                        self._incoming = carried  # the next statement takes the TODOs of removed ones
                    new = self._walk(item)
                    if block:
                        # the statement took the carried TODOs (a removed one hands them on through _carries)
                        if type(new) in _STATEMENT_TYPES:
                            if lines and (any(e.comment for e in lines) or not new.leading_lines):
                                new = new.with_changes(leading_lines=(*lines, *new.leading_lines))
                            lines = ()
                        elif type(new) is cst.RemovalSentinel:
                            lines += tuple(item.leading_lines)  # type: ignore[attr-defined]
                        self._incoming = []
                        carried = list(self._carries[-1])
                        self._carried.update(carried)
                        self._carries[-1].clear()
                    if new is item:
                        if items is not None:
                            items.append(item)
                        continue
                    if items is None:
                        items = list(value[:i])
                    if isinstance(new, cst.FlattenSentinel):
                        items.extend(new.nodes)
                    elif not isinstance(new, cst.RemovalSentinel):
                        items.append(new)
                if block:
                    self._carries.pop()
                    if carried:  # the block's last statements were removed: the enclosing statement takes them
                        (self.pending[-1] if self.pending else self.orphans).extend(carried)
                if items is not None:
                    if changes is None:
                        changes = {}
                    changes[name] = tuple(items)
        if changes is None:
            return node
        return node.with_changes(**changes)

    def _dbos_count(self, node: Any) -> int:
        """DBOS names in ``node``'s own code (not in nested blocks, which count for their own statements)."""
        total = 0
        stack = [node]
        names = self._dbos_names
        while stack:
            item = stack.pop()
            t = type(item)
            if t is cst.Name:
                if item.value in names:
                    total += 1
                continue
            if t is cst.FlattenSentinel:
                stack.extend(item.nodes)
                continue
            if t in _OPAQUE or t in _SUITE_TYPES or t not in _NODE_CLASSES:
                continue
            for name in _field_order(item):
                value = getattr(item, name)
                if type(value) is tuple or type(value) is list:
                    stack.extend(value)
                else:
                    stack.append(value)
        return total

    def _sets_workflow_id(self, node: cst.With) -> bool:
        return any(
            isinstance(i.item, cst.Call) and self.facts.resolve(i.item.func) == "SetWorkflowID" for i in node.items
        )

    def _attach(self, result, todos: list[str]):  # type: ignore[no-untyped-def]
        if len(todos) > 1:
            last = len(self._rules_rank)
            todos.sort(key=lambda t: self._rank.get(t, last))
        if isinstance(result, cst.FlattenSentinel):
            nodes = list(result.nodes)
            if nodes and isinstance(nodes[0], _STATEMENTS):
                nodes[0] = with_comments(nodes[0], todos)
                return cst.FlattenSentinel(nodes)
        elif isinstance(result, _STATEMENTS):
            return with_comments(result, todos)
        # removed: the TODOs go to the next statement of its block (or the enclosing statement, or the module)
        if self._carries:
            self._carries[-1].extend(todos)
        else:
            (self.pending[-1] if self.pending else self.orphans).extend(todos)
        return result


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
