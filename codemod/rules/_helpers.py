"""Definitions a rule's rewrites call, added to the migrated module once, at its first definition.

A rule keeps its helpers as Python source in a :class:`HelperBlock`; each rewrite asks for the helpers it calls
(``need``), and the rule's ``leave_Module`` adds the ones asked for, the helpers they use in turn and the imports
they need (``insert``), skipping any the module defines already (a module migrated before). Several rules may share
one block: the first ``insert`` of a module adds what all of them asked for.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

import libcst as cst
from libcst.codemod import CodemodContext

from codemod.transform import RuleTransformer, insert_before_definitions

# a helper's name, its definition (comment lines above it kept) and every name it uses
Helper = tuple[str, cst.BaseStatement, frozenset[str]]


@dataclass(frozen=True, slots=True)
class HelperBlock:
    key: str  # names this block's entries in the module's context scratch
    template: str  # the helpers' source: functions, classes and ``name: T = value`` statements
    imports: Mapping[str, tuple[str, str | None]]  # a name the helpers use -> (module, object) binding it

    @property
    def names(self) -> frozenset[str]:
        return frozenset(h[0] for h in _parse(self.template))

    def need(self, context: CodemodContext, *helpers: str) -> None:
        context.scratch.setdefault(f"{self.key}.needed", set()).update(helpers)

    def insert(self, rule: RuleTransformer, module: cst.Module) -> cst.Module:
        """``module`` with the helpers needed and not inserted yet; their imports go to ``rule``'s import pass."""
        scratch = rule.context.scratch
        inserted = scratch.setdefault(f"{self.key}.inserted", set())
        wanted = set(scratch.get(f"{self.key}.needed", ())) - inserted
        if not wanted:
            return module
        chosen = [h for h in self._closure(wanted) if h[0] not in rule.facts.module_names]
        inserted.update(h[0] for h in chosen)
        for source, obj in sorted({self.imports[u] for h in chosen for u in h[2] if u in self.imports}, key=str):
            rule.add_needed_import(source, obj)
        return insert_before_definitions(module, [h[1] for h in chosen])

    def _closure(self, wanted: set[str]) -> list[Helper]:
        helpers = _parse(self.template)
        by_name = {h[0]: h for h in helpers}
        todo, seen = list(wanted), set(wanted)
        while todo:
            for used in by_name[todo.pop()][2]:
                if used in by_name and used not in seen:
                    seen.add(used)
                    todo.append(used)
        return [h for h in helpers if h[0] in seen]


@functools.cache
def _parse(template: str) -> tuple[Helper, ...]:
    """(name, definition, names it uses) of every helper, in the template's order."""
    out = []
    for stmt in cst.parse_module(template).body:
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            name = stmt.name.value
        else:  # ``name: T = value``
            name = stmt.body[0].target.value  # type: ignore[attr-defined]
        comments = tuple(line for line in stmt.leading_lines if line.comment is not None)
        out.append((name, stmt.with_changes(leading_lines=comments), frozenset(names_in(stmt))))
    return tuple(out)


def names_in(node: cst.CSTNode) -> set[str]:
    """Every name ``node`` holds (identifiers, attribute names and keywords included)."""
    found: set[str] = set()

    class _Collect(cst.CSTVisitor):
        def visit_Name(self, n: cst.Name) -> None:
            found.add(n.value)

    node.visit(_Collect())
    return found
