"""Drains the outbox to the Bot API within Telegram's limits, surviving restarts.

A row leaves 'pending' only when Telegram accepted it (sent), when the chat can no
longer be reached (blocked), or after repeated failures (failed). 429 postpones
without counting as a failed attempt; 5xx and timeouts back off.

Each pass claims what is due ('sending', under a lease, storage/outbox.py), so several
senders — one per process — never send one message twice; what a pass does not get to
is handed back at its end, and a dead sender's claims are due again once its lease ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import ExtBot

from bot.clock import Clock
from bot.keyboards import stored
from bot.notify.budget import Budget, MemoryBudget
from bot.notify.pacing import Limits, Pacer, retry_after_seconds
from bot.notify.ratelimit import ALREADY_PACED
from storage.availability import unavailable
from storage.database import Database
from storage.outbox import OutboxItem
from storage.transaction import Transaction

log = logging.getLogger(__name__)

# (transaction, telegram user id, now): a private chat answered 403.
Unreachable = Callable[[Transaction, int, datetime], Awaitable[object]]

MAX_ATTEMPTS = 8
IDLE_WAIT_S = 5.0
CLAIM_LIMIT = 200
# A pass ends by half its lease, so nothing it holds is taken over while it sends.
CLAIM_LEASE_S = 20.0


class OutboxSender:
    def __init__(
        self,
        bot: ExtBot[Any],
        db: Database,
        clock: Clock,
        ready: asyncio.Event,
        *,
        data_dir: Path,
        limits: Limits | None = None,
        pacer: Pacer | None = None,
        budget: Budget | None = None,
        renderers: Mapping[str, Callable[[dict[str, Any]], Awaitable[str]]] | None = None,
        on_unreachable: Unreachable | None = None,
        name: str = "outbox",
    ) -> None:
        self.bot = bot
        # Whose claims these are, among the processes sharing the database.
        self.name = name
        self.db = db
        self.clock = clock
        self.ready = ready
        self.data_dir = data_dir
        # Shared with the replies' rate limiter when the app builds both: one budget.
        self.pacer = pacer or Pacer(limits)
        # Where sending turns are taken: this pacer, or the database several processes share.
        self.budget: Budget = budget or MemoryBudget(self.pacer)
        # Kinds whose picture is drawn just before sending (kind → path under data_dir).
        self.renderers = dict(renderers or {})
        # Runs in the transaction that gives the chat up: who else must now be told.
        self.on_unreachable = on_unreachable
        self._task: asyncio.Task[None] | None = None
        # Chats to pass over for the rest of a drain pass: unreachable, or made to wait.
        self._paused_now: set[int] = set()
        self.delivered = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="jiayuan-outbox")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def run(self) -> None:
        """Drain until stopped. Nothing but a stop ends the loop: a sender that died would
        leave every message after it unsent while the bot looks alive."""
        failures = 0
        while True:
            try:
                if await self.drain_once():
                    failures = 0
                    continue
                # Cleared before reading when the next message is due: a wake-up that
                # comes meanwhile is not lost.
                self.ready.clear()
                wait = await self._idle_wait()
                failures = 0
            except Exception as exc:
                failures += 1
                wait = min(IDLE_WAIT_S, 2.0 ** (failures - 1))
                if unavailable(exc):
                    log.warning(
                        "outbox pass failed, the database is unavailable; retrying in %.0fs: %s",
                        wait,
                        exc,
                    )
                else:
                    log.exception("outbox pass failed; retrying in %.0fs", wait)
                await asyncio.sleep(wait)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.ready.wait(), timeout=wait)

    async def _idle_wait(self) -> float:
        async with self.db.read() as tx:
            next_at = await tx.outbox.next_due_at()
        if next_at is None:
            return IDLE_WAIT_S
        return max(0.05, min(IDLE_WAIT_S, (next_at - self.clock.now()).total_seconds()))

    async def drain_once(self) -> bool:
        """Send what is due and allowed now; True if anything was sent."""
        async with self.db.claim() as tx:
            items = await tx.outbox.claim_due(
                self.name, self.clock.now(), CLAIM_LIMIT, CLAIM_LEASE_S
            )
        if not items:
            return False
        loop = asyncio.get_running_loop()
        ends = loop.time() + CLAIM_LEASE_S / 2
        sent_any = False
        self._paused_now = set()
        try:
            for item in items:
                if item.chat_id in self._paused_now or loop.time() > ends:
                    # blocked, or held back after a 429 or an error, during this pass
                    continue
                if not await self._take_turn(item.chat_id):
                    continue  # another chat's message can go meanwhile
                if await self._send(item):
                    sent_any = True
        finally:
            # Shielded: a stop mid-pass still hands back what it did not send.
            await asyncio.shield(self._hand_back(items))
        return sent_any

    async def _take_turn(self, chat_id: int) -> bool:
        """Spend a sending turn for ``chat_id``, waiting up to a second for it."""
        for _ in range(3):
            wait = await self.budget.try_send(chat_id)
            if not wait:
                return True
            if wait > 1.0:
                return False
            await asyncio.sleep(wait)
        return False

    async def _hand_back(self, items: list[OutboxItem]) -> None:
        """Release the claimed messages this pass did not settle (the settled ones are no
        longer 'sending', so the release passes them by)."""
        async with self.db.claim() as tx:
            await tx.outbox.release([i.id for i in items], self.name)

    async def _send(self, item: OutboxItem) -> bool:
        now = self.clock.now()
        try:
            await self._deliver(item)
        except RetryAfter as exc:
            delay = retry_after_seconds(exc.retry_after)
            await self.budget.hold(item.chat_id, delay)
            until = now + timedelta(seconds=delay)
            async with self.db.transaction() as tx:
                await tx.outbox.postpone(item.id, until)
                await tx.outbox.hold_chat(item.chat_id, item.id, until)
            self._paused_now.add(item.chat_id)
            log.info("outbox flood wait outbox_id=%s retry_after=%s", item.id, delay)
            return False
        except ChatMigrated as exc:
            new_id = exc.new_chat_id
            await self._update(lambda tx: tx.groups.migrate(item.chat_id, new_id))
            return False
        except Forbidden as exc:
            await self._unreachable(item, str(exc))
            return False
        except BadRequest as exc:
            refusal = str(exc)
            log.warning("outbox refused outbox_id=%s chat_id=%s: %s", item.id, item.chat_id, exc)
            await self._update(lambda tx: tx.outbox.give_up(item.id, "failed", refusal))
            return False
        except (TimedOut, NetworkError) as exc:
            await self._failed_attempt(item, str(exc))
            return False
        except Exception as exc:
            # A message we cannot even build (a missing file, a drawing error) must not
            # block the queue behind it: record it as failed and go on.
            log.exception("outbox item unusable outbox_id=%s", item.id)
            error = f"{type(exc).__name__}: {exc}"
            await self._update(lambda tx: tx.outbox.give_up(item.id, "failed", error))
            return False
        await self._update(lambda tx: tx.outbox.mark_sent(item.id, self.clock.now()))
        self.delivered += 1
        return True

    async def _deliver(self, item: OutboxItem) -> None:
        payload = item.payload
        reply_markup = stored(payload.get("reply_markup"))
        if item.kind in self.renderers:
            path = await self.renderers[item.kind](payload)
            await self.bot.send_photo(
                item.chat_id,
                (self.data_dir / path).read_bytes(),
                caption=payload.get("caption"),
                rate_limit_args=ALREADY_PACED,
            )
        elif item.kind == "photo":
            photo: Any = payload.get("file_id") or (self.data_dir / payload["path"]).read_bytes()
            await self.bot.send_photo(
                item.chat_id,
                photo,
                caption=payload.get("caption"),
                reply_markup=reply_markup,
                rate_limit_args=ALREADY_PACED,
            )
        elif item.kind == "document":
            path = self.data_dir / payload["path"]
            await self.bot.send_document(
                item.chat_id,
                path.read_bytes(),
                filename=payload.get("filename", path.name),
                caption=payload.get("caption"),
                rate_limit_args=ALREADY_PACED,
            )
        else:
            await self.bot.send_message(
                item.chat_id,
                payload["text"],
                reply_markup=reply_markup,
                rate_limit_args=ALREADY_PACED,
            )

    async def _failed_attempt(self, item: OutboxItem, error: str) -> None:
        attempt = item.attempts + 1
        if attempt >= MAX_ATTEMPTS:
            await self._update(lambda tx: tx.outbox.give_up(item.id, "failed", error))
            log.error("outbox gave up outbox_id=%s attempt=%s", item.id, attempt)
            return
        retry_at = self.clock.now() + timedelta(seconds=min(300, 2**attempt))
        async with self.db.transaction() as tx:
            await tx.outbox.retry_later(item.id, retry_at, error)
            await tx.outbox.hold_chat(item.chat_id, item.id, retry_at)
        self._paused_now.add(item.chat_id)
        log.warning("outbox retry outbox_id=%s attempt=%s: %s", item.id, attempt, error)

    async def _unreachable(self, item: OutboxItem, error: str) -> None:
        self._paused_now.add(item.chat_id)
        async with self.db.transaction() as tx:
            if item.chat_id > 0 and self.on_unreachable is not None:
                await self.on_unreachable(tx, item.chat_id, self.clock.now())
            elif item.chat_id > 0:
                await tx.people.set_reachable(item.chat_id, False)
            else:
                await tx.groups.deactivate(item.chat_id)
            skipped = await tx.outbox.skip_chat(item.chat_id, "blocked")
            await tx.outbox.give_up(item.id, "blocked", error)
        log.info("chat unreachable chat_id=%s skipped=%s", item.chat_id, skipped)

    async def _update(self, change: Any) -> None:
        async with self.db.transaction() as tx:
            await change(tx)
