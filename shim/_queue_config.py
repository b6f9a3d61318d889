"""A queue's flow control as DBOS 2.31 declares, validates, reads and changes it: queue-wide limits
(``global_concurrency``/``concurrency``, ``worker_concurrency``, ``limiter``), per-partition limits
(``partition_concurrency``, ``partition_worker_concurrency``, ``partition_limiter``; any of them
partitions the queue) and the deprecated ``partition_queue=True`` (every limit per partition).

``Queue`` (shim/_queues.py) inherits this. The run-time setters work, as in DBOS, only on queues
declared with ``DBOS.register_queue``; the dispatcher (shim/_dispatch.py) reads the new limits at
once. Checks and messages follow dbos/_queue.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypedDict

from shim._dispatch import Limits
from shim.errors import DBOSException


class QueueRateLimit(TypedDict):
    limit: int
    period: float


def validate(*, concurrency: int | None, worker_concurrency: int | None, polling_interval_sec: float,
             limiter: QueueRateLimit | None, global_concurrency: int | None = None,
             partition_concurrency: int | None = None, partition_worker_concurrency: int | None = None,
             partition_limiter: QueueRateLimit | None = None, partition_queue: bool = False) -> None:
    """DBOS's ``Queue._validate_queue``, same order and messages."""
    if concurrency is not None and global_concurrency is not None:
        raise ValueError("concurrency is deprecated in favor of global_concurrency; set only one of them")
    if partition_queue and (partition_concurrency is not None or partition_worker_concurrency is not None
                            or partition_limiter is not None):
        raise ValueError("partition_queue is deprecated in favor of the partition_* limits; set only one of them")
    if partition_queue and global_concurrency is not None:
        raise ValueError("partition_queue applies every limit per partition, so it cannot be combined with "
                         "global_concurrency; use partition_concurrency instead")
    if partition_concurrency is not None and partition_concurrency < 1:
        raise ValueError("partition_concurrency must be at least 1")
    if partition_worker_concurrency is not None and partition_worker_concurrency < 1:
        raise ValueError("partition_worker_concurrency must be at least 1")
    _check_limiter(partition_limiter, "partition_limiter")
    if (partition_worker_concurrency is not None and partition_concurrency is not None
            and partition_worker_concurrency > partition_concurrency):
        raise ValueError("partition_concurrency must be greater than or equal to partition_worker_concurrency")
    if (partition_worker_concurrency is not None and worker_concurrency is not None
            and partition_worker_concurrency > worker_concurrency):
        raise ValueError("worker_concurrency must be greater than or equal to partition_worker_concurrency")
    queue_concurrency = concurrency if global_concurrency is None else global_concurrency
    if worker_concurrency is not None and queue_concurrency is not None and worker_concurrency > queue_concurrency:
        raise ValueError("concurrency must be greater than or equal to worker_concurrency")
    if (partition_concurrency is not None and queue_concurrency is not None
            and partition_concurrency > queue_concurrency):
        raise ValueError("global_concurrency must be greater than or equal to partition_concurrency")
    if (partition_worker_concurrency is not None and queue_concurrency is not None
            and partition_worker_concurrency > queue_concurrency):
        raise ValueError("concurrency must be greater than or equal to partition_worker_concurrency")
    if polling_interval_sec <= 0.0:
        raise ValueError("polling_interval_sec must be positive")
    _check_limiter(limiter, "limiter")


def _check_limiter(limiter: QueueRateLimit | None, name: str) -> None:
    if limiter is not None and (limiter.get("limit") is None or limiter.get("period") is None):
        raise ValueError(f"{name} must specify both 'limit' and 'period'")


class QueueConfig:
    """The fields, DBOS's read-only properties, ``get_*_async`` and ``set_*`` (+async)."""

    name: str
    _registered: bool
    _concurrency: int | None
    _worker_concurrency: int | None
    _limiter: QueueRateLimit | None
    _partition_concurrency: int | None
    _partition_worker_concurrency: int | None
    _partition_limiter: QueueRateLimit | None
    _priority_enabled: bool
    _partition_queue: bool
    _polling_interval_sec: float

    def _configure(self, *, concurrency: int | None, worker_concurrency: int | None, limiter: QueueRateLimit | None,
                   partition_concurrency: int | None, partition_worker_concurrency: int | None,
                   partition_limiter: QueueRateLimit | None, priority_enabled: bool, partition_queue: bool,
                   polling_interval_sec: float) -> None:
        self._concurrency = concurrency
        self._worker_concurrency = worker_concurrency
        self._limiter = limiter
        self._partition_concurrency = partition_concurrency
        self._partition_worker_concurrency = partition_worker_concurrency
        self._partition_limiter = partition_limiter
        self._priority_enabled = priority_enabled
        self._partition_queue = partition_queue or self._partitioned_after()
        self._polling_interval_sec = polling_interval_sec

    def _partitioned_after(self, **overrides: Any) -> bool:
        values = {"_partition_concurrency": self._partition_concurrency,
                  "_partition_worker_concurrency": self._partition_worker_concurrency,
                  "_partition_limiter": self._partition_limiter, **overrides}
        return any(value is not None for value in values.values())

    def _is_legacy_partitioned(self) -> bool:
        return self._partition_queue and not self._partitioned_after()

    def _limits(self) -> Limits:
        """Every limit at the scope it applies to (DBOS's ``_resolve_limits``)."""
        if self._is_legacy_partitioned():
            return Limits(partition_concurrency=self._concurrency,
                          partition_worker_concurrency=self._worker_concurrency,
                          partition_limit=self._limiter["limit"] if self._limiter else None,
                          partition_period=float(self._limiter["period"]) if self._limiter else None)
        limiter, part = self._limiter, self._partition_limiter
        return Limits(concurrency=self._concurrency, worker_concurrency=self._worker_concurrency,
                      limit=limiter["limit"] if limiter else None,
                      period=float(limiter["period"]) if limiter else None,
                      partition_concurrency=self._partition_concurrency,
                      partition_worker_concurrency=self._partition_worker_concurrency,
                      partition_limit=part["limit"] if part else None,
                      partition_period=float(part["period"]) if part else None)

    # -- DBOS's read-only views ------------------------------------------------------------------

    @property
    def concurrency(self) -> int | None:
        return self._concurrency

    @property
    def global_concurrency(self) -> int | None:
        return None if self._is_legacy_partitioned() else self._concurrency

    @property
    def worker_concurrency(self) -> int | None:
        return self._worker_concurrency

    @property
    def limiter(self) -> QueueRateLimit | None:
        return self._limiter

    @property
    def partition_concurrency(self) -> int | None:
        return self._limits().partition_concurrency

    @property
    def partition_worker_concurrency(self) -> int | None:
        return self._limits().partition_worker_concurrency

    @property
    def partition_limiter(self) -> QueueRateLimit | None:
        return self._limiter if self._is_legacy_partitioned() else self._partition_limiter

    @property
    def priority_enabled(self) -> bool:
        return self._priority_enabled

    @property
    def partition_queue(self) -> bool:
        return self._partition_queue

    @property
    def polling_interval_sec(self) -> float:
        return self._polling_interval_sec

    async def get_concurrency_async(self) -> int | None:
        return self.concurrency

    async def get_global_concurrency_async(self) -> int | None:
        return self.global_concurrency

    async def get_worker_concurrency_async(self) -> int | None:
        return self.worker_concurrency

    async def get_limiter_async(self) -> QueueRateLimit | None:
        return self.limiter

    async def get_partition_concurrency_async(self) -> int | None:
        return self.partition_concurrency

    async def get_partition_worker_concurrency_async(self) -> int | None:
        return self.partition_worker_concurrency

    async def get_partition_limiter_async(self) -> QueueRateLimit | None:
        return self.partition_limiter

    async def get_priority_enabled_async(self) -> bool:
        return self.priority_enabled

    async def get_partition_queue_async(self) -> bool:
        return self.partition_queue

    async def get_polling_interval_sec_async(self) -> float:
        return self.polling_interval_sec

    # -- run-time changes (registered queues only, as in DBOS) ------------------------------------

    def _target(self) -> QueueConfig:
        from shim import _queues

        declared = _queues.registered(self.name)
        if declared is None or not declared._registered:
            raise DBOSException(f"Cannot configure queue {self.name}: dynamic configuration is only supported "
                                "for queues registered via DBOS.register_queue.")
        return declared

    def _not_legacy(self, field: str) -> None:
        if self._is_legacy_partitioned():
            raise DBOSException(
                f"Cannot set {field} on queue {self.name}: it is registered with the deprecated partition_queue "
                "option, under which concurrency, worker_concurrency, and limiter apply per partition. "
                "Re-register the queue with the partition_* limits instead.")

    def _change(self, check: Callable[[QueueConfig], None], **fields: Any) -> None:
        """Check the change against the declared queue, apply it there (and here), wake the dispatcher."""
        from shim import _queues

        target = self._target()
        check(target)
        for queue in {id(target): target, id(self): self}.values():
            for name, value in fields.items():
                setattr(queue, name, value)
        _queues._announce(self.name)

    def set_concurrency(self, value: int | None) -> None:
        self._change(lambda q: q._check_concurrency(value, None), _concurrency=value)

    def set_global_concurrency(self, value: int | None) -> None:
        self._change(lambda q: q._check_concurrency(value, "global_concurrency"), _concurrency=value)

    def _check_concurrency(self, value: int | None, field: str | None) -> None:
        if field is not None:
            self._not_legacy(field)
        if value is None:
            return
        if self._worker_concurrency is not None and self._worker_concurrency > value:
            raise ValueError("worker_concurrency must be less than or equal to concurrency")
        if self._partition_concurrency is not None and self._partition_concurrency > value:
            raise ValueError("partition_concurrency must be less than or equal to global_concurrency")

    def set_worker_concurrency(self, value: int | None) -> None:
        def check(q: QueueConfig) -> None:
            q._not_legacy("worker_concurrency")
            if value is None:
                return
            if q._concurrency is not None and value > q._concurrency:
                raise ValueError("worker_concurrency must be less than or equal to concurrency")
            if q._partition_worker_concurrency is not None and q._partition_worker_concurrency > value:
                raise ValueError("partition_worker_concurrency must be less than or equal to worker_concurrency")

        self._change(check, _worker_concurrency=value)

    def set_limiter(self, value: QueueRateLimit | None) -> None:
        _check_limiter(value, "limiter")
        self._change(lambda q: q._not_legacy("limiter"), _limiter=value)

    def set_partition_concurrency(self, value: int | None) -> None:
        if value is not None and value < 1:
            raise ValueError("partition_concurrency must be at least 1")

        def check(q: QueueConfig) -> None:
            q._not_legacy("partition_concurrency")
            if value is None:
                return
            if q._concurrency is not None and value > q._concurrency:
                raise ValueError("partition_concurrency must be less than or equal to global_concurrency")
            if q._partition_worker_concurrency is not None and q._partition_worker_concurrency > value:
                raise ValueError(
                    "partition_concurrency must be greater than or equal to partition_worker_concurrency")

        self._change(check, _partition_concurrency=value,
                     _partition_queue=self._target()._partitioned_after(_partition_concurrency=value))

    def set_partition_worker_concurrency(self, value: int | None) -> None:
        if value is not None and value < 1:
            raise ValueError("partition_worker_concurrency must be at least 1")

        def check(q: QueueConfig) -> None:
            q._not_legacy("partition_worker_concurrency")
            if value is None:
                return
            if q._partition_concurrency is not None and value > q._partition_concurrency:
                raise ValueError(
                    "partition_worker_concurrency must be less than or equal to partition_concurrency")
            if q._worker_concurrency is not None and value > q._worker_concurrency:
                raise ValueError("partition_worker_concurrency must be less than or equal to worker_concurrency")

        self._change(check, _partition_worker_concurrency=value,
                     _partition_queue=self._target()._partitioned_after(_partition_worker_concurrency=value))

    def set_partition_limiter(self, value: QueueRateLimit | None) -> None:
        _check_limiter(value, "partition_limiter")
        self._change(lambda q: q._not_legacy("partition_limiter"), _partition_limiter=value,
                     _partition_queue=self._target()._partitioned_after(_partition_limiter=value))

    def set_priority_enabled(self, value: bool) -> None:
        self._change(lambda q: None, _priority_enabled=value)

    def set_partition_queue(self, value: bool) -> None:
        def check(q: QueueConfig) -> None:
            if q._partitioned_after():
                raise DBOSException(f"Cannot set partition_queue on queue {self.name}: it is partitioned by its "
                                    "partition_* limits. Clear those instead.")

        self._change(check, _partition_queue=value)

    def set_polling_interval_sec(self, value: float) -> None:
        if value <= 0.0:
            raise ValueError("polling_interval_sec must be positive")
        self._change(lambda q: None, _polling_interval_sec=value)

    async def set_concurrency_async(self, value: int | None) -> None:
        self.set_concurrency(value)

    async def set_global_concurrency_async(self, value: int | None) -> None:
        self.set_global_concurrency(value)

    async def set_worker_concurrency_async(self, value: int | None) -> None:
        self.set_worker_concurrency(value)

    async def set_limiter_async(self, value: QueueRateLimit | None) -> None:
        self.set_limiter(value)

    async def set_partition_concurrency_async(self, value: int | None) -> None:
        self.set_partition_concurrency(value)

    async def set_partition_worker_concurrency_async(self, value: int | None) -> None:
        self.set_partition_worker_concurrency(value)

    async def set_partition_limiter_async(self, value: QueueRateLimit | None) -> None:
        self.set_partition_limiter(value)

    async def set_priority_enabled_async(self, value: bool) -> None:
        self.set_priority_enabled(value)

    async def set_partition_queue_async(self, value: bool) -> None:
        self.set_partition_queue(value)

    async def set_polling_interval_sec_async(self, value: float) -> None:
        self.set_polling_interval_sec(value)


__all__ = ["QueueConfig", "QueueRateLimit", "validate"]
