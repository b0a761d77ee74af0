"""Announcements and the delivery of their outbox batch."""

from __future__ import annotations

from datetime import datetime

from bot.domain.announcements import Announcement
from storage.rows import Repository, to_db_time


class AnnouncementRepository(Repository):
    async def add(
        self, community_id: int, audience: str, text: str, created_by: int, now: datetime
    ) -> int:
        return await self._insert(
            "INSERT INTO announcements "
            "(community_id, audience, text, created_by, created_at, queued) "
            "VALUES (?, ?, ?, ?, ?, 0)",
            (community_id, audience, text, created_by, to_db_time(now)),
        )

    async def set_queued(self, announcement_id: int, queued: int) -> None:
        await self._exec(
            "UPDATE announcements SET queued = ? WHERE id = ?", (queued, announcement_id)
        )

    async def unreported(self) -> list[Announcement]:
        rows = await self._all(
            f"SELECT * FROM announcements WHERE reported_at IS NULL AND {self._served()}"
            " ORDER BY id",
            self._served_params,
        )
        return [
            Announcement(
                r["id"], r["community_id"], r["audience"], r["created_by"], r["queued"], False
            )
            for r in rows
        ]

    async def delivery(self, announcement_id: int) -> dict[str, int]:
        rows = await self._all(
            "SELECT status, COUNT(*) AS n FROM outbox WHERE batch = ? GROUP BY status",
            (f"ann:{announcement_id}",),
        )
        return {r["status"]: r["n"] for r in rows}

    async def mark_reported(self, announcement_id: int, now: datetime) -> None:
        await self._exec(
            "UPDATE announcements SET reported_at = ? WHERE id = ?",
            (to_db_time(now), announcement_id),
        )
