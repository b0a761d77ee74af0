"""The durable tick for tickets: reminders, escalations (督办), late acceptance, re-check
requests and expired drafts — derived from the database each minute, each claimed under
a unique occurrence key in the same transaction as its messages, so downtime is caught
up once and nothing fires twice."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.models import Community, Language, Person, Role
from bot.domain.reports import Draft
from bot.domain.rules import CommunityRules
from bot.domain.tickets import OPEN_STATUSES, Event, EventKind, Status, Ticket
from bot.domain.workdays import WorkCalendar
from bot.i18n import Safe, t
from bot.services import messages
from bot.services.base import Service
from bot.services.reports import community_calendar
from bot.services.ticket_cards import recheck_buttons, ticket_buttons_for_cadre, ticket_params
from bot.textlimits import MESSAGE_LIMIT, visible_length
from storage.transaction import Transaction

log = logging.getLogger(__name__)

# Reminders go out in working hours, not at midnight when the day turns.
REMINDER_TIME = time(9, 0)
# A ticket with nothing ahead of it (closed, or every occurrence already behind it).
NEVER = datetime(9999, 12, 31, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class TickReport:
    reminders: int = 0
    escalations: int = 0
    late_acceptances: int = 0
    recheck_requests: int = 0
    expired_drafts: int = 0

    @property
    def total(self) -> int:
        return (
            self.reminders
            + self.escalations
            + self.late_acceptances
            + self.recheck_requests
            + self.expired_drafts
        )


def last_day(ticket: Ticket, tz: ZoneInfo) -> date | None:
    """The last local day to fix it (the deadline is the start of the following day)."""
    if ticket.due_at is None:
        return None
    return (ticket.due_at.astimezone(tz) - timedelta(microseconds=1)).date()


# Tickets looked at per transaction: a catch-up after downtime (tens of thousands of
# tickets at district scale) commits in steps, so replies are not held up behind it.
CHECK_BATCH = 200


@dataclass(slots=True)
class _Context:
    """What the tick needs per community, read once per tick."""

    community: Community
    rules: CommunityRules
    calendar: WorkCalendar


@dataclass(slots=True)
class _LeaderLists:
    """What leaders hear of in one transaction, grouped so that each leader gets one list
    per kind instead of one message per ticket."""

    # (community id, line key) -> [(occurrence key, ticket params)]
    items: dict[tuple[int, str], list[tuple[str, dict[str, Any]]]] = field(default_factory=dict)

    def add(self, community_id: int, line_key: str, key: str, params: dict[str, Any]) -> None:
        self.items.setdefault((community_id, line_key), []).append((key, params))


class DeadlineService(Service):
    async def tick(self) -> TickReport:
        """Fire what is due. Only tickets whose planned check time has come are read
        (``tickets.next_check_at``); each batch is fired and re-planned in one short
        write transaction."""
        now = self.clock.now()
        counts = {"reminders": 0, "escalations": 0, "late": 0, "recheck": 0, "drafts": 0}
        contexts: dict[int, _Context] = {}
        while True:
            async with self.db.read() as tx:
                batch = await tx.tickets.list_to_check(now, CHECK_BATCH)
                for ticket in batch:
                    if ticket.community_id not in contexts:
                        contexts[ticket.community_id] = await _context(tx, ticket.community_id)
                due = {
                    ticket.id: _due_keys(ticket, *_parts(contexts[ticket.community_id]), now)
                    for ticket in batch
                }
                fired = await tx.occurrences.existing([k for keys in due.values() for k in keys])
            if not batch:
                break
            async with self.db.transaction() as tx:
                plans = []
                lists = _LeaderLists()
                for ticket in batch:
                    context = contexts[ticket.community_id]
                    if any(key not in fired for key in due[ticket.id]):
                        ticket = await tx.tickets.get(ticket.id)  # fresh: it may have moved on
                        await self._fire(tx, ticket, context, lists, now, counts)
                    plans.append(
                        (ticket.id, ticket.version, next_check_at(ticket, *_parts(context), now))
                    )
                await _send_leader_lists(tx, lists, now)
                await tx.tickets.plan_checks(plans)
            if any(counts.values()):
                self._wake_outbox()  # a long catch-up starts sending as it goes
            if len(batch) < CHECK_BATCH:
                break
        async with self.db.read() as tx:
            has_expired_drafts = bool(await tx.drafts.expired(now))
        if has_expired_drafts:
            async with self.db.transaction() as tx:
                counts["drafts"] = await self._expire_drafts(tx, now)
        report = TickReport(
            counts["reminders"],
            counts["escalations"],
            counts["late"],
            counts["recheck"],
            counts["drafts"],
        )
        if report.total:
            log.info(
                "tick reminders=%s escalations=%s late=%s recheck=%s drafts=%s",
                report.reminders,
                report.escalations,
                report.late_acceptances,
                report.recheck_requests,
                report.expired_drafts,
            )
            self._wake_outbox()
        return report

    async def _fire(
        self,
        tx: Transaction,
        ticket: Ticket,
        context: _Context,
        lists: _LeaderLists,
        now: datetime,
        counts: dict[str, int],
    ) -> None:
        community, calendar = context.community, context.calendar
        counts["reminders"] += await self._remind(tx, ticket, community, calendar, now)
        counts["escalations"] += await self._escalate(tx, ticket, community, lists, now)
        counts["late"] += await self._late_acceptance(
            tx, ticket, community, calendar, context.rules, lists, now
        )
        counts["recheck"] += await self._recheck_request(tx, ticket, context, now)

    async def _remind(
        self,
        tx: Transaction,
        ticket: Ticket,
        community: Community,
        calendar: WorkCalendar,
        now: datetime,
    ) -> int:
        if ticket.status not in OPEN_STATUSES:
            return 0  # fixed, waiting for its re-check: nothing to remind the cadre of
        tz = ZoneInfo(community.timezone)
        local = now.astimezone(tz)
        due_day = last_day(ticket, tz)
        if due_day is None or local.time() < REMINDER_TIME:
            return 0
        today = local.date()
        if today == due_day:
            kind, key = "tickets.reminder_due", f"remind-due:{ticket.id}:{due_day}"
        elif calendar.previous_workday(due_day) <= today < due_day:
            # "Tomorrow" only when it is: on a Friday a Monday deadline is named by its day.
            tomorrow = due_day == today + timedelta(days=1)
            kind = "tickets.reminder_before" if tomorrow else "tickets.reminder_ahead"
            key = f"remind-before:{ticket.id}:{due_day}"
        else:
            return 0
        if not await tx.occurrences.claim(key, now):
            return 0
        params = await ticket_params(tx, ticket, community.timezone)
        params["weekday_key"] = f"tickets.weekday_{due_day.weekday()}"
        for person in await _responsible(tx, ticket):
            await messages.to_person(
                tx,
                person,
                now,
                kind,
                buttons=ticket_buttons_for_cadre(ticket),
                dedupe_key=f"{key}:{person.id}",
                **params,
            )
        return 1

    async def _escalate(
        self,
        tx: Transaction,
        ticket: Ticket,
        community: Community,
        lists: _LeaderLists,
        now: datetime,
    ) -> int:
        if not ticket.overdue_at(now):
            return 0
        due_day = last_day(ticket, ZoneInfo(community.timezone))
        key = f"overdue:{ticket.id}:{due_day}"
        if not await tx.occurrences.claim(key, now):
            return 0
        await tx.tickets.add_events(ticket.id, [Event(EventKind.ESCALATED, None, now, "overdue")])
        params = await ticket_params(tx, ticket, community.timezone)
        cadre = (
            await tx.people.get(ticket.assignee_person_id) if ticket.assignee_person_id else None
        )
        params["cadre"] = cadre.name if cadre else "—"
        lists.add(ticket.community_id, "tickets.escalated_line", key, params)
        for person in await _responsible(tx, ticket):
            await messages.to_person(
                tx,
                person,
                now,
                "tickets.overdue_to_cadre",
                buttons=ticket_buttons_for_cadre(ticket),
                dedupe_key=f"{key}:cadre:{person.id}",
                **params,
            )
        return 1

    async def _late_acceptance(
        self,
        tx: Transaction,
        ticket: Ticket,
        community: Community,
        calendar: WorkCalendar,
        rules: CommunityRules,
        lists: _LeaderLists,
        now: datetime,
    ) -> int:
        if ticket.status is not Status.ASSIGNED or ticket.dispatched_at is None:
            return 0
        limit = calendar.deadline_instant(
            ticket.dispatched_at, rules.accept_workdays, ZoneInfo(community.timezone)
        )
        if now < limit:
            return 0
        key = f"accept-late:{ticket.id}:{ticket.dispatched_at.date()}:{ticket.assignee_person_id}"
        if not await tx.occurrences.claim(key, now):
            return 0
        params = await ticket_params(tx, ticket, community.timezone)
        cadre = (
            await tx.people.get(ticket.assignee_person_id) if ticket.assignee_person_id else None
        )
        params["cadre"] = cadre.name if cadre else "—"
        lists.add(ticket.community_id, "tickets.not_accepted_line", key, params)
        if cadre is not None:
            # The cadre is nudged too, once, with the button to accept at hand.
            await messages.to_person(
                tx,
                cadre,
                now,
                "tickets.accept_nudge",
                buttons=ticket_buttons_for_cadre(ticket),
                dedupe_key=f"{key}:cadre",
                **params,
            )
        return 1

    async def _recheck_request(
        self, tx: Transaction, ticket: Ticket, context: _Context, now: datetime
    ) -> int:
        if ticket.status is not Status.RECTIFIED or ticket.rectified_at is None:
            return 0
        ready = context.calendar.deadline_instant(
            ticket.rectified_at,
            context.rules.recheck_workdays,
            ZoneInfo(context.community.timezone),
        )
        if now < ready:
            return 0
        key = f"recheck:{ticket.id}:{ticket.rectified_at.isoformat()}"
        if not await tx.occurrences.claim(key, now):
            return 0
        params = await ticket_params(tx, ticket, context.community.timezone)
        photos = await tx.tickets.photos(ticket.id, "after")
        for inspector in await tx.people.list_with_role(ticket.community_id, Role.INSPECTOR):
            await messages.to_person(
                tx,
                inspector,
                now,
                "tickets.recheck_request",
                buttons=recheck_buttons(ticket),
                photo=photos[-1].path if photos else None,
                dedupe_key=f"{key}:{inspector.id}",
                **params,
            )
        return 1

    async def _expire_drafts(self, tx: Transaction, now: datetime) -> int:
        told = 0
        for person_id in await tx.drafts.expired(now):
            stored = await tx.drafts.get(person_id)
            await tx.drafts.delete(person_id)
            if stored is None or Draft.from_json(stored[1]).filed_ticket_id is not None:
                continue  # a filed report's draft is only kept to answer re-deliveries
            person = await tx.people.get(person_id)
            await messages.to_person(tx, person, now, "report.expired")
            told += 1
        return told


async def _context(tx: Transaction, community_id: int) -> _Context:
    return _Context(
        await tx.communities.get(community_id),
        await tx.communities.rules(community_id),
        await community_calendar(tx, community_id),
    )


# The title of each leader list, by the key of its lines.
_LIST_TITLES = {
    "tickets.escalated_line": "tickets.escalated_list",
    "tickets.not_accepted_line": "tickets.not_accepted_list",
}


async def _send_leader_lists(tx: Transaction, lists: _LeaderLists, now: datetime) -> None:
    """One message per leader and kind, listing the tickets, each line in their language;
    a list too long for one message continues in the next rather than being cut."""
    for (community_id, line_key), items in lists.items.items():
        digest = hashlib.sha256(",".join(key for key, _ in items).encode()).hexdigest()[:16]
        for leader in await tx.people.list_with_role(community_id, Role.LEADER):
            lang = leader.language or Language.ZH
            lines = [t(lang, line_key, **messages.localized(lang, params)) for _, params in items]
            for part, chunk in enumerate(_chunks(lines)):
                await messages.to_person(
                    tx,
                    leader,
                    now,
                    _LIST_TITLES[line_key],
                    dedupe_key=f"{line_key}:{digest}:{leader.id}:{part}",
                    count=len(items),
                    lines=Safe("\n".join(chunk)),
                )


# Room left in a message for the list's title.
_LIST_BUDGET = MESSAGE_LIMIT - 200


def _chunks(lines: list[str]) -> list[list[str]]:
    chunks: list[list[str]] = [[]]
    size = 0
    for line in lines:
        length = visible_length(line) + 1
        if chunks[-1] and size + length > _LIST_BUDGET:
            chunks.append([])
            size = 0
        chunks[-1].append(line)
        size += length
    return chunks


def _parts(context: _Context) -> tuple[Community, WorkCalendar, CommunityRules]:
    return context.community, context.calendar, context.rules


async def _responsible(tx: Transaction, ticket: Ticket) -> list[Person]:
    if ticket.assignee_person_id:
        return [await tx.people.get(ticket.assignee_person_id)]
    return await tx.people.list_with_role(ticket.community_id, Role.ADMIN)


def _due_keys(
    ticket: Ticket,
    community: Community,
    calendar: WorkCalendar,
    rules: CommunityRules,
    now: datetime,
) -> list[str]:
    """The occurrence keys this ticket has due now (mirrors _remind, _escalate,
    _late_acceptance and _recheck_requests, which re-check fresh state before firing)."""
    tz = ZoneInfo(community.timezone)
    keys = []
    local = now.astimezone(tz)
    due_day = last_day(ticket, tz)
    if ticket.status in OPEN_STATUSES and due_day is not None and local.time() >= REMINDER_TIME:
        today = local.date()
        if today == due_day:
            keys.append(f"remind-due:{ticket.id}:{due_day}")
        elif calendar.previous_workday(due_day) <= today < due_day:
            keys.append(f"remind-before:{ticket.id}:{due_day}")
    if ticket.overdue_at(now):
        keys.append(f"overdue:{ticket.id}:{due_day}")
    if ticket.status is Status.ASSIGNED and ticket.dispatched_at is not None:
        limit = calendar.deadline_instant(ticket.dispatched_at, rules.accept_workdays, tz)
        if now >= limit:
            keys.append(
                f"accept-late:{ticket.id}:{ticket.dispatched_at.date()}:{ticket.assignee_person_id}"
            )
    if ticket.status is Status.RECTIFIED and ticket.rectified_at is not None:
        ready = calendar.deadline_instant(ticket.rectified_at, rules.recheck_workdays, tz)
        if now >= ready:
            keys.append(f"recheck:{ticket.id}:{ticket.rectified_at.isoformat()}")
    return keys


def next_check_at(
    ticket: Ticket,
    community: Community,
    calendar: WorkCalendar,
    rules: CommunityRules,
    now: datetime,
) -> datetime:
    """The first instant after ``now`` at which ``_due_keys`` can name a key it does not
    name now; ``NEVER`` if nothing lies ahead. Until then the tick can leave the ticket
    alone, which is what keeps it O(what is due) instead of O(open tickets)."""
    tz = ZoneInfo(community.timezone)
    ahead: list[datetime] = []
    due_day = last_day(ticket, tz)
    if ticket.status in OPEN_STATUSES and due_day is not None:
        # The "due soon" window runs from the working day before the due day; a reminder
        # missed on its first morning (the bot was down) goes out on the next one.
        today = now.astimezone(tz).date()
        first = max(calendar.previous_workday(due_day), today)
        for day in (first, first + timedelta(days=1), due_day):
            if day <= due_day:
                ahead.append(datetime.combine(day, REMINDER_TIME, tzinfo=tz).astimezone(UTC))
        if ticket.due_at is not None:
            ahead.append(ticket.due_at)
    if ticket.status is Status.ASSIGNED and ticket.dispatched_at is not None:
        ahead.append(calendar.deadline_instant(ticket.dispatched_at, rules.accept_workdays, tz))
    if ticket.status is Status.RECTIFIED and ticket.rectified_at is not None:
        ahead.append(calendar.deadline_instant(ticket.rectified_at, rules.recheck_workdays, tz))
    return min((at for at in ahead if at > now), default=NEVER)
