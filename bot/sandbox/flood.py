"""Flood control: Telegram's sending limits, answered with 429 and ``retry_after``.

Telegram publishes rough numbers rather than an algorithm: about one message per second
to one chat (short bursts pass), at most 20 messages per minute to one group, and about 30
messages per second overall. The model here: a token bucket per private chat and one
overall (rate plus burst), and a sliding 60-second window per group, whose oldest entry
tells the caller exactly how long to wait. Only messages count (``send*``, forward, copy);
edits, answers and chat actions do not, so a normal flow is not punished for them.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class FloodLimits:
    """Sending limits; ``FloodLimits.off()`` disables them for tests that don't care."""

    enabled: bool = True
    chat_per_second: float = 1.0  # sustained rate to one private chat
    chat_burst: int = 10  # messages one private chat accepts at once before throttling
    group_per_minute: int = 20  # per group/supergroup/channel, sliding 60 s window
    global_per_second: float = 30.0
    global_burst: int = 30

    @classmethod
    def off(cls) -> FloodLimits:
        """Return limits that never refuse anything."""
        return cls(enabled=False)


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


@dataclass
class FloodControl:
    """Decides whether one more message may go out now, or how long to wait."""

    limits: FloodLimits = field(default_factory=FloodLimits)
    now: Callable[[], float] = time.monotonic
    _chats: dict[int, _Bucket] = field(default_factory=dict)
    _groups: dict[int, deque[float]] = field(default_factory=dict)
    _global: _Bucket | None = None

    def reset(self) -> None:
        """Forget all past sends (a fresh minute for every chat)."""
        self._chats.clear()
        self._groups.clear()
        self._global = None

    def check(self, chat_id: int, is_group: bool, count: int = 1) -> int | None:
        """Record ``count`` messages to ``chat_id`` and return None, or return retry_after.

        A refused attempt consumes nothing, like Telegram, so a client that waits the
        announced time gets through.
        """
        if not self.limits.enabled:
            return None
        now = self.now()
        waits = [self._global_wait(now, count)]
        if is_group:
            waits.append(self._group_wait(chat_id, now, count))
        else:
            waits.append(self._chat_wait(chat_id, now, count))
        worst = max(waits)
        if worst > 0:
            return max(1, math.ceil(worst))
        self._take_global(count)
        if is_group:
            self._groups[chat_id].extend([now] * count)
        else:
            self._chats[chat_id].tokens -= count
        return None

    def _refill(self, bucket: _Bucket, rate: float, burst: int, now: float) -> None:
        bucket.tokens = min(float(burst), bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now

    def _global_wait(self, now: float, count: int) -> float:
        limits = self.limits
        if self._global is None:
            self._global = _Bucket(tokens=float(limits.global_burst), updated=now)
        self._refill(self._global, limits.global_per_second, limits.global_burst, now)
        return _deficit(self._global.tokens, count, limits.global_per_second)

    def _take_global(self, count: int) -> None:
        if self._global is not None:
            self._global.tokens -= count

    def _chat_wait(self, chat_id: int, now: float, count: int) -> float:
        limits = self.limits
        bucket = self._chats.setdefault(
            chat_id, _Bucket(tokens=float(limits.chat_burst), updated=now)
        )
        self._refill(bucket, limits.chat_per_second, limits.chat_burst, now)
        return _deficit(bucket.tokens, count, limits.chat_per_second)

    def _group_wait(self, chat_id: int, now: float, count: int) -> float:
        window = self._groups.setdefault(chat_id, deque())
        while window and window[0] <= now - 60.0:
            window.popleft()
        overflow = len(window) + count - self.limits.group_per_minute
        if overflow <= 0:
            return 0.0
        if overflow > len(window):
            return 60.0
        # The send becomes possible when the overflow-th oldest entry leaves the window.
        return window[overflow - 1] + 60.0 - now


def _deficit(tokens: float, count: int, rate: float) -> float:
    missing = count - tokens
    if missing <= 1e-9:
        return 0.0
    return missing / rate if rate > 0 else 3600.0
