"""Where a scheduler reads the time: ``SystemClock``, and ``ManualClock`` for tests (moved only by hand,
with ``settle`` to wait until every scheduler has caught up, so tests need no sleeps)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Where a scheduler reads the time and waits for it."""

    def now(self) -> datetime:
        """The current time, timezone-aware."""

    def wait(self, until: datetime | None, woken: threading.Event) -> None:
        """Block until ``until`` (``None``: no deadline) or until ``woken`` is set; may return early."""

    def attach(self) -> None:
        """A scheduler starts using this clock."""

    def detach(self) -> None:
        """A scheduler stops using this clock."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def wait(self, until: datetime | None, woken: threading.Event) -> None:
        timeout = None if until is None else max(0.0, (until - self.now()).total_seconds())
        woken.wait(timeout)

    def attach(self) -> None:
        pass

    def detach(self) -> None:
        pass


class ManualClock:
    """A clock that moves only when told to, for tests: ``advance`` and then ``settle``.

    ``settle()`` returns once every scheduler using the clock has handled everything due at the
    current time and is waiting again, so a test can assert right after it, with no sleeps.
    """

    def __init__(self, start: datetime, settle_timeout: float = 30.0) -> None:
        self._now = start if start.tzinfo is not None else start.replace(tzinfo=UTC)
        self._cond = threading.Condition()
        self._parked: dict[threading.Event, datetime | None] = {}
        self._attached = 0
        self._settle_timeout = settle_timeout

    def now(self) -> datetime:
        with self._cond:
            return self._now

    def wait(self, until: datetime | None, woken: threading.Event) -> None:
        with self._cond:
            if until is not None and until <= self._now:
                return
            self._parked[woken] = until
            self._cond.notify_all()
        try:
            woken.wait()
        finally:
            with self._cond:
                self._parked.pop(woken, None)
                self._cond.notify_all()

    def attach(self) -> None:
        with self._cond:
            self._attached += 1

    def detach(self) -> None:
        with self._cond:
            self._attached -= 1
            self._cond.notify_all()

    def advance(self, delta: timedelta | float) -> datetime:
        """Move time forward by ``delta`` (seconds or a timedelta), wake schedulers now due, settle."""
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        return self.set(self.now() + step)

    def set(self, moment: datetime) -> datetime:
        """Move time to ``moment`` (never backwards), wake schedulers now due, and settle."""
        moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
        self.settle()  # let schedulers finish reacting to what happened before time moves
        with self._cond:
            if moment < self._now:
                raise ValueError(f"a ManualClock does not go back: {moment} < {self._now}")
            self._now = moment
            for woken, until in self._parked.items():
                if until is None or until <= moment:
                    woken.set()
        self.settle()
        return moment

    def settle(self) -> None:
        """Wait until every attached scheduler is waiting for a time still in the future."""

        def idle() -> bool:
            return len(self._parked) >= self._attached and all(
                not woken.is_set() and (until is None or until > self._now)
                for woken, until in self._parked.items()
            )

        with self._cond:
            if not self._cond.wait_for(idle, timeout=self._settle_timeout):
                raise TimeoutError(
                    f"ManualClock: schedulers did not settle within {self._settle_timeout} s "
                    f"({len(self._parked)} of {self._attached} waiting)"
                )


_default_clock: Clock | None = None


def default_clock() -> Clock | None:
    """The clock set by the innermost ``use_clock`` block, if any."""
    return _default_clock


@contextlib.contextmanager
def use_clock(clock: Clock) -> Iterator[Clock]:
    """Schedulers started (by ``DBOS.launch``) inside this block read time from ``clock``."""
    global _default_clock
    previous, _default_clock = _default_clock, clock
    try:
        yield clock
    finally:
        _default_clock = previous
