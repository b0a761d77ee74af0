"""The one clock the bot reads: real time, or time that starts at a chosen instant.

Tests and demos start it anywhere (``JIAYUAN_NOW``); it then runs at normal speed, so
the monthly calendar can be shown without waiting for the 18th.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


class Clock:
    """Aware UTC time; optionally offset so that 'now' began at a chosen instant."""

    def __init__(self, start: datetime | None = None) -> None:
        self._offset = timedelta(0)
        if start is not None:
            self.set(start)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def set(self, instant: datetime) -> None:
        """Jump to ``instant`` and keep running from there."""
        if instant.tzinfo is None:
            raise ValueError("the clock needs an aware datetime")
        self._offset = instant.astimezone(UTC) - datetime.now(UTC)

    def advance(self, delta: timedelta) -> None:
        self._offset += delta

    def monotonic(self) -> float:
        return time.monotonic()


def wall_now() -> datetime:
    """Real UTC time, for leases: every process must agree on them, and ``Clock`` may be
    shifted (JIAYUAN_NOW) or moved on by tests."""
    return datetime.now(UTC)
