"""The safety net: every DBOS name still in the module after the rules ran gets a coded TODO.

A rule either rewrites a use faithfully or leaves it; whatever is left is marked here with the code its row
has in ``codemod/apis.py`` (D2R209 for a DBOS name the table does not know), so nothing DBOS-specific is ever
dropped or changed silently. One TODO per code per statement; a statement that already carries a TODO with
that code (from the rule itself, or from a previous run) gets no second one.
"""

from __future__ import annotations

import libcst as cst

from codemod.apis import lookup
from codemod.rules import RULES
from codemod.transform import RuleTransformer, has_todo


# A TODO with one of these codes already explains a leftover of the key's code (D2R208 says why a schedule
# was not converted, so the decorator needs no second, vaguer D2R110 TODO).
COVERED_BY: dict[str, set[str]] = {"D2R110": {"D2R208"}}


class MarkLeftovers(RuleTransformer):
    CODE = "D2R209"
    DESCRIPTION = "Leave a coded TODO at every DBOS name no rule converted."

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        self._codes_here: list[dict[str, str]] = []
        return super().transform_module_impl(tree)

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        api = self.facts.resolve(node)
        if api is None:
            return True
        self._mark(api)
        return False

    def visit_Name(self, node: cst.Name) -> None:
        if node.value in self.facts.errors:
            self._mark_error(self.facts.errors[node.value])
            return
        api = self.facts.resolve(node)
        if api is not None:
            self._mark(api)

    def _mark(self, api: str) -> None:
        if api.startswith("error.") or api in self.facts.errors.values():
            self._mark_error(api.removeprefix("error."))
            return
        row = lookup(api)
        code = row.code if row else "D2R209"
        if not self.enabled(code):
            return
        rule = RULES[code]
        why = rule.todo_reason or rule.summary
        # (the table's notes describe the shim's support, not the native rewrite: not repeated here)
        self._add(code, f"`{api}` is not converted: {why}")

    def _mark_error(self, name: str) -> None:
        if self.enabled("D2R101"):
            self._add("D2R101", f"`{name}` is a DBOS exception: {RULES['D2R101'].todo_reason}")

    def _add(self, code: str, reason: str) -> None:
        if self._pending and ({code} | COVERED_BY.get(code, set())) & self._pending_codes():
            return
        self.todo(code, reason)

    def _pending_codes(self) -> set[str]:
        return {c.split("): ", 1)[1].split(" ", 1)[0] for c in self._pending[-1]}

    def leave_SimpleStatementLine(self, original_node, updated_node):  # type: ignore[no-untyped-def]
        return self._drop_repeats(updated_node)

    def _drop_repeats(self, node):  # type: ignore[no-untyped-def]
        # a statement already marked with a code (by a rule, or a previous run) is not marked again
        self._pending[-1][:] = [
            t for t in self._pending[-1]
            if not any(has_todo(node, c) for c in {_code(t)} | COVERED_BY.get(_code(t), set()))
        ]
        return node

    def on_leave(self, original_node, updated_node):  # type: ignore[no-untyped-def]
        if isinstance(original_node, cst.BaseCompoundStatement):
            self._drop_repeats(updated_node)
        return super().on_leave(original_node, updated_node)


def _code(todo: str) -> str:
    return todo.split("): ", 1)[1].split(" ", 1)[0]
