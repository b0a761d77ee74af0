"""The working-day calendar as a community's deadlines see it, and what follows its changes.

- A community's deadlines are counted with the package data recorded for it
  (``calendar_snapshots``) plus its own /holiday days. A new package version (say, one
  with the State Council's arrangement for next year) is taken up by the tick in one
  transaction per community: the open tickets whose due day it moves are re-dated and
  their cadres told, then the new data is recorded. Until then every deadline of the
  community is still counted with the old data, so nothing is moved twice.
- /holiday re-dates the same way, inside the admin's own transaction.
- While a year in use has no official arrangement (this year, and from 1 November the
  next), its deadlines are an estimate from the statutory holidays: every super-admin and
  community admin is told once per year, and the leaders' digest says so.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain import keys
from bot.domain.models import Community, Person, Role
from bot.domain.tickets import OPEN_STATUSES, Event, EventKind, Ticket
from bot.domain.workdays import WorkCalendar, moved_due
from bot.i18n import Day
from bot.services import messages, reach
from bot.services.base import Service
from bot.services.calendar_source import BaseCalendar, base_calendar, estimated_years
from storage.database import Database
from storage.transaction import Transaction

log = logging.getLogger(__name__)

# From this month on, the coming year's deadlines are near: a ticket dispatched in late
# December is due in January, and the State Council publishes around November.
NEXT_YEAR_FROM_MONTH = 11


def years_in_use(today: date) -> list[int]:
    """The years whose days deadlines counted from ``today`` may fall on."""
    if today.month >= NEXT_YEAR_FROM_MONTH:
        return [today.year, today.year + 1]
    return [today.year]


def estimated_years_ahead(today: date) -> list[int]:
    """The years in use on ``today`` whose deadlines are an estimate (for the digest)."""
    return estimated_years(years_in_use(today))


@lru_cache(maxsize=4)
def _parsed(data: str) -> BaseCalendar:
    return BaseCalendar.from_json(data)


async def recorded_base(tx: Transaction, community_id: int) -> BaseCalendar:
    """The package data this community's deadlines are counted with (see the module doc)."""
    current = base_calendar()
    recorded = await tx.calendar.fingerprint(community_id)
    if recorded is None or recorded == current.fingerprint:
        return current  # no row: a new community, the tick records the current data
    data = await tx.calendar.snapshot(community_id)
    return current if data is None else _parsed(data)


async def calendar_for(tx: Transaction, community_id: int) -> WorkCalendar:
    """The community's working-day calendar: its recorded package data plus /holiday."""
    holidays, workdays = await tx.calendar.overrides(community_id)
    return (await recorded_base(tx, community_id)).calendar(holidays, workdays)


async def redate_open_tickets(
    tx: Transaction,
    community: Community,
    old: WorkCalendar,
    new: WorkCalendar,
    now: datetime,
    actor_person_id: int | None = None,
) -> int:
    """Move the due day of each open ticket that ``new`` counts differently from ``old``.

    Only deadlines still ahead move: an overdue ticket was already escalated, and a day
    off added afterwards does not undo that. Each moved ticket gets an event, a fresh
    tick plan (``save`` clears ``next_check_at``) and a message to whoever must fix it.
    Returns how many tickets moved.
    """
    tz = ZoneInfo(community.timezone)
    moved = 0
    for ticket in await tx.tickets.list_by_status(community.id, OPEN_STATUSES):
        if ticket.due_at is None or ticket.due_at <= now:
            continue
        due = (ticket.due_at.astimezone(tz) - timedelta(microseconds=1)).date()
        start = await _counted_from(tx, ticket, tz)
        new_due = moved_due(old, new, start, due)
        if new_due == due:
            continue
        due_at = datetime.combine(new_due + timedelta(days=1), time.min, tzinfo=tz)
        changed = replace(ticket, due_at=due_at.astimezone(UTC), version=ticket.version + 1)
        await tx.tickets.save(changed)
        note = f"{due.isoformat()} → {new_due.isoformat()}"
        await tx.tickets.add_events(
            ticket.id, [Event(EventKind.REDATED, actor_person_id, now, note)]
        )
        for person in await reach.assignee_or_admins(
            tx, ticket.community_id, ticket.assignee_person_id
        ):
            await messages.to_person(
                tx,
                person,
                now,
                "calendar.redated",
                dedupe_key=keys.redate(ticket.id, changed.version, person.id),
                number=ticket.number,
                old=Day(due),
                new=Day(new_due),
            )
        moved += 1
    if moved:
        log.info("deadlines re-dated community_id=%s tickets=%s", community.id, moved)
    return moved


async def _counted_from(tx: Transaction, ticket: Ticket, tz: ZoneInfo) -> date:
    """The local day the current deadline was counted from: dispatch, or the last re-open."""
    start = ticket.dispatched_at or ticket.created_at
    for event in await tx.tickets.events(ticket.id):
        if event.kind is EventKind.REOPENED and event.at > start:
            start = event.at
    return start.astimezone(tz).date()


class CalendarService(Service):
    def __init__(
        self,
        db: Database,
        clock: Clock,
        outbox_ready: asyncio.Event,
        *,
        super_admins: frozenset[int] = frozenset(),
    ) -> None:
        super().__init__(db, clock, outbox_ready)
        self.super_admins = super_admins

    async def tick(self) -> int:
        """Take up new package data, and tell the admins about estimated years; returns
        how many tickets moved plus how many admins were told."""
        now = self.clock.now()
        base = base_calendar()
        async with self.db.read() as tx:
            communities = await tx.communities.list_all()
            recorded = await tx.calendar.fingerprints()
            notices = await self._notices_due(tx, communities, now)
        fired = 0
        for community in communities:
            if recorded.get(community.id) != base.fingerprint:
                async with self.db.transaction() as tx:
                    fired += await self._take_up(tx, community, base, now)
        if notices:
            async with self.db.transaction() as tx:
                for person, year, key in notices:
                    if await tx.occurrences.claim(key, now):
                        await messages.to_person(
                            tx, person, now, "calendar.estimate", dedupe_key=key, year=year
                        )
                        fired += 1
            log.info("calendar estimate notices=%s", len(notices))
        if fired:
            self._wake_outbox()
        return fired

    async def _take_up(
        self, tx: Transaction, community: Community, base: BaseCalendar, now: datetime
    ) -> int:
        """Re-date the community's open deadlines from its recorded data to ``base``."""
        old = await calendar_for(tx, community.id)
        holidays, workdays = await tx.calendar.overrides(community.id)
        moved = await redate_open_tickets(
            tx, community, old, base.calendar(holidays, workdays), now
        )
        await tx.calendar.save_snapshot(community.id, base.fingerprint, base.to_json(), now)
        return moved

    async def _notices_due(
        self, tx: Transaction, communities: list[Community], now: datetime
    ) -> list[tuple[Person, int, str]]:
        """(person, year, occurrence key) of each estimate notice not sent yet."""
        supers = [await tx.people.find_by_telegram(tg) for tg in sorted(self.super_admins)]
        due: dict[str, tuple[Person, int, str]] = {}
        for community in communities:
            today = now.astimezone(ZoneInfo(community.timezone)).date()
            years = estimated_years_ahead(today)
            if not years:
                continue
            admins = await tx.people.list_with_role(community.id, Role.ADMIN)
            for person in [*admins, *(p for p in supers if p is not None)]:
                if person.telegram_id is None or not person.reachable:
                    continue  # told once they have opened the bot
                for year in years:
                    key = keys.calendar_estimate(year, person.id)
                    due[key] = (person, year, key)
        if not due:
            return []
        sent = await tx.occurrences.existing(list(due))
        return [notice for key, notice in due.items() if key not in sent]
