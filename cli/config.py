"""``[tool.dbos2resonate]`` in pyproject.toml: the project's defaults for every command.

    [tool.dbos2resonate]
    exclude = ["legacy/*", "*_pb2.py"]   # GLOBs, relative to this pyproject.toml's directory
    select = ["D2R"]                     # rule code prefixes (check)
    ignore = ["D2R208"]
    format = "text"                      # check's output format

The nearest pyproject.toml that HAS a ``[tool.dbos2resonate]`` table wins, looking from the current
directory up (as ruff does); ``--config FILE`` names one explicitly. Command-line flags override it.

Commands read it the same way::

    config = load_config()            # Config.empty() when the project has none
    exclude = config.exclude          # typed, validated keys
    target = config.get("target", str, default="native")   # a command's own key, validated on read

Any problem (bad TOML, a key of the wrong type) is a :class:`ConfigError` whose message names the file and
the key; commands turn it into exit status 2.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["Config", "ConfigError", "SECTION", "find_config", "load_config"]

SECTION = "dbos2resonate"
T = TypeVar("T")


class ConfigError(ValueError):
    """The configuration cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Config:
    """The ``[tool.dbos2resonate]`` table of one pyproject.toml (or nothing)."""

    path: Path | None  # the pyproject.toml read, None when there is none
    table: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def empty(cls) -> Config:
        return cls(None)

    @property
    def root(self) -> Path:
        """The directory relative paths in the configuration are relative to."""
        return self.path.parent if self.path is not None else Path.cwd()

    def get(self, key: str, kind: type[T], default: T) -> T:
        """``key``'s value checked to be a ``kind`` (``str``, ``bool``, ``int``, or ``list`` of strings)."""
        if key not in self.table:
            return default
        value = self.table[key]
        if kind is list:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{self._where(key)} must be a list of strings, got {value!r}")
            return value  # type: ignore[return-value]
        if kind is int and isinstance(value, bool) or not isinstance(value, kind):
            raise ConfigError(f"{self._where(key)} must be a {kind.__name__}, got {value!r}")
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: str | None = None) -> str | None:
        value = self.get(key, str, default)
        if value is not None and value not in choices:
            raise ConfigError(f"{self._where(key)} must be one of {', '.join(choices)}, got {value!r}")
        return value

    # The keys shared by the commands.
    @property
    def exclude(self) -> list[str]:
        return self.get("exclude", list, [])

    @property
    def select(self) -> list[str] | None:
        return self.get("select", list, None)  # type: ignore[arg-type]

    @property
    def ignore(self) -> list[str] | None:
        return self.get("ignore", list, None)  # type: ignore[arg-type]

    def _where(self, key: str) -> str:
        return f"{self.path}: [tool.{SECTION}] {key}"


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def _section(path: Path, document: dict[str, Any]) -> dict[str, Any] | None:
    tool = document.get("tool")
    if not isinstance(tool, dict) or SECTION not in tool:
        return None
    table = tool[SECTION]
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.{SECTION}] must be a table")
    return table


def find_config(start: Path | None = None) -> Path | None:
    """The nearest pyproject.toml with a ``[tool.dbos2resonate]`` table, from ``start`` (default: the
    current directory) up to the filesystem root."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file() and _section(candidate, _read(candidate)) is not None:
            return candidate
    return None


def load_config(explicit: Path | None = None, start: Path | None = None) -> Config:
    """``explicit`` if given (it must exist and may lack the table), else the nearest one, else empty."""
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"{explicit}: no such configuration file")
        table = _section(explicit, _read(explicit))
        return Config(explicit.resolve(), dict(table or {}))
    path = find_config(start)
    if path is None:
        return Config.empty()
    return Config(path, dict(_section(path, _read(path)) or {}))
