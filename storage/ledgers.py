"""Read-only queries behind the exported ledgers (台账): one flat row per ledger line, with
the names of zones, places and people already joined in."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from bot.domain.tickets import Rating, Source, Status
from bot.domain.volunteers import SignupStatus
from storage.rows import Repository, Row, from_db_time, to_db_time


@dataclass(frozen=True, slots=True)
class TicketLine:
    number: str
    source: Source
    category: str
    zone: str | None
    building: str | None
    site: str | None
    lat: float | None
    lon: float | None
    description: str
    assignee: str | None
    status: Status
    created_at: datetime
    dispatched_at: datetime | None
    due_at: datetime | None
    accepted_at: datetime | None
    rectified_at: datetime | None
    closed_at: datetime | None
    reopen_count: int
    supporters: int
    rating: Rating | None


@dataclass(frozen=True, slots=True)
class InspectionLine:
    id: int
    day: date
    zone: str
    inspector: str
    kind: str  # scheduled | unannounced
    status: str  # open | done
    score: float | None
    failed: int


@dataclass(frozen=True, slots=True)
class FailedItemLine:
    inspection_id: int
    day: date
    zone: str
    site: str
    item_code: str
    deduction: float
    ticket_number: str | None


@dataclass(frozen=True, slots=True)
class ScoreLine:
    rank: int | None
    zone: str
    score: float | None  # None: not rated
    inspections: int
    inspection_mean: float | None
    overdue: int
    penalty: float
    indicators: dict[str, float | None]


@dataclass(frozen=True, slots=True)
class SignupLine:
    activity: str
    starts_at: datetime
    name: str
    phone: str | None
    status: SignupStatus
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    hours: float


@dataclass(frozen=True, slots=True)
class SiteLine:
    name: str
    category: str
    zone: str
    contact: str | None
    phone: str | None
    address: str | None
    lat: float | None
    lon: float | None


class LedgerQueries(Repository):
    async def tickets_created_between(
        self, community_id: int, start: datetime, end: datetime
    ) -> list[TicketLine]:
        """Tickets created in [start, end), oldest first."""
        rows = await self._all(
            "SELECT t.*, z.name AS zone_name, b.name AS building_name, s.name AS site_name, "
            "p.name AS assignee_name FROM tickets t "
            "LEFT JOIN zones z ON z.id = t.zone_id "
            "LEFT JOIN buildings b ON b.id = t.building_id "
            "LEFT JOIN sites s ON s.id = t.site_id "
            "LEFT JOIN people p ON p.id = t.assignee_person_id "
            "WHERE t.community_id = ? AND t.created_at >= ? AND t.created_at < ? "
            "ORDER BY t.created_at, t.id",
            (community_id, to_db_time(start), to_db_time(end)),
        )
        return [_ticket_line(r) for r in rows]

    async def inspections_between(
        self, community_id: int, first: date, last: date
    ) -> list[InspectionLine]:
        """Inspections whose (local) day is in [first, last], with their failed-item counts."""
        rows = await self._all(
            "SELECT i.*, z.name AS zone_name, p.name AS inspector_name, "
            "(SELECT COUNT(*) FROM inspection_items ii WHERE ii.inspection_id = i.id "
            "AND ii.passed = 0) AS failed FROM inspections i "
            "JOIN zones z ON z.id = i.zone_id JOIN people p ON p.id = i.inspector_person_id "
            "WHERE i.community_id = ? AND i.day >= ? AND i.day <= ? ORDER BY i.day, i.id",
            (community_id, first.isoformat(), last.isoformat()),
        )
        return [
            InspectionLine(
                id=r["id"],
                day=date.fromisoformat(r["day"]),
                zone=r["zone_name"],
                inspector=r["inspector_name"],
                kind=r["kind"],
                status=r["status"],
                score=r["score"],
                failed=int(r["failed"]),
            )
            for r in rows
        ]

    async def failed_items_between(
        self, community_id: int, first: date, last: date
    ) -> list[FailedItemLine]:
        """Failed checklist items of the inspections whose day is in [first, last]."""
        rows = await self._all(
            "SELECT i.id AS inspection_id, i.day, z.name AS zone_name, s.name AS site_name, "
            "ii.item_code, ii.deduction, t.number AS ticket_number FROM inspection_items ii "
            "JOIN inspections i ON i.id = ii.inspection_id JOIN zones z ON z.id = i.zone_id "
            "JOIN sites s ON s.id = ii.site_id LEFT JOIN tickets t ON t.id = ii.ticket_id "
            "WHERE i.community_id = ? AND i.day >= ? AND i.day <= ? AND ii.passed = 0 "
            "ORDER BY i.day, i.id, s.name, ii.item_code",
            (community_id, first.isoformat(), last.isoformat()),
        )
        return [
            FailedItemLine(
                inspection_id=r["inspection_id"],
                day=date.fromisoformat(r["day"]),
                zone=r["zone_name"],
                site=r["site_name"],
                item_code=r["item_code"],
                deduction=float(r["deduction"]),
                ticket_number=r["ticket_number"],
            )
            for r in rows
        ]

    async def scores_of_month(self, community_id: int, month: str) -> list[ScoreLine]:
        """The month's stored scores (month as ``2026-11``), ranked zones first."""
        rows = await self._all(
            "SELECT * FROM monthly_scores WHERE community_id = ? AND month = ? "
            "ORDER BY rank IS NULL, rank, zone_name, zone_id",
            (community_id, month),
        )
        return [
            ScoreLine(
                rank=r["rank"],
                zone=r["zone_name"],
                score=r["score"],
                inspections=int(r["inspections"]),
                inspection_mean=r["inspection_mean"],
                overdue=int(r["overdue"]),
                penalty=float(r["penalty"]),
                indicators=_indicators(r["indicators"]),
            )
            for r in rows
        ]

    async def signups_starting_between(
        self, community_id: int, start: datetime, end: datetime
    ) -> list[SignupLine]:
        """Sign-ups of the (not cancelled) activities that start in [start, end)."""
        rows = await self._all(
            "SELECT a.title, a.starts_at, p.name, p.phone, s.status, s.checked_in_at, "
            "s.checked_out_at, s.hours FROM volunteer_signups s "
            "JOIN volunteer_activities a ON a.id = s.activity_id "
            "JOIN people p ON p.id = s.person_id "
            "WHERE a.community_id = ? AND a.starts_at >= ? AND a.starts_at < ? "
            "AND a.cancelled = 0 ORDER BY a.starts_at, a.id, s.signed_up_at, s.person_id",
            (community_id, to_db_time(start), to_db_time(end)),
        )
        return [
            SignupLine(
                activity=r["title"],
                starts_at=from_db_time(r["starts_at"]),
                name=r["name"],
                phone=r["phone"],
                status=SignupStatus(r["status"]),
                checked_in_at=_time(r["checked_in_at"]),
                checked_out_at=_time(r["checked_out_at"]),
                hours=float(r["hours"]),
            )
            for r in rows
        ]

    async def sites(self, community_id: int) -> list[SiteLine]:
        """The whole site ledger, by zone, category and name."""
        rows = await self._all(
            "SELECT s.*, z.name AS zone_name FROM sites s JOIN zones z ON z.id = s.zone_id "
            "WHERE s.community_id = ? ORDER BY z.code, s.category, s.name",
            (community_id,),
        )
        return [
            SiteLine(
                name=r["name"],
                category=r["category"],
                zone=r["zone_name"],
                contact=r["contact"],
                phone=r["phone"],
                address=r["address"],
                lat=r["lat"],
                lon=r["lon"],
            )
            for r in rows
        ]


def _time(value: str | None) -> datetime | None:
    return None if value is None else from_db_time(value)


def _indicators(raw: str) -> dict[str, float | None]:
    """The JSON column as numbers or None; anything malformed reads as not rated."""
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        str(k): float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None
        for k, v in data.items()
    }


def _ticket_line(r: Row) -> TicketLine:
    return TicketLine(
        number=r["number"],
        source=Source(r["source"]),
        category=r["category"],
        zone=r["zone_name"],
        building=r["building_name"],
        site=r["site_name"],
        lat=r["lat"],
        lon=r["lon"],
        description=r["description"],
        assignee=r["assignee_name"],
        status=Status(r["status"]),
        created_at=from_db_time(r["created_at"]),
        dispatched_at=_time(r["dispatched_at"]),
        due_at=_time(r["due_at"]),
        accepted_at=_time(r["accepted_at"]),
        rectified_at=_time(r["rectified_at"]),
        closed_at=_time(r["closed_at"]),
        reopen_count=int(r["reopen_count"]),
        supporters=int(r["supporters"]),
        rating=Rating(r["rating"]) if r["rating"] else None,
    )
