"""Invite links: how cadres, inspectors, leaders and admins receive their roles."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from bot.domain.access import Actor
from bot.domain.errors import InvalidInput, NotAllowed, NotFound
from bot.domain.models import INVITABLE_ROLES, ZONED_ROLES, Community, Invite, Person, Role, Zone
from bot.services import reach
from bot.services.base import Service

log = logging.getLogger(__name__)

INVITE_PREFIX = "inv_"
MAX_USES = 100
MAX_DAYS = 90


@dataclass(frozen=True, slots=True)
class Redeemed:
    invite: Invite
    community: Community
    zone: Zone | None
    already_had: bool


class InviteService(Service):
    async def create(
        self,
        actor: Actor,
        role: Role,
        zone_code: str | None = None,
        uses: int = 1,
        days: int | None = None,
        person_id: int | None = None,
    ) -> tuple[Invite, Zone | None]:
        """Make an invite for a role (and zone, for cadres) in the actor's community."""
        if actor.community_id is None:
            raise InvalidInput("start.pick_community_first")
        if role not in INVITABLE_ROLES:
            raise InvalidInput("admin.invite_bad_role", roles=", ".join(INVITABLE_ROLES))
        if not actor.can_invite(role):
            raise NotAllowed()
        if not 1 <= uses <= MAX_USES:
            raise InvalidInput("admin.invite_bad_uses", max=MAX_USES)
        async with self.db.transaction() as tx:
            rules = await tx.communities.rules(actor.community_id)
            days = rules.invite_days if days is None else days
            if not 1 <= days <= MAX_DAYS:
                raise InvalidInput("admin.invite_bad_days", max=MAX_DAYS)
            zone = None
            if role in ZONED_ROLES:
                if not zone_code:
                    raise InvalidInput("admin.invite_needs_zone")
                zone = await tx.zones.find_by_code(actor.community_id, zone_code)
                if zone is None:
                    raise NotFound("errors.zone_not_found")
            now = self.clock.now()
            invite = Invite(
                code=secrets.token_urlsafe(9),
                community_id=actor.community_id,
                role=role,
                zone_id=zone.id if zone else None,
                person_id=person_id,
                max_uses=uses,
                uses=0,
                expires_at=now + timedelta(days=days),
                created_by=actor.person_id,
                revoked=False,
            )
            await tx.invites.add(invite, now)
        log.info("invite created role=%s community_id=%s", role.value, actor.community_id)
        return invite, zone

    async def redeem(self, person: Person, code: str) -> Redeemed:
        """Give the invite's role to the person opening it; an invite is checked every time."""
        now = self.clock.now()
        async with self.db.transaction() as tx:
            invite = await tx.invites.find(code)
            if invite is None:
                raise NotFound("invite.unknown")
            if invite.revoked:
                raise InvalidInput("invite.revoked")
            if now >= invite.expires_at:
                raise InvalidInput("invite.expired")
            community = await tx.communities.get(invite.community_id)
            if not tx.communities.serves(community):
                raise NotAllowed("invite.other_bot", code=community.code)
            zone = await tx.zones.get(invite.zone_id) if invite.zone_id else None
            held = await tx.roles.list_for_person(person.id)
            already = any(
                g.community_id == invite.community_id
                and g.role is invite.role
                and g.zone_id == invite.zone_id
                for g in held
            )
            if already:
                return Redeemed(invite, community, zone, already_had=True)
            if invite.uses >= invite.max_uses:
                raise InvalidInput("invite.used_up")
            await tx.invites.use(code)
            claimed = invite.person_id is not None and invite.person_id != person.id
            if invite.person_id is not None and claimed:
                # An office-imported cadre claims their record: carry its zones over.
                await tx.people.merge_into(invite.person_id, person.id)
            await tx.roles.grant(
                person.id, invite.community_id, invite.role, invite.zone_id, invite.created_by, now
            )
            if invite.role is Role.CADRE and zone and zone.responsible_person_id is None:
                await tx.zones.set_responsible(zone.id, person.id)
            if person.community_id != invite.community_id:
                await tx.people.set_home(person.id, invite.community_id, None, invite.zone_id)
            # Tickets dispatched to the imported record before they signed in waited for them.
            queued = claimed and await reach.send_queue(tx, person, now)
        if queued:
            self._wake_outbox()
        log.info("invite redeemed role=%s person_id=%s", invite.role.value, person.id)
        return Redeemed(invite, community, zone, already_had=False)

    async def list_open(self, actor: Actor) -> list[Invite]:
        if actor.community_id is None or not actor.is_admin():
            raise NotAllowed()
        async with self.db.read() as tx:
            return await tx.invites.list_open(actor.community_id, self.clock.now())

    async def open_links(self, actor: Actor) -> list[tuple[Invite, Zone | None]]:
        """The links still usable here, each with its zone (for cadre links)."""
        if actor.community_id is None or not actor.is_admin():
            raise NotAllowed()
        async with self.db.read() as tx:
            found = await tx.invites.list_open(actor.community_id, self.clock.now())
            zones = {z.id: z for z in await tx.zones.list_by_community(actor.community_id)}
        return [(i, zones.get(i.zone_id) if i.zone_id else None) for i in found]

    async def revoke(self, actor: Actor, code: str) -> None:
        async with self.db.transaction() as tx:
            invite = await tx.invites.find(code)
            if invite is None:
                raise NotFound("invite.unknown")
            if not (
                actor.super_admin
                or (actor.is_admin() and actor.community_id == invite.community_id)
            ):
                raise NotAllowed()
            await tx.invites.revoke(code)
