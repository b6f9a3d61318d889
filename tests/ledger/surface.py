"""The public surface of a ``dbos`` package as plain data: every public name and what it takes.

A *name* is an entry of ``dbos.__all__`` or a public attribute of ``dbos.DBOS`` (``DBOS.recv``).
A name's *members* are what a caller can pass or reach through it:

- a function or method: its parameters (``cls``/``self`` dropped), with kind and default;
- a class: its constructor's parameters, then its public methods as ``.method``
  (a class whose constructor takes nothing lists its annotated fields instead, as ``WorkflowStatus``;
  a ``Protocol``, as ``WorkflowHandle``, only its methods: users never construct one);
- a ``TypedDict``: its keys; an ``Enum``: its members; a ``Literal`` alias: its values;
- a module (``dbos.error``): the exception classes it defines;
- a property (``DBOS.workflow_id``): nothing.

The same function reads the installed package (the ledger test) and an unpacked wheel of another
version, so the 3.x surface can be checked in as a snapshot without installing DBOS 3:

    python -m tests.ledger.surface --wheel-dir DIR > tests/ledger/dbos-3.4.0.json

where ``DIR`` holds an unpacked wheel (``pip download --no-deps dbos==3.4.0`` then ``unzip``).
"""

from __future__ import annotations

import argparse
import enum
import inspect
import json
import subprocess
import sys
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Keys of a member's ``kind`` besides inspect.Parameter's kinds.
KEY, MEMBER, FIELD, METHOD = "key", "member", "field", "method"
NO_DEFAULT = "<required>"


@dataclass(frozen=True, slots=True)
class Member:
    name: str  # "timeout_seconds", "SUCCESS", ".get_result"
    kind: str  # an inspect.Parameter kind name, or KEY / MEMBER / FIELD / METHOD
    default: str = NO_DEFAULT  # repr of a parameter's default; "<required>"/"<optional>" for a key


def _unwrap(obj: Any) -> tuple[Any, bool]:
    """The function under a static/class method, and whether its first parameter is bound."""
    if isinstance(obj, staticmethod):
        return obj.__func__, False
    if isinstance(obj, classmethod):
        return obj.__func__, True
    return obj, False


def _default(value: Any) -> str:
    if value is inspect.Parameter.empty:
        return NO_DEFAULT
    if isinstance(value, enum.Enum):
        return f"{type(value).__name__}.{value.name}"
    text = repr(value)
    if " object at 0x" in text:  # an instance made at import time: its class is what is stable
        return f"<{type(value).__name__} instance>"
    return text


def parameters(fn: Any, bound: bool = False) -> list[Member]:
    """A callable's parameters in order; a bound first parameter (``cls``/``self``) is dropped."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return []
    if bound and params:
        params = params[1:]
    return [Member(p.name, p.kind.name, _default(p.default)) for p in params]


def _is_typeddict(obj: Any) -> bool:
    return isinstance(obj, type) and issubclass(obj, dict) and hasattr(obj, "__total__")


def _is_literal(obj: Any) -> bool:
    return typing.get_origin(obj) is typing.Literal


def _public_methods(cls: type) -> list[Member]:
    seen: dict[str, Member] = {}
    for klass in reversed(cls.__mro__):
        if klass is object or klass.__module__ == "typing":
            continue
        for name, value in vars(klass).items():
            if name.startswith("_"):
                continue
            fn, _ = _unwrap(value)
            if callable(fn) or isinstance(value, property):
                seen[name] = Member(f".{name}", METHOD)
    return sorted(seen.values(), key=lambda m: m.name)


def members(obj: Any, *, methods: bool = True) -> list[Member]:
    """What a caller can pass to or reach through one public name (see the module docstring)."""
    if isinstance(obj, types.ModuleType):
        return sorted(
            (Member(n, MEMBER) for n, v in vars(obj).items()
             if not n.startswith("_") and isinstance(v, type) and issubclass(v, BaseException)
             and v.__module__ == obj.__name__),
            key=lambda m: m.name,
        )
    if _is_literal(obj):
        return [Member(str(v), MEMBER) for v in typing.get_args(obj)]
    if _is_typeddict(obj):
        required = getattr(obj, "__required_keys__", frozenset())
        return [Member(k, KEY, "<required>" if k in required else "<optional>") for k in obj.__annotations__]
    if isinstance(obj, type) and issubclass(obj, enum.Enum):
        return [Member(n, MEMBER) for n in obj.__members__]
    if isinstance(obj, type) and getattr(obj, "_is_protocol", False):
        return _public_methods(obj)  # a Protocol (WorkflowHandle) is never constructed by users
    if isinstance(obj, type):
        init = parameters(obj)
        if not init:
            fields = [Member(n, FIELD) for n in getattr(obj, "__annotations__", {})]
            if fields:
                return fields
        if issubclass(obj, BaseException):
            return init
        return init + (_public_methods(obj) if methods else [])
    fn, bound = _unwrap(obj)
    if isinstance(fn, (types.FunctionType, types.MethodType)):
        return parameters(fn, bound or isinstance(fn, types.MethodType))
    return []


def public_names(module: Any) -> dict[str, Any]:
    """Every public name of a ``dbos``-like module: ``__all__`` and ``DBOS``'s public attributes."""
    names: dict[str, Any] = {name: getattr(module, name) for name in module.__all__}
    dbos_class = module.DBOS
    for attribute in dir(dbos_class):
        if not attribute.startswith("_"):
            names[f"DBOS.{attribute}"] = inspect.getattr_static(dbos_class, attribute)
    return names


def surface(module: Any) -> dict[str, list[Member]]:
    # DBOS's methods are names of their own (``DBOS.recv``); the class itself contributes its constructor.
    return {name: members(value, methods=name != "DBOS") for name, value in sorted(public_names(module).items())}


def installed() -> Any:
    """The installed ``dbos`` package (after giving it the SQLite it needs)."""
    try:
        import pysqlite3  # type: ignore[import-not-found]
    except ImportError:
        pass
    else:
        sys.modules.setdefault("sqlite3", pysqlite3)
    import dbos

    return dbos


def to_json(data: dict[str, list[Member]], version: str) -> str:
    """One line per name, each member as ``[name, kind, default]``: small and easy to diff."""
    lines = [json.dumps(name) + ": " + json.dumps([[m.name, m.kind, m.default] for m in ms])
             for name, ms in data.items()]
    return '{"dbos_version": ' + json.dumps(version) + ', "names": {\n' + ",\n".join(lines) + "\n}}\n"


def from_json(text: str) -> tuple[str, dict[str, list[Member]]]:
    payload = json.loads(text)
    return payload["dbos_version"], {n: [Member(*m) for m in ms] for n, ms in payload["names"].items()}


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.ledger.surface")
    parser.add_argument("--wheel-dir", type=Path, help="an unpacked dbos wheel to read instead of the installed one")
    args = parser.parse_args(argv)
    if args.wheel_dir is not None:
        # A new interpreter with the wheel first on the path, so the installed dbos is not mixed in.
        code = (
            "import sys; sys.path.insert(0, sys.argv[1]); "
            "from tests.ledger.surface import installed, surface, to_json; "
            "from importlib.metadata import version; import dbos; "
            "m = installed(); assert m.__file__.startswith(sys.argv[1]), m.__file__; "
            "v = [p.name.removesuffix('.dist-info').split('-')[1] for p in __import__('pathlib').Path(sys.argv[1]).glob('dbos-*.dist-info')][0]; "
            "sys.stdout.write(to_json(surface(m), v))"
        )
        root = Path(__file__).resolve().parents[2]
        return subprocess.run([sys.executable, "-c", code, str(args.wheel_dir.resolve())], cwd=root, check=False).returncode
    from importlib.metadata import version

    sys.stdout.write(to_json(surface(installed()), version("dbos")))
    return 0


if __name__ == "__main__":
    sys.exit(_main())
