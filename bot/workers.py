"""Workers: handle the updates the inbox holds, a chat at a time, many chats at once.

Receiving and handling are apart. The poller and the webhook only store what arrives
(``store``) and wake the workers; each worker claims the oldest update of a chat that has
nothing in flight (storage/inbox.py), handles it through PTB's ``process_update`` while
renewing its lease, and records it done with its processed-update key in one transaction.
A worker that dies leaves its update to be taken over when the lease runs out; an update
that cannot be parsed, or keeps failing, is set aside with its error and a note to the ops
chat, never blocking its chat or the bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import logging
import os
import secrets
import socket
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from telegram import Bot, Update
from telegram.ext import Application

from bot.clock import Clock, wall_now
from bot.logs import current_update
from storage.availability import RETRY_MAX_S, unavailable
from storage.database import Database
from storage.inbox import MAX_ATTEMPTS, Claimed, Incoming

log = logging.getLogger(__name__)

WORKERS = 4
LEASE_S = 30.0
RENEW_S = 10.0
# How often an idle process looks for work stored by another process, or left behind by
# a dead worker; updates this process stores wake its workers at once.
IDLE_S = 0.2
# How long stop() lets the updates in hand finish; the whole stop fits in 10 s.
STOP_GRACE_S = 1.2
# Between tries to record an update handled while the database went away: soon after it
# is back, before the update's lease may have run out and another worker run it again.
RECORD_RETRY_S = 0.5


def process_name() -> str:
    """A name for this process's lease holders, unique across hosts and restarts."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def chat_key(update: Update) -> str:
    """The chat whose updates must be handled in order: the chat, else the user."""
    if update.effective_chat is not None:
        return str(update.effective_chat.id)
    if update.effective_user is not None:
        return f"u:{update.effective_user.id}"
    return "none"


def receive(raw: Any, bot: Bot) -> Incoming:
    """An update as Telegram sent it, read just far enough to file it: its id, its chat,
    and whether the library can parse it at all (if not, it is stored set aside)."""
    payload = json.dumps(raw, ensure_ascii=False)
    update_id = raw.get("update_id") if isinstance(raw, dict) else None
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        return Incoming(None, "none", payload, "no integer update_id")
    try:
        update = Update.de_json(raw, bot)
    except Exception as exc:
        return Incoming(update_id, "none", payload, f"cannot be parsed: {exc!r}")
    return Incoming(update_id, chat_key(update), payload)


async def store(db: Database, updates: Sequence[Incoming], now: datetime) -> None:
    """Store what arrived, once, before Telegram is told it arrived."""
    async with db.claim() as tx:
        await tx.inbox.store_batch(updates, now)
    for item in updates:
        if item.error is not None:
            log.error("update_id=%s set aside: %s", item.update_id, item.error)


def set_aside_note(item: Incoming) -> str:
    return f"update_id={item.update_id} set aside: {item.error}"


async def note_ops(bot: Bot, chat_id: int | None, text: str) -> None:
    """A short note to the ops chat; failing to send it must not stop anything."""
    if chat_id is None:
        return
    try:
        await bot.send_message(chat_id, f"<code>{html.escape(text)[:3500]}</code>")
    except Exception as exc:
        log.warning("could not tell the ops chat: %s", exc)


class Workers:
    """``count`` workers over the inbox, and a watcher that wakes them for work they
    were not told about (another process's, or a lease that ran out)."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        db: Database,
        clock: Clock,
        *,
        count: int = WORKERS,
        name: str | None = None,
        lease_s: float = LEASE_S,
        renew_s: float | None = None,
        idle_s: float = IDLE_S,
        ops_chat_id: int | None = None,
    ) -> None:
        if count < 1:
            raise ValueError("at least one worker is needed")
        self.app = application
        self.db = db
        self.clock = clock
        self.count = count
        self.name = name or process_name()
        self.lease_s = lease_s
        # Renewed well before it runs out, however short a test makes it.
        self.renew_s = renew_s if renew_s is not None else min(RENEW_S, lease_s / 3)
        self.idle_s = idle_s
        self.ops_chat_id = ops_chat_id
        # Set when updates were stored (by this process) or found claimable.
        self.ready = asyncio.Event()
        self.tasks: dict[str, asyncio.Task[None]] = {}
        # What each worker has in hand, so that stop() can hand it back.
        self.holding: dict[str, Claimed] = {}
        self._watcher: asyncio.Task[None] | None = None
        self._stopping = False
        self._spawned = 0

    def start(self) -> None:
        for _ in range(self.count):
            self._spawn()
        self._watcher = asyncio.create_task(self._watch(), name="jiayuan-inbox-watch")

    def _spawn(self) -> None:
        self._spawned += 1
        worker = f"{self.name}/{self._spawned}"
        task = asyncio.create_task(self._run(worker), name=f"jiayuan-worker:{worker}")
        self.tasks[worker] = task
        task.add_done_callback(lambda t: self._ended(worker, t))

    def _ended(self, worker: str, task: asyncio.Task[None]) -> None:
        self.tasks.pop(worker, None)
        if self._stopping:
            return  # stop() hands back what it held
        # Its update (if any) stays claimed until the lease runs out: it may have been
        # half handled, and the takeover is the same as after a crash.
        self.holding.pop(worker, None)
        if task.cancelled():
            log.error("worker %s was cancelled; starting another", worker)
        else:
            log.error("worker %s ended: %r; starting another", worker, task.exception())
        self._spawn()

    def wake(self) -> None:
        """Updates were stored: look now rather than at the next idle check."""
        self.ready.set()

    async def stop(self) -> None:
        """Let the updates in hand finish for a moment, then hand back the rest."""
        self._stopping = True
        if self._watcher is not None:
            self._watcher.cancel()
        idle = [self.tasks[w] for w in self.tasks if w not in self.holding]
        for task in idle:
            task.cancel()
        busy = list(self.tasks.values())
        if busy:
            _, pending = await asyncio.wait(busy, timeout=STOP_GRACE_S)
            for task in pending:
                task.cancel()
            await asyncio.wait(busy)
        left = dict(self.holding)
        self.holding.clear()
        if left:
            # Interrupted mid-handling: back to the queue at once rather than after the
            # lease, to be handled again (its processed key and the services' idempotency
            # keys keep a second run from doing anything twice).
            with contextlib.suppress(Exception):
                async with self.db.claim() as tx:
                    for worker, item in left.items():
                        await tx.inbox.release(item.id, worker)
            log.warning("stopped mid-handling; handed back update_ids=%s", _ids(left.values()))

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.idle_s)
            if self.ready.is_set() or len(self.holding) >= len(self.tasks):
                continue
            try:
                async with self.db.read() as tx:
                    found = await tx.inbox.claimable(wall_now())
            except Exception as exc:
                log.warning("looking for inbox work failed: %s", exc)
                continue
            if found:
                self.ready.set()

    async def _run(self, worker: str) -> None:
        while not self._stopping:
            # Cleared before the claim: a wake-up that comes during it is not lost.
            self.ready.clear()
            try:
                item = await self._claim(worker)
            except Exception as exc:
                log.warning("claiming from the inbox failed: %s", exc)
                item = None
            if item is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.ready.wait(), timeout=max(1.0, self.idle_s))
                continue
            self.holding[worker] = item
            await self.handle(worker, item)
            self.holding.pop(worker, None)

    async def _claim(self, worker: str) -> Claimed | None:
        async with self.db.claim() as tx:
            return await tx.inbox.claim(worker, wall_now(), self.lease_s)

    async def handle(self, worker: str, item: Claimed) -> None:
        """Handle one claimed update; whatever happens, it does not stay in the way."""
        if item.attempts > MAX_ATTEMPTS:
            # Its workers died while handling it, again and again: it may be what kills them.
            await self._set_aside(item, f"no worker finished it in {MAX_ATTEMPTS} attempts")
            return
        try:
            update = Update.de_json(json.loads(item.payload), self.app.bot)
        except Exception as exc:
            await self._set_aside(item, f"cannot be parsed: {exc!r}")
            return
        renewing = asyncio.create_task(self._renew(worker, item), name=f"renew:{worker}")
        try:
            await process_once(self.app, self.db, self.clock, update, inbox_id=item.id)
        except Exception as exc:
            if not unavailable(exc):
                log.exception("update_id=%s failed attempt=%s", item.update_id, item.attempts)
                await self._fail(item, repr(exc))
                return
            # Not the update's fault, so no failure of its is recorded: it goes back to
            # the queue, as after a crash, and runs again (its processed key and the
            # services' idempotency keys keep a second run from doing anything twice).
            log.warning(
                "update_id=%s: the database is unavailable; handing it back once it answers: %s",
                item.update_id,
                exc,
            )
            renewing.cancel()
            await self._hand_back(worker, item)
        finally:
            renewing.cancel()

    async def _renew(self, worker: str, item: Claimed) -> None:
        while True:
            await asyncio.sleep(self.renew_s)
            try:
                async with self.db.claim() as tx:
                    mine = await tx.inbox.renew(
                        item.id, worker, wall_now() + timedelta(seconds=self.lease_s)
                    )
            except Exception as exc:
                log.warning("renewing the lease of update_id=%s failed: %s", item.update_id, exc)
                continue
            if not mine:
                log.error("update_id=%s was taken over while still being handled", item.update_id)
                return

    async def _hand_back(self, worker: str, item: Claimed) -> None:
        """Release ``item`` as soon as the database takes it, rather than leave it to wait
        out its lease after the database is back; past the lease, it is anyone's anyway."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self.lease_s
        wait = 0.5
        while not self._stopping and loop.time() < give_up:
            try:
                async with self.db.claim() as tx:
                    await tx.inbox.release(item.id, worker)
                return
            except Exception as exc:
                if not unavailable(exc):
                    log.error("could not hand back update_id=%s: %r", item.update_id, exc)
                    return
            await asyncio.sleep(min(wait, max(0.0, give_up - loop.time())))
            wait = min(wait * 2, RETRY_MAX_S)

    async def _fail(self, item: Claimed, error: str) -> None:
        try:
            async with self.db.claim() as tx:
                state = await tx.inbox.fail(item.id, error, self.clock.now())
        except Exception as exc:
            # Left claimed: the lease runs out and it is tried again.
            log.error("could not record the failure of update_id=%s: %s", item.update_id, exc)
            return
        if state == "set_aside":
            await note_ops(
                self.app.bot,
                self.ops_chat_id,
                f"update_id={item.update_id} set aside after {item.attempts} attempts: {error}",
            )

    async def _set_aside(self, item: Claimed, error: str) -> None:
        try:
            async with self.db.claim() as tx:
                await tx.inbox.set_aside(item.id, error)
        except Exception as exc:
            # Left claimed: the lease runs out and it comes back here.
            log.warning("could not set aside update_id=%s: %s", item.update_id, exc)
            return
        log.error("update_id=%s set aside: %s", item.update_id, error)
        await note_ops(
            self.app.bot, self.ops_chat_id, f"update_id={item.update_id} set aside: {error}"
        )


def _ids(items: Any) -> list[int | None]:
    return [i.update_id for i in items]


# Updates whose handler met an unavailable database, noted by the error handler
# (handlers/errors.py): handed back to run again, not recorded as done and lost.
INTERRUPTED = "jiayuan.interrupted_by_database"


def note_interrupted(bot_data: dict[Any, Any], update_id: int, error: BaseException) -> None:
    bot_data.setdefault(INTERRUPTED, {})[update_id] = error


async def process_once(
    application: Application[Any, Any, Any, Any, Any, Any],
    db: Database,
    clock: Clock,
    update: Update,
    *,
    inbox_id: int | None = None,
) -> bool:
    """Handle an update unless it was handled before; True if it ran now.

    The processed-update key is recorded with the inbox row's end in one transaction.
    A database that is unavailable by then is waited for: handling the update again would
    answer twice.
    """
    async with db.read() as tx:
        seen = await tx.updates.seen(update.update_id)
    if seen:
        log.info("update_id=%s already processed; skipped", update.update_id)
    else:
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
        interrupted = application.bot_data.get(INTERRUPTED, {}).pop(update.update_id, None)
        if interrupted is not None:
            raise interrupted  # the worker hands it back: unavailable(interrupted) holds
    waiting = False
    while True:
        try:
            async with db.claim() as tx:
                if not seen:
                    await tx.updates.mark(update.update_id, clock.now())
                if inbox_id is not None:
                    await tx.inbox.finish(inbox_id, clock.now())
            return not seen
        except Exception as exc:
            if not unavailable(exc):
                raise
            if not waiting:
                waiting = True
                log.warning(
                    "update_id=%s handled; recording it waits for the database: %s",
                    update.update_id,
                    exc,
                )
        # Each try itself waits for the database (the pool's or the busy timeout).
        await asyncio.sleep(RECORD_RETRY_S)
