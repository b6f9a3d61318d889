"""The rule registry, imported on first use.

``codemod.rules`` imports every rule module and with them libcst (~0.5 s here), which a run that finds
nothing never needs: a clean tree in CI or a pre-commit run on files without DBOS stays at Python's start-up
cost. Everything in ``codemod.lint`` reads rules through :func:`rules`.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from codemod.rules.base import Rule

__all__ = ["rules"]


@cache
def rules() -> Mapping[str, Rule]:
    from codemod.rules import RULES

    return RULES
