"""A community's working-day calendar: its own overrides and the snapshot its deadlines
were counted with."""

from __future__ import annotations

from datetime import date, datetime

from storage.rows import Repository, to_db_time
from storage.tickets import TicketRepository


class CalendarRepository(Repository):
    async def overrides(self, community_id: int) -> tuple[list[date], list[date]]:
        rows = await self._all(
            "SELECT day, workday FROM calendar_overrides WHERE community_id = ?", (community_id,)
        )
        holidays = [date.fromisoformat(r["day"]) for r in rows if not r["workday"]]
        workdays = [date.fromisoformat(r["day"]) for r in rows if r["workday"]]
        return holidays, workdays

    async def set_override(self, community_id: int, day: date, workday: bool, note: str) -> None:
        await self._exec(
            "INSERT INTO calendar_overrides (community_id, day, workday, note) "
            "VALUES (?, ?, ?, ?) "
            "ON CONFLICT (community_id, day) DO UPDATE SET workday = excluded.workday, "
            "note = excluded.note",
            (community_id, day.isoformat(), int(workday), note),
        )
        # A day off more or less moves the working-day deadlines ahead of every ticket.
        await TicketRepository(self._conn).replan_community(community_id)

    async def fingerprints(self) -> dict[int, str]:
        """Each community's calendar snapshot fingerprint (communities without one are absent)."""
        rows = await self._all("SELECT community_id, fingerprint FROM calendar_snapshots")
        return {r["community_id"]: r["fingerprint"] for r in rows}

    async def fingerprint(self, community_id: int) -> str | None:
        found = await self._scalar(
            "SELECT fingerprint FROM calendar_snapshots WHERE community_id = ?", (community_id,)
        )
        return None if found is None else str(found)

    async def snapshot(self, community_id: int) -> str | None:
        """The calendar data (JSON) this community's deadlines were last counted with."""
        found = await self._scalar(
            "SELECT data FROM calendar_snapshots WHERE community_id = ?", (community_id,)
        )
        return None if found is None else str(found)

    async def save_snapshot(
        self, community_id: int, fingerprint: str, data: str, now: datetime
    ) -> None:
        await self._exec(
            "INSERT INTO calendar_snapshots (community_id, fingerprint, data, updated_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (community_id) DO UPDATE SET "
            "fingerprint = excluded.fingerprint, data = excluded.data, "
            "updated_at = excluded.updated_at",
            (community_id, fingerprint, data, to_db_time(now)),
        )
