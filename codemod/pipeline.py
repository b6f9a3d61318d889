"""The ``Migrate`` codemod: analysis, then one pass that runs every enabled rule's hooks, then the imports.

It is an ordinary libcst ``Codemod``, so the engine runs it per file and the rule tests run it through
``CodemodTest.assertCodemod``. The rules are composed into a single walk of the tree (``codemod.transform.Run``),
each rule only on files whose text can need it, and the walk descends only into statements some rule can act
on. Imports are fixed once at the end (``codemod.imports``).
"""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst
from libcst.codemod import Codemod, CodemodContext

from codemod.analysis import SCRATCH_KEY, SOURCE_KEY, Analysis, Relevance, analysis_for
from codemod.imports import DROPPED_USES_KEY, add_needed_imports, remove_unused_dbos_imports, remove_unused_module_imports
from codemod.leftovers import Leftovers
from codemod.rules import RULES, Target
from codemod.rules.d2r101_imports import ShimImports
from codemod.transform import APPLIED_KEY, ENABLED_KEY, Run

# Order matters: SetWorkflowID blocks and start_workflow are rewritten before plain workflow calls (so an id
# is never replaced by a fresh UUID), decorators before the APIs that need the ctx they introduce, and the
# instance last (it is inserted after the imports).
NATIVE_ORDER: tuple[str, ...] = (
    "D2R106", "D2R105", "D2R103", "D2R104", "D2R107", "D2R108", "D2R109", "D2R110", "D2R111", "D2R112",
    "D2R115", "D2R113", "D2R114", "D2R116", "D2R102",
)


ANALYSIS_KEY = "dbos2resonate.analysis"  # the module's Analysis, when the engine made it before parsing
RELEVANCE_KEY = "dbos2resonate.relevance"  # and the Relevance the pass uses (relevance_for)


def relevance_for(analysis: Analysis, target: Target) -> Relevance | None:
    """Which statements the pass visits for ``target``; None: the module has nothing to migrate."""
    if not (analysis.facts.imports_dbos or analysis.facts.functions):
        return None
    if target is Target.SHIM:
        return Relevance.for_words(analysis.source, analysis.tree, {"dbos"})  # only imports change
    return analysis.relevance


class UnparseableModule(Exception):
    """The module parses with libcst but not with ``ast``: the codemod cannot analyse it."""


def enabled_codes(select: Iterable[str] | None = None, ignore: Iterable[str] | None = None) -> frozenset[str]:
    """Codes to apply: ``select`` (prefixes allowed: ``D2R1`` selects every D2R1xx) minus ``ignore``."""

    def expand(codes: Iterable[str]) -> set[str]:
        out: set[str] = set()
        for raw in codes:
            code = raw.strip().upper()
            if not code:
                continue
            matched = {c for c in RULES if c.startswith(code)}
            if not matched:
                raise KeyError(f"unknown rule {raw!r}; known: {', '.join(RULES)}")
            out |= matched
        return out

    chosen = expand(select) if select else set(RULES)
    return frozenset(chosen - expand(ignore or ()))


class Migrate(Codemod):
    DESCRIPTION = "Move a DBOS program onto Resonate (native async API) or onto the drop-in shim."

    def __init__(
        self,
        context: CodemodContext,
        target: Target | str = Target.NATIVE,
        select: Iterable[str] | None = None,
        ignore: Iterable[str] | None = None,
    ) -> None:
        super().__init__(context)
        self.target = Target(target)
        self.enabled = enabled_codes(select, ignore)

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        scratch = self.context.scratch
        analysis = scratch.pop(ANALYSIS_KEY, None) or analysis_for(self.context, tree)
        relevance = scratch.pop(RELEVANCE_KEY, None)
        scratch.pop(SOURCE_KEY, None)
        scratch[ENABLED_KEY] = self.enabled
        scratch.setdefault(APPLIED_KEY, set())
        if analysis is None:
            # libcst parsed what CPython's parser does not (syntax of another Python version): say so, do not skip
            raise UnparseableModule("Python's own parser rejects it (the analysis needs it)")
        if relevance is None:
            relevance = relevance_for(analysis, self.target)
        if relevance is None:
            return tree
        facts = scratch[SCRATCH_KEY] = analysis.facts
        if self.target is Target.SHIM:
            if "D2R101" not in self.enabled:
                return tree
            return Run(self.context, facts, [ShimImports], self.enabled, relevance).transform(tree)
        source = analysis.source
        rules = [
            transformer
            for code in NATIVE_ORDER
            if code in self.enabled
            and (transformer := RULES[code].transformer) is not None
            and transformer.should_run(facts, source)  # type: ignore[attr-defined]
        ]
        run = Run(self.context, facts, rules, self.enabled, relevance, Leftovers(facts, self.enabled))
        tree = run.transform(tree)
        tree = add_needed_imports(tree, self.context)
        tree = remove_unused_module_imports(tree, scratch.pop(DROPPED_USES_KEY, set()))
        if "D2R101" in self.enabled:
            tree = remove_unused_dbos_imports(tree, run.used_dbos_names)
        return tree
