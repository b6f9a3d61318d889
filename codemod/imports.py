"""Import fix-ups after the rules: the imports rules asked for, and a name-based DBOS import remover.

Rules record the imports they need with libcst's ``AddImportsVisitor.add_needed_import``. libcst's visitor
only ever edits module-level import statements, but walks the whole tree through the matcher dispatch and
costs ~16 ms to construct; ``add_needed_imports`` does the same edit from the top-level statements alone.

``RemoveImportsVisitor`` decides "unused" with scope analysis, which alone costs ~20 parses per file.
The DBOS imports are the only ones the codemod removes, and their local names are known from the
analysis, so ``remove_unused_dbos_imports`` keeps an alias while any ``Name`` the rewriting pass left in the
module spells it (conservative: a same-named local keeps the import, never the other way round).
"""

from __future__ import annotations

import sys

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor

from codemod.analysis import ERROR_MODULES, dotted

# context scratch: modules whose uses a rule removed (their import goes if nothing else uses them)
DROPPED_USES_KEY = "dbos2resonate.dropped_uses"


def _is_docstring_or_strict(stmt: cst.BaseStatement) -> bool:
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
        return False
    small = stmt.body[0]
    if isinstance(small, cst.Expr):
        return isinstance(small.value, cst.SimpleString)
    return (
        isinstance(small, cst.Assign)
        and len(small.targets) == 1
        and isinstance(small.targets[0].target, cst.Name)
        and small.targets[0].target.value == "__strict__"
    )


def _is_import_line(stmt: cst.BaseStatement) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(
        stmt.body[0], (cst.Import, cst.ImportFrom)
    )


def add_needed_imports(module: cst.Module, context: CodemodContext) -> cst.Module:
    """Add the imports rules asked for (``AddImportsVisitor.add_needed_import``), as ``AddImportsVisitor`` would.

    The same placement and spelling as libcst's visitor (new names join an existing ``from M import`` of the
    leading import block; new ``import M`` lines, then ``from M import ...`` lines, sorted, go after that
    block; the next statement gets a blank line), without its cost: it only looks at the module's top-level
    statements, and builds no matcher-based visitors.
    """
    items = [i for i in context.scratch.get(AddImportsVisitor.CONTEXT_KEY, ()) if i.alias is None and not i.relative]
    if not items:
        return module
    body = list(module.body)
    start = 1 if body and _is_docstring_or_strict(body[0]) else 0
    end = start
    while end < len(body) and _is_import_line(body[end]):
        end += 1
    modules = {i.module for i in items if i.obj_name is None}
    objects: dict[str, set[str]] = {}
    for i in items:
        if i.obj_name is not None:
            objects.setdefault(i.module, set()).add(i.obj_name)
    # what the leading import block already has
    first_from: dict[str, int] = {}
    for index in range(start, end):
        imp = body[index].body[0]  # type: ignore[attr-defined]
        if isinstance(imp, cst.Import):
            modules -= {dotted(a.name) for a in imp.names if a.asname is None}
        elif not imp.relative and imp.module is not None:
            name = dotted(imp.module)
            if name is None or name not in objects:
                continue
            if isinstance(imp.names, cst.ImportStar):
                del objects[name]
                continue
            objects[name] -= {dotted(a.name) for a in imp.names if a.asname is None}
            if not objects[name]:
                del objects[name]
            else:
                first_from.setdefault(name, index)
    if not modules and not objects:
        return module
    for name, index in first_from.items():  # join the existing ``from name import ...``
        stmt = body[index]
        imp = stmt.body[0]  # type: ignore[attr-defined]
        new = [cst.ImportAlias(cst.Name(o)) for o in sorted(objects.pop(name))]
        body[index] = stmt.with_changes(body=[imp.with_changes(names=[*new, *imp.names])])
    added: list[cst.SimpleStatementLine] = [
        cst.SimpleStatementLine([cst.Import([cst.ImportAlias(_name(m))])]) for m in sorted(modules)
    ]
    added += [
        cst.SimpleStatementLine([cst.ImportFrom(module=_name(m), names=[cst.ImportAlias(cst.Name(o)) for o in sorted(objs)])])
        for m, objs in sorted(objects.items())
    ]
    groups = _groups(body, start, end)
    kinds = [{_category(s) for s in body[a:b]} for a, b in groups]  # each group's categories of import
    std_group, other_group = _standard_library_group(kinds), _third_party_group(kinds)
    # the first group that is not ``from __future__`` imports: a new group of standard-library imports goes before it
    first_plain = next((g for g, k in enumerate(kinds) if k != {"future"}), None)
    by_group: dict[int, list[cst.SimpleStatementLine]] = {}
    leading: list[cst.SimpleStatementLine] = []  # standard-library imports of a module with no such group
    trailing: list[cst.SimpleStatementLine] = []  # the rest of what has no group to join
    for line in added:
        group = std_group if _category(line) == "std" else other_group
        if group is not None:
            by_group.setdefault(group, []).append(line)
        elif _category(line) == "std" and first_plain is not None:
            leading.append(line)
        else:
            trailing.append(line)
    out: list[cst.BaseStatement] = list(body[:start])
    for g, (first, last) in enumerate(groups):
        lines = _merged(body[first:last], by_group.get(g, []))
        if g == first_plain and leading:  # a group of its own before the others, as isort puts the standard library first
            head = lines[0]
            leading[0] = leading[0].with_changes(leading_lines=head.leading_lines)  # type: ignore[attr-defined]
            lines[0] = head.with_changes(leading_lines=(cst.EmptyLine(),))
            out.extend(leading)
        out.extend(lines)
    after = body[end:]
    if after:
        first_after = after[0]
        if not first_after.leading_lines or first_after.leading_lines[0].comment is not None:
            after[0] = first_after.with_changes(leading_lines=(cst.EmptyLine(), *first_after.leading_lines))
    return module.with_changes(body=[*out, *trailing, *after])


# A new import joins the module's own groups of imports, where isort and ruff would put it: a standard-library
# one the group of standard-library imports (a group of its own first, if the module has none), a resonate one
# the group DBOS's import was in (third-party); otherwise it goes after the imports, as libcst's
# AddImportsVisitor puts every import.

def _category(line: cst.BaseStatement) -> str:
    imp = line.body[0]  # type: ignore[attr-defined]
    if isinstance(imp, cst.ImportFrom):
        if imp.relative:
            return "local"
        name = dotted(imp.module) if imp.module is not None else None
    else:
        name = dotted(imp.names[0].name)
    root = (name or "").partition(".")[0]
    if root == "__future__":
        return "future"
    if root == "dbos":
        return "dbos"
    return "std" if root in sys.stdlib_module_names else "other"


def _groups(body: list[cst.BaseStatement], start: int, end: int) -> list[tuple[int, int]]:
    """The leading import block's groups (runs of import lines with no blank or comment line between them)."""
    groups: list[tuple[int, int]] = []
    for index in range(start, end):
        if not groups or body[index].leading_lines:  # type: ignore[attr-defined]
            groups.append((index, index + 1))
        else:
            groups[-1] = (groups[-1][0], index + 1)
    return groups


def _standard_library_group(kinds: list[set[str]]) -> int | None:
    """The group of standard-library imports, else the first group holding one (a module that mixes them)."""
    found = next((g for g, k in enumerate(kinds) if k == {"std"}), None)
    return found if found is not None else next((g for g, k in enumerate(kinds) if "std" in k), None)


def _third_party_group(kinds: list[set[str]]) -> int | None:
    """The group DBOS's import is in, else the first group of third-party imports only."""
    found = next((g for g, k in enumerate(kinds) if "dbos" in k), None)
    return found if found is not None else next((g for g, k in enumerate(kinds) if k == {"other"}), None)


def _sort_key(line: cst.BaseStatement) -> tuple[int, str]:
    imp = line.body[0]  # type: ignore[attr-defined]
    if isinstance(imp, cst.ImportFrom):
        return 1, (dotted(imp.module) or "").lower() if imp.module is not None else ""
    return 0, (dotted(imp.names[0].name) or "").lower()


def _merged(group: list[cst.BaseStatement], new: list[cst.SimpleStatementLine]) -> list[cst.BaseStatement]:
    """``group`` with the ``new`` lines in it: each at its sorted place if the group is sorted, else at its end."""
    if not new:
        return group
    keys = [_sort_key(s) for s in group]
    if keys != sorted(keys):
        return [*group, *new]
    merged: list[cst.BaseStatement] = list(group)
    for line in sorted(new, key=_sort_key):
        at = len(merged)
        while at > 0 and _sort_key(merged[at - 1]) > _sort_key(line):
            at -= 1
        if at == 0:  # the group's blank or comment lines stay above the group
            first = merged[0]
            line = line.with_changes(leading_lines=first.leading_lines)  # type: ignore[attr-defined]
            merged[0] = first.with_changes(leading_lines=())
        merged.insert(at, line)
    return merged


def _name(dotted_name: str) -> cst.Attribute | cst.Name:
    parts = dotted_name.split(".")
    node: cst.Attribute | cst.Name = cst.Name(parts[0])
    for part in parts[1:]:
        node = cst.Attribute(node, cst.Name(part))
    return node


def _is_dbos(module: str | None) -> bool:
    return module == "dbos" or module in ERROR_MODULES


class _Remove:
    """Drops the unused aliases of the import statements on one line (no visitor: a line holds no other imports)."""

    def __init__(self, used: set[str], modules: frozenset[str] = frozenset(), dbos: bool = True) -> None:
        self.used = used
        # the plain ``import M`` modules whose unused aliases go; dbos's ``from`` imports too when ``dbos``
        self.modules = modules | {"dbos"} if dbos else modules
        self.dbos = dbos

    def line(self, stmt: cst.SimpleStatementLine) -> cst.SimpleStatementLine | cst.RemovalSentinel:
        body: list[cst.BaseSmallStatement] = []
        for small in stmt.body:
            kept = self._import(small) if isinstance(small, (cst.Import, cst.ImportFrom)) else small
            if kept is not None:
                body.append(kept)
        if len(body) == len(stmt.body) and all(a is b for a, b in zip(body, stmt.body)):
            return stmt
        # a line whose only import went keeps its comments on the next line rather than losing them
        return stmt.with_changes(body=body) if body else cst.RemoveFromParent()

    def _keep(self, alias: cst.ImportAlias, default: str) -> bool:
        local = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else default
        return local in self.used

    def _import(self, node: cst.Import | cst.ImportFrom) -> cst.Import | cst.ImportFrom | None:
        if isinstance(node, cst.ImportFrom):
            mod = dotted(node.module) if node.module and not node.relative else None
            if not self.dbos or not _is_dbos(mod) or isinstance(node.names, cst.ImportStar):
                return node
            kept = [a for a in node.names if self._keep(a, dotted(a.name) or "")]
        else:
            kept = [
                a for a in node.names
                if (name := dotted(a.name) or "") not in self.modules or self._keep(a, name.partition(".")[0])
            ]
        if len(kept) == len(node.names):
            return node
        if not kept:
            return None
        kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return node.with_changes(names=kept)


def remove_unused_dbos_imports(
    tree: cst.Module, used: set[str], modules: frozenset[str] = frozenset(), dbos: bool = True
) -> cst.Module:
    """Drop module-level DBOS import aliases whose name ``used`` (the DBOS bindings the rewritten module still
    references, collected by the pass) does not hold (unless not ``dbos``), and likewise ``import M`` of the
    ``modules`` given. Nested imports are left alone."""
    tops = [
        s for s in tree.body
        if isinstance(s, cst.SimpleStatementLine) and any(isinstance(b, (cst.Import, cst.ImportFrom)) for b in s.body)
    ]
    if not tops:
        return tree
    remover = _Remove(used, modules, dbos)
    body: list[cst.BaseStatement] = []
    changed = False
    carried: tuple[cst.EmptyLine, ...] = ()  # comments above a removed import move to the next statement
    for stmt in tree.body:
        new = remover.line(stmt) if any(stmt is t for t in tops) else stmt  # type: ignore[arg-type]
        changed = changed or new is not stmt
        if isinstance(new, cst.RemovalSentinel):
            carried += tuple(stmt.leading_lines)  # type: ignore[union-attr]
            continue
        if carried and (any(line.comment for line in carried) or not new.leading_lines):  # type: ignore[union-attr]
            # keep the removed line's comments, and its blank lines where the next statement has none
            new = new.with_changes(leading_lines=(*carried, *new.leading_lines))  # type: ignore[union-attr]
        carried = ()
        body.append(new)  # type: ignore[arg-type]
    if not changed:
        return tree
    if body and tree.body and body[0] is not tree.body[0]:
        # the module's first lines went: the statement now first does not start the file with blank lines
        lines = list(body[0].leading_lines)  # type: ignore[union-attr]
        while lines and lines[0].comment is None:
            lines.pop(0)
        body[0] = body[0].with_changes(leading_lines=tuple(lines))  # type: ignore[union-attr]
    return tree.with_changes(body=body)


class _Names(cst.CSTVisitor):
    """Every ``Name`` outside import statements."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)


def remove_unused_module_imports(tree: cst.Module, modules: set[str]) -> cst.Module:
    """Drop ``import M`` (module level) of the ``modules`` a rule stopped using, when no name still refers to them.

    Only rewrites that remove a use ask for this (``asyncio.run(coro)`` becoming ``await coro``), so the walk that
    collects the names left runs only then; like libcst's ``RemoveImportsVisitor``, a name still used keeps it.
    """
    if not modules:
        return tree
    finder = _Names()
    tree.visit(finder)
    return remove_unused_dbos_imports(tree, finder.names, frozenset(modules), dbos=False)
