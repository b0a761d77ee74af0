"""All use cases, built once by the composition root and handed to the handlers."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.clock import Clock
from bot.config import Settings
from bot.services.announcements import AnnouncementService
from bot.services.calendar_changes import CalendarService
from bot.services.communities import CommunityService
from bot.services.console import ConsoleService
from bot.services.deadlines import DeadlineService
from bot.services.digests import DigestService
from bot.services.exports import ExportService
from bot.services.inbox import InboxService
from bot.services.inspections import InspectionService
from bot.services.invites import InviteService
from bot.services.notices import NoticeService
from bot.services.open311 import Open311Service
from bot.services.people import PeopleService
from bot.services.ratings import RatingService
from bot.services.reports import ReportService
from bot.services.review import ReviewService
from bot.services.rhythm import RhythmService
from bot.services.scoring import ScoringService
from bot.services.tickets import TicketService
from bot.services.volunteers import VolunteerService
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
    inbox: InboxService
    volunteers: VolunteerService
    inspections: InspectionService
    digests: DigestService
    rhythm: RhythmService
    announcements: AnnouncementService
    exports: ExportService
    scoring: ScoringService
    review: ReviewService
    ratings: RatingService
    calendar: CalendarService
    open311: Open311Service
    console: ConsoleService

    @classmethod
    def build(cls, settings: Settings, db: Database, clock: Clock) -> Services:
        ready = asyncio.Event()
        reports = ReportService(db, clock, ready)
        volunteers = VolunteerService(db, clock, ready)
        tickets = TicketService(db, clock, ready)
        inspections = InspectionService(db, clock, ready, reports=reports)
        ratings = RatingService(db, clock, ready)
        return cls(
            settings=settings,
            db=db,
            clock=clock,
            outbox_ready=ready,
            people=PeopleService(db, clock, ready),
            invites=InviteService(db, clock, ready),
            communities=CommunityService(db, clock, ready),
            reports=reports,
            tickets=tickets,
            notices=NoticeService(db, clock, ready, data_dir=settings.data_dir),
            deadlines=DeadlineService(db, clock, ready),
            inbox=InboxService(
                db,
                clock,
                ready,
                tickets=tickets,
                reports=reports,
                volunteers=volunteers,
                ratings=ratings,
                inspections=inspections,
            ),
            volunteers=volunteers,
            inspections=inspections,
            digests=DigestService(db, clock, ready),
            rhythm=RhythmService(db, clock, ready, volunteers=volunteers),
            announcements=AnnouncementService(db, clock, ready),
            exports=ExportService(db, clock, ready),
            scoring=ScoringService(db, clock, ready),
            review=ReviewService(db, clock, ready, reports=reports, data_dir=settings.data_dir),
            ratings=ratings,
            open311=Open311Service(db, clock, ready, reports=reports),
            console=ConsoleService(
                db,
                clock,
                ready,
                token=settings.token,
                super_admins=settings.admins,
                tickets=tickets,
                volunteers=volunteers,
                ratings=ratings,
            ),
            calendar=CalendarService(db, clock, ready, super_admins=settings.admins),
        )
