"""Property tests of the engine: random Python (hypothesmith) and random DBOS-shaped programs.

For every input: the engine does not crash, whatever it outputs compiles, and a second run changes nothing.
For DBOS-shaped programs also: every statement still naming DBOS carries a coded TODO.
Deterministic (derandomize) and small, so it runs in the normal suite.
"""

from __future__ import annotations

import ast
import os

import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codemod.engine import Options, migrate_source
from codemod.rules import Target

hypothesmith = pytest.importorskip("hypothesmith")

# D2R_FUZZ_EXAMPLES=500 for a deeper (still deterministic) run
FUZZ = settings(
    max_examples=int(os.environ.get("D2R_FUZZ_EXAMPLES", "12")),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


def _check(source: str, options: Options = Options()) -> str:
    first = migrate_source(source, "fuzz.py", options)
    if first.error is not None:
        # the only acceptable failure: libcst cannot parse what CPython can
        assert first.error.startswith("cannot parse"), first.error
        return source
    out = first.after if first.changed else source
    compile(out, "fuzz.py", "exec", dont_inherit=True)
    second = migrate_source(out, "fuzz.py", options)
    assert second.error is None and not second.changed, second.after
    return out


@FUZZ
@given(hypothesmith.from_grammar())
def test_random_python_through_the_engine(source: str) -> None:
    try:
        compile(source, "fuzz.py", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return
    # prefix a DBOS import so the file is not skipped and every rule runs over it
    _check("from dbos import DBOS, SetWorkflowID\n" + source)


@FUZZ
@given(hypothesmith.from_grammar())
def test_random_python_through_shim_mode(source: str) -> None:
    try:
        compile(source, "fuzz.py", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return
    _check("import dbos\n" + source, Options(target=Target.SHIM))


# ── DBOS-shaped programs ──────────────────────────────────────────────────────────────────────────────

STEP_DECORATORS = st.sampled_from([
    "@DBOS.step()",
    "@DBOS.step(retries_allowed=True)",
    "@DBOS.step(retries_allowed=True, interval_seconds=2, max_attempts=4, backoff_rate=2)",
    "@DBOS.step(retries_allowed=True, interval_seconds=0.5, backoff_rate=1.5)",
    "@DBOS.step(retries_allowed=flag)",
])
WORKFLOW_DECORATORS = st.sampled_from(["@DBOS.workflow()", '@DBOS.workflow(name="wf")', "@DBOS.workflow(max_recovery_attempts=3)"])
BODY_LINES = st.sampled_from([
    "x = {step}(x)",
    "await {astep}(x)" ,
    "DBOS.sleep(1)",
    "DBOS.logger.info(DBOS.workflow_id)",
    "h = DBOS.start_workflow({wf}, x)",
    "y = DBOS.recv('topic', timeout_seconds=5)",
    "DBOS.set_event('k', x)",
    "DBOS.send('other', x)",
    "x = [{step}(i) for i in range(3)]",
    "f = lambda: {step}(1)",
    "if x:\n        x = {step}(x)",
    "with SetWorkflowID('id-1'):\n        x = {wf}(x)",
    "DBOS.span",
    "x = DBOS.step_id",
    "x = queue.enqueue({wf}, x).get_result()",
    "with SetWorkflowID('q-1'):\n        h = queue.enqueue({wf}, x)",
])


@st.composite
def dbos_programs(draw: st.DrawFn) -> str:
    n_steps = draw(st.integers(1, 3))
    n_wfs = draw(st.integers(1, 3))
    lines = ["from dbos import DBOS, SetWorkflowID, DBOSConfig, Queue", "", "flag = True", 'queue = Queue("q")', ""]
    if draw(st.booleans()):
        lines += ['config: DBOSConfig = {"name": "app"}', "DBOS(config=config)", ""]
    steps, asteps = [], []
    for i in range(n_steps):
        is_async = draw(st.booleans())
        name = f"step{i}"
        (asteps if is_async else steps).append(name)
        lines += [draw(STEP_DECORATORS), f"{'async ' if is_async else ''}def {name}(x):", "    return x", ""]
    steps = steps or ["len"]
    wfs = []
    for i in range(n_wfs):
        name = f"wf{i}"
        lines += [draw(WORKFLOW_DECORATORS), f"async def {name}(x):"]
        for tmpl in draw(st.lists(BODY_LINES, min_size=1, max_size=5)):
            if "{astep}" in tmpl and not asteps:
                continue
            if "{wf}" in tmpl and not wfs:
                continue
            lines.append("    " + tmpl.format(step=draw(st.sampled_from(steps)),
                                            astep=draw(st.sampled_from(asteps)) if asteps else "",
                                            wf=draw(st.sampled_from(wfs)) if wfs else ""))
        lines += ["    return x", ""]
        wfs.append(name)
    lines += ["async def main():", "    DBOS.launch()"]
    for wf in draw(st.lists(st.sampled_from(wfs), max_size=3)):
        lines.append(draw(st.sampled_from([f"    await {wf}(1)", f"    with SetWorkflowID('m-{wf}'):\n        await {wf}(2)",
                                          f"    h = DBOS.start_workflow({wf}, 3)\n    print(h.get_result())",
                                          f"    with SetWorkflowID('e-{wf}'):\n        h = queue.enqueue({wf}, 4)",
                                          f"    with SetWorkflowID('c-{wf}'):\n        if flag:\n            queue.enqueue({wf}, 5)",
                                          f"    print(queue.enqueue({wf}, 6).get_result())"])))
    lines += ["", "def sync_main():", f"    return {wfs[0]}(0)", ""]
    return "\n".join(lines)


class _Unmarked(cst.CSTVisitor):
    """Statements that still name DBOS but carry no TODO above them."""

    def __init__(self) -> None:
        self.unmarked: list[str] = []
        self._todo_depth: list[bool] = []

    def _has_todo(self, node: cst.CSTNode) -> bool:
        return any(l.comment and "TODO(dbos2resonate)" in l.comment.value for l in getattr(node, "leading_lines", ()))

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        if all(isinstance(s, cst.Expr) and isinstance(s.value, cst.BaseString) for s in node.body):
            return  # a docstring may name DBOS (the helpers D2R111/D2R112 add say which DBOS call they replace)
        code = cst.Module([node]).code
        if "DBOS" in code.split("#")[0] and not code.lstrip().startswith(("from ", "import ")):
            if not self._has_todo(node) and not any(self._todo_depth):
                self.unmarked.append(code.strip())

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        marked = self._has_todo(node)
        if any("DBOS" in cst.Module([]).code_for_node(d) for d in node.decorators) and not marked:
            self.unmarked.append(f"@... def {node.name.value}")
        self._todo_depth.append(False)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._todo_depth.pop()


@FUZZ
@given(dbos_programs())
def test_dbos_shaped_programs(source: str) -> None:
    compile(source, "app.py", "exec", dont_inherit=True)
    out = _check(source)
    assert out != source
    visitor = _Unmarked()
    cst.parse_module(out).visit(visitor)
    assert visitor.unmarked == [], out
    assert _lost_definitions(source, out) == set(), out


def _module_bindings(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(stmt.name)
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).partition(".")[0] for a in stmt.names)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
    return names


def _lost_definitions(source: str, out: str) -> set[str]:
    """Module-level names the input defined and the output still uses but no longer defines."""
    before, after = ast.parse(source), ast.parse(out)
    used = {n.id for n in ast.walk(after) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return (used & _module_bindings(before)) - _module_bindings(after)
