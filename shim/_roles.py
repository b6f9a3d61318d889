"""DBOS's role-based security: ``@DBOS.required_roles`` and ``@DBOS.default_required_roles``.

As in DBOS (``dbos/_roles.py``), the roles a function requires live on the function object and are
found along its ``__wrapped__`` chain, so the decorators may be stacked in either order; a class's
default applies to the workflows and steps it holds when decorated, and a function's own list wins.
A call whose context has none of the roles raises ``DBOSNotAuthorizedError``; one that has a role
*assumes* the first required role it holds (``DBOS.assumed_role``) while the function runs.
Where DBOS checks: a workflow called directly, at the call (nothing is recorded) and again when it
executes (a started, enqueued or recovered workflow is then recorded as ERROR); a step called in a
workflow, before it is recorded; a function under ``@DBOS.required_roles``, at every call.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, TypeVar

from shim._auth import context_auth
from shim._context import Authentication, current_auth
from shim.errors import DBOSNotAuthorizedError, DBOSWorkflowFunctionNotFoundError

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

_ROLES_ATTRIBUTE = "_dbos2resonate_roles"
_NAME_ATTRIBUTE = "_dbos2resonate_function_name"


@dataclass(slots=True)
class RoleInfo:
    """One per decorated function, shared by its wrappers (DBOS's ``DBOSFuncInfo``)."""

    required: list[str] | None = None
    class_default: list[str] | None = None

    def roles(self) -> list[str] | None:
        return self.required if self.required is not None else self.class_default


def _found_info(fn: Any) -> RoleInfo | None:
    while fn is not None:
        info = getattr(fn, _ROLES_ATTRIBUTE, None)
        if isinstance(info, RoleInfo):
            return info
        fn = getattr(fn, "__wrapped__", None)
    return None


def role_info(fn: Callable[..., Any]) -> RoleInfo:
    """The function's role info, created on it if neither it nor what it wraps has one."""
    info = _found_info(fn)
    if info is None:
        info = RoleInfo()
        setattr(fn, _ROLES_ATTRIBUTE, info)
    return info


def register_function(fn: Callable[..., Any], name: str) -> None:
    """What ``@DBOS.workflow``/``@DBOS.step`` note on the function they decorate, before wrapping it
    (so the wrapper carries both): its registered name, for the errors' messages, and its role info."""
    setattr(fn, _NAME_ATTRIBUTE, name)
    role_info(fn)


def _registered_name(fn: Callable[..., Any]) -> str:
    """DBOS names the function in its errors by its registered name; one it never registered (the
    function under a bare ``@DBOS.required_roles``) makes that lookup fail with DBOS's own error."""
    name = getattr(fn, _NAME_ATTRIBUTE, None)
    if name is None:
        raise DBOSWorkflowFunctionNotFoundError(
            "<NONE>", f"{getattr(fn, '__name__', fn)} is not a registered workflow function")
    return str(name)


def check_roles(fn: Callable[..., Any], auth: Authentication | None) -> str | None:
    """The role ``fn`` runs as under ``auth``: None if it requires none; raises if ``auth`` has none
    of them (DBOS's ``check_required_roles``)."""
    info = _found_info(fn)
    required = info.roles() if info is not None else None
    if not required:
        return None
    if auth is None or auth.authenticated_roles is None:
        raise DBOSNotAuthorizedError(
            f"Function {_registered_name(fn)} requires a role, but was called in a context without "
            "authentication information")
    for role in required:
        if role in auth.authenticated_roles:
            return role
    raise DBOSNotAuthorizedError(
        f"Function {_registered_name(fn)} has required roles, but user is not authenticated for any of them")


def check_caller_roles(fn: Callable[..., Any]) -> str | None:
    return check_roles(fn, current_auth.get())


@contextmanager
def assumed(role: str | None) -> Iterator[None]:
    """Run the block as ``role`` (DBOS's ``DBOSAssumeRole``: None keeps the current one)."""
    auth = context_auth()
    prior = auth.assumed_role
    if role is not None:
        auth.assumed_role = role
    try:
        yield
    finally:
        auth.assumed_role = prior


def assumed_if_required(fn: Callable[..., Any]) -> AbstractContextManager[None]:
    """Where DBOS checks a workflow's or step's roles at the call: the caller must hold one, and the
    call runs as it (so a workflow records it as its ``assumed_role``)."""
    return assuming(check_caller_roles(fn))


def assuming(role: str | None) -> AbstractContextManager[None]:
    return nullcontext() if role is None else assumed(role)


def required_roles(roles: list[str]) -> Callable[[F], F]:
    def set_roles(fn: F) -> F:
        role_info(fn).required = roles

        # As DBOS's, the check runs when the function is called: for an ``async def`` that is when
        # its coroutine is made, not when it is awaited.
        @functools.wraps(fn)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            with assumed(check_caller_roles(fn)):
                return fn(*args, **kwargs)

        return inspect.markcoroutinefunction(guarded) if inspect.iscoroutinefunction(fn) else guarded  # type: ignore[return-value]

    return set_roles


def _class_functions(cls: type) -> Iterator[Any]:
    for attribute in vars(cls).values():
        if isinstance(attribute, (staticmethod, classmethod)):
            attribute = attribute.__func__
        if callable(attribute):
            yield attribute


def default_required_roles(roles: list[str], register_class: Callable[[type[T]], type[T]]) -> Callable[[type[T]], type[T]]:
    """The class's workflows and steps require ``roles`` unless they name their own; like DBOS's,
    the decorator also registers the class (``register_class``: ``@DBOS.dbos_class()``)."""

    def set_roles(cls: type[T]) -> type[T]:
        for fn in _class_functions(cls):
            info = _found_info(fn)
            if info is not None:
                info.class_default = roles
        return register_class(cls)

    return set_roles
