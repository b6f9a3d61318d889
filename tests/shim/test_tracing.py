"""``DBOS.span`` in a workflow and ``DBOS.tracer.start_span`` (shim/_tracing.py).

The differential case ``tracer_and_span_without_otlp`` compares what real DBOS shows outside a
workflow; inside one DBOS needs OpenTelemetry installed to answer, which the oracle's environment
does not have, so the shim's answer there (None, as DBOS gives with OTLP off) is checked here.
"""

from __future__ import annotations

import pytest

from shim import DBOS, SetWorkflowID
from shim.errors import ShimUnsupportedError


@DBOS.workflow()
def span_reader() -> list[object]:
    return [DBOS.span, DBOS.tracer.get_current_span()]


def test_span_is_none_in_a_workflow(dbos: type[DBOS]) -> None:
    with SetWorkflowID("span-reader"):
        assert span_reader() == [None, None]


def test_starting_a_span_is_refused_by_name(dbos: type[DBOS]) -> None:
    with pytest.raises(ShimUnsupportedError, match="DBOS.tracer.start_span"):
        DBOS.tracer.start_span({"name": "mine"})
