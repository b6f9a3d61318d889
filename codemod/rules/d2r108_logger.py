"""D2R108 logger: ``DBOS.logger`` becomes a module-level ``logging`` logger."""

from __future__ import annotations

import libcst as cst

from codemod import build
from codemod.rules.base import Example, Rule
from codemod.transform import RuleTransformer, insert_after_imports

LOGGER = "logger"


def logger_statement() -> cst.SimpleStatementLine:
    return cst.SimpleStatementLine(
        [cst.Assign([cst.AssignTarget(cst.Name(LOGGER))], build.call("logging.getLogger", cst.Name("__name__")))]
    )


class Logger(RuleTransformer):
    CODE = "D2R108"
    TRIGGERS = ("logger",)
    DESCRIPTION = "Replace DBOS.logger with a module-level logging logger."

    def start(self, module: cst.Module) -> None:
        self._used = False
        self._assigned = False  # the module already has ``logger = DBOS.logger``

    def leave_Assign(self, original_node: cst.Assign, updated_node: cst.Assign) -> cst.Assign:
        # ``logger = DBOS.logger`` at module level: that line becomes the logger
        if (
            not self._frames
            and len(original_node.targets) == 1
            and isinstance(original_node.targets[0].target, cst.Name)
            and self.facts.resolve(original_node.value) == "DBOS.logger"
        ):
            self._assigned = True
            self.add_needed_import("logging")
            self.mark_applied()
            return updated_node.with_changes(value=build.call("logging.getLogger", cst.Name("__name__")))
        return updated_node

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        if self.facts.resolve(original_node) != "DBOS.logger":
            return updated_node
        if LOGGER in self.facts.module_names and not self._assigned_dbos_logger:
            self.todo(self.CODE, f"the module already defines `{LOGGER}`; replace DBOS.logger with a logging logger")
            return updated_node
        self._used = True
        self.mark_applied()
        return cst.Name(LOGGER)

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        if self._used and LOGGER not in self.facts.module_names:
            self.add_needed_import("logging")
            return insert_after_imports(updated_node, [logger_statement()])
        return updated_node

    def visit_Module(self, node: cst.Module) -> None:
        # does the module bind ``logger = DBOS.logger`` at top level (so uses of DBOS.logger may become it)?
        self._assigned_dbos_logger = any(
            isinstance(stmt, cst.SimpleStatementLine)
            and any(
                isinstance(s, cst.Assign)
                and any(isinstance(t.target, cst.Name) and t.target.value == LOGGER for t in s.targets)
                and self.facts.resolve(s.value) == "DBOS.logger"
                for s in stmt.body
            )
            for stmt in node.body
        )


RULE = Rule(
    code="D2R108",
    name="logger",
    summary="Replace `DBOS.logger` with a module-level `logging` logger",
    explanation=(
        "Resonate has no logger of its own. The rule adds `logger = logging.getLogger(__name__)` after the imports "
        "and uses it; a module-level `logger = DBOS.logger` becomes that line. DBOS configures its logger at "
        "INFO with a handler; a plain `logging` logger shows INFO messages only once the program configures "
        "logging (`logging.basicConfig(level=logging.INFO)`)."
    ),
    examples=(
        Example(
            before='''
            from dbos import DBOS

            def report(n: int) -> None:
                DBOS.logger.info(f"done {n}")
            ''',
            after='''
            import logging

            logger = logging.getLogger(__name__)

            def report(n: int) -> None:
                logger.info(f"done {n}")
            ''',
        ),
    ),
    transformer=Logger,
    todo_reason="the module already defines `logger`",
)
