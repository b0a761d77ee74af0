"""Tickets with their events, photos and supporters."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from bot.domain.errors import Conflict, NotFound
from bot.domain.tickets import (
    ACTIVE_STATUSES,
    OPEN_STATUSES,
    Event,
    EventKind,
    Rating,
    Source,
    Status,
    Ticket,
    format_number,
)
from storage.rows import Repository, Row, from_db_time, to_db_time

_COLUMNS = (
    "community_id, number, source, reporter_person_id, category, zone_id, building_id, site_id, "
    "lat, lon, description, status, assignee_person_id, created_at, dispatched_at, due_at, "
    "accepted_at, rectified_at, closed_at, reopen_count, transfer_count, supporters, anonymous, "
    "share_phone, rating, extension_reason, version, extension_days"
)
# In a cadre's hands: what an unreachable cadre leaves waiting.
_HELD = (Status.ASSIGNED.value, Status.ACCEPTED.value)


@dataclass(frozen=True, slots=True)
class TicketPhoto:
    id: int
    ticket_id: int
    kind: str
    sha256: str
    path: str
    file_id: str | None


@dataclass(frozen=True, slots=True)
class StoredEvent:
    kind: EventKind
    actor_person_id: int | None
    at: datetime
    note: str


@dataclass(frozen=True, slots=True)
class CardNames:
    """The names a ticket's card shows beside the ticket's own fields."""

    timezone: str
    zone: str | None
    place: str | None  # the building's name, else the site's
    reporter: str
    reporter_phone: str | None


@dataclass(frozen=True, slots=True)
class ActiveCounts:
    open: int
    waiting_recheck: int
    overdue: int


class TicketRepository(Repository):
    async def next_number(self, community_id: int, year: int) -> str:
        await self._exec(
            "INSERT INTO ticket_counters (community_id, year, last_seq) VALUES (?, ?, 1) "
            "ON CONFLICT (community_id, year)"
            " DO UPDATE SET last_seq = ticket_counters.last_seq + 1",
            (community_id, year),
        )
        seq: int = await self._scalar(
            "SELECT last_seq FROM ticket_counters WHERE community_id = ? AND year = ?",
            (community_id, year),
        )
        return format_number(year, seq)

    async def add(self, ticket: Ticket, origin_key: str | None) -> Ticket:
        new_id = await self._insert(
            f"INSERT INTO tickets ({_COLUMNS}, origin_key) VALUES ({', '.join('?' * 29)})",
            (*_values(ticket), origin_key),
        )
        return await self.get(new_id)

    async def get(self, ticket_id: int) -> Ticket:
        row = await self._one("SELECT * FROM tickets WHERE id = ?", (ticket_id,))
        if row is None:
            raise NotFound("tickets.not_found")
        return _to_ticket(row)

    async def find_by_number(self, community_id: int, number: str) -> Ticket | None:
        row = await self._one(
            "SELECT * FROM tickets WHERE community_id = ? AND number = ?", (community_id, number)
        )
        return None if row is None else _to_ticket(row)

    async def find_by_origin(self, origin_key: str) -> Ticket | None:
        row = await self._one("SELECT * FROM tickets WHERE origin_key = ?", (origin_key,))
        return None if row is None else _to_ticket(row)

    async def save(self, ticket: Ticket) -> None:
        """Write a transition's result; fails if someone else saved first."""
        assignments = ", ".join(f"{c.strip()} = ?" for c in _COLUMNS.split(","))
        # A transition may move what lies ahead (a deadline, a status): the tick re-plans.
        changed = await self._exec(
            f"UPDATE tickets SET {assignments}, next_check_at = NULL WHERE id = ? AND version = ?",
            (*_values(ticket), ticket.id, ticket.version - 1),
        )
        if changed != 1:
            raise Conflict("errors.conflict")

    async def add_events(self, ticket_id: int, events: list[Event]) -> None:
        for event in events:
            # The community is copied from the ticket so a digest counts its period by one
            # index range; for an unknown ticket it stays NULL and the foreign key refuses.
            await self._exec(
                "INSERT INTO ticket_events "
                "(ticket_id, community_id, kind, actor_person_id, at, note) "
                "VALUES (?, (SELECT community_id FROM tickets WHERE id = ?), ?, ?, ?, ?)",
                (
                    ticket_id,
                    ticket_id,
                    event.kind.value,
                    event.actor_person_id,
                    to_db_time(event.at),
                    event.note,
                ),
            )

    async def events(self, ticket_id: int) -> list[StoredEvent]:
        rows = await self._all(
            "SELECT * FROM ticket_events WHERE ticket_id = ? ORDER BY id", (ticket_id,)
        )
        return [
            StoredEvent(
                EventKind(r["kind"]), r["actor_person_id"], from_db_time(r["at"]), r["note"]
            )
            for r in rows
        ]

    async def add_photo(
        self, ticket_id: int, kind: str, sha256: str, path: str, file_id: str | None, now: datetime
    ) -> None:
        await self._exec(
            "INSERT INTO ticket_photos (ticket_id, kind, sha256, path, file_id, added_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (ticket_id, kind, sha256, path, file_id, to_db_time(now)),
        )

    async def photos(self, ticket_id: int, kind: str | None = None) -> list[TicketPhoto]:
        if kind is None:
            rows = await self._all(
                "SELECT * FROM ticket_photos WHERE ticket_id = ? ORDER BY id", (ticket_id,)
            )
        else:
            rows = await self._all(
                "SELECT * FROM ticket_photos WHERE ticket_id = ? AND kind = ? ORDER BY id",
                (ticket_id, kind),
            )
        return [
            TicketPhoto(r["id"], r["ticket_id"], r["kind"], r["sha256"], r["path"], r["file_id"])
            for r in rows
        ]

    async def add_supporter(self, ticket_id: int, person_id: int, now: datetime) -> bool:
        changed = await self._exec(
            "INSERT INTO ticket_supporters (ticket_id, person_id, added_at) "
            "VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (ticket_id, person_id, to_db_time(now)),
        )
        return changed > 0

    async def supporters(self, ticket_id: int) -> list[int]:
        rows = await self._all(
            "SELECT person_id FROM ticket_supporters WHERE ticket_id = ? ORDER BY added_at",
            (ticket_id,),
        )
        return [r["person_id"] for r in rows]

    async def list_for_assignee(
        self, person_id: int, zone_ids: frozenset[int], limit: int = 200
    ) -> list[Ticket]:
        """A cadre's queue: assigned to them or in their zones, overdue first, by due date
        (in the communities this bot serves: another bot's buttons would be refused here)."""
        zones = sorted(zone_ids) or [0]
        marks = ", ".join("?" * len(zones))
        statuses = sorted(s.value for s in ACTIVE_STATUSES)
        rows = await self._all(
            f"SELECT * FROM tickets WHERE status IN ({', '.join('?' * len(statuses))}) AND "
            f"(assignee_person_id = ? OR zone_id IN ({marks})) AND {self._served()} "
            "ORDER BY due_at IS NULL, due_at, id LIMIT ?",
            (*statuses, person_id, *zones, *self._served_params, limit),
        )
        return [_to_ticket(r) for r in rows]

    async def list_for_reporter(self, person_id: int, limit: int = 20) -> list[Ticket]:
        """What a resident reported or supported, newest first, in this bot's communities."""
        # One id list from two index lookups: PostgreSQL reads the whole table for
        # "reporter = ? OR id IN (…)" (bench/BENCHMARKS.md § 3b); both engines take this.
        rows = await self._all(
            "SELECT * FROM tickets WHERE id IN "
            "(SELECT id FROM tickets WHERE reporter_person_id = ? "
            "UNION ALL SELECT ticket_id FROM ticket_supporters WHERE person_id = ?) "
            f"AND {self._served()} ORDER BY created_at DESC, id DESC LIMIT ?",
            (person_id, person_id, *self._served_params, limit),
        )
        return [_to_ticket(r) for r in rows]

    async def list_active_by_category(self, community_id: int, category: str) -> list[Ticket]:
        statuses = sorted(s.value for s in ACTIVE_STATUSES)
        rows = await self._all(
            f"SELECT * FROM tickets WHERE community_id = ? AND category = ? AND status IN "
            f"({', '.join('?' * len(statuses))}) ORDER BY id DESC LIMIT 200",
            (community_id, category, *statuses),
        )
        return [_to_ticket(r) for r in rows]

    async def list_by_status(
        self, community_id: int, statuses: frozenset[Status], limit: int | None = None
    ) -> list[Ticket]:
        """By due date, undated last; all of them unless ``limit`` is given."""
        values = sorted(s.value for s in statuses)
        rows = await self._all(
            f"SELECT * FROM tickets WHERE community_id = ? AND status IN "
            f"({', '.join('?' * len(values))}) ORDER BY due_at IS NULL, due_at, id LIMIT ?",
            (community_id, *values, self._limit(limit)),
        )
        return [_to_ticket(r) for r in rows]

    async def list_held_by(self, person_id: int) -> list[Ticket]:
        """Open tickets in this person's hands (assigned or accepted) in the communities
        this bot serves, by due date."""
        rows = await self._all(
            "SELECT * FROM tickets WHERE assignee_person_id = ? AND status IN (?, ?) "
            f"AND {self._served()} ORDER BY due_at IS NULL, due_at, id",
            (person_id, *_HELD, *self._served_params),
        )
        return [_to_ticket(r) for r in rows]

    async def list_unreachable_held(
        self, community_id: int, limit: int | None = None
    ) -> list[tuple[Ticket, str]]:
        """Open tickets whose cadre cannot be reached (blocked the bot, or never opened it),
        with the cadre's name. Starts from the (few) unreachable people: this bot's
        refusals (a per-bot table) and those who never linked a Telegram account."""
        rows = await self._all(
            "SELECT t.*, p.name AS assignee_name FROM tickets t "
            "JOIN people p ON p.id = t.assignee_person_id "
            "WHERE t.community_id = ? AND t.status IN (?, ?) "
            "AND t.assignee_person_id IN (SELECT person_id FROM unreachable_people"
            " WHERE bot_id = ? UNION ALL SELECT id FROM people WHERE telegram_id IS NULL) "
            "ORDER BY t.due_at IS NULL, t.due_at, t.id LIMIT ?",
            (community_id, *_HELD, self._bot, self._limit(limit)),
        )
        return [(_to_ticket(r), r["assignee_name"]) for r in rows]

    async def card_names(self, ticket_ids: list[int]) -> dict[int, CardNames]:
        """What the cards of these tickets show besides the tickets, in one statement."""
        if not ticket_ids:
            return {}
        rows = await self._all(
            "SELECT t.id, c.timezone, z.name AS zone, "
            "CASE WHEN t.building_id IS NOT NULL THEN b.name"
            " WHEN t.site_id IS NOT NULL THEN s.name END AS place, "
            "p.name AS reporter, p.phone AS reporter_phone "
            "FROM tickets t JOIN communities c ON c.id = t.community_id "
            "JOIN people p ON p.id = t.reporter_person_id "
            "LEFT JOIN zones z ON z.id = t.zone_id "
            "LEFT JOIN buildings b ON b.id = t.building_id "
            "LEFT JOIN sites s ON s.id = t.site_id "
            f"WHERE t.id IN {self._json_ids()}",
            (json.dumps(ticket_ids),),
        )
        return {
            r["id"]: CardNames(
                r["timezone"], r["zone"], r["place"], r["reporter"], r["reporter_phone"]
            )
            for r in rows
        }

    async def list_to_check(self, now: datetime, limit: int) -> list[Ticket]:
        """Active tickets the minute tick has to look at: never planned, or due by now.

        The literal status list matches the partial index ``tickets_next_check``; the two
        halves are separate so that each is an index search (an OR would scan it). The
        index is named because the planner, not knowing that few active tickets are due,
        would rather walk every active ticket through the status index.
        """
        active = "status IN ('queued', 'assigned', 'accepted', 'rectified')"
        planned = (
            "tickets INDEXED BY tickets_next_check" if self._dialect == "sqlite" else "tickets"
        )
        rows = await self._all(
            f"SELECT * FROM (SELECT * FROM {planned} WHERE {active} AND next_check_at IS NULL"
            f" UNION ALL SELECT * FROM {planned} WHERE {active} AND next_check_at <= ?) AS due"
            # Another bot's tickets are its tick's: their reminders go through it.
            f" WHERE {self._served()} LIMIT ?",
            (to_db_time(now), *self._served_params, limit),
        )
        return [_to_ticket(r) for r in rows]

    async def plan_checks(self, plans: list[tuple[int, int, datetime]]) -> int:
        """Record (ticket id, version seen, next check) for many tickets in one statement.

        A ticket saved since its version was read keeps its NULL: the tick looks again.
        """
        if not plans:
            return 0
        if self._dialect == "postgresql":
            sql = (
                "UPDATE tickets SET next_check_at = p.value->>2"
                " FROM json_array_elements(CAST(? AS json)) AS p"
                " WHERE tickets.id = CAST(p.value->>0 AS bigint)"
                " AND tickets.version = CAST(p.value->>1 AS bigint)"
            )
        else:
            sql = (
                "UPDATE tickets SET next_check_at = json_extract(p.value, '$[2]')"
                " FROM json_each(?) AS p"
                " WHERE tickets.id = json_extract(p.value, '$[0]')"
                " AND tickets.version = json_extract(p.value, '$[1]')"
            )
        return await self._exec(
            sql,
            (json.dumps([[tid, version, to_db_time(at)] for tid, version, at in plans]),),
        )

    async def replan_community(self, community_id: int) -> int:
        """Rules, calendar or time zone changed: every active ticket's plan is stale."""
        return await self._exec(
            "UPDATE tickets SET next_check_at = NULL WHERE community_id = ?"
            " AND status IN ('queued', 'assigned', 'accepted', 'rectified')",
            (community_id,),
        )

    async def list_rectified_before(self, cutoff: datetime) -> list[Ticket]:
        rows = await self._all(
            "SELECT * FROM tickets WHERE status = 'rectified' AND rectified_at <= ? ORDER BY id",
            (to_db_time(cutoff),),
        )
        return [_to_ticket(r) for r in rows]

    async def event_counts(
        self, community_id: int, start: datetime, end: datetime
    ) -> dict[str, int]:
        """How many tickets had each kind of event in the window (each ticket once per kind)."""
        rows = await self._all(
            "SELECT kind, COUNT(DISTINCT ticket_id) AS n FROM ticket_events "
            "WHERE community_id = ? AND at >= ? AND at < ? GROUP BY kind",
            (community_id, to_db_time(start), to_db_time(end)),
        )
        return {r["kind"]: r["n"] for r in rows}

    async def created_by_source(
        self, community_id: int, start: datetime, end: datetime
    ) -> dict[Source, int]:
        """Tickets created in the window, by source (resident, inspection, review)."""
        # From the tickets themselves, so the count is the one a query of the table gives.
        rows = await self._all(
            "SELECT source, COUNT(*) AS n FROM tickets "
            "WHERE community_id = ? AND created_at >= ? AND created_at < ? GROUP BY source",
            (community_id, to_db_time(start), to_db_time(end)),
        )
        return {Source(r["source"]): int(r["n"]) for r in rows}

    async def active_counts(self, community_id: int, now: datetime) -> ActiveCounts:
        """Open, waiting for re-check, and open past their deadline at ``now``."""
        statuses = sorted(s.value for s in ACTIVE_STATUSES)
        rows = await self._all(
            "SELECT status, COUNT(*) AS n, COUNT(*) FILTER (WHERE due_at <= ?) AS late "
            "FROM tickets "
            f"WHERE community_id = ? AND status IN ({', '.join('?' * len(statuses))}) "
            "GROUP BY status",
            (to_db_time(now), community_id, *statuses),
        )
        by_status = {Status(r["status"]): (int(r["n"]), int(r["late"] or 0)) for r in rows}
        opened = [by_status.get(s, (0, 0)) for s in OPEN_STATUSES]
        return ActiveCounts(
            open=sum(n for n, _ in opened),
            waiting_recheck=by_status.get(Status.RECTIFIED, (0, 0))[0],
            overdue=sum(late for _, late in opened),
        )

    async def oldest_overdue(self, community_id: int, now: datetime, limit: int) -> list[Ticket]:
        """Open tickets past their deadline at ``now``, the longest overdue first."""
        statuses = sorted(s.value for s in OPEN_STATUSES)
        # Ordering by an expression (due_at || '', a no-op) keeps both planners from
        # walking the community's whole deadline history in order (tickets_by_community_due)
        # to save sorting the few overdue: PostgreSQL spent 10 ms of a digest's 28 there.
        rows = await self._all(
            f"SELECT * FROM tickets WHERE community_id = ? AND status IN "
            f"({', '.join('?' * len(statuses))}) AND due_at <= ? "
            "ORDER BY due_at || '', id LIMIT ?",
            (community_id, *statuses, to_db_time(now), limit),
        )
        return [_to_ticket(r) for r in rows]

    async def rectified_in_time(
        self, community_id: int, start: datetime, end: datetime
    ) -> tuple[int, int]:
        """Of the tickets (rejected aside) due in the window: how many, and how many of
        them were rectified by their deadline."""
        # Stored times are fixed-width UTC text, so comparing them as text orders them.
        row = await self._one(
            "SELECT COUNT(*) AS due, COUNT(*) FILTER (WHERE rectified_at <= due_at) AS done "
            "FROM tickets "
            "WHERE community_id = ? AND due_at >= ? AND due_at < ? AND status != 'rejected'",
            (community_id, to_db_time(start), to_db_time(end)),
        )
        if row is None:
            return 0, 0
        return int(row["due"]), int(row["done"] or 0)

    async def zone_counts(
        self, community_id: int, start: datetime, end: datetime
    ) -> dict[int, tuple[int, int]]:
        """Per zone that has tickets at all: tickets created and closed in the window."""
        window = (community_id, to_db_time(start), to_db_time(end))
        created = await self._per_zone(
            "SELECT zone_id, COUNT(*) AS n FROM tickets WHERE community_id = ? "
            "AND created_at >= ? AND created_at < ? AND zone_id IS NOT NULL GROUP BY zone_id",
            window,
        )
        closed = await self._per_zone(
            "SELECT zone_id, COUNT(*) AS n FROM tickets WHERE community_id = ? "
            "AND closed_at >= ? AND closed_at < ? AND status = 'closed' "
            "AND zone_id IS NOT NULL GROUP BY zone_id",
            window,
        )
        return {
            z: (created.get(z, 0), closed.get(z, 0))
            for z in await self._ticketed_zones(community_id)
        }

    async def _per_zone(self, sql: str, params: tuple[object, ...]) -> dict[int, int]:
        return {r["zone_id"]: int(r["n"]) for r in await self._all(sql, params)}

    async def _ticketed_zones(self, community_id: int) -> list[int]:
        """The community's zones with any ticket: a quiet week still lists them, with 0."""
        # "+" keeps the probe on tickets_by_zone: by community it would read every ticket
        # of the community for a zone that has none.
        rows = await self._all(
            "SELECT id FROM zones z WHERE community_id = ? AND EXISTS (SELECT 1 FROM tickets t "
            "WHERE t.zone_id = z.id AND +t.community_id = z.community_id)",
            (community_id,),
        )
        return [r["id"] for r in rows]

    async def touching_window(
        self, community_id: int, start: datetime, end: datetime
    ) -> list[Ticket]:
        """Tickets created before the window's end that were dispatched, due, closed or still
        open around it: everything a month's indicators can count."""
        rows = await self._all(
            "SELECT * FROM tickets WHERE community_id = ? AND created_at < ? AND ("
            "(dispatched_at >= ? AND dispatched_at < ?) OR (due_at >= ? AND due_at <= ?) OR "
            "(closed_at >= ? AND closed_at < ?) OR closed_at IS NULL OR closed_at >= ? "
            "OR rectified_at IS NULL OR rectified_at > ?)",
            (
                community_id,
                to_db_time(end),
                to_db_time(start),
                to_db_time(end),
                to_db_time(start),
                to_db_time(end),
                to_db_time(start),
                to_db_time(end),
                to_db_time(start),
                to_db_time(start),
            ),
        )
        return [_to_ticket(r) for r in rows]

    async def count_reports_since(self, person_id: int, since: datetime) -> int:
        count: int = await self._scalar(
            "SELECT COUNT(*) FROM tickets WHERE reporter_person_id = ? AND created_at >= ? "
            "AND source = 'resident'",
            (person_id, to_db_time(since)),
        )
        return count


def _opt_time(value: datetime | None) -> str | None:
    return None if value is None else to_db_time(value)


def _values(t: Ticket) -> tuple[object, ...]:
    return (
        t.community_id,
        t.number,
        t.source.value,
        t.reporter_person_id,
        t.category,
        t.zone_id,
        t.building_id,
        t.site_id,
        t.lat,
        t.lon,
        t.description,
        t.status.value,
        t.assignee_person_id,
        to_db_time(t.created_at),
        _opt_time(t.dispatched_at),
        _opt_time(t.due_at),
        _opt_time(t.accepted_at),
        _opt_time(t.rectified_at),
        _opt_time(t.closed_at),
        t.reopen_count,
        t.transfer_count,
        t.supporters,
        int(t.anonymous),
        int(t.share_phone),
        t.rating.value if t.rating else None,
        t.extension_reason,
        t.version,
        t.extension_days,
    )


def _time(row: Row, key: str) -> datetime | None:
    value = row[key]
    return None if value is None else from_db_time(value)


def _to_ticket(row: Row) -> Ticket:
    return Ticket(
        id=row["id"],
        community_id=row["community_id"],
        number=row["number"],
        source=Source(row["source"]),
        reporter_person_id=row["reporter_person_id"],
        category=row["category"],
        zone_id=row["zone_id"],
        building_id=row["building_id"],
        site_id=row["site_id"],
        lat=row["lat"],
        lon=row["lon"],
        description=row["description"],
        status=Status(row["status"]),
        assignee_person_id=row["assignee_person_id"],
        created_at=from_db_time(row["created_at"]),
        dispatched_at=_time(row, "dispatched_at"),
        due_at=_time(row, "due_at"),
        accepted_at=_time(row, "accepted_at"),
        rectified_at=_time(row, "rectified_at"),
        closed_at=_time(row, "closed_at"),
        reopen_count=row["reopen_count"],
        transfer_count=row["transfer_count"],
        supporters=row["supporters"],
        anonymous=bool(row["anonymous"]),
        share_phone=bool(row["share_phone"]),
        rating=Rating(row["rating"]) if row["rating"] else None,
        extension_reason=row["extension_reason"],
        version=row["version"],
        extension_days=row["extension_days"],
    )
