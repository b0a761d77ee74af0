"""Bot API method implementations, one module per area, looked up by canonical name.

Each implementation receives a :class:`Call` whose parameters were already checked and
coerced against the spec, and returns the ``result`` value (or raises ``ApiError``).
Methods in the spec without an implementation here go to :func:`generic.call_generic`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.errors import too_many_requests
from bot.sandbox.flood import FloodControl
from bot.sandbox.records import ChatRecord
from bot.sandbox.spec import ApiSpec, MethodSpec, Upload
from bot.sandbox.world import World


@dataclass
class Call:
    """One Bot API request being served."""

    world: World
    flood: FloodControl
    spec: ApiSpec
    method: MethodSpec
    params: dict[str, Any]
    uploads: dict[str, Upload]
    stopping: asyncio.Event
    max_poll_timeout: float
    notable: bool = field(default=False)  # a getUpdates that delivered or confirmed updates

    def chat(self) -> ChatRecord:
        """Resolve ``chat_id`` (400/403 as Telegram would)."""
        return self.world.chat_for_bot(self.params["chat_id"])

    def writable_chat(self) -> ChatRecord:
        """Resolve ``chat_id`` and check that the bot may post there."""
        chat = self.chat()
        self.world.check_bot_can_write(chat)
        return chat

    def throttle(self, chat: ChatRecord, count: int = 1) -> None:
        """Apply flood control to ``count`` new messages in ``chat``."""
        retry_after = self.flood.check(chat.id, chat.is_group, count)
        if retry_after is not None:
            raise too_many_requests(retry_after)


Handler = Callable[[Call], Any]


def handlers() -> dict[str, Handler]:
    """Return every implemented method by canonical name."""
    # Imported here so each area module can import Call from this package.
    from bot.sandbox.methods import account, callbacks, chats, messages, polling

    table: dict[str, Handler] = {}
    for module in (account, callbacks, chats, messages, polling):
        table.update(module.HANDLERS)
    return table
