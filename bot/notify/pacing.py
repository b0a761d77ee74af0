"""Telegram's sending limits, kept on our side so that 429s stay rare."""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    overall_per_s: float = 30.0
    per_chat_interval_s: float = 1.0
    per_group_per_minute: int = 20


class Pacer:
    """Decides when the next message to a chat may go, from what was sent recently."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._last_by_chat: dict[int, float] = {}
        self._group_window: dict[int, deque[float]] = defaultdict(deque)
        self._overall: deque[float] = deque()

    def ready_at(self, chat_id: int, now: float, *, per_chat: bool = True) -> float:
        """The earliest monotonic time a message to ``chat_id`` may be sent.

        ``per_chat=False`` leaves out the one-a-second spacing within a chat (a Telegram
        hold after a 429 still counts).
        """
        at = now
        last = self._last_by_chat.get(chat_id)
        if last is not None and (per_chat or last > now):
            at = max(at, last + self.limits.per_chat_interval_s)
        if chat_id < 0:
            window = self._trim(self._group_window[chat_id], now, 60.0)
            if len(window) >= self.limits.per_group_per_minute:
                at = max(at, window[0] + 60.0)
        overall = self._trim(self._overall, now, 1.0)
        if len(overall) >= self.limits.overall_per_s:
            at = max(at, overall[0] + 1.0)
        return at

    def sent(self, chat_id: int, now: float) -> None:
        self._last_by_chat[chat_id] = now
        if chat_id < 0:
            self._group_window[chat_id].append(now)
        self._overall.append(now)

    def hold(self, chat_id: int, until: float) -> None:
        """Telegram said wait: remember it for this chat."""
        self._last_by_chat[chat_id] = until - self.limits.per_chat_interval_s

    @staticmethod
    def _trim(window: deque[float], now: float, span: float) -> deque[float]:
        while window and window[0] <= now - span:
            window.popleft()
        return window


def retry_after_seconds(value: object) -> float:
    """``RetryAfter.retry_after`` in seconds, whether PTB gives an int or a timedelta."""
    total = getattr(value, "total_seconds", None)
    return float(total()) if callable(total) else float(value)  # type: ignore[arg-type]
