"""D2R108 logger: Replace `DBOS.logger` with a module-level `logging` logger."""

from __future__ import annotations

from codemod.rules.base import Rule

RULE = Rule(
    code='D2R108',
    name='logger',
    summary='Replace `DBOS.logger` with a module-level `logging` logger',
    explanation=(
        'Resonate has no logger of its own. The rule adds `logger = logging.getLogger(__name__)` after the imports and uses it.'
    ),
    fixable=True,
)
