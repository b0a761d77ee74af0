"""The durable tick for the monthly rhythm: Clean Day posts, inspection plans, activity
reminders, digests, the volunteers' monthly thanks and announcement delivery reports.

Each occurrence is claimed under a unique key (kind, community, target, date) in the
same transaction as its messages: after downtime it is sent once, later the same day;
a message about a day that has passed is not sent at all.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain import keys
from bot.domain.models import Community, Language, Person, Role
from bot.domain.schedule import Slot, monthly_slots, months_around, slot
from bot.domain.volunteers import SignupStatus
from bot.i18n import ByLanguage, Month, Safe, ShortDay, t
from bot.services import messages
from bot.services.base import Service
from bot.services.digest_text import digest_params
from bot.services.digests import Digest, build_digest
from bot.services.inspections import plan_zones
from bot.services.volunteers import SIGNUP_PREFIX, VolunteerService, title_of, when
from storage.database import Database
from storage.transaction import Transaction

log = logging.getLogger(__name__)

INSPECTION_PLAN_TIME = time(8, 0)
ACTIVITY_REMINDER_TIME = time(7, 30)
THANKS_TIME = time(10, 0)
WEEK = 7  # days in a weekly digest


@dataclass
class RhythmReport:
    posts: int = 0
    plans: int = 0
    reminders: int = 0
    digests: int = 0
    thanks: int = 0
    reports: int = 0

    @property
    def total(self) -> int:
        return self.posts + self.plans + self.reminders + self.digests + self.thanks + self.reports


@dataclass(frozen=True, slots=True)
class DigestDue:
    leader: Person
    days: int
    occurrence: str  # (digest, community, leader, local day): fires once


class RhythmService(Service):
    def __init__(
        self,
        db: Database,
        clock: Clock,
        outbox_ready: asyncio.Event,
        *,
        volunteers: VolunteerService,
    ) -> None:
        super().__init__(db, clock, outbox_ready)
        self.volunteers = volunteers
        # Known once the bot has asked Telegram who it is (getMe); used for deep links.
        self.bot_username = ""

    async def tick(self) -> RhythmReport:
        now = self.clock.now()
        report = RhythmReport()
        async with self.db.transaction() as tx:
            communities = await tx.communities.list_all()
            for community in communities:
                await self._community(tx, community, now, report)
            report.reports += await self._announcement_reports(tx, now)
        # Digests are built on read snapshots after that transaction: the day's first tick
        # builds one per community, and the bot's other writes must not wait for them all.
        for community in communities:
            report.digests += await self._digests(community, now)
        if report.total:
            log.info("rhythm tick fired=%s", report.total)
            self._wake_outbox()
        return report

    async def _community(
        self, tx: Transaction, community: Community, now: datetime, report: RhythmReport
    ) -> None:
        rules = await tx.communities.rules(community.id)
        tz = ZoneInfo(community.timezone)
        local = now.astimezone(tz).replace(tzinfo=None)
        for year, month in months_around(local.date()):
            for s in monthly_slots(
                year,
                month,
                clean_day_of_month=rules.clean_day,
                clean_eve_time=rules.clean_day_eve_time,
                clean_day_time=rules.clean_day_time,
                inspection_days_of_month=rules.inspection_days,
                inspection_plan_time=INSPECTION_PLAN_TIME,
            ):
                if s.due(local) and await tx.occurrences.claim(
                    keys.slot_in(s.key_part, community.id), now
                ):
                    if s.kind.startswith("clean"):
                        report.posts += await self._clean_day(tx, community, s, now)
                    else:
                        report.plans += await self._inspection_plan(tx, community, s, now)
        report.reminders += await self._activity_reminders(tx, community, local, now)
        thanks = slot("volunteer-thanks", local.date().replace(day=1), THANKS_TIME)
        if thanks.due(local) and await tx.occurrences.claim(
            keys.slot_in(thanks.key_part, community.id), now
        ):
            report.thanks += await self._thanks(tx, community, local, now)

    async def _clean_day(
        self, tx: Transaction, community: Community, s: Slot, now: datetime
    ) -> int:
        day = s.day if s.kind == "clean-day" else s.day + timedelta(days=1)
        activity = await self.volunteers.ensure_clean_day(tx, community.id, day.year, day.month)
        key = "rhythm.clean_day_eve" if s.kind == "clean-eve" else "rhythm.clean_day_now"
        link = f"https://t.me/{self.bot_username}?start={SIGNUP_PREFIX}{activity.id}"
        buttons = [[("volunteer.sign_up_button", link)]] if self.bot_username else None
        groups = await tx.groups.list_by_community(community.id)
        for group in groups:
            await messages.to_group(
                tx,
                group.chat_id,
                now,
                key,
                buttons=buttons,
                dedupe_key=keys.slot_post(s.key_part, community.id, group.chat_id),
                date=ShortDay(day),
                when=when(activity, community.timezone),
                place=activity.place,
            )
        return len(groups)

    async def _inspection_plan(
        self, tx: Transaction, community: Community, s: Slot, now: datetime
    ) -> int:
        plan = await plan_zones(tx, community.id)
        inspectors = await tx.people.list_with_role(community.id, Role.INSPECTOR)
        for inspector in inspectors:
            # Each inspector reads the plan's dates in their own language.
            lang = inspector.language or Language.ZH
            lines = [
                t(
                    lang,
                    "rhythm.plan_line",
                    index=index,
                    zone=planned.zone.name,
                    sites=len(planned.sites),
                    seen=ShortDay(planned.last_inspected) if planned.last_inspected else "—",
                )
                for index, planned in enumerate(plan, start=1)
            ]
            await messages.to_person(
                tx,
                inspector,
                now,
                "rhythm.inspection_plan",
                zones=Safe("\n".join(lines)),
                dedupe_key=keys.inspection_plan(community.id, s.day, inspector.id),
            )
        return len(inspectors)

    async def _activity_reminders(
        self, tx: Transaction, community: Community, local: datetime, now: datetime
    ) -> int:
        if local.time() < ACTIVITY_REMINDER_TIME:
            return 0
        tz = ZoneInfo(community.timezone)
        start = datetime.combine(local.date(), time(), tz)
        sent = 0
        for activity in await tx.activities.list_starting_between(
            start, start + timedelta(days=1)
        ):
            if activity.community_id != community.id or activity.starts_at <= now:
                continue
            for signup in await tx.activities.signups(activity.id):
                if signup.status is not SignupStatus.CONFIRMED:
                    continue
                if not await tx.occurrences.claim(
                    keys.activity_reminder(activity.id, signup.person_id), now
                ):
                    continue
                person = await tx.people.get(signup.person_id)
                await messages.to_person(
                    tx,
                    person,
                    now,
                    "volunteer.reminder",
                    title=title_of(activity),
                    when=when(activity, community.timezone),
                    place=activity.place,
                )
                sent += 1
        return sent

    async def _digests(self, community: Community, now: datetime) -> int:
        """Today's digests for the community's leaders: each period built once, from a read
        snapshot, then queued in one short write transaction."""
        async with self.db.read() as tx:
            due = await _digests_due(tx, community, now)
        if not due:
            return 0
        built: dict[int, Digest] = {}
        for days in sorted({d.days for d in due}):
            async with self.db.read() as tx:
                built[days] = await build_digest(tx, community.id, now, days)
        return await self._queue_digests(due, built, now)

    async def _queue_digests(
        self, due: list[DigestDue], built: dict[int, Digest], now: datetime
    ) -> int:
        sent = 0
        rendered: dict[tuple[int, Language | None], dict[str, Any]] = {}
        async with self.db.transaction() as tx:
            for d in due:
                # The claim commits with the message, so a crash loses or sends both; a
                # claim already taken (another tick got there first) sends nothing.
                if not await tx.occurrences.claim(d.occurrence, now):
                    continue
                look = (d.days, d.leader.language)
                if look not in rendered:
                    rendered[look] = digest_params(built[d.days], d.leader.language)
                key = "digest.weekly" if d.days == WEEK else "digest.daily"
                await messages.to_person(tx, d.leader, now, key, **rendered[look])
                sent += 1
        return sent

    async def _thanks(
        self, tx: Transaction, community: Community, local: datetime, now: datetime
    ) -> int:
        tz = ZoneInfo(community.timezone)
        end = datetime.combine(local.date().replace(day=1), time(), tz)
        start = datetime.combine((end - timedelta(days=1)).date().replace(day=1), time(), tz)
        named: list[tuple[str, float]] = []
        for person_id, hours in await tx.activities.served_between(community.id, start, end):
            if await tx.activities.is_named(person_id):
                named.append(((await tx.people.get(person_id)).name, hours))
        if not named:
            return 0
        month = Month(start.year, start.month)
        names = ByLanguage.of(
            lambda lang: Safe(
                t(lang, "language.list_separator").join(
                    t(lang, "rhythm.volunteer_named", name=name, hours=f"{hours:g}")
                    for name, hours in named
                )
            )
        )
        groups = await tx.groups.list_by_community(community.id)
        for group in groups:
            await messages.to_group(
                tx,
                group.chat_id,
                now,
                "rhythm.volunteer_thanks",
                month=month,
                names=names,
                dedupe_key=keys.volunteer_thanks(community.id, start.date(), group.chat_id),
            )
        return len(groups)

    async def _announcement_reports(self, tx: Transaction, now: datetime) -> int:
        sent = 0
        for announcement in await tx.announcements.unreported():
            delivery = await tx.announcements.delivery(announcement.id)
            if delivery.get("pending", 0) or delivery.get("sending", 0):
                continue
            creator = await tx.people.get(announcement.created_by)
            await messages.to_person(
                tx,
                creator,
                now,
                "announce.report",
                queued=announcement.queued,
                sent=delivery.get("sent", 0),
                blocked=delivery.get("blocked", 0),
                failed=delivery.get("failed", 0),
            )
            await tx.announcements.mark_reported(announcement.id, now)
            sent += 1
        return sent


async def _digests_due(tx: Transaction, community: Community, now: datetime) -> list[DigestDue]:
    """The leaders owed a digest today (daily, or weekly on Mondays) not yet claimed."""
    rules = await tx.communities.rules(community.id)
    local = now.astimezone(ZoneInfo(community.timezone)).replace(tzinfo=None)
    if local.time() < rules.digest_time:
        return []
    day = local.date()
    due = []
    for leader in await tx.people.list_with_role(community.id, Role.LEADER):
        mode = await tx.digest_prefs.mode(leader.id, community.id)
        if mode == "off" or (mode == "weekly" and day.weekday() != 0):
            continue
        days = WEEK if mode == "weekly" else 1
        due.append(DigestDue(leader, days, keys.digest(community.id, leader.id, day)))
    fired = await tx.occurrences.existing([d.occurrence for d in due])
    return [d for d in due if d.occurrence not in fired]
