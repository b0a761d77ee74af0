"""The consequences the rules decided for a zone in a period, each recorded once."""

from __future__ import annotations

from datetime import datetime

from storage.rows import Repository, to_db_time


class ConsequenceRepository(Repository):
    async def record(
        self,
        community_id: int,
        zone_id: int,
        kind: str,
        period: str,
        now: datetime,
        *,
        level: int | None = None,
        value: float | None = None,
        ticket_id: int | None = None,
    ) -> bool:
        """Record a decision once; False if it was already made for that period."""
        changed = await self._exec(
            "INSERT INTO consequences (community_id, zone_id, kind, period, level, "
            "value, ticket_id, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (community_id, zone_id, kind, period, level, value, ticket_id, to_db_time(now)),
        )
        return changed > 0

    async def set_ticket(
        self, community_id: int, zone_id: int, kind: str, period: str, ticket_id: int
    ) -> None:
        await self._exec(
            "UPDATE consequences SET ticket_id = ? WHERE community_id = ? AND zone_id = ? "
            "AND kind = ? AND period = ?",
            (ticket_id, community_id, zone_id, kind, period),
        )

    async def list(
        self, community_id: int, kind: str, period: str
    ) -> list[tuple[int, int | None, float | None]]:
        rows = await self._all(
            "SELECT zone_id, level, value FROM consequences WHERE community_id = ? AND kind = ? "
            "AND period = ? ORDER BY level, value DESC, zone_id",
            (community_id, kind, period),
        )
        return [(r["zone_id"], r["level"], r["value"]) for r in rows]
