"""Inspections (督查): the day's plan, walking a zone's sites with a checklist, failed
items becoming tickets to the zone's cadre, and the score (100 minus deductions)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain import checklists, keys, prompts
from bot.domain.access import Actor
from bot.domain.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.domain.inspections import Inspection, InspectionItem
from bot.domain.models import Language, Role, Site, Zone
from bot.domain.reports import DraftPhoto, Place
from bot.domain.schedule import inspection_days
from bot.domain.tickets import Source, Ticket
from bot.i18n import Safe, t
from bot.services.base import Service
from bot.services.reports import NewTicket, ReportService
from storage.database import Database
from storage.transaction import Transaction

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SiteCheck:
    """One site's checklist within an inspection, with what has been marked failed."""

    inspection: Inspection
    zone: Zone
    site: Site
    items: tuple[checklists.Item, ...]
    failed: frozenset[str]
    index: int  # position of the site in the walk
    total: int  # -1 once every site is done
    count: int  # sites in the walk


@dataclass(frozen=True, slots=True)
class Finished:
    inspection: Inspection
    zone: Zone
    score: float
    failed: int
    tickets: list[Ticket]


@dataclass(frozen=True, slots=True)
class PlannedZone:
    zone: Zone
    last_inspected: date | None
    sites: list[Site]


class InspectionService(Service):
    def __init__(
        self, db: Database, clock: Clock, outbox_ready: asyncio.Event, *, reports: ReportService
    ) -> None:
        super().__init__(db, clock, outbox_ready)
        self.reports = reports

    async def plan_for(self, actor: Actor) -> list[PlannedZone]:
        """Zones and their sites, the longest-uninspected first (inspectors and admins)."""
        _inspector(actor)
        assert actor.community_id is not None
        async with self.db.read() as tx:
            return await plan_zones(tx, actor.community_id)

    async def check_open(self, actor: Actor, inspection_id: int) -> None:
        """Refuse a button on someone else's, or a finished, inspection."""
        async with self.db.read() as tx:
            await self._own_open(tx, actor, inspection_id)

    async def is_inspection_day(self, community_id: int, day: date) -> bool:
        async with self.db.read() as tx:
            rules = await tx.communities.rules(community_id)
        return day in inspection_days(day.year, day.month, rules.inspection_days)

    async def start(self, actor: Actor, zone_id: int) -> SiteCheck:
        """Begin (or resume) an inspection of a zone; scheduled on inspection days, else 暗访."""
        _inspector(actor)
        now = self.clock.now()
        async with self.db.transaction() as tx:
            open_one = await tx.inspections.open_for(actor.person_id)
            if open_one is not None:
                if open_one.zone_id != zone_id:
                    raise Conflict("inspect.finish_first")
                return await self._site_check(tx, open_one)
            zone = await tx.zones.get(zone_id)
            if zone.community_id != actor.community_id:
                raise NotAllowed()
            community = await tx.communities.get(zone.community_id)
            rules = await tx.communities.rules(zone.community_id)
            today = now.astimezone(ZoneInfo(community.timezone)).date()
            scheduled = today in inspection_days(today.year, today.month, rules.inspection_days)
            kind = "scheduled" if scheduled else "unannounced"
            inspection = await tx.inspections.add(
                zone.community_id, zone.id, actor.person_id, today, kind, now
            )
            log.info("inspection started inspection_id=%s kind=%s", inspection.id, kind)
            return await self._site_check(tx, inspection)

    async def current(self, actor: Actor) -> SiteCheck | None:
        async with self.db.read() as tx:
            inspection = await tx.inspections.open_for(actor.person_id)
            return None if inspection is None else await self._site_check(tx, inspection)

    async def toggle(
        self, actor: Actor, inspection_id: int, site_id: int, item_code: str
    ) -> SiteCheck:
        """Mark a checklist item failed, or passed again."""
        async with self.db.transaction() as tx:
            inspection = await self._own_open(tx, actor, inspection_id)
            site = await tx.sites.get(site_id)
            item = next(
                (i for i in checklists.checklist_for(site.category) if i.code == item_code), None
            )
            if item is None or site.zone_id != inspection.zone_id:
                raise InvalidInput("errors.button_expired")
            recorded = {
                (i.site_id, i.item_code): i for i in await tx.inspections.items(inspection_id)
            }
            before = recorded.get((site_id, item_code))
            failed_now = before is None or before.passed
            await tx.inspections.record_item(
                inspection_id,
                InspectionItem(
                    site_id,
                    item_code,
                    not failed_now,
                    item.deduction if failed_now else 0.0,
                    None,
                    None,
                ),
            )
            return await self._site_check(tx, inspection, site_id)

    async def site_done(
        self, actor: Actor, inspection_id: int, site_id: int
    ) -> tuple[SiteCheck | None, list[str]]:
        """Close a site: records its passes; returns the next site (or None) and failed items
        that still need a photo."""
        async with self.db.transaction() as tx:
            inspection = await self._own_open(tx, actor, inspection_id)
            site = await tx.sites.get(site_id)
            recorded = {
                (i.site_id, i.item_code): i for i in await tx.inspections.items(inspection_id)
            }
            missing_photos = []
            for item in checklists.checklist_for(site.category):
                found = recorded.get((site_id, item.code))
                if found is None:
                    await tx.inspections.record_item(
                        inspection_id, InspectionItem(site_id, item.code, True, 0.0, None, None)
                    )
                elif not found.passed and found.photo_path is None:
                    missing_photos.append(item.code)
            if missing_photos:
                # The inspector's next message is the first missing photo.
                await tx.prompts.put(
                    actor.person_id,
                    prompts.ask(
                        prompts.InspectPhoto(inspection_id, site_id, missing_photos[0]),
                        self.clock.now(),
                    ),
                )
                return await self._site_check(tx, inspection, site_id), missing_photos
            return await self._site_check(tx, inspection), []

    async def failed_item_photo(
        self, actor: Actor, inspection_id: int, site_id: int, item_code: str, photo: DraftPhoto
    ) -> Ticket:
        """A failed item's photo: the item is evidenced and a ticket goes to the zone's cadre."""
        async with self.db.transaction() as tx:
            inspection = await self._own_open(tx, actor, inspection_id)
            site = await tx.sites.get(site_id)
            item = checklists.ITEMS.get(item_code)
            recorded = {
                (i.site_id, i.item_code): i for i in await tx.inspections.items(inspection_id)
            }
            current = recorded.get((site_id, item_code))
            if item is None or current is None or current.passed:
                raise InvalidInput("errors.button_expired")
            await tx.prompts.clear(actor.person_id)
            if current.ticket_id is not None:
                return await tx.tickets.get(current.ticket_id)
            ticket = await self.reports.create_ticket(
                tx,
                NewTicket(
                    community_id=inspection.community_id,
                    source=Source.INSPECTION,
                    reporter_person_id=actor.person_id,
                    category=item.ticket_category,
                    place=Place(site.zone_id, site_id=site.id, lat=site.lat, lon=site.lon),
                    # Plain text, escaped where shown; the ticket keeps the community's language.
                    description=t(
                        Language.ZH,
                        "inspect.ticket_description",
                        fault=Safe(item.fail_zh),
                        site=Safe(site.name),
                    ),
                    photos=(photo,),
                    anonymous=False,
                ),
                keys.inspection_origin(inspection_id, site_id, item_code),
            )
            await tx.inspections.record_item(
                inspection_id,
                InspectionItem(
                    site_id, item_code, False, current.deduction, photo.path, ticket.id
                ),
            )
        self._wake_outbox()
        return ticket

    async def finish(self, actor: Actor, inspection_id: int) -> Finished:
        async with self.db.transaction() as tx:
            inspection = await self._own_open(tx, actor, inspection_id)
            items = await tx.inspections.items(inspection_id)
            unevidenced = [i for i in items if not i.passed and i.photo_path is None]
            if unevidenced:
                raise InvalidInput("inspect.photos_missing", count=len(unevidenced))
            score = checklists.score([i.deduction for i in items if not i.passed])
            await tx.inspections.finish(inspection_id, score, self.clock.now())
            zone = await tx.zones.get(inspection.zone_id)
            tickets = [await tx.tickets.get(i.ticket_id) for i in items if i.ticket_id]
            done = await tx.inspections.get(inspection_id)
        log.info("inspection finished inspection_id=%s score=%s", inspection_id, score)
        return Finished(done, zone, score, sum(not i.passed for i in items), tickets)

    async def _own_open(self, tx: Transaction, actor: Actor, inspection_id: int) -> Inspection:
        inspection = await tx.inspections.get(inspection_id)
        if inspection.inspector_person_id != actor.person_id:
            raise NotAllowed()
        if inspection.status != "open":
            raise Conflict("inspect.already_finished")
        return inspection

    async def _site_check(
        self, tx: Transaction, inspection: Inspection, site_id: int | None = None
    ) -> SiteCheck:
        """The given site, or the first one not yet finished (None-like when all are done)."""
        zone = await tx.zones.get(inspection.zone_id)
        sites = await _zone_sites(tx, inspection.community_id, zone.id)
        if not sites:
            raise NotFound("inspect.no_sites")
        recorded = await tx.inspections.items(inspection.id)
        done_sites = {
            s.id
            for s in sites
            if {i.item_code for i in recorded if i.site_id == s.id}
            >= {i.code for i in checklists.checklist_for(s.category)}
            and all(i.passed or i.photo_path for i in recorded if i.site_id == s.id)
        }
        if site_id is None:
            pending = [s for s in sites if s.id not in done_sites]
            site = pending[0] if pending else sites[-1]
        else:
            site = next(s for s in sites if s.id == site_id)
        failed = frozenset(i.item_code for i in recorded if i.site_id == site.id and not i.passed)
        index = [s.id for s in sites].index(site.id)
        total = len(sites) if len(done_sites) < len(sites) else -1  # -1: every site is done
        return SiteCheck(
            inspection,
            zone,
            site,
            checklists.checklist_for(site.category),
            failed,
            index,
            total,
            len(sites),
        )


async def _zone_sites(tx: Transaction, community_id: int, zone_id: int) -> list[Site]:
    # Finished inspections only: a site marked in the open walk must keep its place in it,
    # or the counter jumps and every next site reads as the first.
    last = await tx.inspections.site_last_inspected(community_id)
    sites = [s for s in await tx.sites.list_by_community(community_id) if s.zone_id == zone_id]
    return sorted(sites, key=lambda s: (last.get(s.id, date.min), s.name))


async def plan_zones(tx: Transaction, community_id: int) -> list[PlannedZone]:
    """Zones and their sites, the longest-uninspected first."""
    last = await tx.inspections.last_inspected(community_id)
    zones = await tx.zones.list_by_community(community_id)
    plan = [
        PlannedZone(z, last.get(z.id), await _zone_sites(tx, community_id, z.id)) for z in zones
    ]
    return sorted(plan, key=lambda p: (p.last_inspected or date.min, p.zone.code))


def _inspector(actor: Actor) -> None:
    if actor.community_id is None:
        raise InvalidInput("start.pick_community_first")
    if not (actor.has(Role.INSPECTOR) or actor.is_admin()):
        raise NotAllowed()
