"""D2R206 classes: `@DBOS.dbos_class` and configured instances need a person."""

from __future__ import annotations

from codemod.rules.base import Rule

RULE = Rule(
    code='D2R206',
    name='classes',
    summary='`@DBOS.dbos_class` and configured instances need a person',
    explanation=(
        'Resonate registers functions, not methods of configured instances. Methods must become module functions (or be registered per instance with a name).'
    ),
    todo_reason='Resonate registers module-level functions, not methods of configured instances',
    fixable=False,
)
