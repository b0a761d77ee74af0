"""Leader digests: daily and weekly counts straight from the tickets, the rectification
rate (整改率), the oldest overdue tickets with their cadres, and today's calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.access import Actor
from bot.domain.errors import InvalidInput, NotAllowed
from bot.domain.models import Community, Role, Zone
from bot.domain.schedule import clean_day, inspection_days
from bot.i18n import Day
from bot.services.base import Service
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
    """The digest of the ``days`` days up to ``now``: every count is one SQL aggregate, so
    its cost follows the period's tickets, not the community's history."""
    community = await tx.communities.get(community_id)
    start = now - timedelta(days=days)
    counts = await tx.tickets.event_counts(community_id, start, now)
    active = await tx.tickets.active_counts(community_id, now)
    due, done = await tx.tickets.rectified_in_time(community_id, start, now)
    zones = {z.id: z for z in await tx.zones.list_by_community(community_id)}
    rules = await tx.communities.rules(community_id)
    today = now.astimezone(ZoneInfo(community.timezone)).date()
    return Digest(
        community=community.name,
        period_start=start,
        period_end=now,
        new=counts.get("created", 0),
        accepted=counts.get("accepted", 0),
        rectified=counts.get("rectified", 0),
        closed=counts.get("closed", 0),
        overdue=active.overdue,
        waiting_recheck=active.waiting_recheck,
        open_total=active.open,
        rectification_rate=round(100.0 * done / due, 1) if due else None,
        oldest_overdue=await _oldest_overdue(tx, community, zones, now),
        today=_calendar_today(today, rules.clean_day, rules.inspection_days),
        per_zone=await _per_zone(tx, community_id, zones, start, now) if days > 1 else [],
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
