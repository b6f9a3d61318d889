"""``DBOSConfig`` keys of DBOS 2.x and 3.x, each with what the shim does with it.

Honoured keys change behaviour; inert keys configure something Resonate does not have (telemetry,
admin server, connection pools) and are accepted with one warning; unsupported keys raise, because
ignoring them would silently change what the program does. Unknown keys raise, as a typo would
otherwise go unnoticed.
"""

from __future__ import annotations

import logging
import re
import warnings
from typing import Any, TypedDict

from shim.errors import DBOSInitializationError, ShimUnsupportedError

logger = logging.getLogger("dbos")


class DBOSConfig(TypedDict, total=False):
    name: str
    system_database_url: str | None
    application_database_url: str | None
    database_url: str | None
    sys_db_name: str | None
    sys_db_pool_size: int | None
    sys_db_polling_concurrency: int | None
    db_engine_kwargs: dict[str, Any] | None
    log_level: str | None
    otlp_log_level: str | None
    console_log_level: str | None
    otlp_traces_endpoints: list[str] | None
    otlp_logs_endpoints: list[str] | None
    otlp_attributes: dict[str, str] | None
    admin_port: int | None
    run_admin_server: bool | None
    application_version: str | None
    executor_id: str | None
    dbos_system_schema: str | None
    enable_otlp: bool | None
    system_database_engine: Any
    conductor_key: str | None
    conductor_url: str | None
    conductor_executor_metadata: dict[str, Any] | None
    serializer: Any
    use_listen_notify: bool | None
    run_migrations: bool | None
    notification_listener_polling_interval_sec: float | None
    notification_coalesce_sec: float | None
    scheduler_polling_interval_sec: float | None
    kafka_queue_polling_interval_sec: float | None
    otel_attribute_format: str | None
    max_executor_threads: int | None
    enable_patching: bool | None
    # the shim's own keys: which Resonate server, and this worker's place in it (shim/_backend.py)
    resonate_url: str | None
    resonate_group: str | None
    resonate_lease_seconds: float | None


HONOURED = frozenset({
    "name", "system_database_url", "application_version", "executor_id", "log_level", "console_log_level",
    "resonate_url", "resonate_group", "resonate_lease_seconds", "enable_patching",
})
INERT = frozenset({
    "sys_db_name", "sys_db_pool_size", "sys_db_polling_concurrency", "db_engine_kwargs", "otlp_log_level",
    "otlp_traces_endpoints", "otlp_logs_endpoints", "otlp_attributes", "admin_port", "run_admin_server",
    "dbos_system_schema", "enable_otlp", "conductor_key", "conductor_url", "conductor_executor_metadata",
    "use_listen_notify", "run_migrations", "notification_listener_polling_interval_sec",
    "notification_coalesce_sec", "scheduler_polling_interval_sec", "kafka_queue_polling_interval_sec",
    "otel_attribute_format", "max_executor_threads",
    # The application database only serves @DBOS.transaction, which the shim rejects on use.
    "application_database_url", "database_url",
})
UNSUPPORTED = {
    "system_database_engine": "the shim keeps workflow state in Resonate, not in a SQLAlchemy engine.",
    "serializer": "the shim stores values with pickle, as DBOS does by default; custom serializers are pending.",
}

_APP_NAME = re.compile(r"^[a-z0-9_-]{3,30}$")


class ShimConfigWarning(UserWarning):
    """A DBOSConfig key the shim accepts but that has no effect on Resonate."""


MEMORY_URLS = frozenset({"sqlite://", "sqlite:///:memory:", ":memory:"})


def store_path(config: dict[str, Any]) -> str | None:
    """Where the embedded store lives: the SQLite file of ``system_database_url`` (DBOS's default name,
    ``<app name>.sqlite``, when unset), or ``None`` for memory (``sqlite:///:memory:``)."""
    url = config.get("system_database_url") or f"sqlite:///{config['name']}.sqlite"
    if url in MEMORY_URLS:
        return None
    if url.startswith(("postgres://", "postgresql://", "postgresql+")):
        raise ShimUnsupportedError(
            "system_database_url='postgresql://...'", "a Postgres store (resonate-pg) is pending; use a SQLite file."
        )
    if not url.startswith("sqlite:///"):
        raise DBOSInitializationError(f"unsupported system_database_url {url!r}: expected sqlite:///<file>")
    return url.removeprefix("sqlite:///")


def validate(config: DBOSConfig | dict[str, Any]) -> dict[str, Any]:
    if not isinstance(config, dict):
        raise DBOSInitializationError("config must be a DBOSConfig dictionary")
    unknown = sorted(set(config) - HONOURED - INERT - set(UNSUPPORTED))
    if unknown:
        raise DBOSInitializationError(f"unknown DBOSConfig key(s): {', '.join(unknown)}")
    name = config.get("name")
    if not isinstance(name, str) or not _APP_NAME.match(name):
        raise DBOSInitializationError(
            f"Invalid app name {name}.  App names must be between 3 and 30 characters long and contain "
            "only lowercase letters, numbers, dashes, and underscores."
        )
    for key, reason in UNSUPPORTED.items():
        if config.get(key) is not None:
            raise ShimUnsupportedError(f"DBOSConfig[{key!r}]", reason)
    inert = sorted(key for key in INERT if config.get(key) not in (None, False))
    if inert:
        warnings.warn(
            f"dbos2resonate shim: DBOSConfig key(s) {', '.join(inert)} have no effect on Resonate",
            ShimConfigWarning,
            stacklevel=3,
        )
    level = config.get("console_log_level") or config.get("log_level")
    if level:
        logger.setLevel(str(level).upper())
    return dict(config)
