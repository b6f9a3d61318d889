"""Where the imports a migration needs go: into the module's own groups, as isort and ruff would place them."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor

from codemod.imports import add_needed_imports

NEEDED = [("datetime", "timedelta"), ("uuid", None), ("resonate.context", "Context")]


def _added(source: str, needed: list[tuple[str, str | None]] = NEEDED) -> str:
    context = CodemodContext()
    for module, obj in needed:
        AddImportsVisitor.add_needed_import(context, module, obj)
    return add_needed_imports(cst.parse_module(textwrap.dedent(source)), context).code


CASES = {
    "standard library joins its group, sorted; resonate joins DBOS's group": (
        """\
        import os
        import sys

        from dbos import DBOS

        from app.settings import URL
        x = 1
        """,
        """\
        import os
        import sys
        import uuid
        from datetime import timedelta

        from dbos import DBOS
        from resonate.context import Context

        from app.settings import URL

        x = 1
        """,
    ),
    "no standard-library group: a group of its own first, comments above it stay on top": (
        """\
        \"\"\"Doc.\"\"\"
        from __future__ import annotations

        # third party
        from dbos import DBOS
        """,
        """\
        \"\"\"Doc.\"\"\"
        from __future__ import annotations

        # third party
        import uuid
        from datetime import timedelta

        from dbos import DBOS
        from resonate.context import Context
        """,
    ),
    "an unsorted group gets the new lines at its end": (
        """\
        import sys
        import os
        from dbos import DBOS
        """,
        """\
        import sys
        import os
        from dbos import DBOS
        import uuid
        from datetime import timedelta
        from resonate.context import Context
        """,
    ),
    "a name joins an existing from-import": (
        """\
        from datetime import datetime

        from dbos import DBOS
        """,
        """\
        import uuid
        from datetime import timedelta, datetime

        from dbos import DBOS
        from resonate.context import Context
        """,
    ),
    "no imports at all: after the docstring": (
        """\
        \"\"\"Doc.\"\"\"
        x = 1
        """,
        """\
        \"\"\"Doc.\"\"\"
        import uuid
        from datetime import timedelta
        from resonate.context import Context

        x = 1
        """,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_new_imports_join_the_modules_groups(case: str) -> None:
    before, after = CASES[case]
    assert _added(before) == textwrap.dedent(after)


def test_nothing_needed_changes_nothing() -> None:
    assert _added("import os\n", []) == "import os\n"
