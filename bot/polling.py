"""Our own getUpdates loop: every update is stored in the inbox before its offset moves.

PTB's Updater confirms an update as soon as it is queued in memory, so a crash loses it.
Here each batch is written to the durable inbox (storage/inbox.py) in one statement, and
only then is the next offset asked for — which is what tells Telegram to forget the
batch. Handling is the workers' (bot/workers.py), so a slow chat never holds up fetching.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application

from bot.clock import Clock
from bot.health import Heartbeat
from bot.notify.pacing import retry_after_seconds
from bot.workers import note_ops, receive, set_aside_note, store
from storage.availability import RETRY_MAX_S, unavailable
from storage.database import Database

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 30.0
# How long stop() waits for the batch in hand to be stored; the whole stop fits in 10 s.
STOP_GRACE_S = 0.8


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
        on_stored: Callable[[], None] | None = None,
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
        # Wakes this process's workers for what was just stored.
        self.on_stored = on_stored

    def start(self) -> None:
        # A poller may be started again after a stop (leadership lost, then regained).
        self._stopping = asyncio.Event()
        self._task = asyncio.create_task(self.run(), name="jiayuan-poller")

    async def stop(self) -> None:
        """Store the batch in hand, then stop asking for more."""
        self._stopping.set()
        if self._task is None:
            return
        if not self._processing:
            self._task.cancel()
        try:
            # A batch in hand gets a moment to be stored; a hung store is cut off, and a
            # loop that already died must not stop the rest of the shutdown.
            await asyncio.wait_for(asyncio.shield(self._task), STOP_GRACE_S)
        except TimeoutError:
            log.warning("the batch in hand was not stored in %.1fs; cancelled", STOP_GRACE_S)
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
        """Tell Telegram the last batch is stored, so a restart does not fetch it again."""
        if self.offset is None:
            return
        try:
            await asyncio.wait_for(self._confirm_offset(), 0.8)
        except Exception as exc:
            log.warning("could not confirm the last offset: %s", exc)

    async def _confirm_offset(self) -> None:
        await self.app.bot._post("getUpdates", {"offset": self.offset, "timeout": 0, "limit": 1})

    async def run(self) -> None:
        """Fetch and store until stopped; nothing but a refused token ends the loop.

        A loop that dies leaves a bot that looks alive (the outbox and the tick go on)
        but never reads another update, so every other failure is logged, noted once to
        the ops chat, backed off and survived.
        """
        backoff = 1.0
        while not self._stopping.is_set():
            try:
                await self._fetch_and_store()
            except RetryAfter as exc:
                await asyncio.sleep(retry_after_seconds(exc.retry_after))
                continue
            except InvalidToken:
                log.error("the bot token was refused; stopping")
                raise
            except (TimedOut, NetworkError, Conflict) as exc:
                log.warning("getUpdates failed, retrying in %.0fs: %s", backoff, exc)
            except Exception as exc:
                if unavailable(exc):
                    # Nothing was confirmed, so Telegram keeps the batch; try again soon,
                    # since each try already waits for the database (pool or busy timeout).
                    backoff = min(backoff, RETRY_MAX_S)
                    log.warning(
                        "the database is unavailable; the updates wait at Telegram,"
                        " retrying in %.0fs: %s",
                        backoff,
                        exc,
                    )
                    note = f"database unavailable, updates wait at Telegram: {exc!r}"
                else:
                    log.exception("the update loop failed, retrying in %.0fs", backoff)
                    note = f"update loop failed, retrying: {exc!r}"
                if not self._failing:
                    self._failing = True
                    await note_ops(self.app.bot, self.ops_chat_id, note)
            else:
                backoff = 1.0
                self._failing = False
                continue
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)

    async def _fetch_and_store(self) -> None:
        raw = await self._fetch_raw()
        if self.heartbeat is not None:
            self.heartbeat.fetched()
        if not raw:
            return
        batch = [receive(item, self.app.bot) for item in raw]
        # stop() does not cancel a batch in hand: it is stored before the offset moves.
        self._processing = True
        try:
            await store(self.db, batch, self.clock.now())
        finally:
            self._processing = False
        ids = [u.update_id for u in batch if u.update_id is not None]
        if ids:
            self.offset = max(ids) + 1
        if self.on_stored is not None:
            self.on_stored()
        for item in batch:
            if item.error is not None:
                await note_ops(self.app.bot, self.ops_chat_id, set_aside_note(item))

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
