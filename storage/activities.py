"""Volunteer activities, their sign-ups and volunteers' naming preference."""

from __future__ import annotations

from datetime import datetime

from bot.domain.errors import NotFound
from bot.domain.volunteers import Activity, Signup, SignupStatus
from storage.rows import Repository, Row, from_db_time, to_db_time


class ActivityRepository(Repository):
    async def add(
        self, activity: Activity, created_by: int | None, now: datetime, series_key: str | None
    ) -> Activity:
        row = await self._one(
            "INSERT INTO volunteer_activities (community_id, kind, title, place, "
            "lat, lon, starts_at, ends_at, headcount, zone_id, created_by, created_at, "
            "series_key) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING *",
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
        if row is None:  # the series already has this activity
            row = await self._one(
                "SELECT * FROM volunteer_activities WHERE series_key = ?", (series_key,)
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


def _opt(value: datetime | None) -> str | None:
    return None if value is None else to_db_time(value)


def _opt_time(value: str | None) -> datetime | None:
    return None if value is None else from_db_time(value)


def _to_activity(row: Row) -> Activity:
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


def _to_signup(row: Row, prefix: str = "") -> Signup:
    return Signup(
        activity_id=row[f"{prefix}activity_id"],
        person_id=row[f"{prefix}person_id"],
        status=SignupStatus(row[f"{prefix}status"]),
        signed_up_at=from_db_time(row[f"{prefix}signed_up_at"]),
        checked_in_at=_opt_time(row[f"{prefix}checked_in_at"]),
        checked_out_at=_opt_time(row[f"{prefix}checked_out_at"]),
    )
