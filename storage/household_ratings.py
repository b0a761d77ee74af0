"""Household and shop ratings: nominations, their status, objections and shop pledges."""

from __future__ import annotations

from datetime import datetime

from bot.domain.errors import NotFound
from bot.domain.household_ratings import HouseholdRating
from storage.rows import Repository, Row, from_db_time, to_db_time


class HouseholdRatingRepository(Repository):
    async def add(
        self,
        community_id: int,
        kind: str,
        name: str,
        zone_id: int | None,
        month: str,
        nominated_by: int,
        self_applied: bool,
        now: datetime,
    ) -> HouseholdRating | None:
        """A nomination; None if the same name is already up this month."""
        row = await self._one(
            "INSERT INTO ratings (community_id, kind, name, zone_id, month, status, "
            "nominated_by, self_applied, created_at) VALUES (?, ?, ?, ?, ?, 'nominated', ?, ?, ?)"
            " ON CONFLICT DO NOTHING RETURNING *",
            (
                community_id,
                kind,
                name,
                zone_id,
                month,
                nominated_by,
                int(self_applied),
                to_db_time(now),
            ),
        )
        return None if row is None else _to_rating(row)

    async def get(self, rating_id: int) -> HouseholdRating:
        row = await self._one("SELECT * FROM ratings WHERE id = ?", (rating_id,))
        if row is None:
            raise NotFound("ratings.not_found")
        return _to_rating(row)

    async def set_status(
        self,
        rating_id: int,
        status: str,
        *,
        verified_by: int | None = None,
        notice_until: datetime | None = None,
        published_at: datetime | None = None,
    ) -> None:
        await self._exec(
            "UPDATE ratings SET status = ?, verified_by = COALESCE(?, verified_by), "
            "notice_until = COALESCE(?, notice_until), published_at = COALESCE(?, published_at) "
            "WHERE id = ?",
            (
                status,
                verified_by,
                to_db_time(notice_until) if notice_until else None,
                to_db_time(published_at) if published_at else None,
                rating_id,
            ),
        )

    async def by_status(self, community_id: int, status: str) -> list[HouseholdRating]:
        rows = await self._all(
            "SELECT * FROM ratings WHERE community_id = ? AND status = ? ORDER BY id",
            (community_id, status),
        )
        return [_to_rating(r) for r in rows]

    async def notice_over(self, now: datetime) -> list[HouseholdRating]:
        rows = await self._all(
            "SELECT * FROM ratings WHERE status = 'notice' AND notice_until <= ?"
            f" AND {self._served()} ORDER BY id",
            (to_db_time(now), *self._served_params),
        )
        return [_to_rating(r) for r in rows]

    async def object(self, rating_id: int, person_id: int, reason: str, now: datetime) -> bool:
        changed = await self._exec(
            "INSERT INTO rating_objections (rating_id, person_id, reason, created_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (rating_id, person_id, reason, to_db_time(now)),
        )
        return changed > 0

    async def count_objections(self, rating_id: int) -> int:
        count: int = await self._scalar(
            "SELECT COUNT(*) FROM rating_objections WHERE rating_id = ?", (rating_id,)
        )
        return count

    async def pledge(
        self, community_id: int, site_id: int, signed_by: str, recorded_by: int, now: datetime
    ) -> None:
        await self._exec(
            "INSERT INTO shop_pledges (community_id, site_id, signed_by, signed_at, recorded_by) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (community_id, site_id) DO UPDATE SET "
            "signed_by = excluded.signed_by, signed_at = excluded.signed_at, "
            "recorded_by = excluded.recorded_by",
            (community_id, site_id, signed_by, to_db_time(now), recorded_by),
        )


def _to_rating(row: Row) -> HouseholdRating:
    return HouseholdRating(
        id=row["id"],
        community_id=row["community_id"],
        kind=row["kind"],
        name=row["name"],
        zone_id=row["zone_id"],
        month=row["month"],
        status=row["status"],
        nominated_by=row["nominated_by"],
        self_applied=bool(row["self_applied"]),
        notice_until=from_db_time(row["notice_until"]) if row["notice_until"] else None,
    )
