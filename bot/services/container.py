"""All use cases, built once by the composition root and handed to the handlers."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.clock import Clock
from bot.config import Settings
from bot.services.communities import CommunityService
from bot.services.deadlines import DeadlineService
from bot.services.invites import InviteService
from bot.services.notices import NoticeService
from bot.services.people import PeopleService
from bot.services.reports import ReportService
from bot.services.tickets import TicketService
from storage.database import Database


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    clock: Clock
    outbox_ready: asyncio.Event
    people: PeopleService
    invites: InviteService
    communities: CommunityService
    reports: ReportService
    tickets: TicketService
    notices: NoticeService
    deadlines: DeadlineService

    @classmethod
    def build(cls, settings: Settings, db: Database, clock: Clock) -> Services:
        ready = asyncio.Event()
        return cls(
            settings=settings,
            db=db,
            clock=clock,
            outbox_ready=ready,
            people=PeopleService(db, clock, ready),
            invites=InviteService(db, clock, ready),
            communities=CommunityService(db, clock, ready),
            reports=ReportService(db, clock, ready),
            tickets=TicketService(db, clock, ready),
            notices=NoticeService(db, clock, ready, data_dir=settings.data_dir),
            deadlines=DeadlineService(db, clock, ready),
        )
