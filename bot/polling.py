"""Our own getUpdates loop: an update's offset is confirmed only after its work is done.

PTB's Updater confirms an update as soon as it is queued, so a crash mid-handling loses
it. Here each batch is processed (one chat's updates in order, chats in parallel), the
update ids are recorded as processed, and only then is the next offset asked for —
which is what tells Telegram to forget the batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from typing import Any

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application

from bot.clock import Clock
from bot.logs import current_update
from bot.notify.pacing import retry_after_seconds
from storage.database import Database

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 30.0


class Poller:
    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        db: Database,
        clock: Clock,
        *,
        timeout: int = 10,
        limit: int = 100,
    ) -> None:
        self.app = application
        self.db = db
        self.clock = clock
        self.timeout = timeout
        self.limit = limit
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._processing = False
        self.offset: int | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="jiayuan-poller")

    async def stop(self) -> None:
        """Finish the batch in hand, then stop asking for more."""
        self._stopping.set()
        if self._task is None:
            return
        if not self._processing:
            self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        await self._confirm()

    async def _confirm(self) -> None:
        """Tell Telegram the last batch is done, so a restart does not fetch it again."""
        if self.offset is None:
            return
        try:
            await self.app.bot.get_updates(offset=self.offset, timeout=0, limit=1)
        except Exception as exc:
            log.warning("could not confirm the last offset: %s", exc)

    async def run(self) -> None:
        backoff = 1.0
        while not self._stopping.is_set():
            try:
                updates = await self.app.bot.get_updates(
                    offset=self.offset,
                    timeout=self.timeout,
                    limit=self.limit,
                    allowed_updates=Update.ALL_TYPES,
                    read_timeout=self.timeout + 10,
                )
                backoff = 1.0
            except RetryAfter as exc:
                await asyncio.sleep(retry_after_seconds(exc.retry_after))
                continue
            except (TimedOut, NetworkError, Conflict) as exc:
                log.warning("getUpdates failed, retrying in %.0fs: %s", backoff, exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
                continue
            except InvalidToken:
                log.error("the bot token was refused; stopping")
                raise
            if not updates:
                continue
            # stop() does not cancel a batch in hand: it finishes before the offset moves.
            self._processing = True
            try:
                await self.process_batch(updates)
            finally:
                self._processing = False
            self.offset = updates[-1].update_id + 1

    async def process_batch(self, updates: list[Update]) -> None:
        async with self.db.read() as tx:
            seen = await tx.updates.seen_among([u.update_id for u in updates])
        by_chat: dict[int, list[Update]] = defaultdict(list)
        for update in updates:
            if update.update_id in seen:
                log.info("update_id=%s already processed; skipped", update.update_id)
                continue
            chat = update.effective_chat
            user = update.effective_user
            key = chat.id if chat else (user.id if user else 0)
            by_chat[key].append(update)
        await asyncio.gather(*(self._process_in_order(batch) for batch in by_chat.values()))

    async def _process_in_order(self, updates: list[Update]) -> None:
        for update in updates:
            await process_once(self.app, self.db, self.clock, update, checked=True)


async def process_once(
    application: Application[Any, Any, Any, Any, Any, Any],
    db: Database,
    clock: Clock,
    update: Update,
    *,
    checked: bool = False,
) -> bool:
    """Handle an update unless it was handled before; True if it ran now.

    ``checked``: the caller already looked the update up in the processed log.
    """
    if not checked:
        async with db.read() as tx:
            if await tx.updates.seen(update.update_id):
                log.info("update_id=%s already processed; skipped", update.update_id)
                return False
    user, chat = update.effective_user, update.effective_chat
    token = current_update.set(
        f"update_id={update.update_id} user_id={user.id if user else None} "
        f"chat_id={chat.id if chat else None}"
    )
    try:
        # PTB's process_update routes handler exceptions to the error handler.
        await application.process_update(update)
    finally:
        current_update.reset(token)
    async with db.autocommit() as tx:
        await tx.updates.mark(update.update_id, clock.now())
    return True
