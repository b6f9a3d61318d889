"""The safety net: every DBOS name still in a statement after the rules ran gets a coded TODO.

A rule either rewrites a use faithfully or leaves it; whatever is left is marked here with the code its row
has in ``codemod/apis.py`` (D2R209 for a DBOS name the table does not know), so nothing DBOS-specific is ever
dropped or changed silently. One TODO per code per statement; a statement that already carries a TODO with
that code (from the rule itself, or from a previous run) gets no second one.

The pass (``codemod.transform.Run``) calls :meth:`Leftovers.mark` when it leaves a statement whose own code
(not its nested blocks) mentioned a DBOS name, with the statement as the rules left it.
"""

from __future__ import annotations

import libcst as cst

from codemod.analysis import Facts
from codemod.apis import lookup
from codemod.rules import RULES
from codemod.todo import todo_comment
from codemod.transform import _OPAQUE, child_nodes, has_todo

# A TODO with one of these codes already explains a leftover of the key's code (D2R208 says why a schedule
# was not converted, so the decorator needs no second, vaguer D2R110 TODO).
COVERED_BY: dict[str, set[str]] = {"D2R110": {"D2R208"}}

_SKIP = frozenset({cst.Import, cst.ImportFrom, cst.IndentedBlock, cst.SimpleStatementSuite})
_STATEMENT_TYPES = frozenset(
    v for v in vars(cst).values()
    if isinstance(v, type) and issubclass(v, (cst.SimpleStatementLine, cst.BaseCompoundStatement))
)


def _code(todo: str) -> str:
    return todo.split("): ", 1)[1].split(" ", 1)[0]


class Leftovers:
    def __init__(self, facts: Facts, enabled: frozenset[str] | None) -> None:
        self.facts = facts
        self._enabled = enabled
        self._dbos_names = facts.dbos_names

    def enabled(self, code: str) -> bool:
        return self._enabled is None or code in self._enabled

    def mark(self, stmt: cst.CSTNode, todos: list[str], used: set[str], foreign: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        """Add to ``todos`` (the statement's pending TODOs) one for each DBOS API ``stmt``'s own code still uses;
        add the DBOS bindings it references to ``used``. TODOs in ``foreign`` (carried from a removed
        statement) do not count as explaining this statement's own leftovers."""
        found: list[tuple[str, str]] = []  # (code, reason), in source order
        stack: list[cst.CSTNode] = [stmt]
        while stack:
            node = stack.pop()
            t = type(node)
            if t in _SKIP or t in _OPAQUE or (t in _STATEMENT_TYPES and node is not stmt):
                continue  # imports are the import fix-up's business; nested blocks are marked on their own
            if t is cst.Attribute:
                api = self.facts.resolve(node)  # type: ignore[arg-type]
                if api is not None:
                    head = node
                    while type(head) is cst.Attribute:
                        head = head.value  # type: ignore[attr-defined]
                    used.add(head.value)  # type: ignore[attr-defined]
                    found.append(self._api(api))
                    continue
                stack.append(node.value)  # type: ignore[attr-defined]  (not .attr: a member name, not a reference)
                continue
            if t is cst.Name:
                value = node.value  # type: ignore[attr-defined]
                if value in self._dbos_names:
                    used.add(value)
                    if value in self.facts.errors:
                        found.append(self._error(self.facts.errors[value]))
                    else:
                        api = self.facts.resolve(node)  # type: ignore[arg-type]
                        if api is not None:
                            found.append(self._api(api))
                continue
            if t is cst.Arg:
                stack.append(node.value)  # type: ignore[attr-defined]  (not .keyword)
                continue
            stack.extend(reversed(child_nodes(node)))
        pending = {_code(t) for t in todos if t not in foreign}
        for code, reason in found:
            if not code or not self.enabled(code):
                continue
            covered = {code} | COVERED_BY.get(code, set())
            if covered & pending or any(has_todo(stmt, c) for c in covered):
                continue
            text = todo_comment(code, reason)
            if text not in todos:
                todos.append(text)
            pending.add(code)

    def _api(self, api: str) -> tuple[str, str]:
        if api.startswith("error.") or api in self.facts.errors.values():
            return self._error(api.removeprefix("error."))
        row = lookup(api)
        code = row.code if row else "D2R209"
        rule = RULES[code]
        why = rule.todo_reason or rule.summary
        # (the table's notes describe the shim's support, not the native rewrite: not repeated here)
        return code, f"`{api}` is not converted: {why}"

    def _error(self, name: str) -> tuple[str, str]:
        what = "is a DBOS exception" if "." not in name else "comes from DBOS's errors module"
        return "D2R101", f"`{name}` {what}: {RULES['D2R101'].todo_reason}"
