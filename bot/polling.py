"""Our own getUpdates loop: an update's offset is confirmed only after its work is done.

PTB's Updater confirms an update as soon as it is queued, so a crash mid-handling loses
it. Here each batch is processed (one chat's updates in order, chats in parallel), the
update ids are recorded as processed, and only then is the next offset asked for —
which is what tells Telegram to forget the batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
from collections import defaultdict
from typing import Any

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application

from bot.clock import Clock
from bot.health import Heartbeat
from bot.logs import current_update
from bot.notify.pacing import retry_after_seconds
from storage.database import Database

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 30.0
# How long stop() waits for the batch in hand; the whole stop must fit in 10 s.
STOP_GRACE_S = 2.5


class Poller:
    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        db: Database,
        clock: Clock,
        *,
        timeout: int = 10,
        limit: int = 100,
        ops_chat_id: int | None = None,
        heartbeat: Heartbeat | None = None,
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
        self.ops_chat_id = ops_chat_id
        self.heartbeat = heartbeat
        self._failing = False
        self._skipped: list[tuple[int | None, str]] = []

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="jiayuan-poller")

    async def stop(self) -> None:
        """Finish the batch in hand, then stop asking for more."""
        self._stopping.set()
        if self._task is None:
            return
        if not self._processing:
            self._task.cancel()
        try:
            # A batch in hand gets a few seconds to finish; a hung one is cut off, and a
            # loop that already died must not stop the rest of the shutdown.
            await asyncio.wait_for(asyncio.shield(self._task), STOP_GRACE_S)
        except TimeoutError:
            log.warning("the batch in hand did not finish in %.0fs; cancelled", STOP_GRACE_S)
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("the update loop had failed")
        self._task = None
        await self._confirm()

    async def _confirm(self) -> None:
        """Tell Telegram the last batch is done, so a restart does not fetch it again."""
        if self.offset is None:
            return
        try:
            await asyncio.wait_for(self._confirm_offset(), 0.8)
        except Exception as exc:
            log.warning("could not confirm the last offset: %s", exc)

    async def _confirm_offset(self) -> None:
        await self.app.bot._post("getUpdates", {"offset": self.offset, "timeout": 0, "limit": 1})

    async def run(self) -> None:
        """Fetch and handle until stopped; nothing but a refused token ends the loop.

        A loop that dies leaves a bot that looks alive (the outbox and the tick go on)
        but never reads another update, so every other failure is logged, noted once to
        the ops chat, backed off and survived.
        """
        backoff = 1.0
        while not self._stopping.is_set():
            try:
                await self._fetch_and_handle()
            except RetryAfter as exc:
                await asyncio.sleep(retry_after_seconds(exc.retry_after))
                continue
            except InvalidToken:
                log.error("the bot token was refused; stopping")
                raise
            except (TimedOut, NetworkError, Conflict) as exc:
                log.warning("getUpdates failed, retrying in %.0fs: %s", backoff, exc)
            except Exception as exc:
                log.exception("the update loop failed, retrying in %.0fs", backoff)
                if not self._failing:
                    self._failing = True
                    await self._note_ops(f"update loop failed, retrying: {exc!r}")
            else:
                backoff = 1.0
                self._failing = False
                continue
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)

    async def _fetch_and_handle(self) -> None:
        raw = await self._fetch_raw()
        if self.heartbeat is not None:
            self.heartbeat.fetched()
        if not raw:
            return
        updates, next_offset = self._parse(raw)
        # stop() does not cancel a batch in hand: it finishes before the offset moves.
        self._processing = True
        try:
            if updates:
                await self.process_batch(updates)
        finally:
            self._processing = False
        if next_offset is not None:
            self.offset = next_offset
        for bad_id, error in self._skipped:
            await self._note_ops(f"update_id={bad_id} skipped: cannot be parsed: {error}")
        self._skipped.clear()

    async def _fetch_raw(self) -> list[Any]:
        """getUpdates as JSON. PTB's get_updates parses the whole batch at once, so one
        update it cannot parse would fail every fetch of that batch, forever; ``_post`` is
        the call get_updates itself makes (same connection pool), minus the parsing."""
        params: dict[str, Any] = {
            "timeout": self.timeout,
            "limit": self.limit,
            "allowed_updates": list(Update.ALL_TYPES),
            "offset": self.offset,
        }
        result = await self.app.bot._post("getUpdates", params, read_timeout=self.timeout + 10)
        if not isinstance(result, list):
            raise TypeError(f"getUpdates returned {type(result).__name__}, not a list")
        return result

    def _parse(self, raw: list[Any]) -> tuple[list[Update], int | None]:
        """The updates PTB can read, and the offset past every one received."""
        updates: list[Update] = []
        highest: int | None = None
        for item in raw:
            update_id = item.get("update_id") if isinstance(item, dict) else None
            if not isinstance(update_id, int) or isinstance(update_id, bool):
                log.error("skipped an update without an integer update_id: %.200r", item)
                self._skipped.append((None, "no integer update_id"))
                continue
            highest = update_id if highest is None else max(highest, update_id)
            try:
                updates.append(Update.de_json(item, self.app.bot))
            except Exception as exc:
                log.error("update_id=%s skipped: cannot be parsed: %r", update_id, exc)
                self._skipped.append((update_id, repr(exc)))
        return updates, None if highest is None else highest + 1

    async def _note_ops(self, text: str) -> None:
        if self.ops_chat_id is None:
            return
        try:
            await self.app.bot.send_message(
                self.ops_chat_id, f"<code>{html.escape(text)[:3500]}</code>"
            )
        except Exception as exc:
            log.warning("could not tell the ops chat: %s", exc)

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
