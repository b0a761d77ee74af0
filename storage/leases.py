"""Named leases: work that must happen in one process at a time (the leader's polling
and tick) belongs to whoever holds the lease; it passes on once the holder stops
renewing it. Each bot sharing the database has leases of its own. Times are wall-clock
instants the callers pass in."""

from __future__ import annotations

from datetime import datetime, timedelta

from storage.rows import Repository, to_db_time


class LeaseRepository(Repository):
    async def acquire(self, name: str, holder: str, now: datetime, ttl_s: float) -> bool:
        """Take the lease if it is free or has run out, or renew it if it is mine."""
        row = await self._one(
            "INSERT INTO leases (name, holder, until) VALUES (?, ?, ?)"
            " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until"
            " WHERE leases.holder = excluded.holder OR leases.until < ?"
            " RETURNING holder",
            (
                self._per_bot(name),
                holder,
                to_db_time(now + timedelta(seconds=ttl_s)),
                to_db_time(now),
            ),
        )
        return row is not None

    async def release(self, name: str, holder: str) -> bool:
        """Give the lease up now, if it is mine, so another can take it at once."""
        return (
            await self._exec(
                "DELETE FROM leases WHERE name = ? AND holder = ?", (self._per_bot(name), holder)
            )
            > 0
        )

    async def holder(self, name: str, now: datetime) -> str | None:
        """Who holds the lease now (None when free or run out)."""
        found = await self._scalar(
            "SELECT holder FROM leases WHERE name = ? AND until >= ?",
            (self._per_bot(name), to_db_time(now)),
        )
        return None if found is None else str(found)
