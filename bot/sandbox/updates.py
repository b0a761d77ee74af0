"""The bot's update queue with Telegram's getUpdates semantics.

* Updates stay queued until confirmed: a getUpdates call with ``offset`` confirms (and
  forgets forever) every update whose id is lower; unconfirmed ones are re-delivered on
  every call. A negative offset keeps only the last ``-offset`` updates.
* ``allowed_updates`` is remembered between calls and filters updates when they are
  *created*, which is why Telegram warns that it "doesn't affect updates created before the
  call": those are delivered whatever their type.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from bot.sandbox.changes import ChangeSignal

logger = logging.getLogger(__name__)

UPDATE_TYPES = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "guest_message",
    "message_reaction",
    "message_reaction_count",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "purchased_paid_media",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
    "managed_bot",
)
# What an empty or never-set allowed_updates means, per the getUpdates documentation.
DEFAULT_ALLOWED = frozenset(UPDATE_TYPES) - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}


class UpdateQueue:
    """Pending updates in order, with offsets, filtering and wake-ups for long polls."""

    def __init__(self, signal: ChangeSignal, first_update_id: int = 1) -> None:
        self._signal = signal
        self._pending: list[dict[str, Any]] = []
        self._next_id = first_update_id
        self.allowed: frozenset[str] = DEFAULT_ALLOWED
        self.dropped_by_filter = 0
        self.poll_generation = 0  # bumped by each getUpdates; older long polls give up

    def enqueue(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """Queue an update of ``kind`` (a snapshot of ``payload``); None if filtered out."""
        if kind not in self.allowed:
            self.dropped_by_filter += 1
            logger.debug("update dropped by allowed_updates kind=%s", kind)
            return None
        update = {"update_id": self._next_id, kind: copy.deepcopy(payload)}
        self._next_id += 1
        self._pending.append(update)
        self._signal.notify()
        return update

    def enqueue_raw(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Queue an update made of ``fields`` as given, with the next update_id unless
        ``fields`` sets one: for malformed updates a client library may fail to parse (a
        field of the wrong type, a message without ``date``). Not filtered by
        ``allowed_updates``, since its kind may be unreadable too."""
        update = {"update_id": self._next_id, **copy.deepcopy(fields)}
        self._next_id += 1
        self._pending.append(update)
        self._signal.notify()
        return update

    def set_allowed(self, allowed: list[str] | None) -> None:
        """Apply a getUpdates/setWebhook ``allowed_updates`` (None keeps the last one)."""
        if allowed is None:
            return
        chosen = frozenset(a for a in allowed if a in UPDATE_TYPES)
        self.allowed = chosen or DEFAULT_ALLOWED

    def confirm(self, offset: int) -> int:
        """Apply a getUpdates ``offset``; return how many updates were forgotten."""
        before = len(self._pending)
        if offset > 0:
            # A raw update with a non-integer id (enqueue_raw) goes with any confirmation.
            self._pending = [
                u
                for u in self._pending
                if isinstance(u["update_id"], int) and u["update_id"] >= offset
            ]
        elif offset < 0:
            self._pending = self._pending[offset:]
        forgotten = before - len(self._pending)
        if forgotten:
            self._signal.notify()
        return forgotten

    def peek(self, limit: int) -> list[dict[str, Any]]:
        """Return up to ``limit`` unconfirmed updates, oldest first (copies)."""
        return copy.deepcopy(self._pending[:limit])

    def clear(self) -> int:
        """Drop every pending update (deleteWebhook with drop_pending_updates)."""
        dropped = len(self._pending)
        self._pending.clear()
        self._signal.notify()
        return dropped

    @property
    def pending_count(self) -> int:
        """How many updates await confirmation."""
        return len(self._pending)

    @property
    def pending(self) -> list[dict[str, Any]]:
        """The unconfirmed updates (copies), oldest first."""
        return copy.deepcopy(self._pending)
