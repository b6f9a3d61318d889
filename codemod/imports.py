"""Import fix-ups after the rules: libcst's ``AddImportsVisitor``, and a name-based DBOS import remover.

``AddImportsVisitor`` only ever edits module-level import statements, but walks the whole tree through
the matcher dispatch; ``TopLevelAddImports`` is the same visitor pruned at function and class bodies
(5-10x faster on real files, same output).

``RemoveImportsVisitor`` decides "unused" with scope analysis, which alone costs ~20 parses per file.
The DBOS imports are the only ones the codemod removes, and their local names are known from the
analysis, so ``remove_unused_dbos_imports`` keeps an alias while any ``Name`` in the module spells it
(conservative: a same-named local keeps the import, never the other way round).
"""

from __future__ import annotations

import libcst as cst
from libcst.codemod.visitors import AddImportsVisitor

from codemod.analysis import ERROR_MODULES, dotted


class TopLevelAddImports(AddImportsVisitor):
    def visit_Module(self, node: cst.Module) -> None:
        # its gatherer reads only the leading import statements: do not make it walk the whole module
        n = next((i for i, s in enumerate(node.body) if not isinstance(s, cst.SimpleStatementLine)), len(node.body))
        super().visit_Module(node.with_changes(body=node.body[:n]))

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            return False
        return cst.CSTTransformer.on_visit(self, node)

    def on_leave(self, original_node, updated_node):  # type: ignore[no-untyped-def]
        return cst.CSTTransformer.on_leave(self, original_node, updated_node)

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        pass

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        pass


class _Names(cst.CSTVisitor):
    """Every ``Name`` outside import statements (exact-type dispatch: this runs over every node)."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def on_visit(self, node: cst.CSTNode) -> bool:
        t = type(node)
        if t is cst.Name:
            self.names.add(node.value)  # type: ignore[attr-defined]
            return False
        return t is not cst.Import and t is not cst.ImportFrom

    def on_leave(self, original_node: cst.CSTNode) -> None:
        pass

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        pass

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        pass


def _is_dbos(module: str | None) -> bool:
    return module == "dbos" or module in ERROR_MODULES


class _Remove(cst.CSTTransformer):
    def __init__(self, used: set[str]) -> None:
        super().__init__()
        self.used = used

    def _keep(self, alias: cst.ImportAlias, default: str) -> bool:
        local = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else default
        return local in self.used

    def leave_ImportFrom(self, original_node, updated_node):  # type: ignore[no-untyped-def]
        mod = dotted(updated_node.module) if updated_node.module and not updated_node.relative else None
        if not _is_dbos(mod) or isinstance(updated_node.names, cst.ImportStar):
            return updated_node
        kept = [a for a in updated_node.names if self._keep(a, dotted(a.name) or "")]
        if len(kept) == len(updated_node.names):
            return updated_node
        if not kept:
            return cst.RemoveFromParent()
        kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return updated_node.with_changes(names=kept)

    def leave_Import(self, original_node, updated_node):  # type: ignore[no-untyped-def]
        kept = [a for a in updated_node.names if dotted(a.name) != "dbos" or self._keep(a, "dbos")]
        if len(kept) == len(updated_node.names):
            return updated_node
        if not kept:
            return cst.RemoveFromParent()
        kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return updated_node.with_changes(names=kept)

    def leave_SimpleStatementLine(self, original_node, updated_node):  # type: ignore[no-untyped-def]
        # a line whose only import went keeps its comments on the next line rather than losing them
        if not updated_node.body:
            return cst.RemoveFromParent()
        return updated_node


def remove_unused_dbos_imports(tree: cst.Module) -> cst.Module:
    """Drop module-level DBOS import aliases no ``Name`` uses any more (nested imports are left alone)."""
    tops = [
        s for s in tree.body
        if isinstance(s, cst.SimpleStatementLine) and any(isinstance(b, (cst.Import, cst.ImportFrom)) for b in s.body)
    ]
    if not tops:
        return tree
    names = _Names()
    tree.visit(names)
    remover = _Remove(names.names)
    body: list[cst.BaseStatement] = []
    changed = False
    carried: tuple[cst.EmptyLine, ...] = ()  # comments above a removed import move to the next statement
    for stmt in tree.body:
        new = stmt.visit(remover) if any(stmt is t for t in tops) else stmt
        changed = changed or new is not stmt
        if isinstance(new, cst.RemovalSentinel):
            carried += tuple(stmt.leading_lines)  # type: ignore[union-attr]
            continue
        if carried and any(line.comment for line in carried):
            new = new.with_changes(leading_lines=(*carried, *new.leading_lines))  # type: ignore[union-attr]
        carried = ()
        body.append(new)  # type: ignore[arg-type]
    return tree.with_changes(body=body) if changed else tree
