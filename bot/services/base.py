"""What every service shares: the database, the clock, and a nudge for the outbox."""

from __future__ import annotations

import asyncio

from bot.clock import Clock
from storage.database import Database


class Service:
    def __init__(self, db: Database, clock: Clock, outbox_ready: asyncio.Event) -> None:
        self.db = db
        self.clock = clock
        # Set after a commit that queued messages, so the sender wakes at once.
        self._outbox_ready = outbox_ready

    def _wake_outbox(self) -> None:
        self._outbox_ready.set()
