"""The office console's doors and what its pages read.

Two doors: a one-time login link the bot sends a staff member in private chat (signed by
being random and stored only as a hash, single use, expiring in minutes), exchanged for a
browser session; or a Telegram Mini App, whose ``initData`` is checked on every call.
Either way every request re-reads the person's roles from the database, as a button press
does, so taking a role away closes the console at once (and revokes the sessions).
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain import tickets as rules
from bot.domain.access import Actor
from bot.domain.errors import InvalidInput, NotAllowed, NotFound
from bot.domain.household_ratings import HouseholdRating
from bot.domain.inspections import Inspection, InspectionItem
from bot.domain.models import Community, Person, Role, Zone
from bot.domain.scoring import YearMonth
from bot.domain.tickets import ACTIVE_STATUSES, RejectReason, Status
from bot.domain.webapp import InitDataRefused, verify_init_data
from bot.services.base import Service
from bot.services.people import as_this_bot_sees
from bot.services.ratings import RatingService
from bot.services.tickets import TicketService, Timeline
from bot.services.volunteers import Roster, VolunteerService
from storage.console import TicketFilter, TicketRow
from storage.database import Database
from storage.scores import StoredScore

LOGIN_TTL = timedelta(minutes=10)
SESSION_TTL = timedelta(hours=12)
# Telegram signs initData when the Mini App opens; a copy older than this is refused.
INIT_DATA_MAX_AGE = timedelta(hours=6)
STAFF_ROLES = frozenset({Role.CADRE, Role.INSPECTOR, Role.LEADER, Role.ADMIN})


@dataclass(frozen=True, slots=True)
class Visitor:
    """Who is using the console for this request."""

    actor: Actor
    person: Person
    community: Community

    def has(self, *roles: Role) -> bool:
        return self.actor.super_admin or any(self.actor.has(r) for r in roles)


@dataclass(frozen=True, slots=True)
class TicketDetail:
    timeline: Timeline
    actions: tuple[str, ...]
    zones: list[Zone]


@dataclass(frozen=True, slots=True)
class ZoneBoard:
    months: list[str]
    zones: list[Zone]
    scores: dict[tuple[int, str], StoredScore]
    last: str


@dataclass(frozen=True, slots=True)
class InspectionRow:
    inspection: Inspection
    zone: str
    inspector: str
    items: list[tuple[str, InspectionItem]]


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ConsoleService(Service):
    def __init__(
        self,
        db: Database,
        clock: Clock,
        outbox_ready: asyncio.Event,
        *,
        token: str,
        super_admins: frozenset[int],
        tickets: TicketService,
        volunteers: VolunteerService,
        ratings: RatingService,
    ) -> None:
        super().__init__(db, clock, outbox_ready)
        self._tickets = tickets
        self._volunteers = volunteers
        self._ratings = ratings
        self._token = token
        self._super_admins = super_admins

    # -- doors ------------------------------------------------------------------------

    async def issue_login(self, actor: Actor) -> str:
        """A one-time login token for a staff member (the bot sends it as a link)."""
        if not self._is_staff(actor):
            raise NotAllowed("console.staff_only")
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        async with self.db.transaction() as tx:
            await tx.console.add_login(_hash(token), actor.person_id, now, now + LOGIN_TTL)
        return token

    async def open_session(self, token: str) -> str | None:
        """Spend a login token for a session id; None if it is unknown, used or expired."""
        now = self.clock.now()
        async with self.db.transaction() as tx:
            person_id = await tx.console.use_login(_hash(token), now)
            if person_id is None:
                return None
            session = secrets.token_urlsafe(32)
            await tx.console.add_session(_hash(session), person_id, now, now + SESSION_TTL)
        return session

    async def by_session(self, session: str) -> Visitor | None:
        now = self.clock.now()
        async with self.db.read() as tx:
            person_id = await tx.console.session_person(_hash(session), now)
        if person_id is None:
            return None
        visitor = await self._visitor(person_id)
        if visitor is None:
            # No staff role any more: the session ends with the role.
            async with self.db.transaction() as tx:
                await tx.console.revoke_sessions_of(person_id, now)
        return visitor

    async def by_init_data(self, init_data: str) -> Visitor | None:
        try:
            user = verify_init_data(init_data, self._token, self.clock.now(), INIT_DATA_MAX_AGE)
        except InitDataRefused:
            return None
        async with self.db.read() as tx:
            person = await tx.people.find_by_telegram(user.telegram_id)
        return None if person is None else await self._visitor(person.id)

    async def logout(self, session: str) -> None:
        async with self.db.transaction() as tx:
            await tx.console.revoke_session(_hash(session), self.clock.now())

    async def _visitor(self, person_id: int) -> Visitor | None:
        async with self.db.read() as tx:
            found = await tx.people.find_with_home_elsewhere(person_id=person_id)
            if found is None:
                raise NotFound("errors.person_not_found")
            grants = await tx.roles.list_for_person(person_id)
            person = as_this_bot_sees(*found, grants)
            community = (
                await tx.communities.find(person.community_id) if person.community_id else None
            )
        actor = Actor(
            person_id=person.id,
            telegram_id=person.telegram_id or 0,
            community_id=person.community_id,
            grants=tuple(grants),
            super_admin=person.telegram_id in self._super_admins,
        )
        if community is None or not self._is_staff(actor):
            return None
        return Visitor(actor, person, community)

    @staticmethod
    def _is_staff(actor: Actor) -> bool:
        return actor.super_admin or bool(actor.roles & STAFF_ROLES)

    # -- what the pages read ----------------------------------------------------------

    async def tickets(self, visitor: Visitor, wanted: TicketFilter) -> list[TicketRow]:
        """The community's tickets a visitor may see: a cadre their zones' and their own."""
        if not visitor.has(Role.INSPECTOR, Role.LEADER, Role.ADMIN):
            wanted = wanted.limited_to(visitor.actor.cadre_zone_ids(), visitor.actor.person_id)
        async with self.db.read() as tx:
            return await tx.console.list_tickets(visitor.community.id, wanted, self.clock.now())

    async def zones_of(self, visitor: Visitor) -> list[Zone]:
        async with self.db.read() as tx:
            return await tx.zones.list_by_community(visitor.community.id)

    async def ticket(self, visitor: Visitor, number: str) -> TicketDetail:
        """A ticket's card: its timeline, photos, and what this visitor may do now."""
        timeline = await self._tickets.timeline(visitor.actor, number)
        ticket = timeline.ticket
        actor = visitor.actor
        actions: list[str] = []
        if ticket.status in (Status.ASSIGNED, Status.QUEUED) and rules.is_handler(actor, ticket):
            actions.append("accept")
        if ticket.status in (Status.ASSIGNED, Status.ACCEPTED, Status.QUEUED) and (
            rules.is_handler(actor, ticket)
        ):
            actions += ["transfer", "reject"]
        if ticket.status is Status.ACCEPTED and rules.is_handler(actor, ticket):
            actions.append("extend")
        if ticket.status is Status.RECTIFIED and rules.can_recheck(actor, ticket):
            actions += ["confirm", "reopen"]
        zones = await self.zones_of(visitor)
        return TicketDetail(timeline, tuple(actions), zones)

    async def act(self, visitor: Visitor, number: str, action: str, form: dict[str, str]) -> None:
        """One of the card's actions, through the same use case as the bot's button."""
        async with self.db.read() as tx:
            ticket = await tx.tickets.find_by_number(visitor.community.id, number)
        if ticket is None:
            raise NotFound("tickets.not_found")
        actor = visitor.actor
        reason = form.get("reason", "").strip()
        if action == "accept":
            await self._tickets.accept(actor, ticket.id)
        elif action == "transfer":
            zone = form.get("zone", "")
            await self._tickets.transfer(
                actor, ticket.id, int(zone) if zone.isdigit() else None, reason
            )
        elif action == "reject":
            kind = form.get("kind", "")
            if kind not in {k.value for k in RejectReason}:
                raise InvalidInput("console.pick_reason")
            await self._tickets.reject(actor, ticket.id, RejectReason(kind), reason)
        elif action == "extend":
            days = form.get("days", "")
            if not days.isdigit():
                raise InvalidInput("console.pick_days")
            await self._tickets.ask_extension(actor, ticket.id, reason, int(days))
        elif action == "confirm":
            await self._tickets.confirm(actor, ticket.id)
        elif action == "reopen":
            await self._tickets.reopen(actor, ticket.id, reason, None)
        else:
            raise NotFound("console.unknown_action")

    async def photo_path(self, visitor: Visitor, number: str, photo_id: int) -> str:
        timeline = await self._tickets.timeline(visitor.actor, number)
        for photo in timeline.photos:
            if photo.id == photo_id:
                return photo.path
        raise NotFound("tickets.not_found")

    async def map_points(self, visitor: Visitor) -> list[dict[str, Any]]:
        """Open tickets and the site ledger, as points for the map (JSON-ready)."""
        rows = await self.tickets(
            visitor, TicketFilter(statuses=frozenset(ACTIVE_STATUSES), limit=1000)
        )
        points: list[dict[str, Any]] = [
            {
                "kind": "ticket",
                "number": r.number,
                "status": r.status.value,
                "category": r.category,
                "overdue": r.overdue,
                "lat": r.lat,
                "lon": r.lon,
                "place": r.place or "",
            }
            for r in rows
            if r.lat is not None and r.lon is not None
        ]
        async with self.db.read() as tx:
            sites = await tx.sites.list_by_community(visitor.community.id)
        points += [
            {"kind": "site", "name": s.name, "category": s.category, "lat": s.lat, "lon": s.lon}
            for s in sites
            if s.lat is not None and s.lon is not None
        ]
        return points

    async def zone_board(self, visitor: Visitor) -> ZoneBoard:
        """Each zone's last 12 monthly scores and last month's indicators."""
        tz = ZoneInfo(visitor.community.timezone)
        today = self.clock.now().astimezone(tz).date()
        last = YearMonth(today.year, today.month).previous()
        months = [last]
        for _ in range(11):
            months.append(months[-1].previous())
        months.reverse()
        async with self.db.read() as tx:
            zones = await tx.zones.list_by_community(visitor.community.id)
            history = await tx.scores.community_history(
                visitor.community.id, str(months[0]), str(months[-1])
            )
        scores: dict[tuple[int, str], StoredScore] = {(h.zone_id, h.month): h for h in history}
        return ZoneBoard(
            months=[str(m) for m in months], zones=zones, scores=scores, last=str(last)
        )

    async def inspections(self, visitor: Visitor) -> list[InspectionRow]:
        """The last 90 days' inspections with their checklist results, newest first."""
        require(visitor, "inspections")
        tz = ZoneInfo(visitor.community.timezone)
        today = self.clock.now().astimezone(tz).date()
        async with self.db.read() as tx:
            found = await tx.inspections.done_between(
                visitor.community.id, today - timedelta(days=90), today
            )
            zones = {z.id: z.name for z in await tx.zones.list_by_community(visitor.community.id)}
            sites = {s.id: s.name for s in await tx.sites.list_by_community(visitor.community.id)}
            rows = []
            for inspection in sorted(found, key=lambda i: (i.day, i.id), reverse=True):
                inspector = await tx.people.get(inspection.inspector_person_id)
                items = await tx.inspections.items(inspection.id)
                rows.append(
                    InspectionRow(
                        inspection,
                        zones.get(inspection.zone_id, "?"),
                        inspector.name,
                        [(sites.get(i.site_id, "?"), i) for i in items],
                    )
                )
        return rows

    async def rosters(self, visitor: Visitor) -> list[Roster]:
        require(visitor, "volunteers")
        activities = await self._volunteers.upcoming(visitor.community.id)
        return [await self._volunteers.roster(visitor.actor, a.id) for a in activities]

    async def ratings(self, visitor: Visitor) -> dict[str, list[HouseholdRating]]:
        require(visitor, "ratings")
        return await self._ratings.listing(visitor.actor)

    async def rule_values(self, visitor: Visitor) -> dict[str, str]:
        require(visitor, "rules")
        async with self.db.read() as tx:
            return (await tx.communities.rules(visitor.community.id)).to_mapping()


# Who may open each page: the navigation shows these, and each page's data refuses others.
_STAFF = (Role.CADRE, Role.INSPECTOR, Role.LEADER, Role.ADMIN)
PAGES: dict[str, tuple[Role, ...]] = {
    "tickets": _STAFF,
    "map": _STAFF,
    "zones": _STAFF,
    "inspections": (Role.INSPECTOR, Role.LEADER, Role.ADMIN),
    "volunteers": (Role.CADRE, Role.LEADER, Role.ADMIN),
    "ratings": (Role.INSPECTOR, Role.LEADER, Role.ADMIN),
    "ledgers": (Role.LEADER, Role.ADMIN),
    "rules": (Role.LEADER, Role.ADMIN),
    "people": (Role.ADMIN,),
}


def may_open(visitor: Visitor, page: str) -> bool:
    return visitor.has(*PAGES[page])


def require(visitor: Visitor, page: str) -> None:
    """Refuse a page the visitor's roles do not allow."""
    if not may_open(visitor, page):
        raise NotAllowed("console.not_for_your_role")


def parse_number(query: str, year: int) -> str | None:
    """A ticket number from what was typed: "2026-0042", or "42" for this year."""
    text = query.strip()
    if not text:
        return None
    if text.isdigit():
        return f"{year}-{int(text):04d}"
    if len(text) == 9 and text[4] == "-" and text.replace("-", "").isdigit():
        return text
    raise InvalidInput("console.bad_number")
