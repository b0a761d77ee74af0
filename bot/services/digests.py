"""Leader digests: daily and weekly counts straight from the tickets, the rectification
rate (整改率), the oldest overdue tickets with their cadres, and today's calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.access import Actor
from bot.domain.errors import InvalidInput, NotAllowed
from bot.domain.models import Role
from bot.domain.schedule import clean_day, inspection_days
from bot.domain.tickets import OPEN_STATUSES, Status
from bot.services.base import Service
from bot.services.ticket_cards import format_due
from storage.transaction import Transaction

DIGEST_MODES = ("daily", "weekly", "off")


@dataclass(frozen=True, slots=True)
class OverdueLine:
    number: str
    zone: str
    cadre: str
    due: str
    days_over: int


@dataclass(frozen=True, slots=True)
class Digest:
    community: str
    period_start: datetime
    period_end: datetime
    new: int
    accepted: int
    rectified: int
    closed: int
    overdue: int
    waiting_recheck: int
    open_total: int
    rectification_rate: float | None  # rectified-or-closed among those due in the period
    oldest_overdue: list[OverdueLine]
    today: list[str]  # i18n keys of today's calendar events
    per_zone: list[tuple[str, int, int]]  # zone, new, closed (weekly trend)


class DigestService(Service):
    async def build(self, community_id: int, days: int = 1) -> Digest:
        """Counts for the last ``days`` days up to now."""
        now = self.clock.now()
        async with self.db.read() as tx:
            return await _build(tx, community_id, now, days)

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


async def _build(tx: Transaction, community_id: int, now: datetime, days: int) -> Digest:
    community = await tx.communities.get(community_id)
    tz = ZoneInfo(community.timezone)
    start = now - timedelta(days=days)
    counts = await tx.tickets.event_counts(community_id, start, now)
    active = await tx.tickets.list_by_status(
        community_id, frozenset(OPEN_STATUSES | {Status.RECTIFIED})
    )
    overdue = [t for t in active if t.overdue_at(now)]
    due_in_period = await tx.tickets.due_between(community_id, start, now)
    done = [
        t
        for t in due_in_period
        if t.rectified_at is not None and t.due_at is not None and t.rectified_at <= t.due_at
    ]
    rate = round(100.0 * len(done) / len(due_in_period), 1) if due_in_period else None
    zones = {z.id: z for z in await tx.zones.list_by_community(community_id)}
    lines = []
    for ticket in sorted(overdue, key=lambda t: t.due_at or now)[:5]:
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
    rules = await tx.communities.rules(community_id)
    today = now.astimezone(tz).date()
    calendar = _calendar_today(today, rules.clean_day, rules.inspection_days)
    per_zone = []
    if days > 1:
        by_zone = await tx.tickets.zone_counts(community_id, start, now)
        per_zone = [(zones[z].name, n, c) for z, (n, c) in sorted(by_zone.items()) if z in zones]
    return Digest(
        community=community.name,
        period_start=start,
        period_end=now,
        new=counts.get("created", 0),
        accepted=counts.get("accepted", 0),
        rectified=counts.get("rectified", 0),
        closed=counts.get("closed", 0),
        overdue=len(overdue),
        waiting_recheck=sum(t.status is Status.RECTIFIED for t in active),
        open_total=sum(t.status in OPEN_STATUSES for t in active),
        rectification_rate=rate,
        oldest_overdue=lines,
        today=calendar,
        per_zone=per_zone,
    )


def _calendar_today(today: date, clean: int, inspections: tuple[int, ...]) -> list[str]:
    events = []
    if today == clean_day(today.year, today.month, clean):
        events.append("digest.today_clean_day")
    if today in inspection_days(today.year, today.month, inspections):
        events.append("digest.today_inspection")
    return events
