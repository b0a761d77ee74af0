"""Monthly zone scores from the database: inspections, overdue tickets and the month's
ticket-handling indicators, computed by the rules in bot.domain.scoring and stored with
their breakdown so history survives zones being renamed or removed."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from bot.domain import scoring
from bot.domain.access import Actor
from bot.domain.errors import InvalidInput, NotAllowed, NotFound
from bot.domain.models import Role, Zone
from bot.domain.scoring import ScoringRules, TicketStats, YearMonth, ZoneMonth
from bot.domain.tickets import Rating, Status, Ticket, is_rated
from bot.domain.workdays import WorkCalendar
from bot.services.base import Service
from bot.services.reports import community_calendar
from storage.scores import StoredScore
from storage.transaction import Transaction


@dataclass(frozen=True, slots=True)
class MonthWindow:
    month: YearMonth
    start: datetime  # aware, local midnight of the first day
    end: datetime  # aware, local midnight after the last day


def window(month: YearMonth, timezone: str) -> MonthWindow:
    tz = ZoneInfo(timezone)
    start = datetime.combine(month.first_day, time(), tz)
    end = datetime.combine(month.next().first_day, time(), tz)
    return MonthWindow(month, start, end)


class ScoringService(Service):
    async def compute(self, community_id: int, month: YearMonth) -> list[StoredScore]:
        """Score every zone for the month and store the result (a rerun replaces it)."""
        async with self.db.transaction() as tx:
            return await compute_month(tx, community_id, month, self.clock.now())

    async def month(self, community_id: int, month: YearMonth) -> list[StoredScore]:
        async with self.db.read() as tx:
            return await tx.scores.month(community_id, str(month))

    async def trend_zones(self, actor: Actor) -> list[Zone]:
        """The zones /trend can draw, to offer as buttons when none is named."""
        _check_trend_viewer(actor)
        assert actor.community_id is not None
        async with self.db.read() as tx:
            zones = await tx.zones.list_by_community(actor.community_id)
        return [z for z in zones if z.active]

    async def trend(
        self, actor: Actor, zone_query: str | int, last: YearMonth
    ) -> tuple[Zone, list[tuple[YearMonth, float | None]]]:
        """A zone's last 12 monthly scores, for /trend: by code or name, or by id (a button)."""
        _check_trend_viewer(actor)
        assert actor.community_id is not None
        async with self.db.read() as tx:
            zones = await tx.zones.list_by_community(actor.community_id)
            if isinstance(zone_query, int):
                zone = next((z for z in zones if z.id == zone_query), None)
            else:
                zone = next((z for z in zones if zone_query in (z.code, z.name)), None)
            if zone is None:
                raise NotFound("errors.zone_not_found")
            months = [last]
            for _ in range(11):
                months.insert(0, months[0].previous())
            stored = {
                s.month: s.score
                for s in await tx.scores.zone_history(zone.id, str(months[0]), str(last))
            }
        return zone, [(m, stored.get(str(m))) for m in months]


def _check_trend_viewer(actor: Actor) -> None:
    if actor.community_id is None:
        raise InvalidInput("start.pick_community_first")
    if not (
        actor.is_admin()
        or actor.has(Role.LEADER)
        or actor.has(Role.CADRE)
        or actor.has(Role.INSPECTOR)
    ):
        raise NotAllowed()


async def compute_month(
    tx: Transaction, community_id: int, month: YearMonth, now: datetime
) -> list[StoredScore]:
    community = await tx.communities.get(community_id)
    rules = ScoringRules.from_community(await tx.communities.rules(community_id))
    span = window(month, community.timezone)
    zones = await tx.zones.list_by_community(community_id)
    inspections = await tx.inspections.done_between(community_id, month.first_day, month.last_day)
    tickets = await tx.tickets.touching_window(community_id, span.start, span.end)
    calendar = await community_calendar(tx, community_id)
    accept_days = (await tx.communities.rules(community_id)).accept_workdays
    tz = ZoneInfo(community.timezone)
    breakdowns = {}
    stats_by_zone = {}
    for zone in zones:
        zone_tickets = [t for t in tickets if t.zone_id == zone.id]
        stats = _stats(zone_tickets, span, calendar, accept_days, tz)
        overdue = sum(_overdue_at(t, span.end) for t in zone_tickets)
        zm = ZoneMonth(
            zone.id,
            zone.name,
            tuple(i.score for i in inspections if i.zone_id == zone.id and i.score is not None),
            overdue,
            stats,
        )
        breakdowns[zone.id] = (scoring.monthly_score(zm, rules), overdue)
        stats_by_zone[zone.id] = scoring.indicators(stats, rules)
    ranked = {
        r.zone_id: r.rank
        for r in scoring.rank({z: b.score if b else None for z, (b, _) in breakdowns.items()})
    }
    rows = []
    for zone in zones:
        breakdown, overdue = breakdowns[zone.id]
        rows.append(
            StoredScore(
                zone_id=zone.id,
                month=str(month),
                zone_name=zone.name,
                score=breakdown.score if breakdown else None,
                rank=ranked.get(zone.id),
                inspections=breakdown.inspections if breakdown else 0,
                inspection_mean=breakdown.inspection_mean if breakdown else None,
                overdue=overdue,
                penalty=breakdown.penalty if breakdown else 0.0,
                indicators=asdict(stats_by_zone[zone.id]),
            )
        )
    await tx.scores.replace_month(community_id, str(month), rows, now)
    return await tx.scores.month(community_id, str(month))


def _overdue_at(ticket: Ticket, moment: datetime) -> bool:
    """Open past its deadline at that moment (a rectification after it does not count)."""
    if ticket.status is Status.REJECTED or ticket.due_at is None or ticket.due_at > moment:
        return False
    if ticket.created_at >= moment:
        return False
    return ticket.rectified_at is None or ticket.rectified_at > moment


def _stats(
    tickets: list[Ticket],
    span: MonthWindow,
    calendar: WorkCalendar,
    accept_days: int,
    tz: ZoneInfo,
) -> TicketStats:
    dispatched = [
        t for t in tickets if t.dispatched_at and span.start <= t.dispatched_at < span.end
    ]
    accepted_on_time = sum(
        1
        for t in dispatched
        if t.accepted_at is not None
        and t.dispatched_at is not None
        and t.accepted_at < calendar.deadline_instant(t.dispatched_at, accept_days, tz)
    )
    due = [
        t
        for t in tickets
        if t.due_at and span.start < t.due_at <= span.end and t.status is not Status.REJECTED
    ]
    on_time = sum(
        1
        for t in due
        if t.rectified_at is not None and t.due_at is not None and t.rectified_at <= t.due_at
    )
    rated = [
        t
        for t in tickets
        if t.rating is not None
        and is_rated(t)
        and t.closed_at
        and span.start <= t.closed_at < span.end
    ]
    return TicketStats(
        due=len(due),
        rectified_on_time=on_time,
        accepted_on_time=accepted_on_time,
        dispatched=len(dispatched),
        reopened=sum(1 for t in dispatched if t.reopen_count > 0),
        transferred_back=sum(1 for t in dispatched if t.transfer_count > 0),
        rated=len(rated),
        satisfied=sum(1 for t in rated if t.rating is Rating.SATISFIED),
    )
