"""``DBOS.tracer`` and ``DBOS.span``, as a program observes them without OpenTelemetry export.

The shim exports no traces (``enable_otlp`` and the ``otlp_*`` config keys are inert), which is DBOS's
default too: with OTLP off DBOS opens no spans, so ``DBOS.span`` (the current span, only a valid one)
is None inside a DBOS context and fails DBOS's assertion outside one. ``DBOS.tracer`` is a tracer with
``disable_otlp`` True and DBOS's other readable fields; starting a span needs OpenTelemetry, which
the shim does not bring, so that raises ``ShimUnsupportedError``.
"""

from __future__ import annotations

import os
from typing import Any

from shim._auth import context_auth
from shim.errors import ShimUnsupportedError

_NO_SPANS = "the shim exports no OpenTelemetry traces (docs/DEVIATIONS.md)."


class DBOSTracer:
    """What DBOS's tracer shows with OTLP off."""

    otlp_attributes: dict[str, str] = {}  # noqa: RUF012 - a class attribute, as DBOS declares it

    def __init__(self) -> None:
        self.app_id = os.environ.get("DBOS__APPID")
        self.provider: Any = None
        self.disable_otlp = True

    @property
    def otel_attribute_format(self) -> str:
        from shim import _dbos

        config = _dbos._instance.config if _dbos._instance is not None else {}
        return config.get("otel_attribute_format") or "legacy"

    def set_provider(self, provider: Any) -> None:
        self.provider = provider

    def get_current_span(self) -> None:
        return None

    def start_span(self, attributes: Any, parent: Any = None) -> Any:
        raise ShimUnsupportedError("DBOS.tracer.start_span", _NO_SPANS)

    def end_span(self, span: Any) -> None:
        raise ShimUnsupportedError("DBOS.tracer.end_span", _NO_SPANS)


tracer = DBOSTracer()


def current_span() -> None:
    """``DBOS.span``: DBOS asserts a DBOS context first (``AssertionError`` outside one)."""
    context_auth()
