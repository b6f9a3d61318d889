"""D2R206 classes: `@DBOS.dbos_class` and configured instances need a person."""

from __future__ import annotations

from codemod.rules.base import Rule

RULE = Rule(
    code='D2R206',
    name='classes',
    summary='`@DBOS.dbos_class` and configured instances need a person',
    explanation=(
        'Resonate registers functions, not methods of configured instances: `resonate.register` takes a '
        'function whose first parameter is `ctx`, and a replay finds it by its registered name, so there is '
        'no `self` to bind. DBOS finds the instance of a `DBOSConfiguredInstance` method by its `config_name` '
        '(the instance registry); the faithful shape on Resonate does that lookup itself:\n\n'
        '1. keep the class for its state, without the DBOS base class and decorators, and a module-level '
        '`instances: dict[str, Warehouse] = {}` filled where the instances are created (by `config_name`);\n'
        '2. for each workflow method, a registered `async def warehouse_restock(ctx, config_name, ...)` that '
        'looks up `instances[config_name]` and runs the body with `await ctx.run(...)` for its step methods '
        '(bound methods are passed to `ctx.run` as `lambda ctx, *a: self.step(*a)` or as module functions '
        'taking the instance);\n'
        '3. callers start `resonate.run(id, warehouse_restock, "east", ...)` instead of `east.restock(...)`.\n\n'
        'It is not rewritten automatically because the instance lookup, the registered names (one per class '
        'and method) and the call sites are a design decision per class, and DBOS status fields that name the '
        'class and instance (`class_name`, `config_name`) have no Resonate counterpart. Static and class '
        'methods become plain module-level functions.'
    ),
    todo_reason=(
        'Resonate registers module-level functions, not methods of configured instances: register one '
        '`async def cls_method(ctx, config_name, ...)` per workflow method that looks the instance up by '
        'config_name (see the steps in the docs)'
    ),
    fixable=False,
)
