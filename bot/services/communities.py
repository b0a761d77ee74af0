"""Setting a community up: creating it, zones, sites, imports, and bound group chats."""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from bot.domain.access import Actor, admin_community
from bot.domain.community_plan import CommunityPlan, PersonRef, category_named
from bot.domain.errors import InvalidInput, NotAllowed, NotFound
from bot.domain.models import Community, GroupChat, Invite, Role, Site, Zone
from bot.domain.rules import CommunityRules, RuleValueError
from bot.services.base import Service
from bot.services.calendar_changes import calendar_for, redate_open_tickets
from storage.transaction import Transaction

log = logging.getLogger(__name__)

CODE_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
MAX_NAME = 64


@dataclass(frozen=True, slots=True)
class ImportSummary:
    community: Community
    created: bool
    zones: int
    buildings: int
    sites: int
    cadre_invites: tuple[tuple[str, str, str], ...]  # (zone code, cadre name, invite code)


@dataclass(frozen=True, slots=True)
class Overview:
    community: Community
    zones: list[Zone]
    buildings: int
    sites: int
    groups: list[GroupChat]
    rules: CommunityRules


class CommunityService(Service):
    async def create(self, actor: Actor, code: str, name: str) -> Community:
        """Create a community (super-admins only) and make its creator its admin."""
        if not actor.super_admin:
            raise NotAllowed()
        code, name = _check_code(code), _check_name(name)
        now = self.clock.now()
        async with self.db.transaction() as tx:
            if await tx.communities.find_by_code(code):
                raise InvalidInput("admin.community_exists", code=code)
            community = await tx.communities.add(code, name, "Asia/Shanghai", now)
            await tx.roles.grant(actor.person_id, community.id, Role.ADMIN, None, None, now)
            await tx.people.set_home(actor.person_id, community.id, None, None)
        log.info("community created community_id=%s", community.id)
        return community

    async def add_zone(self, actor: Actor, code: str, name: str) -> Zone:
        community_id = admin_community(actor)
        code, name = _check_code(code), _check_name(name)
        async with self.db.transaction() as tx:
            if await tx.zones.find_by_code(community_id, code):
                raise InvalidInput("admin.zone_exists", code=code)
            return await tx.zones.add(community_id, code, name)

    async def add_site(
        self, actor: Actor, name: str, category: str, zone_code: str, address: str | None = None
    ) -> tuple[Site, Zone]:
        community_id = admin_community(actor)
        name, category = _check_name(name), category_named(_check_name(category))
        async with self.db.transaction() as tx:
            zone = await tx.zones.find_by_code(community_id, zone_code.strip())
            if zone is None:
                raise NotFound("errors.zone_not_found")
            site = Site(0, community_id, zone.id, name, category, None, None, address, None, None)
            site_id = await tx.sites.upsert(site)
            return await tx.sites.get(site_id), zone

    async def overview(self, community_id: int) -> Overview:
        async with self.db.read() as tx:
            return Overview(
                community=await tx.communities.get(community_id),
                zones=await tx.zones.list_by_community(community_id),
                buildings=len(await tx.buildings.list_by_community(community_id)),
                sites=await tx.sites.count_by_community(community_id),
                groups=await tx.groups.list_by_community(community_id),
                rules=await tx.communities.rules(community_id),
            )

    async def set_rule(self, actor: Actor, key: str, value: str) -> CommunityRules:
        """Change one of the community's rules (checked and typed by CommunityRules)."""
        community_id = admin_community(actor)
        async with self.db.transaction() as tx:
            current = await tx.communities.rules(community_id)
            try:
                changed = current.with_value(key, value)
            except KeyError:
                raise InvalidInput("admin.unknown_setting", name=key[:64]) from None
            except RuleValueError as bad:
                raise InvalidInput(
                    f"admin.bad_setting_{bad.problem}",
                    name=key[:64],
                    low=f"{bad.low:g}",
                    high=f"{bad.high:g}",
                ) from None
            except ValueError as bad:
                raise InvalidInput(
                    "admin.bad_setting", name=key[:64], reason=str(bad)[:200]
                ) from None
            await tx.communities.set_rule(community_id, key, changed.to_mapping()[key])
        log.info("rule changed community_id=%s key=%s", community_id, key)
        return changed

    async def set_day(self, actor: Actor, day: date, workday: bool, note: str) -> int:
        """An extra holiday (or make-up working day) on top of the official calendar.

        Open deadlines it moves are re-dated and their cadres told; returns how many."""
        community_id = admin_community(actor)
        now = self.clock.now()
        async with self.db.transaction() as tx:
            before = await calendar_for(tx, community_id)
            await tx.calendar.set_override(community_id, day, workday, note[:64])
            after = await calendar_for(tx, community_id)
            community = await tx.communities.get(community_id)
            moved = await redate_open_tickets(tx, community, before, after, now, actor.person_id)
        if moved:
            self._wake_outbox()
        return moved

    async def timezone(self, community_id: int) -> str:
        """The community's own time zone, in which its people read dates."""
        async with self.db.read() as tx:
            return (await tx.communities.get(community_id)).timezone

    async def find_by_code(self, code: str) -> Community | None:
        async with self.db.read() as tx:
            return await tx.communities.find_by_code(code)

    async def apply_plan(self, plan: CommunityPlan) -> ImportSummary:
        """Create or update a community from an imported plan, all or nothing."""
        now = self.clock.now()
        invites: list[tuple[str, str, str]] = []
        async with self.db.transaction() as tx:
            community = await tx.communities.find_by_code(plan.code)
            if community is not None and not tx.communities.serves(community):
                raise NotAllowed("admin.community_of_another_bot", code=plan.code)
            created = community is None
            if community is None and plan.partial:
                # A CSV table adds to a community; it cannot create one.
                raise NotFound("errors.community_not_found")
            if community is None:
                community = await tx.communities.add(plan.code, plan.name, plan.timezone, now)
            elif plan.name:
                await tx.communities.rename(community.id, plan.name, plan.timezone)
            zone_ids: dict[str, int] = {
                z.code: z.id for z in await tx.zones.list_by_community(community.id)
            }
            for zp in plan.zones:
                zone = await tx.zones.find_by_code(community.id, zp.code)
                if zone is None:
                    zone = await tx.zones.add(community.id, zp.code, zp.name)
                else:
                    await tx.zones.update(zone.id, zp.name)
                zone_ids[zp.code] = zone.id
                if zp.cadre is not None:
                    person_id, code = await self._place_cadre(tx, community.id, zone, zp.cadre)
                    await tx.zones.set_responsible(zone.id, person_id)
                    if code:
                        invites.append((zp.code, zp.cadre.name, code))
                for deputy in zp.deputies:
                    _, code = await self._place_cadre(tx, community.id, zone, deputy)
                    if code:
                        invites.append((zp.code, deputy.name, code))
            for bp in plan.buildings:
                zone_id = _zone_id(zone_ids, bp.zone_code)
                await tx.buildings.upsert(community.id, zone_id, bp.name, bp.lat, bp.lon)
            for sp in plan.sites:
                zone_id = _zone_id(zone_ids, sp.zone_code)
                await tx.sites.upsert(
                    Site(
                        0,
                        community.id,
                        zone_id,
                        sp.name,
                        sp.category,
                        sp.contact,
                        sp.phone,
                        sp.address,
                        sp.lat,
                        sp.lon,
                    )
                )
        log.info(
            "community imported community_id=%s zones=%s sites=%s",
            community.id,
            len(plan.zones),
            len(plan.sites),
        )
        return ImportSummary(
            community,
            created,
            len(plan.zones),
            len(plan.buildings),
            len(plan.sites),
            tuple(invites),
        )

    async def _place_cadre(
        self, tx: Transaction, community_id: int, zone: Zone, ref: PersonRef
    ) -> tuple[int, str | None]:
        """Record an imported cadre; without a Telegram id they get a personal invite."""
        now = self.clock.now()
        person = None
        if ref.telegram_id is not None:
            person = await tx.people.find_by_telegram(ref.telegram_id)
            if person is None:
                person = await tx.people.add(
                    ref.name, now, telegram_id=ref.telegram_id, phone=ref.phone
                )
        else:
            person = await tx.people.find_unlinked(ref.name, ref.phone)
            if person is None:
                person = await tx.people.add(ref.name, now, phone=ref.phone)
        await tx.roles.grant(person.id, community_id, Role.CADRE, zone.id, None, now)
        if person.community_id is None:
            await tx.people.set_home(person.id, community_id, None, zone.id)
        if person.telegram_id is not None:
            return person.id, None
        code = secrets.token_urlsafe(9)
        await tx.invites.add(
            Invite(
                code,
                community_id,
                Role.CADRE,
                zone.id,
                person.id,
                1,
                0,
                now + timedelta(days=30),
                person.id,
                False,
            ),
            now,
        )
        return person.id, code

    async def bind_group(
        self,
        actor: Actor,
        chat_id: int,
        title: str,
        is_group_admin: bool,
        community_code: str | None = None,
    ) -> Community:
        """Bind a group chat to a community: its admin must also admin the group."""
        if not is_group_admin:
            raise NotAllowed("group.bind_needs_group_admin")
        async with self.db.transaction() as tx:
            if community_code:
                community = await tx.communities.find_by_code(community_code)
                if community is None:
                    raise NotFound("errors.community_not_found")
                if not tx.communities.serves(community):
                    raise NotAllowed("admin.community_of_another_bot", code=community.code)
            elif actor.community_id is not None:
                community = await tx.communities.get(actor.community_id)
            else:
                raise InvalidInput("group.bind_which_community")
            grants = await tx.roles.list_for_person(actor.person_id)
            is_admin = actor.super_admin or any(
                g.community_id == community.id and g.role is Role.ADMIN for g in grants
            )
            if not is_admin:
                raise NotAllowed("group.bind_needs_community_admin")
            await tx.groups.bind(
                chat_id, community.id, title[:128], actor.person_id, self.clock.now()
            )
        log.info("group bound chat_id=%s community_id=%s", chat_id, community.id)
        return community

    async def group(self, chat_id: int) -> GroupChat | None:
        async with self.db.read() as tx:
            return await tx.groups.find(chat_id)

    async def migrate_group(self, old_chat_id: int, new_chat_id: int) -> bool:
        async with self.db.transaction() as tx:
            moved = await tx.groups.migrate(old_chat_id, new_chat_id)
        if moved:
            log.info("group migrated chat_id=%s new_chat_id=%s", old_chat_id, new_chat_id)
        return moved

    async def group_left(self, chat_id: int) -> None:
        async with self.db.transaction() as tx:
            await tx.groups.deactivate(chat_id)


def _check_code(code: str) -> str:
    code = code.strip()
    if not CODE_RE.match(code):
        raise InvalidInput("admin.bad_code")
    return code


def _check_name(name: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        raise InvalidInput("admin.bad_name", max=MAX_NAME)
    return name


def _zone_id(zone_ids: dict[str, int], code: str) -> int:
    if code not in zone_ids:
        raise InvalidInput("import.unknown_zone", code=code)
    return zone_ids[code]
