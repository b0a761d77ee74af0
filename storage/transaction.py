"""A unit of work: the repositories over one connection inside one transaction."""

from __future__ import annotations

from functools import cached_property

from storage.activities import ActivityRepository
from storage.announcements import AnnouncementRepository
from storage.blocks import BlockRepository
from storage.bookkeeping import OccurrenceLog, UpdateLog
from storage.bots import BotRepository
from storage.calendars import CalendarRepository
from storage.communities import CommunityRepository
from storage.consequences import ConsequenceRepository
from storage.console import ConsoleRepository
from storage.digest_prefs import DigestPrefRepository
from storage.drafts import DraftRepository
from storage.groups import GroupRepository
from storage.household_ratings import HouseholdRatingRepository
from storage.inbox import InboxRepository
from storage.inspections import InspectionRepository
from storage.leases import LeaseRepository
from storage.ledgers import LedgerQueries
from storage.open311 import Open311Repository
from storage.outbox import OutboxRepository
from storage.people import InviteRepository, PersonRepository, RoleRepository
from storage.places import BuildingRepository, SiteRepository, ZoneRepository
from storage.prompts import PromptRepository
from storage.rows import Connection
from storage.scores import ScoreRepository
from storage.send_slots import SendSlotRepository
from storage.tickets import TicketRepository


class Transaction:
    def __init__(self, conn: Connection, bot_id: int | None = None) -> None:
        self.conn = conn
        # The bot this process speaks as: per-bot rows (inbox, outbox, processed
        # updates, groups) and the communities it serves are scoped to it.
        self.bot_id = bot_id

    @cached_property
    def bots(self) -> BotRepository:
        return BotRepository(self.conn, self.bot_id)

    @cached_property
    def send_slots(self) -> SendSlotRepository:
        return SendSlotRepository(self.conn, self.bot_id)

    @cached_property
    def communities(self) -> CommunityRepository:
        return CommunityRepository(self.conn, self.bot_id)

    @cached_property
    def console(self) -> ConsoleRepository:
        return ConsoleRepository(self.conn)

    @cached_property
    def open311(self) -> Open311Repository:
        return Open311Repository(self.conn)

    @cached_property
    def zones(self) -> ZoneRepository:
        return ZoneRepository(self.conn)

    @cached_property
    def buildings(self) -> BuildingRepository:
        return BuildingRepository(self.conn)

    @cached_property
    def sites(self) -> SiteRepository:
        return SiteRepository(self.conn)

    @cached_property
    def people(self) -> PersonRepository:
        return PersonRepository(self.conn, self.bot_id)

    @cached_property
    def roles(self) -> RoleRepository:
        return RoleRepository(self.conn, self.bot_id)

    @cached_property
    def invites(self) -> InviteRepository:
        return InviteRepository(self.conn)

    @cached_property
    def groups(self) -> GroupRepository:
        return GroupRepository(self.conn, self.bot_id)

    @cached_property
    def outbox(self) -> OutboxRepository:
        return OutboxRepository(self.conn, self.bot_id)

    @cached_property
    def updates(self) -> UpdateLog:
        return UpdateLog(self.conn, self.bot_id)

    @cached_property
    def inbox(self) -> InboxRepository:
        return InboxRepository(self.conn, self.bot_id)

    @cached_property
    def leases(self) -> LeaseRepository:
        return LeaseRepository(self.conn, self.bot_id)

    @cached_property
    def occurrences(self) -> OccurrenceLog:
        return OccurrenceLog(self.conn)

    @cached_property
    def tickets(self) -> TicketRepository:
        return TicketRepository(self.conn, self.bot_id)

    @cached_property
    def drafts(self) -> DraftRepository:
        return DraftRepository(self.conn, self.bot_id)

    @cached_property
    def calendar(self) -> CalendarRepository:
        return CalendarRepository(self.conn)

    @cached_property
    def blocks(self) -> BlockRepository:
        return BlockRepository(self.conn)

    @cached_property
    def prompts(self) -> PromptRepository:
        return PromptRepository(self.conn)

    @cached_property
    def activities(self) -> ActivityRepository:
        return ActivityRepository(self.conn)

    @cached_property
    def inspections(self) -> InspectionRepository:
        return InspectionRepository(self.conn)

    @cached_property
    def digest_prefs(self) -> DigestPrefRepository:
        return DigestPrefRepository(self.conn)

    @cached_property
    def announcements(self) -> AnnouncementRepository:
        return AnnouncementRepository(self.conn, self.bot_id)

    @cached_property
    def ledgers(self) -> LedgerQueries:
        return LedgerQueries(self.conn)

    @cached_property
    def scores(self) -> ScoreRepository:
        return ScoreRepository(self.conn)

    @cached_property
    def consequences(self) -> ConsequenceRepository:
        return ConsequenceRepository(self.conn)

    @cached_property
    def ratings(self) -> HouseholdRatingRepository:
        return HouseholdRatingRepository(self.conn, self.bot_id)
