"""Workflows and steps that are methods: ``@DBOS.dbos_class`` and ``DBOSConfiguredInstance``.

DBOS records an instance by name, not by value: a workflow on a configured instance stores the
class's registered name and the instance's ``config_name``, and recovery finds the live instance
under that name. The shim does the same, so instances need not be picklable.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")

logger = logging.getLogger("dbos")

_CLASS_NAME_ATTRIBUTE = "_dbos2resonate_class_name"
_instances: dict[tuple[str, str], object] = {}
_classes: dict[str, type] = {}


@dataclass(frozen=True, slots=True)
class InstanceRef:
    """A configured instance by name, or (``config_name`` None) a registered class itself."""

    class_name: str
    config_name: str | None


def class_name_of(cls: type) -> str:
    return getattr(cls, _CLASS_NAME_ATTRIBUTE, None) or cls.__qualname__


def dbos_class(class_name: str | None = None) -> Any:
    def register(cls: type[T]) -> type[T]:
        name = class_name or cls.__qualname__
        setattr(cls, _CLASS_NAME_ATTRIBUTE, name)
        _classes[name] = cls
        return cls

    return register


def register_instance(instance: object) -> None:
    config_name = getattr(instance, "config_name")
    key = (class_name_of(type(instance)), config_name)
    existing = _instances.get(key)
    if existing is not None and existing is not instance:
        raise Exception(f"Duplicate instance registration for class '{key[0]}' instance '{config_name}'")
    _instances[key] = instance


def instance_for(ref: InstanceRef) -> object:
    if ref.config_name is None:
        return _classes[ref.class_name]
    try:
        return _instances[(ref.class_name, ref.config_name)]
    except KeyError:
        raise LookupError(
            f"no configured instance '{ref.config_name}' of class '{ref.class_name}' is registered"
        ) from None


class DBOSConfiguredInstance:
    """Base class for classes whose workflow and step methods use instance state."""

    def __init__(self, config_name: str) -> None:
        self.config_name = config_name
        register_instance(self)


def split_instance(args: tuple[Any, ...]) -> tuple[InstanceRef | None, tuple[Any, ...]]:
    """A call on a configured instance records the instance by name and passes it separately."""
    if args and isinstance(args[0], DBOSConfiguredInstance):
        instance = args[0]
        return InstanceRef(class_name_of(type(instance)), instance.config_name), args[1:]
    if args and isinstance(args[0], type) and _classes.get(class_name_of(args[0])) is args[0]:
        return InstanceRef(class_name_of(args[0]), None), args[1:]
    return None, args


def ensure_registered(cls: type[T]) -> type[T]:
    """Register ``cls`` under its own name unless ``@DBOS.dbos_class`` already named it."""
    if class_name_of(cls) not in _classes or _classes[class_name_of(cls)] is not cls:
        return dbos_class()(cls)
    return cls
