"""Paces the bot's direct replies with the same budget the outbox spends.

Telegram counts messages against a bot's limits (about 30 a second overall, 20 a minute
in a group), not edits, chat actions or callback answers. PTB's ``AIORateLimiter``
charges every request that names a chat, so a report step's edit and its reply cost two
tokens, and it keeps its own budget beside the outbox's: together they could send 60 a
second. This limiter meters only what Telegram counts and draws on the outbox's
``Pacer``, so replies and notifications share one budget.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.notify.budget import Budget, MemoryBudget, wait_turn
from bot.notify.pacing import Pacer, retry_after_seconds

log = logging.getLogger(__name__)

# The Bot API methods that post a message (Telegram's flood limits count these).
METERED_ENDPOINTS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendMediaGroup",
        "sendLocation",
        "sendVenue",
        "sendContact",
        "sendAudio",
        "sendVideo",
        "sendVoice",
        "sendAnimation",
        "sendSticker",
        "sendPoll",
        "sendDice",
        "copyMessage",
        "copyMessages",
        "forwardMessage",
        "forwardMessages",
    }
)

# Passed as ``rate_limit_args`` by a caller that has paced the request itself.
ALREADY_PACED = {"paced": True}

Result = bool | dict[str, Any] | list[dict[str, Any]]


class SharedRateLimiter(BaseRateLimiter[dict[str, Any]]):
    def __init__(
        self, pacer: Pacer, *, max_retries: int = 2, budget: Budget | None = None
    ) -> None:
        self.pacer = pacer
        # The pacer in memory, or the budget in the database the processes share.
        self.budget: Budget = budget or MemoryBudget(pacer)
        self.max_retries = max_retries

    async def initialize(self) -> None:
        """Nothing to open: the pacer is plain bookkeeping."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> Result:
        if (rate_limit_args or {}).get("paced"):
            # The outbox paced it and handles a 429 itself, by postponing the item.
            return await callback(*args, **kwargs)
        chat_id = data.get("chat_id")
        metered = endpoint in METERED_ENDPOINTS and isinstance(chat_id, int)
        attempt = 0
        while True:
            if metered and isinstance(chat_id, int):
                await self._wait_turn(chat_id)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if attempt >= self.max_retries or not isinstance(chat_id, int):
                    raise
                attempt += 1
                delay = retry_after_seconds(exc.retry_after)
                await self.budget.hold(chat_id, delay)
                log.info("flood wait %s chat_id=%s retry_after=%s", endpoint, chat_id, delay)
                await asyncio.sleep(delay)

    async def _wait_turn(self, chat_id: int) -> None:
        """Sleep until the shared budget allows a message to ``chat_id``, then spend it."""
        # A reply in a private chat answers the user's own message: Telegram's
        # one-a-second guidance is for unsolicited messages, so only groups keep it.
        await wait_turn(self.budget, chat_id, per_chat=chat_id < 0)
