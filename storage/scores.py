"""Monthly zone scores, the consequences the rules decided, household and shop ratings."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.errors import NotFound
from storage.rows import Repository, from_db_time, to_db_time


@dataclass(frozen=True, slots=True)
class StoredScore:
    zone_id: int
    month: str
    zone_name: str
    score: float | None
    rank: int | None
    inspections: int
    inspection_mean: float | None
    overdue: int
    penalty: float
    indicators: dict[str, Any]


class ScoreRepository(Repository):
    async def replace_month(
        self, community_id: int, month: str, rows: list[StoredScore], now: datetime
    ) -> None:
        """The month's scores, recomputed as a whole (a rerun gives the same rows)."""
        await self._exec(
            "DELETE FROM monthly_scores WHERE community_id = ? AND month = ?",
            (community_id, month),
        )
        for row in rows:
            await self._exec(
                "INSERT INTO monthly_scores (community_id, zone_id, month, zone_name, score, "
                "rank, inspections, inspection_mean, overdue, penalty, indicators, computed_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    community_id,
                    row.zone_id,
                    month,
                    row.zone_name,
                    row.score,
                    row.rank,
                    row.inspections,
                    row.inspection_mean,
                    row.overdue,
                    row.penalty,
                    json.dumps(row.indicators),
                    to_db_time(now),
                ),
            )

    async def month(self, community_id: int, month: str) -> list[StoredScore]:
        rows = await self._all(
            "SELECT * FROM monthly_scores WHERE community_id = ? AND month = ? "
            "ORDER BY rank IS NULL, rank, zone_id",
            (community_id, month),
        )
        return [_to_score(r) for r in rows]

    async def zone_history(self, zone_id: int, first: str, last: str) -> list[StoredScore]:
        rows = await self._all(
            "SELECT * FROM monthly_scores WHERE zone_id = ? AND month >= ? AND month <= ? "
            "ORDER BY month",
            (zone_id, first, last),
        )
        return [_to_score(r) for r in rows]

    async def community_history(
        self, community_id: int, first: str, last: str
    ) -> list[StoredScore]:
        rows = await self._all(
            "SELECT * FROM monthly_scores WHERE community_id = ? AND month >= ? AND month <= ? "
            "ORDER BY month, zone_id",
            (community_id, first, last),
        )
        return [_to_score(r) for r in rows]


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
            "INSERT OR IGNORE INTO consequences (community_id, zone_id, kind, period, level, "
            "value, ticket_id, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
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


@dataclass(frozen=True, slots=True)
class Rating:
    id: int
    community_id: int
    kind: str
    name: str
    zone_id: int | None
    month: str
    status: str
    nominated_by: int
    self_applied: bool
    notice_until: datetime | None


class RatingRepository(Repository):
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
    ) -> Rating | None:
        """A nomination; None if the same name is already up this month."""
        changed = await self._exec(
            "INSERT OR IGNORE INTO ratings (community_id, kind, name, zone_id, month, status, "
            "nominated_by, self_applied, created_at) VALUES (?, ?, ?, ?, ?, 'nominated', ?, ?, ?)",
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
        if not changed:
            return None
        row = await self._one("SELECT * FROM ratings WHERE id = last_insert_rowid()")
        assert row is not None
        return _to_rating(row)

    async def get(self, rating_id: int) -> Rating:
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

    async def by_status(self, community_id: int, status: str) -> list[Rating]:
        rows = await self._all(
            "SELECT * FROM ratings WHERE community_id = ? AND status = ? ORDER BY id",
            (community_id, status),
        )
        return [_to_rating(r) for r in rows]

    async def notice_over(self, now: datetime) -> list[Rating]:
        rows = await self._all(
            "SELECT * FROM ratings WHERE status = 'notice' AND notice_until <= ? ORDER BY id",
            (to_db_time(now),),
        )
        return [_to_rating(r) for r in rows]

    async def object(self, rating_id: int, person_id: int, reason: str, now: datetime) -> bool:
        changed = await self._exec(
            "INSERT OR IGNORE INTO rating_objections (rating_id, person_id, reason, created_at) "
            "VALUES (?, ?, ?, ?)",
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


def _to_score(row: sqlite3.Row) -> StoredScore:
    return StoredScore(
        zone_id=row["zone_id"],
        month=row["month"],
        zone_name=row["zone_name"],
        score=row["score"],
        rank=row["rank"],
        inspections=row["inspections"],
        inspection_mean=row["inspection_mean"],
        overdue=row["overdue"],
        penalty=row["penalty"],
        indicators=json.loads(row["indicators"]),
    )


def _to_rating(row: sqlite3.Row) -> Rating:
    return Rating(
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
