"""Civilized hygienic households and shops (文明卫生户 / 文明卫生门店): nominated by a cadre
or applied for by a resident or shop, verified by an inspector, shown in a public notice
(公示) that anyone can object to, then published and kept on record. Shops also record
their 门前三包 pledge."""

from __future__ import annotations

import logging
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot import callbacks
from bot.domain import keys, prompts
from bot.domain.access import Actor
from bot.domain.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.domain.household_ratings import HouseholdRating
from bot.domain.models import Person, Role
from bot.domain.rating_kinds import parse_kind
from bot.domain.scoring import YearMonth
from bot.i18n import ShortDay
from bot.services import messages
from bot.services.base import Service

log = logging.getLogger(__name__)

MAX_NAME = 64


class RatingService(Service):
    async def nominate(
        self, actor: Actor, person: Person, kind: str, name: str, *, own: bool = False
    ) -> HouseholdRating:
        """A cadre nominates; with ``own``, anyone applies for their own household or shop."""
        usage = "ratings.usage_apply" if own else "ratings.usage"
        if actor.community_id is None:
            raise InvalidInput("start.pick_community_first")
        by_cadre = not own and (actor.has(Role.CADRE) or actor.is_admin())
        if not own and not by_cadre:
            raise NotAllowed("ratings.nominate_cadres_only")
        parsed = parse_kind(kind)
        if parsed is None:
            raise InvalidInput(usage)
        kind = parsed
        name = " ".join(name.split())[:MAX_NAME]
        if not name:
            raise InvalidInput(usage)
        zones = sorted(actor.cadre_zone_ids())
        zone_id = zones[0] if by_cadre and zones else person.zone_id
        now = self.clock.now()
        async with self.db.transaction() as tx:
            community = await tx.communities.get(actor.community_id)
            month = str(YearMonth.of(now.astimezone(ZoneInfo(community.timezone)).date()))
            rating = await tx.ratings.add(
                actor.community_id, kind, name, zone_id, month, person.id, not by_cadre, now
            )
            if rating is None:
                raise Conflict("ratings.duplicate", name=name)
            for inspector in await tx.people.list_with_role(actor.community_id, Role.INSPECTOR):
                await messages.to_person(
                    tx,
                    inspector,
                    now,
                    "ratings.to_verify",
                    kind_key=f"ratings.kind_{kind}",
                    name=name,
                    buttons=verify_buttons(rating.id),
                    dedupe_key=keys.rating_verify(rating.id, inspector.id),
                )
        self._wake_outbox()
        return rating

    async def verify(self, actor: Actor, rating_id: int, approve: bool) -> HouseholdRating:
        """An inspector confirms (public notice starts) or turns the nomination down."""
        now = self.clock.now()
        async with self.db.transaction() as tx:
            rating = await tx.ratings.get(rating_id)
            if actor.community_id != rating.community_id or not (
                actor.has(Role.INSPECTOR) or actor.is_admin()
            ):
                raise NotAllowed()
            if rating.status != "nominated":
                raise Conflict("ratings.already_decided")
            if not approve:
                await tx.ratings.set_status(rating_id, "withdrawn", verified_by=actor.person_id)
                return await tx.ratings.get(rating_id)
            rules = await tx.communities.rules(rating.community_id)
            until = now + timedelta(days=rules.notice_days)
            await tx.ratings.set_status(
                rating_id, "notice", verified_by=actor.person_id, notice_until=until
            )
            community = await tx.communities.get(rating.community_id)
            end = until.astimezone(ZoneInfo(community.timezone))
            buttons = [
                [("ratings.object_button", callbacks.build(callbacks.RATING, "obj", rating_id))]
            ]
            for group in await tx.groups.list_by_community(rating.community_id):
                await messages.to_group(
                    tx,
                    group.chat_id,
                    now,
                    "ratings.notice",
                    kind_key=f"ratings.kind_{rating.kind}",
                    name=rating.name,
                    until=ShortDay(end.date()),
                    buttons=buttons,
                    dedupe_key=keys.rating_notice(rating_id, group.chat_id),
                )
            rating = await tx.ratings.get(rating_id)
        self._wake_outbox()
        return rating

    async def object(self, person: Person, rating_id: int, reason: str) -> HouseholdRating:
        """An objection during the notice goes to the admins."""
        reason = " ".join(reason.split())[:500]
        if not reason:
            raise InvalidInput("tickets.reason_needed")
        now = self.clock.now()
        async with self.db.transaction() as tx:
            rating = await tx.ratings.get(rating_id)
            if rating.status != "notice":
                raise Conflict("ratings.notice_over")
            if person.community_id != rating.community_id:
                raise NotAllowed("errors.not_your_community")
            if not await tx.ratings.object(rating_id, person.id, reason, now):
                raise Conflict("ratings.already_objected")
            await tx.prompts.clear(person.id)
            for admin in await tx.people.list_with_role(rating.community_id, Role.ADMIN):
                await messages.to_person(
                    tx,
                    admin,
                    now,
                    "ratings.objection",
                    kind_key=f"ratings.kind_{rating.kind}",
                    name=rating.name,
                    who=person.name,
                    reason=reason,
                    dedupe_key=keys.rating_objection(rating_id, person.id, admin.id),
                )
        self._wake_outbox()
        return rating

    async def ask_objection(self, person: Person, rating_id: int) -> HouseholdRating:
        """ "Object" pressed during the notice: the person's next text is the reason."""
        async with self.db.transaction() as tx:
            rating = await tx.ratings.get(rating_id)
            if rating.status != "notice":
                raise Conflict("ratings.notice_over")
            if person.community_id != rating.community_id:
                raise NotAllowed("errors.not_your_community")
            await tx.prompts.put(
                person.id, prompts.ask(prompts.Objection(rating_id), self.clock.now())
            )
        return rating

    async def listing(self, actor: Actor) -> dict[str, list[HouseholdRating]]:
        if actor.community_id is None:
            raise InvalidInput("start.pick_community_first")
        if not (actor.roles & {Role.INSPECTOR, Role.CADRE, Role.LEADER, Role.ADMIN}):
            raise NotAllowed()
        async with self.db.read() as tx:
            return {
                status: await tx.ratings.by_status(actor.community_id, status)
                for status in ("nominated", "notice", "published")
            }

    async def pledge(self, actor: Actor, site_name: str, signed_by: str) -> str:
        """Record a shop's 门前三包 pledge against its site in the ledger."""
        if actor.community_id is None or not (actor.has(Role.CADRE) or actor.is_admin()):
            raise NotAllowed()
        async with self.db.transaction() as tx:
            sites = await tx.sites.list_by_community(actor.community_id)
            site = next((s for s in sites if s.name == site_name.strip()), None)
            if site is None:
                raise NotFound("errors.site_not_found")
            await tx.ratings.pledge(
                actor.community_id,
                site.id,
                signed_by.strip()[:64],
                actor.person_id,
                self.clock.now(),
            )
            return site.name

    async def tick(self) -> int:
        """Publish ratings whose notice period ended."""
        now = self.clock.now()
        published = 0
        async with self.db.transaction() as tx:
            for rating in await tx.ratings.notice_over(now):
                await tx.ratings.set_status(rating.id, "published", published_at=now)
                objections = await tx.ratings.count_objections(rating.id)
                for group in await tx.groups.list_by_community(rating.community_id):
                    await messages.to_group(
                        tx,
                        group.chat_id,
                        now,
                        "ratings.published",
                        kind_key=f"ratings.kind_{rating.kind}",
                        name=rating.name,
                        dedupe_key=keys.rating_published(rating.id, group.chat_id),
                    )
                log.info("rating published rating_id=%s objections=%s", rating.id, objections)
                published += 1
        if published:
            self._wake_outbox()
        return published


def verify_buttons(rating_id: int) -> list[list[tuple[str, str]]]:
    return [
        [
            ("ratings.verify_button", callbacks.build(callbacks.RATING, "ok", rating_id)),
            ("ratings.decline_button", callbacks.build(callbacks.RATING, "no", rating_id)),
        ]
    ]
