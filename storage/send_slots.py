"""Send slots: Telegram's sending limits as rows, so several processes share one budget.

Each key (``all`` for the bot, ``chat:<id>`` for one chat; every bot has keys of its own)
holds the earliest instant the next message may go. Taking a slot is one statement that
succeeds only when that instant has come, and moves it on by the key's spacing; otherwise
it says how long to wait. The instants are the database server's clock, so processes on
different machines agree.
"""

from __future__ import annotations

from storage.rows import Repository

_NOW = {
    "postgresql": "EXTRACT(EPOCH FROM clock_timestamp())::double precision",
    "sqlite": "((julianday('now') - 2440587.5) * 86400.0)",
}


class SendSlotRepository(Repository):
    @property
    def _now(self) -> str:
        return _NOW[self._dialect]

    async def take(self, key: str, spacing_s: float, burst: int = 1) -> float:
        """Take a turn on the key if it has one: 0.0; else the seconds until it will.

        A turn every ``spacing_s`` on average, with up to ``burst`` at once after a quiet
        spell (the generic cell rate algorithm: ``next_at`` is when the key would be
        caught up; a turn is allowed while that is at most ``burst - 1`` spacings ahead).
        """
        now = self._now
        greatest = "GREATEST" if self._dialect == "postgresql" else "MAX"
        tolerance = spacing_s * (burst - 1)
        key = self._per_bot(key)
        taken = await self._all(
            f"INSERT INTO send_slots AS s (key, next_at) VALUES (?, {now} + ?) "
            f"ON CONFLICT (key) DO UPDATE SET next_at = {greatest}(s.next_at, {now}) + ? "
            f"WHERE s.next_at - {now} <= ? RETURNING next_at",
            (key, spacing_s, spacing_s, tolerance),
        )
        if taken:
            return 0.0
        ahead = await self._scalar(f"SELECT next_at - {now} FROM send_slots WHERE key = ?", (key,))
        return max(float(ahead or 0.0) - tolerance, 0.0)

    async def wait_for(self, key: str) -> float:
        """The seconds until the key's instant, without taking it (0.0 if it has come)."""
        wait = await self._scalar(
            f"SELECT next_at - {self._now} FROM send_slots WHERE key = ?", (self._per_bot(key),)
        )
        return max(float(wait or 0.0), 0.0)

    async def hold(self, key: str, seconds: float) -> None:
        """Telegram said wait: nothing goes on this key for ``seconds``."""
        now = self._now
        greatest = "GREATEST" if self._dialect == "postgresql" else "MAX"
        await self._exec(
            f"INSERT INTO send_slots AS s (key, next_at) VALUES (?, {now} + ?) "
            f"ON CONFLICT (key) DO UPDATE SET next_at = {greatest}(s.next_at, {now} + ?)",
            (self._per_bot(key), seconds, seconds),
        )
