"""Announcements to a community's groups and broadcasts to everyone holding a role, sent
through the outbox within Telegram's limits, with delivery counts reported back."""

from __future__ import annotations

import logging

from bot.domain import keys
from bot.domain.access import Actor, admin_community
from bot.domain.errors import InvalidInput
from bot.domain.models import Role
from bot.services import messages
from bot.services.base import Service

log = logging.getLogger(__name__)

MAX_TEXT = 3500  # room for the header within Telegram's 4096
AUDIENCES = ("groups", "residents", *(r.value for r in Role if r is not Role.RESIDENT))


class AnnouncementService(Service):
    async def announce(self, actor: Actor, audience: str, text: str) -> int:
        """Queue the announcement; returns how many messages were queued."""
        community_id = admin_community(actor)
        if audience not in AUDIENCES:
            raise InvalidInput("announce.usage")
        text = text.strip()
        if not text:
            raise InvalidInput("announce.usage")
        if len(text) > MAX_TEXT:
            raise InvalidInput("announce.too_long", max=MAX_TEXT)
        now = self.clock.now()
        async with self.db.transaction() as tx:
            announcement_id = await tx.announcements.add(
                community_id, audience, text, actor.person_id, now
            )
            batch = keys.announcement_batch(announcement_id)
            community = await tx.communities.get(community_id)
            queued = 0
            if audience == "groups":
                for group in await tx.groups.list_by_community(community_id):
                    await messages.to_group(
                        tx,
                        group.chat_id,
                        now,
                        "announce.post",
                        community=community.name,
                        text=text,
                        batch=batch,
                    )
                    queued += 1
            else:
                if audience == "residents":
                    people = await tx.people.list_in_community(community_id)
                else:
                    people = await tx.people.list_with_role(community_id, Role(audience))
                for person in people:
                    if await messages.to_person(
                        tx,
                        person,
                        now,
                        "announce.post",
                        community=community.name,
                        text=text,
                        batch=batch,
                    ):
                        queued += 1
            await tx.announcements.set_queued(announcement_id, queued)
        log.info("announcement queued audience=%s queued=%s", audience, queued)
        self._wake_outbox()
        return queued
