"""Leader digests: daily and weekly counts straight from the tickets, the rectification
rate (整改率), the oldest overdue tickets with their cadres, and today's calendar.

A digest covers whole local days already over (yesterday; last Monday–Sunday), never a
window ending at the hour it is built: a window that moved with the send time left gaps
between consecutive digests (a restart at 15:00 skipped the morning before's inspection
tickets) and swung the rate between a figure and "—" on the same data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.access import Actor
from bot.domain.errors import InvalidInput, NotAllowed
from bot.domain.models import Community, Role, Zone
from bot.domain.periods import DayRange, digest_period
from bot.domain.schedule import clean_day, inspection_days
from bot.domain.tickets import Source
from bot.i18n import Day
from bot.services.base import Service
from bot.services.calendar_changes import estimated_years_ahead
from bot.services.ticket_cards import format_due
from storage.transaction import Transaction

DIGEST_MODES = ("daily", "weekly", "off")
OLDEST_OVERDUE = 5  # overdue tickets a digest names


@dataclass(frozen=True, slots=True)
class OverdueLine:
    number: str
    zone: str
    cadre: str
    due: Day | str
    days_over: int


@dataclass(frozen=True, slots=True)
class Digest:
    community: str
    period: DayRange  # local days covered
    period_start: datetime  # aware, local midnight of the first day
    period_end: datetime  # aware, local midnight after the last day
    new: int
    new_by_source: dict[Source, int]  # every source, 0 where none
    accepted: int
    rectified: int
    closed: int
    overdue: int
    waiting_recheck: int
    open_total: int
    due: int  # tickets (rejected aside) whose deadline fell in the period
    on_time: int  # of them, rectified by their deadline
    rectification_rate: float | None  # on_time / due in %; None when nothing fell due
    oldest_overdue: list[OverdueLine]
    today: list[str]  # i18n keys of today's calendar events
    per_zone: list[tuple[str, int, int]]  # zone, new, closed (weekly trend)
    estimated_years: tuple[int, ...] = ()  # deadlines there count statutory days only


class DigestService(Service):
    async def build(self, community_id: int, days: int = 1) -> Digest:
        """The digest a leader gets today: yesterday (``days`` 1) or last week (7)."""
        now = self.clock.now()
        async with self.db.read() as tx:
            return await build_digest(tx, community_id, now, days)

    async def on_demand(self, actor: Actor) -> Digest:
        if actor.community_id is None:
            raise InvalidInput("start.pick_community_first")
        if not (actor.has(Role.LEADER) or actor.is_admin()):
            raise NotAllowed()
        return await self.build(actor.community_id)

    async def set_mode(self, actor: Actor, mode: str) -> None:
        if mode not in DIGEST_MODES:
            raise InvalidInput("digest.usage_mode")
        if actor.community_id is None or not (actor.has(Role.LEADER) or actor.is_admin()):
            raise NotAllowed()
        async with self.db.transaction() as tx:
            await tx.digest_prefs.set_mode(actor.person_id, actor.community_id, mode)


async def build_digest(tx: Transaction, community_id: int, now: datetime, days: int) -> Digest:
    """The digest sent on ``now``'s local day: the period's counts (see ``digest_period``)
    and the open backlog at ``now``. Every count is one SQL aggregate, so its cost follows
    the period's tickets, not the community's history."""
    community = await tx.communities.get(community_id)
    tz = ZoneInfo(community.timezone)
    today = now.astimezone(tz).date()
    period = digest_period(today, days)
    start = datetime.combine(period.first, time(), tz)
    end = datetime.combine(period.last + timedelta(days=1), time(), tz)
    created = await tx.tickets.created_by_source(community_id, start, end)
    counts = await tx.tickets.event_counts(community_id, start, end)
    active = await tx.tickets.active_counts(community_id, now)
    due, done = await tx.tickets.rectified_in_time(community_id, start, end)
    zones = {z.id: z for z in await tx.zones.list_by_community(community_id)}
    rules = await tx.communities.rules(community_id)
    return Digest(
        community=community.name,
        period=period,
        period_start=start,
        period_end=end,
        new=sum(created.values()),
        new_by_source={source: created.get(source, 0) for source in Source},
        accepted=counts.get("accepted", 0),
        rectified=counts.get("rectified", 0),
        closed=counts.get("closed", 0),
        overdue=active.overdue,
        waiting_recheck=active.waiting_recheck,
        open_total=active.open,
        due=due,
        on_time=done,
        # No deadline in the period: no rate ("—"), rather than a 0% nobody earned.
        rectification_rate=round(100.0 * done / due, 1) if due else None,
        oldest_overdue=await _oldest_overdue(tx, community, zones, now),
        today=_calendar_today(today, rules.clean_day, rules.inspection_days),
        per_zone=await _per_zone(tx, community_id, zones, start, end) if days > 1 else [],
        estimated_years=tuple(estimated_years_ahead(today)),
    )


async def _oldest_overdue(
    tx: Transaction, community: Community, zones: dict[int, Zone], now: datetime
) -> list[OverdueLine]:
    lines = []
    for ticket in await tx.tickets.oldest_overdue(community.id, now, OLDEST_OVERDUE):
        cadre = (
            await tx.people.get(ticket.assignee_person_id) if ticket.assignee_person_id else None
        )
        zone = zones.get(ticket.zone_id or 0)
        over = (now - (ticket.due_at or now)).days + 1
        lines.append(
            OverdueLine(
                ticket.number,
                zone.name if zone else "—",
                cadre.name if cadre else "—",
                format_due(ticket, community.timezone),
                over,
            )
        )
    return lines


async def _per_zone(
    tx: Transaction, community_id: int, zones: dict[int, Zone], start: datetime, end: datetime
) -> list[tuple[str, int, int]]:
    by_zone = await tx.tickets.zone_counts(community_id, start, end)
    return [(zones[z].name, n, c) for z, (n, c) in sorted(by_zone.items()) if z in zones]


def _calendar_today(today: date, clean: int, inspections: tuple[int, ...]) -> list[str]:
    events = []
    if today == clean_day(today.year, today.month, clean):
        events.append("digest.today_clean_day")
    if today in inspection_days(today.year, today.month, inspections):
        events.append("digest.today_inspection")
    return events
