"""D2R203 workflow-management: Workflow management (list, cancel, resume, fork, status) has no direct Resonate counterpart."""

from __future__ import annotations

from codemod.rules.base import Rule

RULE = Rule(
    code='D2R203',
    name='workflow-management',
    summary='Workflow management (list, cancel, resume, fork, status) has no direct Resonate counterpart',
    explanation=(
        "Resonate exposes promises (`resonate.promises.get/search/cancel`) rather than DBOS's workflow table; each call needs a person to choose the equivalent."
    ),
    todo_reason="Resonate exposes promises (resonate.get, resonate.promises), not DBOS's workflow table: choose the equivalent by hand",
    fixable=False,
)
