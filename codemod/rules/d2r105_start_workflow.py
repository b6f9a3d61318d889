"""D2R105 start-workflow: ``DBOS.start_workflow(fn, ...)`` becomes a ``ctx.run`` future or ``resonate.run(id, ...)``."""

from __future__ import annotations

import re

import libcst as cst

from codemod import build
from codemod.rules.base import Example, Rule
from codemod.todo import todo_comment
from codemod.transform import INSTANCE, RuleTransformer, insert_before_definitions, with_comments

START = ("DBOS.start_workflow", "DBOS.start_workflow_async")
RETRIEVE = ("DBOS.retrieve_workflow", "DBOS.retrieve_workflow_async")
STATUS = ("DBOS.get_workflow_status", "DBOS.get_workflow_status_async")
GET_RESULT = ("DBOS.get_result", "DBOS.get_result_async")
HANDLE_METHODS = ("get_result", "get_status", "get_workflow_id")
# uses of a handle this rule rewrites (``h.get_result()``, ``h.workflow_id``, ...)
HANDLE_USES = ("get_result()", "get_status()", "get_workflow_id()", "workflow_id")
STATUS_FUNCTION = "workflow_status"
STATUS_CLASS = "WorkflowStatus"
# what the generated ``WorkflowStatus`` carries: a use of any other field of a DBOS status gets a TODO
STATUS_FIELDS = ("workflow_id", "status")

_STATUS_HELPER = f'''@dataclass(frozen=True)
class {STATUS_CLASS}:
    """What DBOS's ``handle.get_status()`` reported, read from the workflow's Resonate promise."""

    workflow_id: str
    status: str  # "PENDING", "SUCCESS", "ERROR" or "CANCELLED", as DBOS names them


async def {STATUS_FUNCTION}(workflow_id: str) -> {STATUS_CLASS}:
    state = (await {INSTANCE}.promises.get(workflow_id)).state
    status = {{"pending": "PENDING", "resolved": "SUCCESS", "rejected": "ERROR"}}.get(state, "CANCELLED")
    return {STATUS_CLASS}(workflow_id, status)
'''


def status_helper() -> list[cst.BaseStatement]:
    """The ``WorkflowStatus`` class and ``workflow_status(id)`` a module gets when it read DBOS statuses."""
    return [s.with_changes(leading_lines=()) for s in cst.parse_module(_STATUS_HELPER).body]


def handles(rule: RuleTransformer) -> dict[tuple[str, str], str]:
    """(function, variable) -> "future" | "root": the handles D2R105 and D2R106 made in this module."""
    return rule.run.handles


def assignment(stmt: cst.SimpleStatementLine) -> tuple[str | None, cst.BaseExpression | None]:
    """(name, value) of ``name = value`` or ``name: T = value``; (None, None) for anything else."""
    if len(stmt.body) != 1:
        return None, None
    small = stmt.body[0]
    if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
        return small.targets[0].target.value, small.value
    if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and small.value is not None:
        return small.target.value, small.value
    return None, None


def _single_arg(call: cst.Call) -> cst.BaseExpression | None:
    if len(call.args) == 1 and call.args[0].keyword is None and not call.args[0].star:
        return call.args[0].value
    return None


# "order-1001-2": an id with a numbered suffix on an already numbered id (a plain "order-1001" is a root id)
_CHILD_LITERAL = re.compile(r"-\d+-\d+$")


def _looks_like_child_id(expr: cst.BaseExpression) -> bool:
    """An id written the way DBOS numbers child workflows: ``"order-7-2"``, ``f"{parent}-1"``, ``f"{p}-{n}"``."""
    if isinstance(expr, cst.SimpleString):
        value = expr.evaluated_value
        return isinstance(value, str) and _CHILD_LITERAL.search(value) is not None
    if isinstance(expr, cst.FormattedString) and len(expr.parts) >= 2:
        *_, before, last = expr.parts
        if isinstance(last, cst.FormattedStringText) and isinstance(before, cst.FormattedStringExpression):
            return re.fullmatch(r"-\d+", last.value) is not None  # f"{parent}-1"
        if isinstance(last, cst.FormattedStringExpression) and isinstance(before, cst.FormattedStringText):
            return before.value == "-" and len(expr.parts) >= 3  # f"{parent}-{n}"
    return False


class _ChildIdNames(cst.CSTVisitor):
    """The names a function assigns a DBOS-shaped child id to (``workflow_id = f"{workflow_id}-1"``)."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Assign(self, node: cst.Assign) -> None:
        if _looks_like_child_id(node.value):
            self.names.update(t.target.value for t in node.targets if isinstance(t.target, cst.Name))


class StartWorkflow(RuleTransformer):
    CODE = "D2R105"
    TRIGGERS = ("start_workflow", "retrieve_workflow", "get_workflow_status", "get_result")
    DESCRIPTION = "Turn DBOS.start_workflow into ctx.run futures (in workflows) or resonate.run (elsewhere)."

    def start(self, module: cst.Module) -> None:
        self._awaited_calls: set[int] = set()
        self._use: dict[int, str] = {}  # id(expr) -> how its value is used: "attr" or "method()"
        self._made = self.run.made  # id(original call) -> "future" | "root": handles made here or by D2R113
        self._ids: dict[int, cst.BaseExpression] = {}  # id(original retrieve call left as is) -> its id argument
        self._bound: list[dict[str, str]] = []  # comprehension variables over lists of handles, innermost last
        self._status_used = False
        self._module = module
        self._child_id_names: dict[str, set[str]] = {}  # module-level function -> names holding DBOS child ids

    def _scope(self) -> str:
        return self._frames[0].name if self._frames else ""

    # ── how is each expression used? (its parent is visited first) ──

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Attribute):
            self._use[id(node.func.value)] = node.func.attr.value + "()"

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._use.setdefault(id(node.value), node.attr.value)
        if isinstance(node.value, cst.Await):  # ``(await h.get_status()).status``
            self._use.setdefault(id(node.value.expression), node.attr.value)

    def visit_Await(self, node: cst.Await) -> None:
        self._awaited_calls.add(id(node.expression))

    def _awaited_by_user(self, node: cst.Call) -> bool:
        return id(node) in self._awaited_calls

    def _handle_kind(self, original: cst.BaseExpression) -> str | None:
        """"future" | "root" for an expression that is a handle this rule (or D2R113) made, else None."""
        kind = self._kind_of(original)
        return kind if kind in ("future", "root", "retrieved") else None

    def _kind_of(self, original: cst.BaseExpression) -> str | None:
        """Also "futures" | "roots" for a list of handles."""
        if isinstance(original, cst.Name):
            for bound in reversed(self._bound):
                if original.value in bound:
                    return bound[original.value]
            return handles(self).get((self._scope(), original.value))
        if id(original) in self._ids:
            return "retrieved"
        return self._made.get(id(original))

    def _value_kind(self, value: cst.BaseExpression) -> str | None:
        """What an assigned value holds: a handle, a list of handles, or neither (None)."""
        if isinstance(value, cst.Await):
            value = value.expression
        if isinstance(value, (cst.Call, cst.Name)):
            return self._kind_of(value)
        if isinstance(value, cst.ListComp):
            kind = self._handle_kind(value.elt)
            return kind + "s" if kind in ("future", "root") else None
        if isinstance(value, (cst.List, cst.Tuple)) and value.elements:
            kinds = {self._handle_kind(e.value) for e in value.elements if not isinstance(e, cst.StarredElement)}
            kind = kinds.pop() if len(kinds) == 1 else None
            return kind + "s" if kind in ("future", "root") and len(value.elements) else None
        return None

    # ── lists of handles (fan-out): ``hs.append(h)``, ``for h in hs``, ``[h.get_result() for h in hs]`` ──

    def _element_kind(self, iterable: cst.BaseExpression) -> str | None:
        kind = self._kind_of(iterable)
        return kind[:-1] if kind in ("futures", "roots") else None

    def _comprehension(self, node: cst.BaseComp) -> None:
        bound: dict[str, str] = {}
        for_in: cst.CompFor | None = node.for_in
        while for_in is not None:
            kind = self._element_kind(for_in.iter)
            if kind is not None and isinstance(for_in.target, cst.Name):
                bound[for_in.target.value] = kind
            for_in = for_in.inner_for_in
        self._bound.append(bound)

    def visit_ListComp(self, node: cst.ListComp) -> None:
        self._comprehension(node)

    def visit_SetComp(self, node: cst.SetComp) -> None:
        self._comprehension(node)

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> None:
        self._comprehension(node)

    def visit_DictComp(self, node: cst.DictComp) -> None:
        self._comprehension(node)

    def leave_ListComp(self, original_node: cst.ListComp, updated_node: cst.ListComp) -> cst.ListComp:
        self._bound.pop()
        return updated_node

    def leave_SetComp(self, original_node: cst.SetComp, updated_node: cst.SetComp) -> cst.SetComp:
        self._bound.pop()
        return updated_node

    def leave_GeneratorExp(self, original_node: cst.GeneratorExp, updated_node: cst.GeneratorExp) -> cst.GeneratorExp:
        self._bound.pop()
        return updated_node

    def leave_DictComp(self, original_node: cst.DictComp, updated_node: cst.DictComp) -> cst.DictComp:
        self._bound.pop()
        return updated_node

    def visit_For(self, node: cst.For) -> None:
        if isinstance(node.target, cst.Name):
            key = (self._scope(), node.target.value)
            kind = self._element_kind(node.iter)
            if kind is not None:
                handles(self)[key] = kind
            else:
                handles(self).pop(key, None)  # rebound to something else

    # ── starting and retrieving ──

    def _convert_start(self, original: cst.Call, updated: cst.Call, api: str) -> cst.BaseExpression | None:
        if not updated.args or updated.args[0].keyword is not None or updated.args[0].star:
            return None
        fn, rest = updated.args[0].value, list(updated.args[1:])
        if self.in_workflow:
            return build.ctx_run(fn, rest)
        if self.in_async_plain and not self.in_set_workflow_id:
            self.uses_instance()
            wf_id = self.workflow_id_for(original)  # the id of its SetWorkflowID block (D2R106), else a fresh one
            if wf_id is None:
                self.add_needed_import("uuid")
                wf_id = build.new_id()
            return build.root_run(wf_id, fn, rest)
        return None

    def leave_Await(self, original_node: cst.Await, updated_node: cst.Await) -> cst.BaseExpression:
        # ``await DBOS.start_workflow_async(...)`` was awaited for the handle; the future/handle needs no await
        inner = original_node.expression
        if isinstance(inner, cst.Call) and self.facts.resolve(inner.func) in (START[1],) and not (
            isinstance(updated_node.expression, cst.Call) and self.facts.resolve(updated_node.expression.func)
        ):
            return updated_node.expression.with_changes(lpar=updated_node.lpar, rpar=updated_node.rpar)
        return updated_node

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        api = self.facts.resolve(original_node.func)
        if not self.enabled("D2R103"):
            return updated_node  # the workflows stay DBOS workflows: so do their handles
        if api in START:
            new = self._convert_start(original_node, updated_node, api)
            if new is None:
                if not self.in_set_workflow_id:
                    self.todo(self.CODE, f"{api} here needs async code: outside a workflow it becomes "
                              f"`{INSTANCE}.run(id, fn, ...)`, inside one `ctx.run(fn, ...)`")
                return updated_node
            self._made[id(original_node)] = "future" if self.in_workflow else "root"
            self.mark_applied()
            return new
        if api in RETRIEVE or api in STATUS or api in GET_RESULT:
            return self._retrieve(original_node, updated_node, api)
        func = original_node.func
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value == "append"
            and isinstance(func.value, cst.Name)
            and len(original_node.args) == 1
        ):
            kind = self._handle_kind(original_node.args[0].value)
            if kind in ("future", "root"):  # ``hs.append(h)``: hs holds handles
                handles(self)[(self._scope(), func.value.value)] = kind + "s"
        if isinstance(func, cst.Attribute) and isinstance(updated_node.func, cst.Attribute):
            kind = self._handle_kind(func.value)
            if kind is not None:
                return self._method(original_node, updated_node, kind, func.attr.value)
            if func.attr.value in HANDLE_METHODS and api is None and self.facts.resolve(func.value) is None:
                # a handle the rule could not follow (from a list, a parameter, another function): say what it is now
                self.todo(self.CODE, f"if this `.{func.attr.value}()` is on a DBOS workflow handle, Resonate's "
                          "handle (from resonate.run/resonate.get) has `await h.result()` and `await h.id()`, "
                          "and a ctx.run future is awaited itself")
        return updated_node

    def _retrieve(self, original: cst.Call, updated: cst.Call, api: str) -> cst.BaseExpression:
        wf_id = _single_arg(updated)
        if wf_id is None or not self.in_async_plain:
            return updated  # the safety net marks it
        self.mark_applied()
        self.uses_instance()
        if _looks_like_child_id(wf_id) or self._holds_child_id(wf_id):
            self.todo(self.CODE, "this id looks like a child's in DBOS's `{parent}-{n}` scheme: Resonate names a "
                      "workflow's children `{parent}:{n}` (n counts its ctx.run, sleep and promise calls)")
        awaited_by_user = api.endswith("_async")
        if api in STATUS:
            self._status_used = True
            self._check_status_use(original)
            status = build.call(STATUS_FUNCTION, wf_id)
            return status if awaited_by_user else self.awaited(original, status)
        if api in GET_RESULT:
            result = build.result_of(cst.Await(build.call(f"{INSTANCE}.get", wf_id), lpar=[cst.LeftParen()],
                                               rpar=[cst.RightParen()]))
            return result if awaited_by_user else self.awaited(original, result)
        use = self._use.get(id(original))
        if use == "get_status()":
            # ``DBOS.retrieve_workflow(x).get_status()``: the status is read by id, no handle needed
            self._ids[id(original)] = wf_id
            return updated
        if use is not None and use not in HANDLE_USES:
            return updated  # a use of the handle this rule cannot follow: the safety net marks it
        self._made[id(original)] = "root"
        get = build.call(f"{INSTANCE}.get", wf_id)
        return get if awaited_by_user else self.awaited(original, get)

    def _holds_child_id(self, expr: cst.BaseExpression) -> bool:
        """``expr`` is a variable its function sets to a DBOS-shaped child id (looked up once per function)."""
        if not isinstance(expr, cst.Name):
            return False
        scope = self._scope()
        if scope not in self._child_id_names:
            finder = _ChildIdNames()
            for stmt in self._module.body:
                if isinstance(stmt, cst.FunctionDef) and stmt.name.value == scope:
                    stmt.visit(finder)
            self._child_id_names[scope] = finder.names
        return expr.value in self._child_id_names[scope]

    def _handle_id(self, original: cst.BaseExpression, updated: cst.BaseExpression) -> cst.BaseExpression:
        if id(original) in self._ids:
            return self._ids[id(original)]
        return cst.Await(build.call(cst.Attribute(updated, cst.Name("id"))))

    def _method(self, original: cst.Call, updated: cst.Call, kind: str, method: str) -> cst.BaseExpression:
        assert isinstance(updated.func, cst.Attribute) and isinstance(original.func, cst.Attribute)
        h = updated.func.value
        by_user = self._awaited_by_user(original)
        if method == "get_result" and kind != "retrieved":
            self.mark_applied()
            awaitable = h if kind == "future" else build.result_of(h)
            return awaitable if by_user else self.awaited(original, awaitable)
        if method == "get_workflow_id" and kind != "retrieved":
            self.mark_applied()
            return self._awaited_id(original, h, kind)
        if method == "get_status":
            if kind == "future":
                self.todo(self.CODE, "a child's status is read from its promise outside the durable log: a replay "
                          "may see a later state than the first run did")
            elif not self.in_async_plain:
                self.todo(self.CODE, "reading a workflow's status needs async code: "
                          f"`await {STATUS_FUNCTION}(workflow_id)`")
                return updated
            self._status_used = True
            self._check_status_use(original)
            self.mark_applied()
            status = build.call(STATUS_FUNCTION, self._handle_id(original.func.value, h))
            return status if by_user else self.awaited(original, status)
        self.todo("D2R203", f"a Resonate handle has no `{method}`: it offers `await h.result()`, `await h.id()` "
                  "and `h.done()`")
        return updated

    def _awaited_id(self, original: cst.BaseExpression, h: cst.BaseExpression, kind: str) -> cst.BaseExpression:
        if kind == "future":
            self.todo(self.CODE, "a child's Resonate id is `{parent}:{n}` (n counts the parent's ctx.run, sleep and "
                      "promise calls), not DBOS's `{parent}-{n}`")
        return self.awaited(original, build.call(cst.Attribute(h, cst.Name("id"))))

    def _check_status_use(self, original: cst.Call) -> None:
        use = self._use.get(id(original))
        if use not in STATUS_FIELDS:
            self.todo(self.CODE, f"`{STATUS_CLASS}` carries only {' and '.join(STATUS_FIELDS)} of DBOS's workflow "
                      "status (its state comes from the Resonate promise)")

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        if original_node.attr.value == "workflow_id":
            kind = self._handle_kind(original_node.value)
            if kind is not None and kind != "retrieved" and self.enabled("D2R103"):
                self.mark_applied()
                return self._awaited_id(original_node, updated_node.value, kind)
        return updated_node

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine:
        target, value = assignment(original_node)
        if target is not None and value is not None:
            key = (self._scope(), target)
            kind = self._value_kind(value)
            if kind is not None:
                handles(self)[key] = kind
            else:
                handles(self).pop(key, None)  # rebound to something else: its uses are no longer a handle's
        return updated_node

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        if not self._status_used:
            return updated_node
        if {STATUS_FUNCTION, STATUS_CLASS} & self.facts.module_names:
            return updated_node.with_changes(body=[
                with_comments(updated_node.body[0], [todo_comment(self.CODE, (
                    f"the module already defines `{STATUS_FUNCTION}` or `{STATUS_CLASS}`; the DBOS status reads "
                    "rewritten here need the helper of that name (see docs/rules/D2R105.md)"))]),
                *updated_node.body[1:],
            ]) if updated_node.body else updated_node
        self.add_needed_import("dataclasses", "dataclass")
        return insert_before_definitions(updated_node, status_helper())


RULE = Rule(
    code="D2R105",
    name="start-workflow",
    summary="Turn `DBOS.start_workflow(fn, ...)` into a `ctx.run` future inside workflows or `resonate.run(id, fn, ...)` outside",
    explanation=(
        "Inside a workflow, starting a child workflow is `ctx.run(fn, ...)` without `await`: a future that starts "
        "now and is awaited where DBOS called `handle.get_result()`. Outside a workflow, in async code, "
        "`resonate.run(id, fn, ...)` returns a handle; DBOS gives a workflow started without `SetWorkflowID` a "
        "fresh UUID, so the id is `str(uuid.uuid4())` (D2R106 supplies the block's id instead).\n\n"
        "Handles are followed through variables of the same function, lists of them (`hs.append(h)`, "
        "`[DBOS.start_workflow(...) for ...]`) and loops or comprehensions over those: `h.get_result()` becomes "
        "`await h` (future) or `await h.result()` (handle), `h.workflow_id` / `h.get_workflow_id()` become "
        "`await h.id()`. `DBOS.retrieve_workflow(id)` becomes `await resonate.get(id)`, "
        "`DBOS.get_result(id)` `await (await resonate.get(id)).result()`.\n\n"
        "Statuses: `h.get_status()`, `DBOS.retrieve_workflow(id).get_status()` and `DBOS.get_workflow_status(id)` "
        "become `await workflow_status(id)`, a small function the rule adds to the module, which reads the "
        "workflow's promise and names its state as DBOS does (PENDING, SUCCESS, ERROR, CANCELLED) in a "
        "`WorkflowStatus` with `workflow_id` and `status`; a use of any other field gets a TODO, as does a read "
        "inside a workflow (it is not in the durable log).\n\n"
        "Ids: a child's Resonate id is `{parent}:{n}`, not DBOS's `{parent}-{n}`; reading a child handle's id, or "
        "retrieving a workflow by an id written in DBOS's child scheme (`\"order-7-2\"`, `f\"{parent}-1\"`), gets "
        "a TODO. Synchronous call sites, and `.get_result()` on a handle the rule could not follow, get a TODO."
    ),
    examples=(
        Example(
            title="Fan-out inside a workflow, start from async code outside",
            before='''
            from dbos import DBOS

            @DBOS.workflow()
            def task(n: int) -> int:
                return n * n

            @DBOS.workflow()
            def fan_out(n: int) -> int:
                first = DBOS.start_workflow(task, 1)
                second = DBOS.start_workflow(task, 2)
                return first.get_result() + second.get_result()

            async def kick_off() -> str:
                handle = DBOS.start_workflow(fan_out, 3)
                print(handle.workflow_id)
                return handle.get_result()
            ''',
            after='''
            import uuid

            from resonate.context import Context

            # TODO(dbos2resonate): D2R103 this module registers workflows on `resonate` but does not create it: import the Resonate instance from the module that replaced DBOS(config=...). See docs/rules/D2R103.md
            @resonate.register
            async def task(ctx: Context, n: int) -> int:
                return n * n

            @resonate.register
            async def fan_out(ctx: Context, n: int) -> int:
                first = ctx.run(task, 1)
                second = ctx.run(task, 2)
                return await first + await second

            async def kick_off() -> str:
                handle = resonate.run(str(uuid.uuid4()), fan_out, 3)
                print(await handle.id())
                return await handle.result()
            ''',
        ),
        Example(
            title="Statuses and retrieved workflows",
            before='''
            from dbos import DBOS

            @DBOS.workflow()
            def task(n: int) -> int:
                return n * n

            async def report(workflow_id: str) -> dict:
                return {
                    "status": DBOS.retrieve_workflow(workflow_id).get_status().status,
                    "result": DBOS.retrieve_workflow(workflow_id).get_result(),
                }
            ''',
            after='''
            from dataclasses import dataclass

            from resonate.context import Context


            @dataclass(frozen=True)
            class WorkflowStatus:
                """What DBOS's ``handle.get_status()`` reported, read from the workflow's Resonate promise."""

                workflow_id: str
                status: str  # "PENDING", "SUCCESS", "ERROR" or "CANCELLED", as DBOS names them


            async def workflow_status(workflow_id: str) -> WorkflowStatus:
                state = (await resonate.promises.get(workflow_id)).state
                status = {"pending": "PENDING", "resolved": "SUCCESS", "rejected": "ERROR"}.get(state, "CANCELLED")
                return WorkflowStatus(workflow_id, status)

            # TODO(dbos2resonate): D2R103 this module registers workflows on `resonate` but does not create it: import the Resonate instance from the module that replaced DBOS(config=...). See docs/rules/D2R103.md
            @resonate.register
            async def task(ctx: Context, n: int) -> int:
                return n * n

            async def report(workflow_id: str) -> dict:
                return {
                    "status": (await workflow_status(workflow_id)).status,
                    "result": await (await resonate.get(workflow_id)).result(),
                }
            ''',
        ),
        Example(
            title="A child read by DBOS's id: a TODO where it is read",
            before='''
            from dbos import DBOS

            async def first_child_result(parent_id: str):
                workflow_id = f"{parent_id}-1"
                return DBOS.retrieve_workflow(workflow_id).get_result()
            ''',
            after='''
            async def first_child_result(parent_id: str):
                workflow_id = f"{parent_id}-1"
                # TODO(dbos2resonate): D2R102 this module uses the Resonate instance `resonate` but neither creates nor imports it: import it from the module that replaced DBOS(config=...). See docs/rules/D2R102.md
                # TODO(dbos2resonate): D2R105 this id looks like a child's in DBOS's `{parent}-{n}` scheme: Resonate names a workflow's children `{parent}:{n}` (n counts its ctx.run, sleep and promise calls). See docs/rules/D2R105.md
                return await (await resonate.get(workflow_id)).result()
            ''',
        ),
    ),
    transformer=StartWorkflow,
    todo_reason="starting a workflow needs async code",
)
