"""The API table (codemod/apis.py) accounts for all of DBOS, and the shim's signatures are DBOS's.

Read from the installed ``dbos`` (2.x, introspected live) and the checked-in surface of DBOS 3.4
(tests/ledger/dbos-3.4.0.json, see tests/ledger/surface.py):

- every public name is a row of ``APIS``, and ``ONLY_IN`` says which major version has it;
- every parameter, key, field, enum member and method of each name the shim honours or accepts
  has an entry in ``PARAMS``, whose ``only`` says which major version has it;
- for every name the table marks honoured or inert, the shim's signature equals the installed DBOS's:
  parameter names, kinds and defaults, in order (annotations are not compared), and every member
  marked honoured or inert exists in the shim. ``KNOWN_SIGNATURE_DIFFERENCES`` lists the few that
  differ on purpose; an entry that no longer differs fails, so the list cannot go stale;
- a sample of parameters marked pending or rejected is called and fails the way the table says.
"""

from __future__ import annotations

import inspect
import warnings
from pathlib import Path
from typing import Any

import pytest

import shim
from codemod.apis import (
    APIS,
    BY_NAME,
    ONLY_IN,
    PARAMS,
    DbosParam,
    ShimSupport,
    params_of,
)
from shim import DBOS as ShimDBOS
from shim.errors import DBOSInitializationError, ShimUnsupportedError
from tests.ledger.surface import (
    FIELD,
    KEY,
    MEMBER,
    METHOD,
    Member,
    from_json,
    installed,
    members,
    surface,
)

HERE = Path(__file__).resolve().parent
SUPPORTED = (ShimSupport.HONOURED, ShimSupport.INERT)
PARAMETER_KINDS = frozenset(kind.name for kind in (
    inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.VAR_POSITIONAL,
    inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.VAR_KEYWORD,
))

DBOS2 = installed()
SURFACE2 = surface(DBOS2)
VERSION3, SURFACE3 = from_json((HERE / "dbos-3.4.0.json").read_text(encoding="utf-8"))
SURFACES = {"2.x": SURFACE2, "3.x": SURFACE3}

# Signatures that differ from DBOS 2.31 on purpose: "name" or "name.member" -> why.
KNOWN_SIGNATURE_DIFFERENCES: dict[str, str] = {
    **{name: "serialization_type defaults to None, not WorkflowSerializationFormat.DEFAULT (whose value is None, "
             "which DBOS reads the same way): the shim has no WorkflowSerializationFormat yet"
       for name in ("DBOS.send", "DBOS.send_async", "DBOS.send_bulk", "DBOS.send_bulk_async", "DBOS.set_event",
                    "DBOS.set_event_async", "DBOS.write_stream", "DBOS.write_stream_async")},
    "DBOSClient": "serializer defaults to None, not a DefaultSerializer instance: the shim has no Serializer class "
                  "(None means the default, pickle)",
}


# -- reading the shim the way surface.py reads DBOS ------------------------------------------------

class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()


def shim_object(name: str) -> Any:
    """What the shim binds where DBOS binds ``name`` (MISSING where it binds nothing of its own)."""
    if name == "error":
        return shim.errors
    if name.startswith("DBOS."):
        attribute = name.removeprefix("DBOS.")
        for klass in ShimDBOS.__mro__:
            if attribute in vars(klass):
                return vars(klass)[attribute]
        return MISSING
    if name in shim.__all__:
        return getattr(shim, name)
    return MISSING


def dbos_object(name: str) -> Any:
    if name.startswith("DBOS."):
        return inspect.getattr_static(DBOS2.DBOS, name.removeprefix("DBOS."))
    return getattr(DBOS2, name)


def signature(found: list[Member]) -> list[tuple[str, str, str]]:
    return [(m.name, m.kind, m.default) for m in found if m.kind in PARAMETER_KINDS]


def is_callable_name(obj: Any) -> bool:
    """A function, or a class called with arguments (not a TypedDict, Enum, Protocol or module)."""
    if inspect.ismodule(obj):
        return False
    found = members(obj, methods=False)
    if isinstance(obj, type):
        return bool(signature(found))
    return isinstance(obj, (staticmethod, classmethod)) or inspect.isfunction(obj)


def method_signature(cls: Any, method: str) -> list[tuple[str, str, str]]:
    raw = inspect.getattr_static(cls, method)
    if isinstance(raw, staticmethod):
        return signature(members(raw))
    if isinstance(raw, classmethod):
        return signature(members(raw))
    from tests.ledger.surface import parameters

    return signature(parameters(raw, bound=True))


def shim_has(obj: Any, member: Member) -> bool:
    if obj is MISSING:
        return False
    if member.kind == KEY:
        return member.name in getattr(obj, "__annotations__", {})
    if member.kind == FIELD:
        fields = {n for klass in getattr(obj, "__mro__", ()) for n in getattr(klass, "__annotations__", {})}
        return member.name in fields
    if member.kind == METHOD:
        return callable(getattr(obj, member.name.removeprefix("."), None))
    if member.kind == MEMBER:
        value = getattr(obj, member.name, MISSING)
        return value is not MISSING and (not inspect.ismodule(obj) or isinstance(value, type))
    return True  # a parameter: checked by comparing whole signatures


# -- the table covers DBOS -------------------------------------------------------------------------

def _versions_with(name: str) -> set[str]:
    return {version for version, names in SURFACES.items() if name in names}


@pytest.mark.parametrize("version", SURFACES)
def test_every_public_name_is_in_the_table(version: str) -> None:
    missing = sorted(set(SURFACES[version]) - set(BY_NAME))
    assert not missing, f"public names of DBOS {version} missing from codemod/apis.py APIS: {missing}"


def test_every_table_name_is_a_dbos_name_and_only_in_is_right() -> None:
    wrong = {}
    for api in APIS:
        has = _versions_with(api.name)
        expected = {"2.x": {"2.x"}, "3.x": {"3.x"}, "shim": set()}.get(ONLY_IN.get(api.name, ""), {"2.x", "3.x"})
        if has != expected:
            wrong[api.name] = f"ONLY_IN says {ONLY_IN.get(api.name, 'both')!r}, but DBOS {sorted(has) or 'neither'} has it"
    assert not wrong, wrong
    assert set(ONLY_IN) <= set(BY_NAME), sorted(set(ONLY_IN) - set(BY_NAME))


def test_only_supported_names_and_known_names_have_parameters_recorded() -> None:
    assert set(PARAMS) <= set(BY_NAME), sorted(set(PARAMS) - set(BY_NAME))


@pytest.mark.parametrize("api", [a for a in APIS if a.shim in SUPPORTED], ids=lambda a: a.name)
def test_every_parameter_of_a_supported_name_is_in_the_table(api: Any) -> None:
    assert api.name in PARAMS, f"PARAMS has no entry for {api.name} (marked {api.shim.value}); add one, even if empty"
    recorded = params_of(api.name)
    problems: list[str] = []
    seen: set[str] = set()
    for version, names in SURFACES.items():
        for member in names.get(api.name, []):
            seen.add(member.name)
            entry = recorded.get(member.name)
            if entry is None:
                problems.append(f"{member.name!r} ({member.kind}, DBOS {version}) is not in PARAMS[{api.name!r}]")
    for member_name, entry in recorded.items():
        has = {v for v, names in SURFACES.items() if any(m.name == member_name for m in names.get(api.name, []))}
        if not has:
            problems.append(f"PARAMS[{api.name!r}][{member_name!r}] is not a member in DBOS 2.x or 3.x")
            continue
        expected = {"2.x": {"2.x"}, "3.x": {"3.x"}}.get(entry.only, _versions_with(api.name))
        if has != expected:
            problems.append(f"{member_name!r}: only={entry.only!r}, but DBOS {sorted(has)} has it")
    assert not problems, "\n".join(problems)


# -- the shim's signatures are DBOS's --------------------------------------------------------------

def _signature_problems(name: str) -> list[str]:
    api = BY_NAME[name]
    theirs, ours = dbos_object(name), shim_object(name)
    if ours is MISSING:
        return [f"{name} is marked {api.shim.value} but the shim does not define it"]
    problems: list[str] = []
    if is_callable_name(theirs):
        want, got = signature(members(theirs, methods=False)), signature(members(ours, methods=False))
        if want != got:
            problems.append(f"{name}: DBOS {want}\n{' ' * len(name)}  shim {got}")
    for member in SURFACE2.get(name, []):
        entry: DbosParam | None = params_of(name).get(member.name)
        if entry is None or entry.shim not in SUPPORTED or member.kind in PARAMETER_KINDS:
            continue
        if not shim_has(ours, member):
            problems.append(f"{name}: {member.name} is marked {entry.shim.value} but the shim has no such {member.kind}")
        elif member.kind == METHOD:
            method = member.name.removeprefix(".")
            want, got = method_signature(theirs, method), method_signature(ours, method)
            if want != got:
                problems.append(f"{name}{member.name}: DBOS {want}\n  shim {got}")
        elif member.kind == MEMBER and inspect.ismodule(ours):
            # private mixins of the shim (how it rebuilds exceptions) do not change what user code catches
            want_bases = [b.__name__ for b in getattr(theirs, member.name).__bases__]
            got_bases = [b.__name__ for b in getattr(ours, member.name).__bases__ if not b.__name__.startswith("_")]
            if want_bases != got_bases:
                problems.append(f"{name}.{member.name}: bases DBOS {want_bases}, shim {got_bases}")
    return problems


PARITY_NAMES = [a.name for a in APIS if a.shim in SUPPORTED and a.name in SURFACE2]


@pytest.mark.parametrize("name", PARITY_NAMES)
def test_signature_of_a_supported_name_is_dbos(name: str) -> None:
    problems = _signature_problems(name)
    if name in KNOWN_SIGNATURE_DIFFERENCES:
        assert problems, f"{name} now matches DBOS: delete it from KNOWN_SIGNATURE_DIFFERENCES"
        return
    assert not problems, "\n".join(problems)


def test_known_signature_differences_name_supported_names() -> None:
    assert set(KNOWN_SIGNATURE_DIFFERENCES) <= set(PARITY_NAMES)


def test_config_keys_match_what_the_shim_does_with_them() -> None:
    """DBOSConfig's keys are recorded as shim/_config.py treats them."""
    from shim import _config

    wrong = {}
    for key, entry in params_of("DBOSConfig").items():
        if key in _config.HONOURED:
            actual = ShimSupport.HONOURED
        elif key in _config.INERT:
            actual = ShimSupport.INERT
        else:
            actual = ShimSupport.PENDING  # refused: ShimUnsupportedError, or DBOSInitializationError if unknown
        if entry.shim != actual:
            wrong[key] = f"table {entry.shim.value}, shim/_config.py {actual.value}"
    assert not wrong, wrong


# -- pending and rejected parameters fail as the table says ---------------------------------------

def _config(**extra: Any) -> dict[str, Any]:
    return {"name": "ledger-probe", "system_database_url": "sqlite:///:memory:", **extra}


def _make_dbos(**kwargs: Any) -> None:
    try:
        ShimDBOS(**kwargs)
    finally:
        ShimDBOS.destroy()


PROBES: dict[tuple[str, str], tuple[type[BaseException], Any]] = {
    ("DBOS.step", "timeout_seconds"): (ShimUnsupportedError, lambda: ShimDBOS.step(timeout_seconds=1.0)),
    ("DBOS.step", "preemptible"): (ShimUnsupportedError, lambda: ShimDBOS.step(preemptible=True)),
    ("DBOS.workflow", "serialization_type"): (ShimUnsupportedError,
                                              lambda: ShimDBOS.workflow(serialization_type="portable")),
    ("DBOS.workflow", "validate_args"): (ShimUnsupportedError, lambda: ShimDBOS.workflow(validate_args=lambda a, k: (a, k))),
    ("DBOS.workflow", "auto_upgrade"): (TypeError, lambda: ShimDBOS.workflow(auto_upgrade=True)),
    ("DBOS", "fastapi"): (ShimUnsupportedError, lambda: _make_dbos(config=_config(), fastapi=object())),
    ("DBOS", "flask"): (ShimUnsupportedError, lambda: _make_dbos(config=_config(), flask=object())),
    ("DBOSConfig", "serializer"): (ShimUnsupportedError, lambda: _make_dbos(config=_config(serializer=object()))),
    ("DBOSConfig", "system_database_engine"): (ShimUnsupportedError,
                                               lambda: _make_dbos(config=_config(system_database_engine=object()))),
    ("DBOSConfig", "sharding"): (DBOSInitializationError, lambda: _make_dbos(config=_config(sharding=False))),
    ("SetWorkflowID", "workflow_id_reuse_policy"): (TypeError,
                                                    lambda: shim.SetWorkflowID("x", workflow_id_reuse_policy=None)),
    ("DBOS.get_event", "shard_key"): (TypeError, lambda: ShimDBOS.get_event("w", "k", shard_key="s")),
}


@pytest.mark.parametrize("key", PROBES, ids=lambda k: f"{k[0]}({k[1]}=)")
def test_a_pending_parameter_fails_as_recorded(key: tuple[str, str]) -> None:
    name, parameter = key
    entry = params_of(name)[parameter]
    assert entry.shim not in SUPPORTED, f"{name}({parameter}=) is marked {entry.shim.value}; probe a refused one"
    error, call = PROBES[key]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error):
            call()
