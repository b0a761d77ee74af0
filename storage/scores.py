"""Monthly zone scores, as computed and stored for the ranking."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.rows import Repository, Row, to_db_time


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


def _to_score(row: Row) -> StoredScore:
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
