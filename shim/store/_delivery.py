"""Routing a server's outgoing messages to the workers listening on ``GET /poll``.

Addresses are the ones resonate-sdk's ``poll://`` source mints
(``resonate/connections/sse.py``): ``poll://uni@{group}/{pid}`` reaches one
process, ``poll://any@{group}`` any one member of a group. A unicast message
goes to that process; an anycast one to the next connected member of the
group, round robin. A message nobody is connected to receive waits in a
backlog for its address and goes to the first listener that connects to it;
an ``execute`` that went stale meanwhile (its task was acquired or moved on)
is dropped then rather than delivered to fail.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from resonate.connections.local import OutgoingMessage

__all__ = ["Delivery", "Listener", "parse_address"]

logger = logging.getLogger(__name__)

_SCHEME = "poll://"
_UNICAST = "uni"
_ANYCAST = "any"

#: Messages kept per address while nobody listens on it; the oldest go first.
#: A dropped ``execute`` is re-sent by the pending-task retry of the tick.
BACKLOG_LIMIT = 10_000
#: Addresses with a backlog at once. A process that never comes back leaves its
#: unicast backlog behind; past this many, the longest-waiting address is dropped.
BACKLOG_ADDRESSES = 1_000


@dataclass(frozen=True, slots=True)
class Address:
    """A parsed ``poll://`` address: ``pid`` is ``None`` for an anycast to the group."""

    group: str
    pid: str | None


def parse_address(address: str) -> Address | None:
    """``poll://uni@g/p`` -> ``Address(g, p)``, ``poll://any@g`` -> ``Address(g, None)``; else ``None``."""
    if not address.startswith(_SCHEME):
        return None
    cast, sep, rest = address[len(_SCHEME) :].partition("@")
    group, _, pid = rest.partition("/")
    if not sep or not group:
        return None
    if cast == _UNICAST and pid:
        return Address(group, pid)
    if cast == _ANYCAST:
        return Address(group, None)
    return None


@dataclass(eq=False)
class Listener:
    """One ``GET /poll/{group}/{pid}`` stream: what is queued for it, in order."""

    group: str
    pid: str
    queue: asyncio.Queue[str] = field(default_factory=asyncio.Queue)


class Delivery:
    """Who listens where, and the messages waiting for a listener."""

    def __init__(self, still_wanted: Callable[[Any], bool]) -> None:
        self._still_wanted = still_wanted
        self._groups: dict[str, dict[str, Listener]] = {}
        self._turn: dict[str, int] = {}
        self._backlog: dict[Address, deque[Any]] = {}

    def connect(self, group: str, pid: str) -> Listener:
        """Register a stream (replacing an older one of the same pid) and hand it its backlog."""
        listener = Listener(group, pid)
        self._groups.setdefault(group, {})[pid] = listener
        for address in (Address(group, pid), Address(group, None)):
            waiting = self._backlog.pop(address, None)
            while waiting:
                self._put(listener, waiting.popleft())
        return listener

    def disconnect(self, listener: Listener, unsent: list[str]) -> None:
        """Forget a closed stream; what it had not sent is re-routed.

        An ``execute`` goes to another member of the group; anything else (an
        ``unblock``) waits for this pid to reconnect.
        """
        members = self._groups.get(listener.group, {})
        if members.get(listener.pid) is listener:
            del members[listener.pid]
        while not listener.queue.empty():
            unsent.append(listener.queue.get_nowait())
        for text in unsent:
            message = msgspec.json.decode(text)
            is_execute = isinstance(message, dict) and message.get("kind") == "execute"
            self._send(Address(listener.group, None if is_execute else listener.pid), message)

    def listening(self, group: str) -> list[str]:
        """Pids with an open stream in ``group``."""
        return list(self._groups.get(group, {}))

    def deliver(self, messages: list[OutgoingMessage]) -> None:
        for outgoing in messages:
            address = parse_address(outgoing.address)
            if address is None:
                logger.warning("server: not a poll:// address, message dropped: %s", outgoing.address)
                continue
            self._send(address, outgoing.message)

    def _send(self, address: Address, message: Any) -> None:
        if not self._still_wanted(message):
            return
        listener = self._pick(address)
        if listener is not None:
            self._put(listener, message)
            return
        waiting = self._backlog.get(address)
        if waiting is None:
            if len(self._backlog) >= BACKLOG_ADDRESSES:
                del self._backlog[next(iter(self._backlog))]
            waiting = self._backlog[address] = deque(maxlen=BACKLOG_LIMIT)
        waiting.append(message)

    def _pick(self, address: Address) -> Listener | None:
        members = self._groups.get(address.group)
        if not members:
            return None
        if address.pid is not None:
            return members.get(address.pid)
        turn = self._turn.get(address.group, 0)
        self._turn[address.group] = turn + 1
        pids = list(members)
        return members[pids[turn % len(pids)]]

    def _put(self, listener: Listener, message: Any) -> None:
        if self._still_wanted(message):
            listener.queue.put_nowait(msgspec.json.encode(message).decode("utf-8"))
