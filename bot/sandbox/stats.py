"""Request statistics: how often each method was called and how each call was answered."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Stats:
    """Counters per method, per HTTP status, and per (method, status)."""

    calls: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    by_method: Counter[tuple[str, int]] = field(default_factory=Counter)

    def record(self, method: str, status: int) -> None:
        """Count one answered call of ``method`` with HTTP ``status``."""
        self.calls[method] += 1
        self.statuses[status] += 1
        self.by_method[(method, status)] += 1

    def count(self, method: str | None = None, status: int | None = None) -> int:
        """Return how many calls matched ``method`` and/or ``status`` (None: any)."""
        if method is None and status is None:
            return sum(self.calls.values())
        if method is None:
            return self.statuses[status] if status is not None else 0
        if status is None:
            return self.calls[method]
        return self.by_method[(method, status)]

    @property
    def too_many_requests(self) -> int:
        """How many calls were refused by flood control (or an injected 429)."""
        return self.statuses[429]

    def reset(self) -> None:
        """Zero every counter."""
        self.calls.clear()
        self.statuses.clear()
        self.by_method.clear()
