"""Fault injection: make chosen Bot API calls fail or hang, to test retries and outboxes.

``sandbox.faults.add(method="sendMessage", status=502, count=2)`` makes the next two
sendMessage calls answer 502 with Telegram's JSON error shape; ``kind="timeout"`` holds the
reply for ``delay`` seconds, longer than the client waits. A timed-out request has, by
default, already taken effect (``processed=True``): that is the hard case in production,
where the client cannot tell whether Telegram delivered the message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

FaultKind = Literal["http", "timeout"]


@dataclass(slots=True)
class Fault:
    """One armed fault; ``remaining`` counts the calls it will still affect."""

    method: str | None
    status: int
    remaining: int
    delay: float
    kind: FaultKind
    processed: bool
    description: str | None
    retry_after: int | None

    def matches(self, method: str) -> bool:
        """Return True if this fault applies to a call of ``method``."""
        return self.remaining > 0 and (
            self.method is None or self.method.lower() == method.lower()
        )


@dataclass
class FaultInjector:
    """The armed faults, consumed in the order they were added."""

    _faults: list[Fault] = field(default_factory=list)

    def add(
        self,
        method: str | None = None,
        status: int = 500,
        count: int = 1,
        delay: float = 0.0,
        kind: FaultKind = "http",
        *,
        processed: bool = True,
        description: str | None = None,
        retry_after: int | None = None,
    ) -> Fault:
        """Arm a fault for the next ``count`` calls of ``method`` (None: any method).

        ``kind="http"`` answers ``status`` (after ``delay`` seconds, if given) without
        doing anything; ``retry_after`` adds ``parameters.retry_after`` (for 429s).
        ``kind="timeout"`` runs the call (unless ``processed=False``, then answers
        ``status`` instead) but replies only after ``delay`` seconds (default 30).
        """
        if count < 1:
            raise ValueError("count must be at least 1")
        if kind not in ("http", "timeout"):
            raise ValueError(f"unknown fault kind {kind!r}")
        if kind == "timeout" and delay <= 0:
            delay = 30.0
        fault = Fault(
            method=method,
            status=status,
            remaining=count,
            delay=delay,
            kind=kind,
            processed=processed,
            description=description,
            retry_after=retry_after,
        )
        self._faults.append(fault)
        return fault

    def take(self, method: str) -> Fault | None:
        """Consume one use of the first fault matching ``method``, if any."""
        for fault in self._faults:
            if fault.matches(method):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        """Disarm every fault."""
        self._faults.clear()

    @property
    def pending(self) -> list[Fault]:
        """The faults still armed, in order."""
        return list(self._faults)
