"""A TODO-only transformer: each use of a listed DBOS API gets this rule's TODO with an API-specific reason."""

from __future__ import annotations

from typing import ClassVar

import libcst as cst

from codemod.transform import RuleTransformer


class ApiMarker(RuleTransformer):
    REASONS: ClassVar[dict[str, str]] = {}  # DBOS API name -> reason

    def visit_Attribute(self, node: cst.Attribute) -> None:
        api = self.facts.resolve(node)
        if api in self.REASONS:
            self.todo(self.CODE, self.REASONS[api])

    def visit_Name(self, node: cst.Name) -> None:
        api = self.facts.resolve(node)
        if api in self.REASONS:
            self.todo(self.CODE, self.REASONS[api])
