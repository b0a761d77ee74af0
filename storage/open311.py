"""Open311: API keys per community, what a posted request adds to its ticket, and the
request listing (tickets read as GeoReport requests)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.open311 import ApiKey
from bot.domain.tickets import Source, Status
from storage.rows import Repository, Row, from_db_time, to_db_time


@dataclass(frozen=True, slots=True)
class RequestRow:
    """A ticket as GeoReport shows it, with the names of its place."""

    ticket_id: int
    number: str
    source: Source
    category: str
    status: Status
    description: str
    created_at: datetime
    updated_at: datetime
    due_at: datetime | None
    lat: float | None
    lon: float | None
    place: str | None
    zone: str | None
    address: str | None
    media_url: str | None
    has_photo: bool
    reject_note: str | None


# The last event is the request's updated_datetime; the place is the building, else the
# site; address and media_url exist only for requests posted through the API.
_REQUEST_SELECT = """
SELECT t.id, t.number, t.source, t.category, t.status, t.description, t.created_at,
       COALESCE((SELECT MAX(e.at) FROM ticket_events e WHERE e.ticket_id = t.id),
                t.created_at) AS updated_at,
       t.due_at, t.lat, t.lon,
       COALESCE(b.name, s.name) AS place, z.name AS zone,
       o.address, o.media_url,
       EXISTS (SELECT 1 FROM ticket_photos p WHERE p.ticket_id = t.id AND p.kind = 'before')
           AS has_photo,
       (SELECT e.note FROM ticket_events e WHERE e.ticket_id = t.id AND e.kind = 'rejected'
         ORDER BY e.at DESC LIMIT 1) AS reject_note
FROM tickets t
LEFT JOIN buildings b ON b.id = t.building_id
LEFT JOIN sites s ON s.id = t.site_id
LEFT JOIN zones z ON z.id = t.zone_id
LEFT JOIN open311_requests o ON o.ticket_id = t.id
"""


class Open311Repository(Repository):
    async def add_key(
        self,
        community_id: int,
        person_id: int,
        key_hash: str,
        label: str,
        created_by: int | None,
        now: datetime,
    ) -> ApiKey:
        new_id = await self._insert(
            "INSERT INTO open311_keys "
            "(community_id, person_id, key_hash, label, created_by, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (community_id, person_id, key_hash, label, created_by, to_db_time(now)),
        )
        row = await self._one("SELECT * FROM open311_keys WHERE id = ?", (new_id,))
        assert row is not None
        return _to_key(row)

    async def find_active_key(self, key_hash: str) -> ApiKey | None:
        row = await self._one(
            "SELECT * FROM open311_keys WHERE key_hash = ? AND revoked_at IS NULL", (key_hash,)
        )
        return None if row is None else _to_key(row)

    async def list_keys(self, community_id: int) -> list[ApiKey]:
        rows = await self._all(
            "SELECT * FROM open311_keys WHERE community_id = ? ORDER BY id", (community_id,)
        )
        return [_to_key(r) for r in rows]

    async def revoke_key(self, community_id: int, key_id: int, now: datetime) -> bool:
        changed = await self._exec(
            "UPDATE open311_keys SET revoked_at = ? "
            "WHERE id = ? AND community_id = ? AND revoked_at IS NULL",
            (to_db_time(now), key_id, community_id),
        )
        return changed == 1

    async def record_request(
        self, ticket_id: int, key_id: int, address: str | None, media_url: str | None
    ) -> None:
        await self._exec(
            "INSERT INTO open311_requests (ticket_id, key_id, address, media_url) "
            "VALUES (?, ?, ?, ?)",
            (ticket_id, key_id, address, media_url),
        )

    async def requests_by_number(self, community_id: int, numbers: list[str]) -> list[RequestRow]:
        if not numbers:
            return []
        marks = ", ".join("?" * len(numbers))
        rows = await self._all(
            f"{_REQUEST_SELECT} WHERE t.community_id = ? AND t.number IN ({marks}) "
            "ORDER BY t.created_at DESC, t.id DESC",
            (community_id, *numbers),
        )
        return [_to_request(r) for r in rows]

    async def requests_between(
        self,
        community_id: int,
        start: datetime,
        end: datetime,
        statuses: list[Status],
        category: str | None,
        limit: int,
    ) -> list[RequestRow]:
        """Newest first, by the time they were requested (the tickets' created_at index)."""
        marks = ", ".join("?" * len(statuses))
        sql = (
            f"{_REQUEST_SELECT} WHERE t.community_id = ? AND t.created_at >= ? "
            f"AND t.created_at <= ? AND t.status IN ({marks})"
        )
        params: list[object] = [
            community_id,
            to_db_time(start),
            to_db_time(end),
            *(s.value for s in statuses),
        ]
        if category is not None:
            sql += " AND t.category = ?"
            params.append(category)
        sql += " ORDER BY t.created_at DESC, t.id DESC LIMIT ?"
        params.append(limit)
        return [_to_request(r) for r in await self._all(sql, params)]


def _to_key(row: Row) -> ApiKey:
    return ApiKey(
        id=row["id"],
        community_id=row["community_id"],
        person_id=row["person_id"],
        label=row["label"],
        created_at=from_db_time(row["created_at"]),
        revoked_at=from_db_time(row["revoked_at"]) if row["revoked_at"] else None,
    )


def _to_request(row: Row) -> RequestRow:
    return RequestRow(
        ticket_id=row["id"],
        number=row["number"],
        source=Source(row["source"]),
        category=row["category"],
        status=Status(row["status"]),
        description=row["description"] or "",
        created_at=from_db_time(row["created_at"]),
        updated_at=from_db_time(row["updated_at"]),
        due_at=from_db_time(row["due_at"]) if row["due_at"] else None,
        lat=row["lat"],
        lon=row["lon"],
        place=row["place"],
        zone=row["zone"],
        address=row["address"],
        media_url=row["media_url"],
        has_photo=bool(row["has_photo"]),
        reject_note=row["reject_note"],
    )
