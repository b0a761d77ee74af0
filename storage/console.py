"""The office console's one-time login links and browser sessions (hashes only)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from bot.domain.tickets import OPEN_STATUSES, Source, Status
from storage.rows import Repository, Row, from_db_time, to_db_time


class ConsoleRepository(Repository):
    async def add_login(
        self, token_hash: str, person_id: int, now: datetime, expires: datetime
    ) -> None:
        await self._exec(
            "INSERT INTO console_logins (token_hash, person_id, created_at, expires_at) "
            "VALUES (?, ?, ?, ?)",
            (token_hash, person_id, to_db_time(now), to_db_time(expires)),
        )

    async def use_login(self, token_hash: str, now: datetime) -> int | None:
        """Spend a login link: its person, or None if unknown, used or expired."""
        row = await self._one(
            "SELECT person_id, expires_at, used_at FROM console_logins WHERE token_hash = ?",
            (token_hash,),
        )
        if row is None or row["used_at"] is not None or from_db_time(row["expires_at"]) <= now:
            return None
        changed = await self._exec(
            "UPDATE console_logins SET used_at = ? WHERE token_hash = ? AND used_at IS NULL",
            (to_db_time(now), token_hash),
        )
        return int(row["person_id"]) if changed == 1 else None

    async def add_session(
        self, id_hash: str, person_id: int, now: datetime, expires: datetime
    ) -> None:
        await self._exec(
            "INSERT INTO console_sessions (id_hash, person_id, created_at, expires_at) "
            "VALUES (?, ?, ?, ?)",
            (id_hash, person_id, to_db_time(now), to_db_time(expires)),
        )

    async def session_person(self, id_hash: str, now: datetime) -> int | None:
        row = await self._one(
            "SELECT person_id FROM console_sessions "
            "WHERE id_hash = ? AND revoked_at IS NULL AND expires_at > ?",
            (id_hash, to_db_time(now)),
        )
        return None if row is None else int(row["person_id"])

    async def revoke_session(self, id_hash: str, now: datetime) -> None:
        await self._exec(
            "UPDATE console_sessions SET revoked_at = ? WHERE id_hash = ? AND revoked_at IS NULL",
            (to_db_time(now), id_hash),
        )

    async def list_tickets(
        self, community_id: int, wanted: TicketFilter, now: datetime
    ) -> list[TicketRow]:
        """One page of the tickets table, filtered and sorted in SQL."""
        where = ["t.community_id = ?"]
        params: list[object] = [community_id]
        if wanted.statuses:
            where.append(f"t.status IN ({', '.join('?' * len(wanted.statuses))})")
            params += sorted(s.value for s in wanted.statuses)
        if wanted.zone_id is not None:
            where.append("t.zone_id = ?")
            params.append(wanted.zone_id)
        if wanted.category:
            where.append("t.category = ?")
            params.append(wanted.category)
        if wanted.overdue_only:
            where.append(f"t.status IN ({', '.join('?' * len(OPEN_STATUSES))}) AND t.due_at <= ?")
            params += sorted(s.value for s in OPEN_STATUSES)
            params.append(to_db_time(now))
        if wanted.created_from is not None:
            where.append("t.created_at >= ?")
            params.append(to_db_time(wanted.created_from))
        if wanted.created_to is not None:
            where.append("t.created_at < ?")
            params.append(to_db_time(wanted.created_to))
        if wanted.number:
            where.append("t.number = ?")
            params.append(wanted.number)
        if wanted.only_zones is not None:
            zones = sorted(wanted.only_zones)
            marks = ", ".join("?" * len(zones)) or "NULL"
            where.append(f"(t.zone_id IN ({marks}) OR t.assignee_person_id = ?)")
            params += [*zones, wanted.or_assignee]
        sql = (
            "SELECT t.id, t.number, t.status, t.category, t.source, t.created_at, t.due_at, "
            "t.lat, t.lon, z.name AS zone, COALESCE(b.name, s.name) AS place, "
            "p.name AS assignee, COALESCE(t.lat, b.lat, s.lat) AS plat, "
            "COALESCE(t.lon, b.lon, s.lon) AS plon "
            "FROM tickets t LEFT JOIN zones z ON z.id = t.zone_id "
            "LEFT JOIN buildings b ON b.id = t.building_id "
            "LEFT JOIN sites s ON s.id = t.site_id "
            "LEFT JOIN people p ON p.id = t.assignee_person_id "
            f"WHERE {' AND '.join(where)} ORDER BY {_ORDER.get(wanted.sort, _ORDER['newest'])} "
            "LIMIT ?"
        )
        params.append(wanted.limit)
        return [_to_row(r, now) for r in await self._all(sql, params)]

    async def revoke_sessions_of(self, person_id: int, now: datetime) -> int:
        return await self._exec(
            "UPDATE console_sessions SET revoked_at = ? "
            "WHERE person_id = ? AND revoked_at IS NULL",
            (to_db_time(now), person_id),
        )


@dataclass(frozen=True, slots=True)
class TicketFilter:
    """What the tickets page asks for; empty fields do not filter."""

    statuses: frozenset[Status] = frozenset()
    zone_id: int | None = None
    category: str | None = None
    overdue_only: bool = False
    created_from: datetime | None = None
    created_to: datetime | None = None
    number: str | None = None
    sort: str = "newest"  # newest | oldest | due
    # A cadre sees their zones' tickets and those assigned to them.
    only_zones: frozenset[int] | None = None
    or_assignee: int | None = None
    limit: int = 200

    def limited_to(self, zones: frozenset[int], person_id: int) -> TicketFilter:
        return replace(self, only_zones=zones, or_assignee=person_id)


@dataclass(frozen=True, slots=True)
class TicketRow:
    id: int
    number: str
    status: Status
    category: str
    source: Source
    zone: str | None
    place: str | None
    assignee: str | None
    created_at: datetime
    due_at: datetime | None
    overdue: bool
    lat: float | None
    lon: float | None


_ORDER = {
    "newest": "t.created_at DESC, t.id DESC",
    "oldest": "t.created_at ASC, t.id ASC",
    "due": "t.due_at IS NULL, t.due_at ASC, t.id ASC",
}


def _to_row(row: Row, now: datetime) -> TicketRow:
    status = Status(row["status"])
    due = from_db_time(row["due_at"]) if row["due_at"] else None
    return TicketRow(
        id=row["id"],
        number=row["number"],
        status=status,
        category=row["category"],
        source=Source(row["source"]),
        zone=row["zone"],
        place=row["place"],
        assignee=row["assignee"],
        created_at=from_db_time(row["created_at"]),
        due_at=due,
        overdue=status in OPEN_STATUSES and due is not None and now >= due,
        lat=row["plat"],
        lon=row["plon"],
    )
