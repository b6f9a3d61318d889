"""D2R101 imports: DBOS imports become Resonate imports (native) or shim imports (``--to shim``)."""

from __future__ import annotations

import libcst as cst

from codemod import build
from codemod.analysis import dotted
from codemod.rules.base import Example, Rule, Target
from codemod.transform import RuleTransformer

# --to shim: module renames. ``import dbos`` keeps its binding through ``as``.
SHIM_MODULES = {"dbos": "shim", "dbos.error": "shim.errors", "dbos._error": "shim.errors"}


class ShimImports(RuleTransformer):
    """``from dbos import X`` -> ``from shim import X``; ``import dbos`` -> ``import shim as dbos``."""

    CODE = "D2R101"
    DESCRIPTION = "Point DBOS imports at the drop-in shim."

    def leave_ImportFrom(self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom) -> cst.ImportFrom:
        mod = dotted(original_node.module) if original_node.module and not original_node.relative else None
        if mod is None:
            return updated_node
        if mod in SHIM_MODULES:
            self.mark_applied()
            return updated_node.with_changes(module=build.name(SHIM_MODULES[mod]))
        if mod.startswith("dbos."):
            self.todo(self.CODE, f"`{mod}` is not part of DBOS's public API and has no shim counterpart")
        return updated_node

    def leave_Import(self, original_node: cst.Import, updated_node: cst.Import) -> cst.Import:
        names = []
        for alias in updated_node.names:
            mod = dotted(alias.name)
            if mod == "dbos":
                bound = alias.asname or cst.AsName(cst.Name("dbos"))
                names.append(alias.with_changes(name=cst.Name("shim"), asname=bound))
                self.mark_applied()
            elif mod is not None and mod.startswith("dbos."):
                self.todo(self.CODE, f"`import {mod}` binds the dbos package; import the shim module "
                          f"(`import shim as dbos` / `from shim import errors`) instead")
                names.append(alias)
            else:
                names.append(alias)
        return updated_node.with_changes(names=names)


RULE = Rule(
    code="D2R101",
    name="imports",
    summary="Replace DBOS imports with Resonate (native) or shim imports",
    explanation=(
        "With `--to native` (the default) every rule adds the Resonate imports it needs (`Resonate`, `Context`, "
        "`timedelta`, retry policies) and this rule removes each DBOS import that no longer has a use. A DBOS "
        "name that is still used (an API no rule could convert, marked with its own TODO) keeps its import, "
        "so the program never loses a name silently. DBOS's exception classes have no native counterpart: "
        "Resonate raises its own errors (`resonate.error`), so an `except` naming a DBOS error gets a TODO.\n\n"
        "With `--to shim` only the imports change and the program keeps DBOS's API on the drop-in runtime: "
        "`from dbos import X` becomes `from shim import X`, `import dbos` becomes `import shim as dbos`, and "
        "`from dbos.error import ...` becomes `from shim.errors import ...`."
    ),
    examples=(
        Example(
            title="--to shim rewrites only the imports",
            target=Target.SHIM,
            before='''
            import dbos
            from dbos import DBOS, SetWorkflowID
            from dbos.error import DBOSException

            @DBOS.workflow()
            def work() -> None:
                pass
            ''',
            after='''
            import shim as dbos
            from shim import DBOS, SetWorkflowID
            from shim.errors import DBOSException

            @DBOS.workflow()
            def work() -> None:
                pass
            ''',
        ),
    ),
    transformer=ShimImports,
    targets=(Target.NATIVE, Target.SHIM),
    todo_reason="DBOS's exceptions are never raised by Resonate, which raises its own (resonate.error)",
)
