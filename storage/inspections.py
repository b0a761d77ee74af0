"""Inspections of zones and the checklist items they recorded."""

from __future__ import annotations

from datetime import date, datetime

from bot.domain.errors import NotFound
from bot.domain.inspections import Inspection, InspectionItem
from storage.rows import Repository, Row, to_db_time


class InspectionRepository(Repository):
    async def add(
        self, community_id: int, zone_id: int, inspector: int, day: date, kind: str, now: datetime
    ) -> Inspection:
        new_id = await self._insert(
            "INSERT INTO inspections (community_id, zone_id, inspector_person_id, day, kind, "
            "status, started_at) VALUES (?, ?, ?, ?, ?, 'open', ?)",
            (community_id, zone_id, inspector, day.isoformat(), kind, to_db_time(now)),
        )
        return await self.get(new_id)

    async def get(self, inspection_id: int) -> Inspection:
        row = await self._one("SELECT * FROM inspections WHERE id = ?", (inspection_id,))
        if row is None:
            raise NotFound("inspect.not_found")
        return _to_inspection(row)

    async def open_for(self, inspector: int) -> Inspection | None:
        row = await self._one(
            "SELECT * FROM inspections WHERE inspector_person_id = ? AND status = 'open' "
            "ORDER BY id DESC LIMIT 1",
            (inspector,),
        )
        return None if row is None else _to_inspection(row)

    async def record_item(self, inspection_id: int, item: InspectionItem) -> None:
        await self._exec(
            "INSERT INTO inspection_items (inspection_id, site_id, item_code, passed, deduction, "
            "photo_path, ticket_id) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT "
            "(inspection_id, site_id, item_code) DO UPDATE SET passed = excluded.passed, "
            "deduction = excluded.deduction, photo_path = excluded.photo_path, "
            "ticket_id = excluded.ticket_id",
            (
                inspection_id,
                item.site_id,
                item.item_code,
                int(item.passed),
                item.deduction,
                item.photo_path,
                item.ticket_id,
            ),
        )

    async def items(self, inspection_id: int) -> list[InspectionItem]:
        rows = await self._all(
            "SELECT * FROM inspection_items WHERE inspection_id = ? ORDER BY site_id, item_code",
            (inspection_id,),
        )
        return [
            InspectionItem(
                r["site_id"],
                r["item_code"],
                bool(r["passed"]),
                r["deduction"],
                r["photo_path"],
                r["ticket_id"],
            )
            for r in rows
        ]

    async def finish(self, inspection_id: int, score: float, now: datetime) -> None:
        await self._exec(
            "UPDATE inspections SET status = 'done', score = ?, finished_at = ? WHERE id = ?",
            (score, to_db_time(now), inspection_id),
        )

    async def last_inspected(self, community_id: int) -> dict[int, date]:
        """Each zone's latest finished inspection day."""
        rows = await self._all(
            "SELECT zone_id, MAX(day) AS day FROM inspections WHERE community_id = ? "
            "AND status = 'done' GROUP BY zone_id",
            (community_id,),
        )
        return {r["zone_id"]: date.fromisoformat(r["day"]) for r in rows}

    async def site_last_inspected(self, community_id: int) -> dict[int, date]:
        """Each site's latest day in a finished inspection."""
        rows = await self._all(
            "SELECT ii.site_id, MAX(i.day) AS day FROM inspection_items ii "
            "JOIN inspections i ON i.id = ii.inspection_id WHERE i.community_id = ? "
            "AND i.status = 'done' GROUP BY ii.site_id",
            (community_id,),
        )
        return {r["site_id"]: date.fromisoformat(r["day"]) for r in rows}

    async def failed_photos(
        self, community_id: int, first: date, last: date, zone_ids: list[int]
    ) -> list[tuple[str, str]]:
        """(zone name, photo path) of failed items in the zones' inspections of the period."""
        if not zone_ids:
            return []
        marks = ", ".join("?" * len(zone_ids))
        rows = await self._all(
            "SELECT z.name, ii.photo_path FROM inspection_items ii "
            "JOIN inspections i ON i.id = ii.inspection_id JOIN zones z ON z.id = i.zone_id "
            f"WHERE i.community_id = ? AND i.day >= ? AND i.day <= ? AND i.zone_id IN ({marks}) "
            "AND ii.passed = 0 AND ii.photo_path IS NOT NULL ORDER BY i.day, ii.site_id",
            (community_id, first.isoformat(), last.isoformat(), *zone_ids),
        )
        return [(r["name"], r["photo_path"]) for r in rows]

    async def done_between(self, community_id: int, first: date, last: date) -> list[Inspection]:
        rows = await self._all(
            "SELECT * FROM inspections WHERE community_id = ? AND status = 'done' "
            "AND day >= ? AND day <= ? ORDER BY day, id",
            (community_id, first.isoformat(), last.isoformat()),
        )
        return [_to_inspection(r) for r in rows]


def _to_inspection(row: Row) -> Inspection:
    return Inspection(
        id=row["id"],
        community_id=row["community_id"],
        zone_id=row["zone_id"],
        inspector_person_id=row["inspector_person_id"],
        day=date.fromisoformat(row["day"]),
        kind=row["kind"],
        status=row["status"],
        score=row["score"],
    )
