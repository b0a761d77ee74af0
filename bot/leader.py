"""Leadership: the work that must happen in one process only — the getUpdates poller
(Telegram allows one long poll per token) and the minute tick — belongs to whichever
process holds the ``leader`` lease (storage/leases.py).

Every process tries for the lease; the holder renews it every ``renew_s`` and another
takes it over once it has run out (``ttl_s``) after the holder died. A holder that cannot
renew steps down itself when its term ends, so two leaders never overlap for long, and
what they do is guarded anyway (the occurrence keys of the tick, Telegram's refusal of a
second long poll). On SQLite one process uses the database, so it simply leads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.clock import wall_now
from storage.database import Database

log = logging.getLogger(__name__)

LEASE_NAME = "leader"
TTL_S = 30.0
RENEW_S = 10.0


class Leader:
    def __init__(
        self,
        db: Database,
        holder: str,
        *,
        on_gain: Callable[[], Awaitable[None]],
        on_loss: Callable[[], Awaitable[None]],
        on_follow: Callable[[], None] | None = None,
        ttl_s: float = TTL_S,
        renew_s: float = RENEW_S,
        single_process: bool = False,
    ) -> None:
        self.db = db
        self.holder = holder
        self.on_gain = on_gain
        self.on_loss = on_loss
        # Called on every check while another process leads: this one is alive and ready.
        self.on_follow = on_follow
        self.ttl_s = ttl_s
        self.renew_s = renew_s
        self.single_process = single_process
        self.leading = False
        self._held_until: datetime | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Take the lead now if it is free, then keep checking in the background."""
        if self.single_process:
            await self._gain()
            return
        await self.check()
        self._task = asyncio.create_task(self._run(), name="jiayuan-leader")

    async def stop(self) -> None:
        """Stop leading and give the lease up, so another process takes over at once."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if not self.leading:
            return
        await self._lose()
        if not self.single_process:
            try:
                async with self.db.claim() as tx:
                    await tx.leases.release(LEASE_NAME, self.holder)
            except Exception as exc:
                log.warning("could not release the leader lease: %s", exc)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.renew_s)
            await self.check()

    async def check(self) -> None:
        """Renew or take the lease; start or stop leading accordingly."""
        now = wall_now()
        try:
            async with self.db.claim() as tx:
                held = await tx.leases.acquire(LEASE_NAME, self.holder, now, self.ttl_s)
        except Exception as exc:
            log.warning("checking the leader lease failed: %s", exc)
            # Compared with the time now, not when the check began: waiting for a database
            # that is down takes a while (the pool's timeout), and the term may have ended
            # meanwhile.
            if self.leading and self._held_until is not None and wall_now() >= self._held_until:
                # Another process may have taken it by now.
                await self._lose()
            return
        if held:
            self._held_until = now + timedelta(seconds=self.ttl_s)
            if not self.leading:
                await self._gain()
        else:
            if self.leading:
                await self._lose()
            if self.on_follow is not None:
                self.on_follow()

    async def _gain(self) -> None:
        self.leading = True
        log.info("leading holder=%s", self.holder)
        try:
            await self.on_gain()
        except Exception:
            log.exception("starting the leader's work failed")

    async def _lose(self) -> None:
        self.leading = False
        log.info("no longer leading holder=%s", self.holder)
        try:
            await self.on_loss()
        except Exception:
            log.exception("stopping the leader's work failed")
