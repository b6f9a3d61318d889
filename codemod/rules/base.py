"""What a rule is: the description every rule module exports as ``RULE``.

One rule = one module under ``codemod/rules/``: its code, a one-line summary, an explanation, before/after
examples (which are also its tests and its docs) and the transformer that applies it: a
``codemod.transform.RuleTransformer``, whose per-node hooks the pipeline runs in one pass with every other
rule's (or ``None`` for the D2R2xx rules, which a person must resolve: ``migrate`` only leaves a coded TODO).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from codemod.transform import RuleTransformer


class Target(StrEnum):
    NATIVE = "native"  # rewrite to resonate-sdk's own async API
    SHIM = "shim"  # rewrite only the imports, onto the drop-in shim


@dataclass(frozen=True, slots=True)
class Example:
    """One before/after pair. ``after`` is exactly what ``migrate --to <target>`` writes for ``before``."""

    before: str
    after: str
    target: Target = Target.NATIVE
    title: str = ""


@dataclass(frozen=True, slots=True)
class Rule:
    code: str  # "D2R103"
    name: str  # kebab-case, "workflow-decorator"
    summary: str  # one line, no trailing full stop
    explanation: str  # Markdown paragraphs: what it does, why, what it cannot do
    examples: tuple[Example, ...] = ()
    fixable: bool = True  # False: D2R2xx, a person decides; migrate leaves a TODO
    transformer: type[RuleTransformer] | None = None
    targets: tuple[Target, ...] = field(default=(Target.NATIVE,))
    # why a use this rule does not rewrite is left with a TODO (the reason half of the comment)
    todo_reason: str = ""

    @property
    def needs_person(self) -> bool:
        return self.code.startswith("D2R2")
