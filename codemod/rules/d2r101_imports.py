"""D2R101 imports: Replace DBOS imports with Resonate (native) or shim imports."""

from __future__ import annotations

from codemod.rules.base import Rule

RULE = Rule(
    code='D2R101',
    name='imports',
    summary='Replace DBOS imports with Resonate (native) or shim imports',
    explanation=(
        "Rewrites `import dbos` / `from dbos import ...` / `from dbos.error import ...`. With `--to native` the DBOS names that other rules rewrote are dropped and the Resonate names they need (`Resonate`, `Context`, `timedelta`, retry policies) are added. With `--to shim` only the module changes: `dbos` becomes `shim`, `dbos.error` becomes `shim.errors`, and the program keeps DBOS's API on the drop-in runtime."
    ),
    fixable=True,
)
