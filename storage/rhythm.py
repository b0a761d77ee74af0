"""Volunteer activities and sign-ups, inspections, digest preferences, announcements."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime

from bot.domain.errors import NotFound
from bot.domain.volunteers import Activity, Signup, SignupStatus
from storage.rows import Repository, from_db_time, to_db_time


class ActivityRepository(Repository):
    async def add(
        self, activity: Activity, created_by: int | None, now: datetime, series_key: str | None
    ) -> Activity:
        await self._exec(
            "INSERT OR IGNORE INTO volunteer_activities (community_id, kind, title, place, "
            "lat, lon, starts_at, ends_at, headcount, zone_id, created_by, created_at, "
            "series_key) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                activity.community_id,
                activity.kind,
                activity.title,
                activity.place,
                activity.lat,
                activity.lon,
                to_db_time(activity.starts_at),
                to_db_time(activity.ends_at),
                activity.headcount,
                activity.zone_id,
                created_by,
                to_db_time(now),
                series_key,
            ),
        )
        if series_key is not None:
            row = await self._one(
                "SELECT * FROM volunteer_activities WHERE series_key = ?", (series_key,)
            )
        else:
            row = await self._one(
                "SELECT * FROM volunteer_activities WHERE id = last_insert_rowid()"
            )
        assert row is not None
        return _to_activity(row)

    async def get(self, activity_id: int) -> Activity:
        row = await self._one("SELECT * FROM volunteer_activities WHERE id = ?", (activity_id,))
        if row is None:
            raise NotFound("volunteer.activity_not_found")
        return _to_activity(row)

    async def find_series(self, series_key: str) -> Activity | None:
        row = await self._one(
            "SELECT * FROM volunteer_activities WHERE series_key = ?", (series_key,)
        )
        return None if row is None else _to_activity(row)

    async def list_upcoming(self, community_id: int, since: datetime) -> list[Activity]:
        rows = await self._all(
            "SELECT * FROM volunteer_activities WHERE community_id = ? AND ends_at >= ? "
            "AND cancelled = 0 ORDER BY starts_at LIMIT 50",
            (community_id, to_db_time(since)),
        )
        return [_to_activity(r) for r in rows]

    async def list_starting_between(self, start: datetime, end: datetime) -> list[Activity]:
        rows = await self._all(
            "SELECT * FROM volunteer_activities WHERE starts_at >= ? AND starts_at < ? "
            "AND cancelled = 0 ORDER BY starts_at",
            (to_db_time(start), to_db_time(end)),
        )
        return [_to_activity(r) for r in rows]

    async def signups(self, activity_id: int) -> list[Signup]:
        rows = await self._all(
            "SELECT * FROM volunteer_signups WHERE activity_id = ? "
            "ORDER BY signed_up_at, person_id",
            (activity_id,),
        )
        return [_to_signup(r) for r in rows]

    async def signup(self, activity_id: int, person_id: int) -> Signup | None:
        row = await self._one(
            "SELECT * FROM volunteer_signups WHERE activity_id = ? AND person_id = ?",
            (activity_id, person_id),
        )
        return None if row is None else _to_signup(row)

    async def put_signup(self, signup: Signup, hours: float = 0.0) -> None:
        await self._exec(
            "INSERT INTO volunteer_signups (activity_id, person_id, status, signed_up_at, "
            "checked_in_at, checked_out_at, hours) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (activity_id, person_id) DO UPDATE SET status = excluded.status, "
            "signed_up_at = excluded.signed_up_at, checked_in_at = excluded.checked_in_at, "
            "checked_out_at = excluded.checked_out_at, hours = excluded.hours",
            (
                signup.activity_id,
                signup.person_id,
                signup.status.value,
                to_db_time(signup.signed_up_at),
                _opt(signup.checked_in_at),
                _opt(signup.checked_out_at),
                hours,
            ),
        )

    async def count_confirmed(self, activity_id: int) -> int:
        count: int = await self._scalar(
            "SELECT COUNT(*) FROM volunteer_signups "
            "WHERE activity_id = ? AND status = 'confirmed'",
            (activity_id,),
        )
        return count

    async def for_person(self, person_id: int) -> list[tuple[Activity, Signup, float]]:
        rows = await self._all(
            "SELECT a.*, s.activity_id AS s_activity_id, s.person_id AS s_person_id, "
            "s.status AS s_status, s.signed_up_at AS s_signed_up_at, "
            "s.checked_in_at AS s_checked_in_at, s.checked_out_at AS s_checked_out_at, "
            "s.hours AS s_hours FROM volunteer_signups s "
            "JOIN volunteer_activities a ON a.id = s.activity_id "
            "WHERE s.person_id = ? ORDER BY a.starts_at DESC LIMIT 30",
            (person_id,),
        )
        return [(_to_activity(r), _to_signup(r, prefix="s_"), float(r["s_hours"])) for r in rows]

    async def total_hours(self, person_id: int) -> float:
        value = await self._scalar(
            "SELECT COALESCE(SUM(hours), 0) FROM volunteer_signups WHERE person_id = ?",
            (person_id,),
        )
        return float(value)

    async def served_between(
        self, community_id: int, start: datetime, end: datetime
    ) -> list[tuple[int, float]]:
        """(person_id, hours) of everyone who checked out of an activity in the window."""
        rows = await self._all(
            "SELECT s.person_id, SUM(s.hours) AS hours FROM volunteer_signups s "
            "JOIN volunteer_activities a ON a.id = s.activity_id WHERE a.community_id = ? "
            "AND a.starts_at >= ? AND a.starts_at < ? AND s.hours > 0 "
            "GROUP BY s.person_id ORDER BY hours DESC",
            (community_id, to_db_time(start), to_db_time(end)),
        )
        return [(r["person_id"], float(r["hours"])) for r in rows]

    async def set_named(self, person_id: int, named: bool) -> None:
        await self._exec(
            "INSERT INTO volunteer_prefs (person_id, named) VALUES (?, ?) "
            "ON CONFLICT (person_id) DO UPDATE SET named = excluded.named",
            (person_id, int(named)),
        )

    async def is_named(self, person_id: int) -> bool:
        value = await self._scalar(
            "SELECT named FROM volunteer_prefs WHERE person_id = ?", (person_id,)
        )
        return bool(value)


@dataclass(frozen=True, slots=True)
class Inspection:
    id: int
    community_id: int
    zone_id: int
    inspector_person_id: int
    day: date
    kind: str
    status: str
    score: float | None


@dataclass(frozen=True, slots=True)
class InspectionItem:
    site_id: int
    item_code: str
    passed: bool
    deduction: float
    photo_path: str | None
    ticket_id: int | None


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


class DigestPrefRepository(Repository):
    async def mode(self, person_id: int, community_id: int) -> str:
        value = await self._scalar(
            "SELECT mode FROM digest_prefs WHERE person_id = ? AND community_id = ?",
            (person_id, community_id),
        )
        return str(value) if value else "daily"

    async def set_mode(self, person_id: int, community_id: int, mode: str) -> None:
        await self._exec(
            "INSERT INTO digest_prefs (person_id, community_id, mode) VALUES (?, ?, ?) "
            "ON CONFLICT (person_id, community_id) DO UPDATE SET mode = excluded.mode",
            (person_id, community_id, mode),
        )


@dataclass(frozen=True, slots=True)
class Announcement:
    id: int
    community_id: int
    audience: str
    created_by: int
    queued: int
    reported: bool


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
        rows = await self._all("SELECT * FROM announcements WHERE reported_at IS NULL ORDER BY id")
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


def _opt(value: datetime | None) -> str | None:
    return None if value is None else to_db_time(value)


def _opt_time(value: str | None) -> datetime | None:
    return None if value is None else from_db_time(value)


def _to_activity(row: sqlite3.Row) -> Activity:
    return Activity(
        id=row["id"],
        community_id=row["community_id"],
        kind=row["kind"],
        title=row["title"],
        place=row["place"],
        lat=row["lat"],
        lon=row["lon"],
        starts_at=from_db_time(row["starts_at"]),
        ends_at=from_db_time(row["ends_at"]),
        headcount=row["headcount"],
        zone_id=row["zone_id"],
        cancelled=bool(row["cancelled"]),
    )


def _to_signup(row: sqlite3.Row, prefix: str = "") -> Signup:
    return Signup(
        activity_id=row[f"{prefix}activity_id"],
        person_id=row[f"{prefix}person_id"],
        status=SignupStatus(row[f"{prefix}status"]),
        signed_up_at=from_db_time(row[f"{prefix}signed_up_at"]),
        checked_in_at=_opt_time(row[f"{prefix}checked_in_at"]),
        checked_out_at=_opt_time(row[f"{prefix}checked_out_at"]),
    )


def _to_inspection(row: sqlite3.Row) -> Inspection:
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
