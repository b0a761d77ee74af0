"""Reporting a problem: the draft a resident builds step by step, and filing it as a ticket.

Each step is committed, so a restart loses nothing; filing is keyed by the draft's first
message so a re-delivered update finds the ticket instead of filing it twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.domain import keys, prompts
from bot.domain.access import Actor
from bot.domain.errors import InvalidInput, NotAllowed, NotFound
from bot.domain.geo import distance_m, nearest_place
from bot.domain.models import Person, Role, Zone
from bot.domain.reports import (
    CATEGORIES,
    MAX_PHOTOS,
    Draft,
    DraftPhoto,
    Place,
    PlaceOption,
    Step,
    order_places,
    place_of,
    search_places,
)
from bot.domain.tickets import Event as TicketEvent
from bot.domain.tickets import EventKind, Source, Status, Ticket, dispatch
from bot.domain.workdays import WorkCalendar
from bot.services import messages, reach
from bot.services.base import Service
from bot.services.calendar_changes import calendar_for
from bot.services.calendar_source import warn_unknown_years
from bot.services.ticket_cards import ticket_buttons_for_cadre, ticket_params
from storage.transaction import Transaction

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DraftView:
    draft: Draft
    step: Step
    zone: Zone | None
    place_name: str | None


@dataclass(frozen=True, slots=True)
class Duplicate:
    """An open ticket offered to another resident: only what is not anyone's own words."""

    ticket: Ticket
    distance_m: float | None
    photo: str | None
    place_name: str | None


@dataclass(frozen=True, slots=True)
class NewTicket:
    community_id: int
    source: Source
    reporter_person_id: int
    category: str
    place: Place
    description: str
    photos: tuple[DraftPhoto, ...]
    anonymous: bool = True
    share_phone: bool = False


@dataclass(frozen=True, slots=True)
class Filed:
    ticket: Ticket
    new: bool


class ReportService(Service):
    async def start(self, actor: Actor, person: Person, origin_key: str) -> DraftView:
        """Begin a report (text-first); an existing draft is kept, not replaced."""
        community_id = await self._may_report(actor, person)
        async with self.db.transaction() as tx:
            draft = await self._live(tx, person) or Draft(origin_key=origin_key)
            await self._put(tx, person, community_id, draft)
            return await self._view(tx, draft)

    async def add_photo(
        self,
        actor: Actor,
        person: Person,
        photo: DraftPhoto,
        caption: str | None,
        origin_key: str,
        media_group_id: str | None = None,
    ) -> tuple[DraftView, bool]:
        """Add a photo; the flag is False for the later photos of an album (ask once)."""
        community_id = await self._may_report(actor, person)
        async with self.db.transaction() as tx:
            draft = await self._live(tx, person) or Draft(origin_key=origin_key)
            if len(draft.photos) >= MAX_PHOTOS and all(
                p.sha256 != photo.sha256 for p in draft.photos
            ):
                raise InvalidInput("report.too_many_photos", max=MAX_PHOTOS)
            same_album = media_group_id is not None and media_group_id == draft.media_group_id
            draft = replace(draft.with_photo(photo), media_group_id=media_group_id)
            if caption and caption.strip() and draft.description is None:
                draft = draft.with_description(caption)
            await self._put(tx, person, community_id, draft)
            return await self._view(tx, draft), not same_album

    async def current(self, person: Person) -> DraftView | None:
        async with self.db.read() as tx:
            draft = await self._live(tx, person)
            return None if draft is None else await self._view(tx, draft)

    async def nudged(self, person: Person) -> DraftView:
        return await self._change(person, lambda d: replace(d, photo_nudged=True))

    async def set_category(self, person: Person, category: str) -> DraftView:
        if category not in CATEGORIES:
            raise InvalidInput("errors.button_expired")
        return await self._change(person, lambda d: replace(d, category=category))

    async def set_description(self, person: Person, text: str) -> DraftView:
        if not text.strip():
            raise InvalidInput("report.description_empty")
        return await self._change(person, lambda d: d.with_description(text))

    async def skip_description(self, person: Person) -> DraftView:
        return await self._change(person, lambda d: replace(d, description=""))

    async def toggle_anonymous(self, person: Person) -> DraftView:
        return await self._change(person, lambda d: replace(d, anonymous=not d.anonymous))

    async def set_share_phone(self, person: Person, phone: str | None) -> DraftView:
        """Consent to show the phone to the assigned cadre (None withdraws it)."""
        return await self._change(
            person,
            lambda d: replace(d, share_phone=phone is not None),
            phone=phone[:32] if phone else None,
        )

    async def ask_phone(self, person: Person) -> None:
        """ "Share my phone" pressed: the next text is the number (a contact works too)."""
        async with self.db.transaction() as tx:
            await tx.prompts.put(person.id, prompts.ask(prompts.ReportPhone(), self.clock.now()))

    async def set_place_building(self, person: Person, building_id: int) -> DraftView:
        async with self.db.read() as tx:
            building = await tx.buildings.get(building_id)
        if building.community_id != person.community_id:
            raise NotAllowed("errors.not_your_community")
        place = place_of(building, building.lat, building.lon)
        return await self._change(person, lambda d: replace(d, place=place))

    async def set_place_site(self, person: Person, site_id: int) -> DraftView:
        async with self.db.read() as tx:
            site = await tx.sites.get(site_id)
        if site.community_id != person.community_id:
            raise NotAllowed("errors.not_your_community")
        place = place_of(site, site.lat, site.lon)
        return await self._change(person, lambda d: replace(d, place=place))

    async def set_place_location(self, person: Person, lat: float, lon: float) -> DraftView:
        """A shared location: the zone of the nearest building or site (within 2 km)."""
        if person.community_id is None:
            raise InvalidInput("start.pick_community_first")
        async with self.db.read() as tx:
            buildings = await tx.buildings.list_by_community(person.community_id)
            sites = await tx.sites.list_by_community(person.community_id)
        hit = nearest_place(lat, lon, buildings, sites, max_distance_m=2_000)
        if hit is None:
            raise NotFound("report.location_outside")
        place = place_of(hit[0], lat, lon)
        return await self._change(person, lambda d: replace(d, place=place))

    async def place_options(self, person: Person) -> list[PlaceOption]:
        """Every building and site, grouped by zone with the resident's own zone first."""
        if person.community_id is None:
            raise InvalidInput("start.pick_community_first")
        async with self.db.read() as tx:
            zones = await tx.zones.list_by_community(person.community_id)
            buildings = await tx.buildings.list_by_community(person.community_id)
            sites = await tx.sites.list_by_community(person.community_id)
        names = {z.id: z.name for z in zones}
        options = [
            PlaceOption("bld", b.id, b.name, b.zone_id, names.get(b.zone_id, ""))
            for b in buildings
        ]
        options += [
            PlaceOption("site", s.id, s.name, s.zone_id, names.get(s.zone_id, "")) for s in sites
        ]
        return order_places(options, person.zone_id, person.building_id, [z.id for z in zones])

    async def search_places(self, person: Person, query: str) -> list[PlaceOption]:
        """Buildings and sites whose name contains the typed text."""
        return search_places(await self.place_options(person), query)

    async def cancel(self, person: Person) -> bool:
        async with self.db.transaction() as tx:
            return await tx.drafts.delete(person.id)

    async def duplicates(self, person: Person) -> list[Duplicate]:
        """Open tickets of the same category at the same place or nearby, nearest first."""
        view = await self.current(person)
        if view is None or view.draft.category is None or view.draft.place is None:
            return []
        draft, place = view.draft, view.draft.place
        async with self.db.read() as tx:
            rules = await tx.communities.rules(person.community_id or 0)
            found: list[Duplicate] = []
            for ticket in await tx.tickets.list_active_by_category(
                person.community_id or 0, draft.category or ""
            ):
                if ticket.reporter_person_id == person.id:
                    continue
                same_place = (place.building_id and place.building_id == ticket.building_id) or (
                    place.site_id and place.site_id == ticket.site_id
                )
                distance = _distance(place, ticket)
                if same_place or (distance is not None and distance <= rules.duplicate_radius_m):
                    photos = await tx.tickets.photos(ticket.id, "before")
                    found.append(
                        Duplicate(
                            ticket,
                            distance,
                            photos[0].path if photos else None,
                            await _place_name(tx, ticket.building_id, ticket.site_id),
                        )
                    )
        found.sort(key=lambda d: (d.distance_m is None, d.distance_m or 0.0))
        return found[:5]

    async def duplicates_seen(self, person: Person) -> DraftView:
        return await self._change(person, lambda d: replace(d, duplicates_seen=True))

    async def follow(self, actor: Actor, person: Person, ticket_id: int) -> Ticket:
        """'Me too': support an open ticket instead of filing a new one."""
        async with self.db.transaction() as tx:
            ticket = await tx.tickets.get(ticket_id)
            if ticket.community_id != person.community_id or ticket.status not in (
                Status.QUEUED,
                Status.ASSIGNED,
                Status.ACCEPTED,
                Status.RECTIFIED,
            ):
                raise InvalidInput("report.cannot_follow")
            now = self.clock.now()
            if await tx.tickets.add_supporter(ticket.id, person.id, now):
                ticket = replace(
                    ticket, supporters=ticket.supporters + 1, version=ticket.version + 1
                )
                await tx.tickets.save(ticket)
                await tx.tickets.add_events(
                    ticket.id, [TicketEvent(EventKind.SUPPORTED, person.id, now)]
                )
            await tx.drafts.delete(person.id)
            return ticket

    async def submit(self, actor: Actor, person: Person) -> Filed:
        """File the draft as a ticket and dispatch it to the zone's cadre, in one transaction."""
        now = self.clock.now()
        async with self.db.transaction() as tx:
            stored = await tx.drafts.get(person.id)
            if stored is None:
                raise NotFound("report.no_draft")
            community_id, data, expires_at = stored
            draft = Draft.from_json(data)
            if draft.filed_ticket_id is not None:
                existing = await tx.tickets.get(draft.filed_ticket_id)
                return Filed(existing, new=False)
            if draft.next_step() is not Step.CONFIRM:
                raise InvalidInput("report.incomplete")
            rules = await tx.communities.rules(community_id)
            recent = await tx.tickets.count_reports_since(person.id, now - timedelta(hours=1))
            if recent >= rules.reports_per_hour:
                raise InvalidInput("report.rate_limited", limit=rules.reports_per_hour)
            place = draft.place
            assert place is not None and draft.category is not None
            ticket = await self.create_ticket(
                tx,
                NewTicket(
                    community_id=community_id,
                    source=Source.RESIDENT,
                    reporter_person_id=person.id,
                    category=draft.category,
                    place=place,
                    description=draft.description or "",
                    photos=draft.photos,
                    anonymous=draft.anonymous,
                    share_phone=draft.share_phone,
                ),
                draft.origin_key,
            )
            filed = replace(draft, filed_ticket_id=ticket.id)
            await tx.drafts.put(person.id, community_id, filed.to_json(), now, expires_at)
        log.info(
            "ticket filed ticket_id=%s community_id=%s status=%s",
            ticket.id,
            community_id,
            ticket.status.value,
        )
        self._wake_outbox()
        return Filed(ticket, new=True)

    async def create_ticket(
        self, tx: Transaction, new: NewTicket, origin_key: str | None
    ) -> Ticket:
        """Number, store and dispatch a ticket with its before-photos (inside ``tx``)."""
        now = self.clock.now()
        community = await tx.communities.get(new.community_id)
        year = now.astimezone(ZoneInfo(community.timezone)).year
        ticket = Ticket(
            id=0,
            community_id=new.community_id,
            number=await tx.tickets.next_number(new.community_id, year),
            source=new.source,
            reporter_person_id=new.reporter_person_id,
            category=new.category,
            zone_id=new.place.zone_id,
            building_id=new.place.building_id,
            site_id=new.place.site_id,
            lat=new.place.lat,
            lon=new.place.lon,
            description=new.description,
            status=Status.QUEUED,
            assignee_person_id=None,
            created_at=now,
            dispatched_at=None,
            due_at=None,
            anonymous=new.anonymous,
            share_phone=new.share_phone,
        )
        ticket = await tx.tickets.add(ticket, origin_key)
        for photo in new.photos:
            await tx.tickets.add_photo(
                ticket.id, "before", photo.sha256, photo.path, photo.file_id, now
            )
        return await self._dispatch(tx, ticket, community.timezone)

    async def _dispatch(self, tx: Transaction, ticket: Ticket, timezone: str) -> Ticket:
        """Route to the zone's responsible cadre, or the admins' queue; tell them."""
        now = self.clock.now()
        rules = await tx.communities.rules(ticket.community_id)
        calendar = await community_calendar(tx, ticket.community_id)
        due = calendar.deadline_instant(now, rules.rectify_workdays, ZoneInfo(timezone))
        warn_unknown_years(calendar, [now.date(), due.date()])
        zone = await tx.zones.get(ticket.zone_id) if ticket.zone_id else None
        assignee = zone.responsible_person_id if zone else None
        first = TicketEvent(EventKind.CREATED, ticket.reporter_person_id, now)
        ticket, events = dispatch(ticket, assignee, now, due)
        await tx.tickets.save(ticket)
        await tx.tickets.add_events(ticket.id, [first, *events])
        params = await ticket_params(tx, ticket, timezone)
        photos = await tx.tickets.photos(ticket.id, "before")
        photo = photos[0].path if photos else None
        if assignee is not None:
            cadre = await tx.people.get(assignee)
            reached = await messages.to_person(
                tx,
                cadre,
                now,
                "tickets.new_for_cadre",
                buttons=ticket_buttons_for_cadre(ticket),
                photo=photo,
                dedupe_key=keys.dispatch(ticket.id, ticket.version),
                **params,
            )
            # The notice image follows the card; the outbox draws it when sending.
            await messages.notice_to_person(tx, cadre, now, ticket.id, ticket.number)
            if not reached:
                await reach.tell_admins(tx, ticket, cadre, now)
        else:
            for admin in await tx.people.list_with_role(ticket.community_id, Role.ADMIN):
                await messages.to_person(
                    tx,
                    admin,
                    now,
                    "tickets.new_for_admins",
                    buttons=ticket_buttons_for_cadre(ticket),
                    photo=photo,
                    dedupe_key=keys.admin_queue(ticket.id, ticket.version, admin.id),
                    **params,
                )
        return ticket

    async def _may_report(self, actor: Actor, person: Person) -> int:
        if person.community_id is None:
            raise InvalidInput("start.pick_community_first")
        async with self.db.read() as tx:
            if await tx.blocks.is_blocked(person.community_id, person.id):
                raise NotAllowed("report.blocked")
        return person.community_id

    async def _change(
        self, person: Person, change: Callable[[Draft], Draft], *, phone: str | None = None
    ) -> DraftView:
        async with self.db.transaction() as tx:
            draft = await self._live(tx, person)
            if draft is None or person.community_id is None:
                raise NotFound("report.no_draft")
            if phone:
                await tx.people.update_profile(person.id, phone=phone)
            # Any other answer means the resident moved on from the phone question (or
            # answered it): their next text is no phone number.
            asked = await tx.prompts.get(person.id, self.clock.now())
            if asked is not None and asked.kind is prompts.PromptKind.REPORT_PHONE:
                await tx.prompts.clear(person.id)
            draft = change(draft)
            await self._put(tx, person, person.community_id, draft)
            return await self._view(tx, draft)

    async def _live(self, tx: Transaction, person: Person) -> Draft | None:
        """The draft being worked on: not expired and not yet filed."""
        stored = await tx.drafts.get(person.id)
        if stored is None or stored[2] <= self.clock.now():
            return None
        if stored[0] != person.community_id:
            return None  # begun for another community (another bot's): not this one's
        draft = Draft.from_json(stored[1])
        return None if draft.filed_ticket_id is not None else draft

    async def _put(self, tx: Transaction, person: Person, community_id: int, draft: Draft) -> None:
        rules = await tx.communities.rules(community_id)
        now = self.clock.now()
        expires = now + timedelta(minutes=rules.report_expiry_minutes)
        await tx.drafts.put(person.id, community_id, draft.to_json(), now, expires)

    async def _view(self, tx: Transaction, draft: Draft) -> DraftView:
        zone = None
        place_name = None
        if draft.place is not None:
            zone = await tx.zones.get(draft.place.zone_id)
            place_name = await _place_name(tx, draft.place.building_id, draft.place.site_id)
        return DraftView(draft, draft.next_step(), zone, place_name)


async def community_calendar(tx: Transaction, community_id: int) -> WorkCalendar:
    """The community's working-day calendar: package data plus its own /holiday days."""
    return await calendar_for(tx, community_id)


async def _place_name(tx: Transaction, building_id: int | None, site_id: int | None) -> str | None:
    if building_id:
        return (await tx.buildings.get(building_id)).name
    if site_id:
        return (await tx.sites.get(site_id)).name
    return None


def _distance(place: Place, ticket: Ticket) -> float | None:
    if place.lat is None or place.lon is None or ticket.lat is None or ticket.lon is None:
        return None
    return distance_m(place.lat, place.lon, ticket.lat, ticket.lon)
