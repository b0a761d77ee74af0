"""The sending budget of one bot: in memory for one process, in the database for several.

Telegram's limits (about 30 messages a second per bot, 20 a minute per group, about one a
second per chat) belong to the token, not to a process. One process paces itself with a
``Pacer``; processes sharing a PostgreSQL database take send slots from it
(storage/send_slots.py), so three processes together still send 30 a second, not 90.
"""

from __future__ import annotations

import asyncio
import math
from typing import Protocol

from bot.notify.pacing import Limits, Pacer
from storage.database import Database


class Budget(Protocol):
    limits: Limits

    async def try_send(self, chat_id: int, *, per_chat: bool = True) -> float:
        """Spend a message to ``chat_id`` if allowed now (0.0), else the seconds to wait.

        ``per_chat=False`` leaves out the one-a-second spacing of a private chat (a reply
        answers the user's own message); groups always keep theirs.
        """

    async def hold(self, chat_id: int, seconds: float) -> None:
        """Telegram said wait (a 429): nothing more to this chat for ``seconds``."""


class MemoryBudget:
    """One process's budget: the ``Pacer`` on the event loop's clock."""

    def __init__(self, pacer: Pacer) -> None:
        self.pacer = pacer
        self.limits = pacer.limits

    async def try_send(self, chat_id: int, *, per_chat: bool = True) -> float:
        now = asyncio.get_running_loop().time()
        ready = self.pacer.ready_at(chat_id, now, per_chat=per_chat)
        if ready > now:
            return ready - now
        self.pacer.sent(chat_id, now)
        return 0.0

    async def hold(self, chat_id: int, seconds: float) -> None:
        self.pacer.hold(chat_id, asyncio.get_running_loop().time() + seconds)


class _NotYet(Exception):
    def __init__(self, wait: float) -> None:
        self.wait = wait


class SharedBudget:
    """The budget every process of the bot draws on, as send slots in the database.

    A group may send 10 at once and then one every 6 s, so no minute holds more than 20
    (Telegram's limit); a private chat one a second; the bot one every 1/30 s. A 429's
    hold is a key of its own, which replies respect too. Turns are taken chat first, then
    the bot's; when the bot's is not free yet the chat's is given back (the transaction
    rolls back), so no turn is wasted.
    """

    def __init__(self, db: Database, limits: Limits | None = None) -> None:
        self.db = db
        self.limits = limits or Limits()

    def _chat_turns(self, chat_id: int) -> tuple[float, int]:
        """(spacing, burst) of a chat's turns. A group may take half its minute's 20 at
        once and the rest spread out, so no 60 s window ever holds more than 20."""
        if chat_id < 0:
            half = max(self.limits.per_group_per_minute // 2, 1)
            spacing = 60.0 / max(self.limits.per_group_per_minute - half, 1)
            return max(spacing, self.limits.per_chat_interval_s), half
        return self.limits.per_chat_interval_s, 1

    async def try_send(self, chat_id: int, *, per_chat: bool = True) -> float:
        try:
            async with self.db.claim() as tx:
                if wait := await tx.send_slots.wait_for(f"hold:{chat_id}"):
                    raise _NotYet(wait)
                if per_chat or chat_id < 0:
                    spacing, burst = self._chat_turns(chat_id)
                    key = f"chat:{chat_id}"
                    if spacing > 0 and (wait := await tx.send_slots.take(key, spacing, burst)):
                        raise _NotYet(wait)
                if 0 < self.limits.overall_per_s < math.inf:
                    wait = await tx.send_slots.take("all", 1.0 / self.limits.overall_per_s)
                    if wait:
                        raise _NotYet(wait)
        except _NotYet as not_yet:
            return not_yet.wait
        return 0.0

    async def hold(self, chat_id: int, seconds: float) -> None:
        async with self.db.claim() as tx:
            await tx.send_slots.hold(f"hold:{chat_id}", seconds)


async def wait_turn(budget: Budget, chat_id: int, *, per_chat: bool = True) -> None:
    """Sleep until a message to ``chat_id`` may go, and spend it."""
    while True:
        wait = await budget.try_send(chat_id, per_chat=per_chat)
        if not wait:
            return
        await asyncio.sleep(wait)
