"""DBOS's authentication context: ``DBOS.authenticated_user`` / ``authenticated_roles`` /
``assumed_role``, ``DBOS.set_authentication``, ``DBOSContextEnsure`` and ``DBOSContextSetAuth``.

As in DBOS, the user and roles belong to the current DBOS context; a workflow started there records
them (its status's ``authenticated_user``, ``authenticated_roles``, ``assumed_role``), runs with them,
also when recovered, and passes them on to its steps and children. ``assumed_role`` is set where
a ``required_roles`` check passes (shim/_roles.py), else it is the caller's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextvars import Token
from typing import Any

from shim import _records as rec
from shim._context import (
    Authentication,
    assigned_workflow_id,
    current_auth,
    current_workflow,
)


def context_auth() -> Authentication:
    """The current DBOS context's authentication; DBOS asserts that a context exists (a workflow or
    step, a ``SetWorkflowID`` block, ``DBOSContextEnsure``)."""
    auth = current_auth.get()
    if auth is not None:
        return auth
    if current_workflow.get() is None and assigned_workflow_id.get() is None:
        raise AssertionError("No DBOS context found")
    auth = Authentication()
    current_auth.set(auth)
    return auth


def auth_tags(auth: Authentication | None) -> dict[str, str]:
    """What a workflow started under ``auth`` records on its root promise, as DBOS writes its status."""
    if auth is None:
        return {}
    values = {
        rec.TAG_AUTH_USER: auth.authenticated_user,
        rec.TAG_AUTH_ROLES: json.dumps(auth.authenticated_roles) if auth.authenticated_roles else None,
        rec.TAG_ASSUMED_ROLE: auth.assumed_role,
    }
    return {tag: value for tag, value in values.items() if value is not None}


def recorded_auth(tags: dict[str, str]) -> Authentication:
    """What a recovered workflow runs as: DBOS restores the user and roles, not the assumed role."""
    roles = tags.get(rec.TAG_AUTH_ROLES)
    return Authentication(tags.get(rec.TAG_AUTH_USER), json.loads(roles) if roles else None)


class DBOSContextEnsure:
    """``with DBOSContextEnsure():`` makes sure a DBOS context exists in the block."""

    def __init__(self) -> None:
        self._token: Token[Authentication | None] | None = None

    def __enter__(self) -> Authentication:
        self._token = None
        if current_auth.get() is None:
            self._token = current_auth.set(Authentication())
        return context_auth()

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            current_auth.reset(self._token)
            self._token = None


class DBOSContextSetAuth(DBOSContextEnsure):
    """``with DBOSContextSetAuth(user, roles):`` runs the block (and the workflows it starts) as
    ``user``; leaving it restores the previous user and roles."""

    def __init__(self, user: str | None, roles: list[str] | None) -> None:
        super().__init__()
        self.user = user
        self.roles = roles
        self._previous: tuple[str | None, list[str] | None] = (None, None)

    def __enter__(self) -> Authentication:
        auth = super().__enter__()
        self._previous = (auth.authenticated_user, auth.authenticated_roles)
        auth.authenticated_user, auth.authenticated_roles = self.user, self.roles
        return auth

    def __exit__(self, *exc: object) -> None:
        auth = context_auth()
        auth.authenticated_user, auth.authenticated_roles = self._previous
        super().__exit__(*exc)


class classproperty:  # noqa: N801 - named as DBOS names it
    """A read-only property of the class itself (``DBOS.workflow_id``, ``DBOS.authenticated_user``, ...)."""

    def __init__(self, fget: Callable[[Any], Any]) -> None:
        self.fget = fget

    def __get__(self, instance: Any, owner: type) -> Any:
        return self.fget(owner)


class AuthenticationAPI:
    """The ``DBOS`` members that read and set the current context's authentication."""

    @classproperty
    def authenticated_user(cls) -> str | None:
        return context_auth().authenticated_user

    @classproperty
    def authenticated_roles(cls) -> list[str] | None:
        return context_auth().authenticated_roles

    @classproperty
    def assumed_role(cls) -> str | None:
        return context_auth().assumed_role

    @classmethod
    def set_authentication(cls, authenticated_user: str | None, authenticated_roles: list[str] | None) -> None:
        auth = context_auth()
        auth.authenticated_user = authenticated_user
        auth.authenticated_roles = authenticated_roles
