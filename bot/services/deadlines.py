"""The durable tick for tickets: reminders, escalations (督办), late acceptance, re-check
requests and expired drafts — derived from the database each minute, each claimed under
a unique occurrence key in the same transaction as its messages, so downtime is caught
up once and nothing fires twice."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain import keys
from bot.domain.due import Due, DueKind, Occurrence, due_now
from bot.domain.models import Community, Language, Person, Role
from bot.domain.reports import Draft
from bot.domain.rules import CommunityRules
from bot.domain.tickets import Event, EventKind, Ticket
from bot.domain.workdays import WorkCalendar
from bot.i18n import Safe, t
from bot.services import messages, reach
from bot.services.base import Service
from bot.services.reports import community_calendar
from bot.services.ticket_cards import recheck_buttons, ticket_buttons_for_cadre, ticket_params
from bot.textlimits import MESSAGE_LIMIT, visible_length
from storage.transaction import Transaction

log = logging.getLogger(__name__)


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


# The counter each kind of occurrence adds to.
_COUNTS = {
    DueKind.REMIND_DUE: "reminders",
    DueKind.REMIND_TOMORROW: "reminders",
    DueKind.REMIND_AHEAD: "reminders",
    DueKind.OVERDUE: "escalations",
    DueKind.LATE_ACCEPTANCE: "late",
    DueKind.RECHECK: "recheck",
}
_REMINDER_TEXT = {
    DueKind.REMIND_DUE: "tickets.reminder_due",
    DueKind.REMIND_TOMORROW: "tickets.reminder_before",
    DueKind.REMIND_AHEAD: "tickets.reminder_ahead",
}


# Tickets looked at per transaction: a catch-up after downtime (tens of thousands of
# tickets at district scale) commits in steps, so replies are not held up behind it.
CHECK_BATCH = 200


@dataclass(slots=True)
class _Context:
    """What the tick needs per community, read once per tick."""

    community: Community
    rules: CommunityRules
    calendar: WorkCalendar
    tz: ZoneInfo


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
                    ticket.id: _due(ticket, contexts[ticket.community_id], now) for ticket in batch
                }
                fired = await tx.occurrences.existing([k for d in due.values() for k in d.keys])
            if not batch:
                break
            async with self.db.transaction() as tx:
                plans = []
                lists = _LeaderLists()
                for ticket in batch:
                    context = contexts[ticket.community_id]
                    planned = due[ticket.id]
                    if any(key not in fired for key in planned.keys):
                        ticket = await tx.tickets.get(ticket.id)  # fresh: it may have moved on
                        planned = await self._fire(tx, ticket, context, lists, now, counts)
                    plans.append((ticket.id, ticket.version, planned.next_check_at))
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
    ) -> Due:
        """Fire what the fresh ticket has due, each occurrence claimed once; returns it so
        the ticket is planned from the same reading."""
        due = _due(ticket, context, now)
        for occurrence in due.occurrences:
            if not await tx.occurrences.claim(occurrence.key, now):
                continue
            count = _COUNTS[occurrence.kind]
            counts[count] += 1
            if count == "reminders":
                await self._remind(tx, ticket, context.community, occurrence, now)
            elif occurrence.kind is DueKind.OVERDUE:
                await self._escalate(tx, ticket, context.community, occurrence, lists, now)
            elif occurrence.kind is DueKind.LATE_ACCEPTANCE:
                await self._late_acceptance(tx, ticket, context.community, occurrence, lists, now)
            else:
                await self._recheck_request(tx, ticket, context.community, occurrence, now)
        return due

    async def _remind(
        self,
        tx: Transaction,
        ticket: Ticket,
        community: Community,
        occurrence: Occurrence,
        now: datetime,
    ) -> None:
        assert occurrence.day is not None  # a reminder always names its day
        params = await ticket_params(tx, ticket, community.timezone)
        params["weekday_key"] = f"tickets.weekday_{occurrence.day.weekday()}"
        for person in await reach.assignee_or_admins(
            tx, ticket.community_id, ticket.assignee_person_id
        ):
            await messages.to_person(
                tx,
                person,
                now,
                _REMINDER_TEXT[occurrence.kind],
                buttons=ticket_buttons_for_cadre(ticket),
                dedupe_key=keys.to_person(occurrence.key, person.id),
                **params,
            )

    async def _escalate(
        self,
        tx: Transaction,
        ticket: Ticket,
        community: Community,
        occurrence: Occurrence,
        lists: _LeaderLists,
        now: datetime,
    ) -> None:
        key = occurrence.key
        await tx.tickets.add_events(ticket.id, [Event(EventKind.ESCALATED, None, now, "overdue")])
        params, _ = await _params_with_cadre(tx, ticket, community)
        lists.add(ticket.community_id, "tickets.escalated_line", key, params)
        for person in await reach.assignee_or_admins(
            tx, ticket.community_id, ticket.assignee_person_id
        ):
            await messages.to_person(
                tx,
                person,
                now,
                "tickets.overdue_to_cadre",
                buttons=ticket_buttons_for_cadre(ticket),
                dedupe_key=keys.to_cadre(key, person.id),
                **params,
            )

    async def _late_acceptance(
        self,
        tx: Transaction,
        ticket: Ticket,
        community: Community,
        occurrence: Occurrence,
        lists: _LeaderLists,
        now: datetime,
    ) -> None:
        key = occurrence.key
        params, cadre = await _params_with_cadre(tx, ticket, community)
        lists.add(ticket.community_id, "tickets.not_accepted_line", key, params)
        if cadre is not None:
            # The cadre is nudged too, once, with the button to accept at hand.
            await messages.to_person(
                tx,
                cadre,
                now,
                "tickets.accept_nudge",
                buttons=ticket_buttons_for_cadre(ticket),
                dedupe_key=keys.to_cadre(key),
                **params,
            )

    async def _recheck_request(
        self,
        tx: Transaction,
        ticket: Ticket,
        community: Community,
        occurrence: Occurrence,
        now: datetime,
    ) -> None:
        params = await ticket_params(tx, ticket, community.timezone)
        photos = await tx.tickets.photos(ticket.id, "after")
        for inspector in await tx.people.list_with_role(ticket.community_id, Role.INSPECTOR):
            await messages.to_person(
                tx,
                inspector,
                now,
                "tickets.recheck_request",
                buttons=recheck_buttons(ticket),
                photo=photos[-1].path if photos else None,
                dedupe_key=keys.to_person(occurrence.key, inspector.id),
                **params,
            )

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
    community = await tx.communities.get(community_id)
    return _Context(
        community,
        await tx.communities.rules(community_id),
        await community_calendar(tx, community_id),
        ZoneInfo(community.timezone),
    )


def _due(ticket: Ticket, context: _Context, now: datetime) -> Due:
    return due_now(ticket, context.rules, context.calendar, now, context.tz)


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
                    dedupe_key=keys.leader_list(line_key, digest, leader.id, part),
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


async def _params_with_cadre(
    tx: Transaction, ticket: Ticket, community: Community
) -> tuple[dict[str, Any], Person | None]:
    """A ticket's message parameters with its cadre named (leaders' lists name them)."""
    params = await ticket_params(tx, ticket, community.timezone)
    cadre = await tx.people.get(ticket.assignee_person_id) if ticket.assignee_person_id else None
    params["cadre"] = cadre.name if cadre else "—"
    return params, cadre
