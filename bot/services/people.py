"""People: who is acting, where they live, their language, and their roles."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from bot.domain.access import Actor, admin_community
from bot.domain.errors import InvalidInput, NotAllowed, NotFound
from bot.domain.geo import nearest_place
from bot.domain.models import Building, Community, Language, Person, Role, RoleGrant, Zone
from bot.services import reach
from bot.services.base import Service

log = logging.getLogger(__name__)

MAX_NAME = 64


@dataclass(frozen=True, slots=True)
class Located:
    zone: Zone
    building: Building | None
    distance_m: float


@dataclass(frozen=True, slots=True)
class HomeChosen:
    community: Community
    left: Community | None  # the home in another bot's community it replaced


class PeopleService(Service):
    async def identify(
        self,
        telegram_id: int,
        display_name: str,
        language_code: str | None,
        super_admin: bool,
        *,
        contact: bool = True,
    ) -> tuple[Actor, Person]:
        """Load (or, on first contact, create) the person behind a Telegram account.

        ``contact`` False: the update is no sign a private message would reach them (a group
        message, or blocking the bot).
        """
        person: Person | None = None
        async with self.db.read() as tx:
            found = await tx.people.find_with_home_elsewhere(telegram_id=telegram_id)
            if found is not None:
                grants = await tx.roles.list_for_person(found[0].id)
                person = as_this_bot_sees(*found, grants)
        if person is None:
            name = (display_name.strip() or str(telegram_id))[:MAX_NAME]
            async with self.db.transaction() as tx:
                person = await tx.people.find_by_telegram(telegram_id)
                if person is None:
                    person = await tx.people.add(
                        name,
                        self.clock.now(),
                        telegram_id=telegram_id,
                        language=Language.from_telegram(language_code),
                    )
                    log.info("person created person_id=%s", person.id)
                grants = await tx.roles.list_for_person(person.id)
        elif not person.reachable and contact:
            # They wrote to us, so they unblocked the bot: what waited for them follows.
            async with self.db.transaction() as tx:
                await tx.people.set_reachable(telegram_id, True)
                person = replace(person, reachable=True)
                queued = await reach.send_queue(tx, person, self.clock.now())
            if queued:
                self._wake_outbox()
        return _actor(person, grants, super_admin), person

    async def find(self, telegram_id: int) -> Person | None:
        """Look a person up without touching anything (identify() records contact)."""
        async with self.db.read() as tx:
            return await tx.people.find_by_telegram(telegram_id)

    async def set_phone(self, person: Person, phone: str) -> None:
        """The person's own phone, shared through Telegram's contact button."""
        async with self.db.transaction() as tx:
            await tx.people.update_profile(person.id, phone=phone.strip()[:32])

    async def set_language(self, person: Person, language: Language) -> None:
        async with self.db.transaction() as tx:
            await tx.people.set_language(person.id, language)

    async def communities(self) -> list[Community]:
        async with self.db.read() as tx:
            return await tx.communities.list_all()

    async def choose_community(self, person: Person, community_id: int) -> HomeChosen:
        """Make a community of this bot the person's home. A person has one home: one in
        a community another bot serves is left, and the answer says which."""
        async with self.db.transaction() as tx:
            community = await tx.communities.get(community_id)
            if not tx.communities.serves(community):
                raise NotFound("errors.community_not_found")
            before = (await tx.people.get(person.id)).community_id
            left = None
            if before is not None and before != community.id:
                previous = await tx.communities.get(before)
                left = None if tx.communities.serves(previous) else previous
            await tx.people.set_home(person.id, community.id, None, None)
            return HomeChosen(community, left)

    async def buildings(self, community_id: int) -> list[tuple[Building, Zone]]:
        async with self.db.read() as tx:
            zones = {z.id: z for z in await tx.zones.list_by_community(community_id)}
            buildings = await tx.buildings.list_by_community(community_id)
        return [(b, zones[b.zone_id]) for b in buildings if b.zone_id in zones]

    async def choose_building(self, person: Person, building_id: int) -> tuple[Building, Zone]:
        async with self.db.transaction() as tx:
            building = await tx.buildings.get(building_id)
            if person.community_id != building.community_id:
                raise NotAllowed("errors.not_your_community")
            zone = await tx.zones.get(building.zone_id)
            await tx.people.set_home(person.id, building.community_id, building.id, zone.id)
            return building, zone

    async def locate(self, person: Person, lat: float, lon: float) -> Located:
        """Set home to the zone of the nearest building or site to a shared location."""
        if person.community_id is None:
            raise InvalidInput("start.pick_community_first")
        community_id = person.community_id
        async with self.db.transaction() as tx:
            buildings = await tx.buildings.list_by_community(community_id)
            sites = await tx.sites.list_by_community(community_id)
            hit = nearest_place(lat, lon, buildings, sites, max_distance_m=5_000)
            if hit is None:
                raise NotFound("start.location_not_matched")
            spot, distance = hit
            building = spot if isinstance(spot, Building) else None
            zone = await tx.zones.get(spot.zone_id)
            await tx.people.set_home(
                person.id, community_id, building.id if building else None, zone.id
            )
        return Located(zone=zone, building=building, distance_m=distance)

    async def home(self, person: Person) -> tuple[Community | None, Zone | None, Building | None]:
        async with self.db.read() as tx:
            community = (
                await tx.communities.find(person.community_id) if person.community_id else None
            )
            zone = await tx.zones.get(person.zone_id) if person.zone_id else None
            building = await tx.buildings.get(person.building_id) if person.building_id else None
        return community, zone, building

    async def list_people(self, actor: Actor) -> list[tuple[Person, list[RoleGrant]]]:
        community_id = admin_community(actor)
        async with self.db.read() as tx:
            return await tx.people.list_with_roles(community_id)

    async def revoke(self, actor: Actor, person_id: int, role: Role) -> Person:
        community_id = admin_community(actor)
        if person_id == actor.person_id and role is Role.ADMIN and not actor.super_admin:
            raise InvalidInput("admin.cannot_revoke_self")
        async with self.db.transaction() as tx:
            person = await tx.people.get(person_id)
            removed = await tx.roles.revoke(person_id, community_id, role)
            if not removed:
                raise NotFound("admin.role_not_held")
            if role is Role.CADRE:
                for zone in await tx.zones.list_by_community(community_id):
                    if zone.responsible_person_id == person_id:
                        await tx.zones.set_responsible(zone.id, None)
            log.info("role revoked person_id=%s role=%s", person_id, role.value)
            return person

    async def block_reporting(self, actor: Actor, person_id: int, blocked: bool) -> Person:
        """Admins stop (or allow again) someone filing reports in their community."""
        community_id = admin_community(actor)
        if person_id == actor.person_id:
            raise InvalidInput("admin.cannot_block_self")
        async with self.db.transaction() as tx:
            person = await tx.people.get(person_id)
            if blocked:
                await tx.blocks.block(community_id, person_id, actor.person_id, self.clock.now())
            elif not await tx.blocks.unblock(community_id, person_id):
                raise NotFound("admin.not_blocked")
        log.info("reporting blocked=%s person_id=%s", blocked, person_id)
        return person

    async def mark_unreachable(self, telegram_id: int) -> None:
        """The person blocked the bot; the admins hear of the tickets left in their hands."""
        async with self.db.transaction() as tx:
            told = await reach.person_unreachable(tx, telegram_id, self.clock.now())
        if told:
            self._wake_outbox()


def _actor(person: Person, grants: list[RoleGrant], super_admin: bool) -> Actor:
    return Actor(
        person_id=person.id,
        telegram_id=person.telegram_id or 0,
        community_id=person.community_id,
        grants=tuple(grants),
        super_admin=super_admin,
    )


def as_this_bot_sees(person: Person, home_elsewhere: bool, grants: list[RoleGrant]) -> Person:
    """A home in a community another bot serves is no home here: this bot's menus,
    reports and lists are about its own communities (``grants`` are scoped the same way).
    Here they act for the one community of this bot they hold roles in, if there is one."""
    if not home_elsewhere:
        return person
    here = {g.community_id for g in grants}
    acting = here.pop() if len(here) == 1 else None
    return replace(person, community_id=acting, building_id=None, zone_id=None)
