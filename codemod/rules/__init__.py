"""The rule registry: every code ``migrate`` applies and ``check`` reports, one line per rule.

    from codemod.rules import RULES, get
    get("D2R104").summary

Each rule lives in its own module here and exports ``RULE`` (a :class:`Rule`). Adding a rule is that module
plus one line in ``_MODULES``. Every ``code`` used in ``codemod/apis.py`` has a rule (a test checks it).
"""

from __future__ import annotations

from importlib import import_module

from codemod.rules.base import Example, Rule, Target

__all__ = ["RULES", "Example", "Rule", "Target", "get", "apis_for"]

# code -> module (under codemod.rules), in code order.
_MODULES: tuple[tuple[str, str], ...] = (
    ("D2R101", "d2r101_imports"),
    ("D2R102", "d2r102_config_launch"),
    ("D2R103", "d2r103_workflow_decorator"),
    ("D2R104", "d2r104_step_decorator"),
    ("D2R105", "d2r105_start_workflow"),
    ("D2R106", "d2r106_set_workflow_id"),
    ("D2R107", "d2r107_sleep"),
    ("D2R108", "d2r108_logger"),
    ("D2R109", "d2r109_workflow_id"),
    ("D2R110", "d2r110_scheduled"),
    ("D2R111", "d2r111_send_recv"),
    ("D2R112", "d2r112_events"),
    ("D2R113", "d2r113_queues"),
    ("D2R114", "d2r114_async_callers"),
    ("D2R115", "d2r115_streams"),
    ("D2R116", "d2r116_in_app_client"),
    ("D2R201", "d2r201_transactions_sql"),
    ("D2R202", "d2r202_queue_flow_control"),
    ("D2R203", "d2r203_workflow_management"),
    ("D2R204", "d2r204_streams"),
    ("D2R205", "d2r205_dbos_client"),
    ("D2R206", "d2r206_classes"),
    ("D2R207", "d2r207_timeouts"),
    ("D2R208", "d2r208_cron_fields"),
    ("D2R209", "d2r209_other_api"),
)


def _load() -> dict[str, Rule]:
    rules: dict[str, Rule] = {}
    for code, module in _MODULES:
        rule: Rule = import_module(f"{__name__}.{module}").RULE
        if rule.code != code:
            raise RuntimeError(f"codemod.rules.{module} exports {rule.code}, registered as {code}")
        rules[code] = rule
    return rules


RULES: dict[str, Rule] = _load()


def get(code: str) -> Rule:
    """The rule for ``code`` (case-insensitive); ``KeyError`` naming the known codes otherwise."""
    try:
        return RULES[code.upper()]
    except KeyError:
        raise KeyError(f"unknown rule {code!r}; known: {', '.join(RULES)}") from None


def apis_for(code: str) -> tuple[str, ...]:
    """The DBOS API names (rows of ``codemod/apis.py``) that ``code`` handles."""
    from codemod.apis import APIS

    return tuple(api.name for api in APIS if api.code == code)
