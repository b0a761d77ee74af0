"""The rectification notice (整改通知单) image: rendered off the event loop, kept on disk,
and sent to whoever is responsible for the ticket."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain.access import Actor
from bot.domain.errors import NotAllowed
from bot.domain.models import Language
from bot.domain.tickets import Ticket, can_view
from bot.files import write_atomically
from bot.i18n import t
from bot.render.notice import NoticeData, render_notice
from bot.render.worker import run_background_image_work
from bot.services.base import Service
from storage.database import Database

log = logging.getLogger(__name__)


class NoticeService(Service):
    def __init__(
        self, db: Database, clock: Clock, outbox_ready: asyncio.Event, *, data_dir: Path
    ) -> None:
        super().__init__(db, clock, outbox_ready)
        self.data_dir = data_dir

    async def render(self, ticket_id: int) -> tuple[Ticket, Path]:
        """Draw the notice for a ticket (once; later calls reuse the file)."""
        async with self.db.read() as tx:
            ticket = await tx.tickets.get(ticket_id)
            community = await tx.communities.get(ticket.community_id)
            zone = await tx.zones.get(ticket.zone_id) if ticket.zone_id else None
            cadre = (
                await tx.people.get(ticket.assignee_person_id)
                if ticket.assignee_person_id
                else None
            )
            place = ""
            if ticket.building_id:
                place = (await tx.buildings.get(ticket.building_id)).name
            elif ticket.site_id:
                place = (await tx.sites.get(ticket.site_id)).name
            photos = await tx.tickets.photos(ticket.id, "before")
        relative = (
            Path("notices")
            / str(ticket.community_id)
            / f"{ticket.number}-v{ticket.reopen_count}.png"
        )
        target = self.data_dir / relative
        if target.exists():
            return ticket, relative
        tz = ZoneInfo(community.timezone)
        issued = (ticket.dispatched_at or ticket.created_at).astimezone(tz).replace(tzinfo=None)
        due = ticket.due_at or ticket.created_at
        data = NoticeData(
            community=community.name,
            ticket_no=ticket.number,
            zone=zone.name if zone else "—",
            cadre=cadre.name if cadre else "—",
            place=place or (zone.name if zone else "—"),
            category=t(Language.ZH, f"categories.{ticket.category}"),
            description=ticket.description or "—",
            issued_at=issued,
            deadline=(due.astimezone(tz) - timedelta(microseconds=1)).date(),
            before_photo=(self.data_dir / photos[0].path).read_bytes() if photos else None,
        )
        png = await run_background_image_work(render_notice, data)
        await asyncio.to_thread(write_atomically, target, png)
        return ticket, relative

    async def image_path(self, payload: dict[str, Any]) -> str:
        """For the outbox: draw the notice when it is about to be sent (off the update path)."""
        _, relative = await self.render(int(payload["ticket_id"]))
        return str(relative)

    async def for_viewer(self, actor: Actor, ticket_id: int) -> Path:
        async with self.db.read() as tx:
            ticket = await tx.tickets.get(ticket_id)
        if not can_view(actor, ticket):
            raise NotAllowed("tickets.not_yours")
        _, relative = await self.render(ticket_id)
        return self.data_dir / relative
