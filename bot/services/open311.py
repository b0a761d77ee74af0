"""Open311 GeoReport v2 use cases: jurisdictions, requests read back, requests posted by
city systems (each becomes a ticket routed and timed exactly like a resident's report),
and the API keys a community's admins issue for that."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass

from bot.clock import Clock
from bot.domain.access import Actor, admin_community
from bot.domain.errors import InvalidInput, NotFound
from bot.domain.geo import nearest_place
from bot.domain.models import Building, Community, Site
from bot.domain.open311 import (
    MAX_RESULTS,
    ApiKey,
    NewRequest,
    Open311Error,
    RequestQuery,
    public_status,
    shares_media,
)
from bot.domain.reports import DraftPhoto, Place, place_of
from bot.domain.tickets import Source, Status
from bot.services.base import Service
from bot.services.reports import NewTicket, ReportService
from storage.database import Database
from storage.open311 import RequestRow

# A key is shown once; only its hash is stored, so a leaked database leaks no keys.
KEY_PREFIX = "jy311_"
MAX_LABEL = 60
# A posted point farther than this from every building and site is not this community's.
MAX_DISTANCE_M = 2_000


@dataclass(frozen=True, slots=True)
class Posted:
    number: str
    zone_name: str


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class Open311Service(Service):
    def __init__(
        self, db: Database, clock: Clock, outbox_ready: asyncio.Event, *, reports: ReportService
    ) -> None:
        super().__init__(db, clock, outbox_ready)
        self._reports = reports

    async def jurisdiction(self, code: str | None) -> Community:
        """The community a jurisdiction_id names; with one community it may be left out."""
        async with self.db.read() as tx:
            if code:
                community = await tx.communities.find_by_code(code.strip())
                # Another bot of the city serves it: its own Open311 endpoint answers.
                if community is None or not tx.communities.serves(community):
                    raise Open311Error(404, f"jurisdiction_id {code!r} not found")
                return community
            communities = await tx.communities.list_all()
        if len(communities) == 1:
            return communities[0]
        raise Open311Error(400, "jurisdiction_id is required")

    async def requests(self, community: Community, query: RequestQuery) -> list[RequestRow]:
        async with self.db.read() as tx:
            if query.ids:
                return await tx.open311.requests_by_number(community.id, list(query.ids))
            assert query.start is not None and query.end is not None
            statuses = [s for s in Status if public_status(s) in query.statuses]
            return await tx.open311.requests_between(
                community.id, query.start, query.end, statuses, query.service_code, MAX_RESULTS
            )

    async def request(self, community: Community, number: str) -> RequestRow:
        async with self.db.read() as tx:
            rows = await tx.open311.requests_by_number(community.id, [number])
        if not rows:
            raise Open311Error(404, f"service_request_id {number!r} not found")
        return rows[0]

    async def post(
        self,
        community: Community,
        api_key: str,
        new: NewRequest,
        photos: tuple[DraftPhoto, ...] = (),
    ) -> Posted:
        """A request from a city system: checked like a report, filed like one."""
        key = await self._key_for(community, api_key)
        place = await self._place(community, new)
        async with self.db.transaction() as tx:
            ticket = await self._reports.create_ticket(
                tx,
                NewTicket(
                    community_id=community.id,
                    source=Source.OPEN311,
                    reporter_person_id=key.person_id,
                    category=new.service_code,
                    place=place,
                    description=new.description,
                    photos=photos,
                    # The key's label (the city system) is who reported: no person is named.
                    anonymous=False,
                ),
                origin_key=None,
            )
            await tx.open311.record_request(ticket.id, key.id, new.address, new.media_url)
            zone = await tx.zones.get(place.zone_id)
        self._wake_outbox()
        return Posted(ticket.number, zone.name)

    async def check_key(self, community: Community, api_key: str) -> None:
        """Refuse a missing, revoked or foreign key before anything is read or stored."""
        await self._key_for(community, api_key)

    async def _key_for(self, community: Community, api_key: str) -> ApiKey:
        if not api_key:
            raise Open311Error(403, "api_key is required to post a request")
        async with self.db.read() as tx:
            key = await tx.open311.find_active_key(hash_key(api_key.strip()))
        if key is None or key.community_id != community.id:
            raise Open311Error(403, "api_key is not valid for this jurisdiction")
        return key

    async def _place(self, community: Community, new: NewRequest) -> Place:
        """The nearest building or site to the point, else one the address names."""
        async with self.db.read() as tx:
            buildings = await tx.buildings.list_by_community(community.id)
            sites = await tx.sites.list_by_community(community.id)
        if new.lat is not None and new.lon is not None:
            hit = nearest_place(new.lat, new.lon, buildings, sites, max_distance_m=MAX_DISTANCE_M)
            if hit is None:
                raise Open311Error(400, "the location is outside this jurisdiction")
            return place_of(hit[0], new.lat, new.lon)
        address = (new.address or "").casefold()
        # The longest name found in the address wins: "3号楼" inside "幸福里3号楼东门".
        spots: list[Building | Site] = [*buildings, *sites]
        named = [(spot.name, place_of(spot)) for spot in spots]
        found = [(name, place) for name, place in named if name.casefold() in address]
        if not found:
            raise Open311Error(
                400, "address_string names no building or site here; send lat and long"
            )
        return max(found, key=lambda item: len(item[0]))[1]

    # -- keys, issued by a community's admins ------------------------------------------

    async def issue_key(self, actor: Actor, label: str) -> tuple[ApiKey, str]:
        """A new key for the actor's community; the plain key is returned only here."""
        community_id = admin_community(actor)
        label = " ".join(label.split())
        if not label:
            raise InvalidInput("open311.key_label_missing")
        if len(label) > MAX_LABEL:
            raise InvalidInput("open311.key_label_too_long", max=MAX_LABEL)
        plain = KEY_PREFIX + secrets.token_urlsafe(24)
        now = self.clock.now()
        async with self.db.transaction() as tx:
            system = await tx.people.add(f"Open311 · {label}", now)
            key = await tx.open311.add_key(
                community_id, system.id, hash_key(plain), label, actor.person_id, now
            )
        return key, plain

    async def community_of(self, actor: Actor) -> Community:
        """The community whose keys the actor manages."""
        community_id = admin_community(actor)
        async with self.db.read() as tx:
            return await tx.communities.get(community_id)

    async def keys(self, actor: Actor) -> list[ApiKey]:
        community_id = admin_community(actor)
        async with self.db.read() as tx:
            return await tx.open311.list_keys(community_id)

    async def revoke_key(self, actor: Actor, key_id: int) -> None:
        community_id = admin_community(actor)
        async with self.db.transaction() as tx:
            if not await tx.open311.revoke_key(community_id, key_id, self.clock.now()):
                raise NotFound("open311.key_not_found", id=key_id)

    async def media_path(self, community: Community, number: str) -> str | None:
        """Where a request's first before-photo is stored (under the data dir), if it may
        be published (never a resident's: see ``shares_media``)."""
        async with self.db.read() as tx:
            ticket = await tx.tickets.find_by_number(community.id, number)
            if ticket is None or not shares_media(ticket.source):
                return None
            photos = await tx.tickets.photos(ticket.id, "before")
        return photos[0].path if photos else None
