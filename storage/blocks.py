"""Reporting blocks: people an admin stopped from filing reports in a community."""

from __future__ import annotations

from datetime import datetime

from storage.rows import Repository, to_db_time


class BlockRepository(Repository):
    async def is_blocked(self, community_id: int, person_id: int) -> bool:
        found = await self._scalar(
            "SELECT 1 FROM reporting_blocks WHERE community_id = ? AND person_id = ?",
            (community_id, person_id),
        )
        return found is not None

    async def block(self, community_id: int, person_id: int, by: int, now: datetime) -> None:
        await self._exec(
            "INSERT INTO reporting_blocks "
            "(community_id, person_id, blocked_by, blocked_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (community_id, person_id, by, to_db_time(now)),
        )

    async def unblock(self, community_id: int, person_id: int) -> bool:
        changed = await self._exec(
            "DELETE FROM reporting_blocks WHERE community_id = ? AND person_id = ?",
            (community_id, person_id),
        )
        return changed > 0
