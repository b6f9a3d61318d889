"""The lint engine on small sources: what counts as a DBOS construct, where, under which code."""

from __future__ import annotations

import textwrap

import pytest

from codemod.apis import APIS
from codemod.lint import ErrorKind, Kind, check_source
from codemod.lint.engine import IMPORT_CODE, OTHER_CODE
from codemod.rules import RULES


def found(source: str) -> list[tuple[int, int, str, str]]:
    """(line, column, code, name) of each finding in ``source``."""
    result = check_source(textwrap.dedent(source).encode(), "app.py")
    assert result.error is None, result.error
    return [(f.line, f.column, f.code, f.name) for f in result.findings]


def test_file_without_dbos_text_is_not_parsed() -> None:
    result = check_source(b"def broken(:\n", "x.py")  # would be a syntax error if parsed
    assert result.skipped and result.error is None and not result.findings


def test_decorators_calls_attributes_and_classes() -> None:
    assert found(
        """\
        from dbos import DBOS, Queue, SetWorkflowID, DBOSClient

        queue = Queue("q")

        @DBOS.workflow()
        def wf(x):
            msg = DBOS.recv("topic", timeout_seconds=5)
            with SetWorkflowID("abc"):
                pass
            return DBOS.workflow_id

        client = DBOSClient("sqlite://")
        """
    ) == [
        (1, 1, "D2R101", "dbos"),
        (3, 9, "D2R113", "Queue"),
        (5, 2, "D2R103", "DBOS.workflow"),
        (7, 11, "D2R111", "DBOS.recv"),
        (8, 10, "D2R106", "SetWorkflowID"),
        (10, 12, "D2R109", "DBOS.workflow_id"),
        (12, 10, "D2R205", "DBOSClient"),
    ]


def test_aliases_resolve_to_the_api_names() -> None:
    assert found(
        """\
        from dbos import DBOS as D
        import dbos
        import dbos as db

        D.sleep(1)
        dbos.DBOS.send("id", 1)
        db.Queue("q")
        """
    ) == [
        (1, 1, "D2R101", "dbos"),
        (2, 1, "D2R101", "dbos"),
        (3, 1, "D2R101", "dbos"),
        (5, 1, "D2R107", "DBOS.sleep"),
        (6, 1, "D2R111", "DBOS.send"),
        (7, 1, "D2R113", "Queue"),
    ]


def test_longest_listed_name_wins_and_one_finding_per_chain() -> None:
    assert found(
        """\
        from dbos import DBOS
        DBOS.logger.info("x")
        DBOS.retrieve_workflow("id").get_result()
        """
    ) == [(1, 1, "D2R101", "dbos"), (2, 1, "D2R108", "DBOS.logger"), (3, 1, "D2R105", "DBOS.retrieve_workflow")]


def test_finding_spans_the_api_expression() -> None:
    [_, recv] = check_source(b"from dbos import DBOS\nx = DBOS.recv()\n", "a.py").findings
    assert (recv.line, recv.column, recv.end_line, recv.end_column) == (2, 5, 2, 14)


def test_unlisted_names_are_other_dbos_api() -> None:
    assert found(
        """\
        from dbos import DBOS, BrandNew
        DBOS.brand_new_method()
        BrandNew()
        """
    ) == [(1, 1, "D2R101", "dbos"), (2, 1, OTHER_CODE, "DBOS.brand_new_method"), (3, 1, OTHER_CODE, "BrandNew")]


def test_private_modules_resolve_to_public_names() -> None:
    assert found(
        """\
        from dbos._dbos import DBOS
        from dbos._queue import Queue as Q
        DBOS.step()
        Q("x")
        """
    ) == [(1, 1, "D2R101", "dbos._dbos"), (2, 1, "D2R101", "dbos._queue"), (3, 1, "D2R104", "DBOS.step"), (4, 1, "D2R113", "Queue")]


def test_exception_classes_are_reported_at_their_import_only() -> None:
    assert found(
        """\
        from dbos.error import DBOSException
        from dbos._error import DBOSMaxStepRetriesExceeded as Exhausted
        from dbos import error
        import dbos.error
        try:
            pass
        except (DBOSException, Exhausted, error.DBOSWorkflowConflictIDError, dbos.error.DBOSException):
            pass
        """
    ) == [(1, 1, IMPORT_CODE, "dbos.error"), (2, 1, IMPORT_CODE, "dbos._error"), (3, 1, IMPORT_CODE, "dbos"), (4, 1, IMPORT_CODE, "dbos.error")]


def test_star_import_binds_the_public_names() -> None:
    assert found("from dbos import *\nDBOS.sleep(1)\nQueue('q')\n") == [
        (1, 1, "D2R101", "dbos"),
        (2, 1, "D2R107", "DBOS.sleep"),
        (3, 1, "D2R113", "Queue"),
    ]


def test_a_local_dbos_that_is_not_from_dbos_does_not_count() -> None:
    # The file mentions dbos (in a comment) but never imports it.
    assert found(
        """\
        # a fake dbos for tests
        class DBOS:
            @staticmethod
            def recv(): ...
        DBOS.recv()
        """
    ) == []


def test_parameters_and_locals_shadow_the_import() -> None:
    assert found(
        """\
        from dbos import DBOS

        def uses_param(DBOS):
            return DBOS.recv()

        def uses_local():
            DBOS = make_fake()
            return DBOS.recv()

        def uses_global():
            global DBOS
            DBOS = make_fake()
            return DBOS.recv()

        def nested_local_does_not_leak():
            def inner():
                DBOS = 1
                return DBOS
            return DBOS.recv()

        class Box:
            DBOS = None
            x = DBOS
            def method(self):
                return DBOS.sleep(1)

        f = lambda DBOS: DBOS.recv()
        g = [DBOS.recv() for DBOS in fakes]
        h = [DBOS.send() for x in fakes]
        """
    ) == [
        (1, 1, "D2R101", "dbos"),
        (13, 12, "D2R111", "DBOS.recv"),
        (19, 12, "D2R111", "DBOS.recv"),
        (25, 16, "D2R107", "DBOS.sleep"),
        (29, 6, "D2R111", "DBOS.send"),
    ]


def test_shim_names_are_not_reported() -> None:
    assert found(
        """\
        import shim as DBOS
        from shim import Queue
        # migrated from dbos
        DBOS.recv()
        Queue("q")
        """
    ) == []


def test_shim_import_inside_a_function_shadows() -> None:
    assert found(
        """\
        from dbos import DBOS
        def f():
            from shim import DBOS
            DBOS.recv()
        """
    ) == [(1, 1, "D2R101", "dbos")]


def test_imports_anywhere_are_found() -> None:
    assert found(
        """\
        try:
            from dbos import (
                DBOS,
            )
        except ImportError:
            DBOS = None

        def main():
            import dbos
            dbos.DBOS.launch()
        """
    ) == [(2, 5, "D2R101", "dbos"), (9, 5, "D2R101", "dbos"), (10, 5, "D2R102", "DBOS.launch")]


def test_dbos_in_strings_and_comments_only_is_not_a_finding() -> None:
    assert found('"""Uses dbos: from dbos import DBOS."""\nx = "DBOS.recv()"  # DBOS.recv()\n') == []


def test_match_patterns_and_annotations() -> None:
    assert found(
        """\
        from dbos import DBOS, WorkflowHandle
        def f(h: WorkflowHandle) -> DBOS: ...
        match x:
            case WorkflowHandle():
                pass
        """
    ) == [(1, 1, "D2R101", "dbos"), (2, 10, "D2R105", "WorkflowHandle"), (2, 29, "D2R102", "DBOS"), (4, 10, "D2R105", "WorkflowHandle")]


def test_columns_count_characters_not_bytes() -> None:
    assert found("from dbos import DBOS\nnaïve = 'é'; DBOS.sleep(1)\n")[1] == (2, 14, "D2R107", "DBOS.sleep")


def test_crlf_line_ends() -> None:
    assert found("from dbos import DBOS\r\n\r\nDBOS.sleep(1)\r\n") == [(1, 1, "D2R101", "dbos"), (3, 1, "D2R107", "DBOS.sleep")]


# -- noqa ---------------------------------------------------------------------------------------------
def test_noqa_with_a_code_suppresses_that_code_on_that_line() -> None:
    result = check_source(
        textwrap.dedent(
            """\
            from dbos import DBOS  # noqa: D2R101
            DBOS.recv()  # noqa: D2R111
            DBOS.send()  # noqa: D2R112
            DBOS.sleep(1); DBOS.recv()  # noqa: D2R107,D2R111
            DBOS.get_event()  # NOQA:D2R101 D2R112
            """
        ).encode(),
        "a.py",
    )
    assert [(f.line, f.code) for f in result.findings] == [(3, "D2R111")]
    assert result.suppressed == 5


def test_bare_noqa_suppresses_everything_on_the_line() -> None:
    assert found("from dbos import DBOS  # noqa\nDBOS.recv()  # noqa   \n") == []


def test_noqa_inside_a_string_does_not_suppress() -> None:
    assert found("from dbos import DBOS\nDBOS.recv('# noqa')\n") == [(1, 1, "D2R101", "dbos"), (2, 1, "D2R111", "DBOS.recv")]


def test_noqa_on_the_last_line_of_a_multiline_import() -> None:
    assert found("from dbos import (\n    DBOS,\n)  # noqa: D2R101\n") == []


# -- TODO comments ------------------------------------------------------------------------------------
TODO = "# TODO(dbos2resonate): D2R201 Transactions have no Resonate counterpart. See docs/rules/D2R201.md"


def test_migration_todos_are_reported_with_their_code() -> None:
    result = check_source(f"x = 1\n    {TODO}\ny = 2  {TODO.replace('D2R201', 'D2R203')}\n".encode(), "a.py")
    todos = [(f.line, f.column, f.code, f.kind, f.fixable) for f in result.findings]
    assert todos == [(2, 5, "D2R201", Kind.TODO, False), (3, 8, "D2R203", Kind.TODO, False)]
    assert result.findings[0].message == "migration TODO: Transactions have no Resonate counterpart."
    assert not result.imports_dbos  # a TODO is not a dependency on dbos


def test_todo_text_inside_a_string_is_not_a_todo() -> None:
    assert found(f"x = {TODO!r}\ny = '''\n{TODO}\n'''\n") == []


def test_todo_without_docs_pointer_still_counts_and_noqa_silences_it() -> None:
    assert found("# TODO(dbos2resonate): D2R204 streams\n") == [(1, 1, "D2R204", "TODO")]
    assert found(f"{TODO}  # noqa: D2R201\n") == []


def test_todo_with_an_unknown_code_is_reported_as_other() -> None:
    [f] = check_source(b"# TODO(dbos2resonate): D2R999 something\n", "a.py").findings
    assert f.code == OTHER_CODE and "D2R999" in f.message


# -- files that cannot be checked ---------------------------------------------------------------------
def test_syntax_error_is_a_file_error() -> None:
    result = check_source(b"from dbos import DBOS\ndef broken(:\n", "bad.py")
    assert result.error is not None and result.error.kind is ErrorKind.SYNTAX
    assert (result.error.line, result.error.path) == (2, "bad.py")
    assert not result.findings


def test_not_utf8_is_a_file_error() -> None:
    result = check_source(b"from dbos import DBOS\nx = '\xff'\n", "latin.py")
    assert result.error is not None and result.error.kind is ErrorKind.ENCODING
    assert (result.error.line, result.error.column) == (2, 6)


def test_declared_encoding_is_honoured() -> None:
    source = "# -*- coding: latin-1 -*-\nfrom dbos import DBOS\nx = 'é'; DBOS.recv()\n".encode("latin-1")
    assert [(f.line, f.column, f.code) for f in check_source(source, "a.py").findings] == [(2, 1, "D2R101"), (3, 10, "D2R111")]


def test_utf8_bom_and_null_bytes() -> None:
    assert [f.code for f in check_source(b"\xef\xbb\xbffrom dbos import DBOS\n", "a.py").findings] == ["D2R101"]
    result = check_source(b"from dbos import DBOS\n\x00\n", "a.py")
    assert result.error is not None and result.error.kind is ErrorKind.SYNTAX


def test_deeply_nested_expression_does_not_crash() -> None:
    source = "from dbos import DBOS\nx = " + "(" * 150 + "DBOS.recv()" + ")" * 150 + "\n" + "y = " + " + ".join(["DBOS.sleep(1)"] * 2500) + "\n"
    result = check_source(source.encode(), "deep.py")
    assert result.error is None
    assert len(result.findings) == 1 + 1 + 2500


# -- the registry -------------------------------------------------------------------------------------
def test_every_code_the_engine_can_emit_is_a_registered_rule() -> None:
    emitted = {api.code for api in APIS} | {IMPORT_CODE, OTHER_CODE}
    assert emitted <= RULES.keys()


# ``error`` (the exceptions module) is reported at its import only: tested with the import forms.
@pytest.mark.parametrize("api", [api for api in APIS if api.name != "error"], ids=lambda api: api.name)
def test_every_listed_api_is_found_under_its_code(api) -> None:
    use = api.name if api.name.startswith("DBOS.") else f"{api.name}()"
    head = api.name.split(".")[0]
    [imp, finding] = check_source(f"from dbos import {head}\n{use}\n".encode(), "a.py").findings
    assert (imp.code, finding.code, finding.name) == (IMPORT_CODE, api.code, api.name)
    assert finding.fixable is RULES[api.code].fixable
