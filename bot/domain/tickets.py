"""Tickets: the closed-loop rectification notice (整改通知单) as a state machine.

Submitted → assigned (派单) → accepted (签收) → rectified (已整改) → closed (销号),
with transfer, reject, reopen on a failed re-check, and deadline extensions. Each
transition checks who may make it, takes ``now``, and returns the new ticket with
the events to record. Nothing here reads a clock, awaits or logs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from bot.domain.access import Actor
from bot.domain.errors import Conflict, InvalidInput, NotAllowed
from bot.domain.models import Role

MAX_REASON = 500
# The working days a cadre may ask for in one extension, and the ones offered as buttons.
MAX_EXTENSION_DAYS = 10
EXTENSION_DAY_CHOICES = (2, 3, 5)


class Status(StrEnum):
    QUEUED = "queued"  # no responsible cadre: waits in the admins' queue
    ASSIGNED = "assigned"  # dispatched to a cadre, not yet accepted
    ACCEPTED = "accepted"
    RECTIFIED = "rectified"  # fix reported, waiting for re-check
    CLOSED = "closed"
    REJECTED = "rejected"


OPEN_STATUSES = frozenset({Status.QUEUED, Status.ASSIGNED, Status.ACCEPTED})
ACTIVE_STATUSES = OPEN_STATUSES | {Status.RECTIFIED}


class Source(StrEnum):
    RESIDENT = "resident"
    INSPECTION = "inspection"
    REVIEW = "review"  # a zone's rectification after a low monthly score
    OPEN311 = "open311"  # posted by a city system through the Open311 API


class RejectReason(StrEnum):
    DUPLICATE = "duplicate"
    NOT_OURS = "not_ours"
    NOT_A_PROBLEM = "not_a_problem"


class Rating(StrEnum):
    SATISFIED = "satisfied"
    FAIR = "fair"
    UNSATISFIED = "unsatisfied"


class EventKind(StrEnum):
    CREATED = "created"
    DISPATCHED = "dispatched"
    QUEUED = "queued"
    ACCEPTED = "accepted"
    TRANSFERRED = "transferred"
    REJECTED = "rejected"
    RECTIFIED = "rectified"
    CONFIRMED = "confirmed"
    REOPENED = "reopened"
    CLOSED = "closed"
    RATED = "rated"
    SUPPORTED = "supported"
    EXTENSION_ASKED = "extension_asked"
    EXTENSION_GRANTED = "extension_granted"
    EXTENSION_REFUSED = "extension_refused"
    ESCALATED = "escalated"
    REDATED = "redated"  # the working-day calendar moved the due day


@dataclass(frozen=True, slots=True)
class Event:
    kind: EventKind
    actor_person_id: int | None
    at: datetime
    note: str = ""


@dataclass(frozen=True, slots=True)
class Ticket:
    id: int
    community_id: int
    number: str  # e.g. 2026-0042, unique per community
    source: Source
    reporter_person_id: int
    category: str
    zone_id: int | None
    building_id: int | None
    site_id: int | None
    lat: float | None
    lon: float | None
    description: str
    status: Status
    assignee_person_id: int | None
    created_at: datetime
    dispatched_at: datetime | None
    due_at: datetime | None
    accepted_at: datetime | None = None
    rectified_at: datetime | None = None
    closed_at: datetime | None = None
    reopen_count: int = 0
    transfer_count: int = 0
    supporters: int = 0
    anonymous: bool = True
    share_phone: bool = False
    rating: Rating | None = None
    extension_reason: str | None = None
    version: int = 1
    extension_days: int | None = None  # asked for with the pending extension

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def overdue_at(self, now: datetime) -> bool:
        return self.status in OPEN_STATUSES and self.due_at is not None and now >= self.due_at


def format_number(year: int, seq: int) -> str:
    """Readable on a phone and sortable in a ledger."""
    return f"{year}-{seq:04d}"


def _reason(text: str) -> str:
    text = " ".join(text.split())
    if not text:
        raise InvalidInput("tickets.reason_needed")
    return text[:MAX_REASON]


def _bump(ticket: Ticket, **changes: object) -> Ticket:
    return replace(ticket, version=ticket.version + 1, **changes)  # type: ignore[arg-type]


def is_handler(actor: Actor, ticket: Ticket) -> bool:
    """The assigned cadre, a cadre of the ticket's zone, or an admin."""
    if actor.community_id != ticket.community_id:
        return False
    if actor.is_admin():
        return True
    if ticket.assignee_person_id == actor.person_id:
        return True
    return ticket.zone_id is not None and ticket.zone_id in actor.cadre_zone_ids()


def can_view(actor: Actor, ticket: Ticket) -> bool:
    if actor.super_admin:
        return True
    if actor.community_id != ticket.community_id:
        return False
    if ticket.reporter_person_id == actor.person_id or is_handler(actor, ticket):
        return True
    return bool(actor.roles & {Role.INSPECTOR, Role.LEADER, Role.ADMIN})


def can_recheck(actor: Actor, ticket: Ticket) -> bool:
    if actor.community_id != ticket.community_id:
        return False
    return (
        ticket.reporter_person_id == actor.person_id
        or actor.has(Role.INSPECTOR)
        or actor.is_admin()
    )


def is_rated(ticket: Ticket) -> bool:
    """Only a resident's report is rated (满意率): an inspection finding has no one to satisfy,
    and its inspector's re-check is a check, not an opinion. Supporters do not rate."""
    return ticket.source is Source.RESIDENT


def can_rate(actor: Actor, ticket: Ticket) -> bool:
    return (
        is_rated(ticket)
        and ticket.reporter_person_id == actor.person_id
        and ticket.status is Status.CLOSED
        and ticket.rating is None
    )


def _expect(ticket: Ticket, *allowed: Status) -> None:
    if ticket.status not in allowed:
        raise Conflict("tickets.wrong_state", number=ticket.number, status=ticket.status.value)


def dispatch(
    ticket: Ticket, assignee_person_id: int | None, now: datetime, due_at: datetime | None
) -> tuple[Ticket, list[Event]]:
    """First routing. The deadline starts here and later transfers never reset it."""
    if assignee_person_id is None:
        new = _bump(
            ticket, status=Status.QUEUED, assignee_person_id=None, dispatched_at=now, due_at=due_at
        )
        return new, [Event(EventKind.QUEUED, None, now)]
    new = _bump(
        ticket,
        status=Status.ASSIGNED,
        assignee_person_id=assignee_person_id,
        dispatched_at=now,
        due_at=due_at,
    )
    return new, [Event(EventKind.DISPATCHED, None, now, str(assignee_person_id))]


def accept(ticket: Ticket, actor: Actor, now: datetime) -> tuple[Ticket, list[Event]]:
    if not is_handler(actor, ticket):
        raise NotAllowed("tickets.not_yours")
    _expect(ticket, Status.ASSIGNED, Status.QUEUED)
    new = _bump(
        ticket, status=Status.ACCEPTED, accepted_at=now, assignee_person_id=actor.person_id
    )
    return new, [Event(EventKind.ACCEPTED, actor.person_id, now)]


def transfer(
    ticket: Ticket,
    actor: Actor,
    now: datetime,
    reason: str,
    zone_id: int | None,
    assignee_person_id: int | None,
) -> tuple[Ticket, list[Event]]:
    """Hand to another zone's cadre, or back to the admins' queue (zone None)."""
    if not is_handler(actor, ticket):
        raise NotAllowed("tickets.not_yours")
    _expect(ticket, Status.ASSIGNED, Status.ACCEPTED, Status.QUEUED)
    note = _reason(reason)
    if (
        zone_id is not None
        and zone_id == ticket.zone_id
        and assignee_person_id == ticket.assignee_person_id
    ):
        raise InvalidInput("tickets.transfer_same_zone")
    status = Status.ASSIGNED if assignee_person_id is not None else Status.QUEUED
    new = _bump(
        ticket,
        status=status,
        zone_id=zone_id if zone_id is not None else ticket.zone_id,
        assignee_person_id=assignee_person_id,
        accepted_at=None,
        transfer_count=ticket.transfer_count + 1,
    )
    return new, [Event(EventKind.TRANSFERRED, actor.person_id, now, note)]


def reject(
    ticket: Ticket, actor: Actor, now: datetime, kind: RejectReason, reason: str
) -> tuple[Ticket, list[Event]]:
    if not is_handler(actor, ticket):
        raise NotAllowed("tickets.not_yours")
    _expect(ticket, Status.ASSIGNED, Status.ACCEPTED, Status.QUEUED)
    note = f"{kind.value}: {_reason(reason)}"
    new = _bump(ticket, status=Status.REJECTED, closed_at=now)
    return new, [Event(EventKind.REJECTED, actor.person_id, now, note)]


def rectify(ticket: Ticket, actor: Actor, now: datetime, note: str) -> tuple[Ticket, list[Event]]:
    if not is_handler(actor, ticket):
        raise NotAllowed("tickets.not_yours")
    _expect(ticket, Status.ACCEPTED)
    new = _bump(ticket, status=Status.RECTIFIED, rectified_at=now)
    return new, [
        Event(EventKind.RECTIFIED, actor.person_id, now, " ".join(note.split())[:MAX_REASON])
    ]


def confirm(ticket: Ticket, actor: Actor, now: datetime) -> tuple[Ticket, list[Event]]:
    """A re-check (回头看) passed: close the ticket (销号)."""
    if not can_recheck(actor, ticket):
        raise NotAllowed("tickets.not_yours")
    _expect(ticket, Status.RECTIFIED)
    new = _bump(ticket, status=Status.CLOSED, closed_at=now)
    return new, [
        Event(EventKind.CONFIRMED, actor.person_id, now),
        Event(EventKind.CLOSED, actor.person_id, now),
    ]


def reopen(
    ticket: Ticket, actor: Actor, now: datetime, reason: str, due_at: datetime | None
) -> tuple[Ticket, list[Event]]:
    """A re-check failed: back to the cadre with a fresh deadline."""
    if not can_recheck(actor, ticket):
        raise NotAllowed("tickets.not_yours")
    _expect(ticket, Status.RECTIFIED)
    note = _reason(reason)
    status = Status.ASSIGNED if ticket.assignee_person_id is not None else Status.QUEUED
    new = _bump(
        ticket,
        status=status,
        accepted_at=None,
        rectified_at=None,
        due_at=due_at,
        reopen_count=ticket.reopen_count + 1,
    )
    return new, [Event(EventKind.REOPENED, actor.person_id, now, note)]


def rate(
    ticket: Ticket, actor: Actor, now: datetime, rating: Rating
) -> tuple[Ticket, list[Event]]:
    if ticket.reporter_person_id != actor.person_id:
        raise NotAllowed("tickets.only_reporter_rates")
    if not is_rated(ticket):
        raise NotAllowed("tickets.inspection_not_rated")
    _expect(ticket, Status.CLOSED)
    if ticket.rating is not None:
        raise Conflict("tickets.already_rated")
    new = _bump(ticket, rating=rating)
    return new, [Event(EventKind.RATED, actor.person_id, now, rating.value)]


def check_extension_days(days: int) -> int:
    if not 1 <= days <= MAX_EXTENSION_DAYS:
        raise InvalidInput("tickets.extension_days_range", max=MAX_EXTENSION_DAYS)
    return days


def extension_note(days: int, reason: str) -> str:
    """The request's event note: the days first, so a timeline can show them."""
    return f"{days}{_DAYS_MARK}{reason}"


def split_extension_note(note: str) -> tuple[int | None, str]:
    """(days, reason) from an extension request's note; days None for older notes."""
    head, mark, rest = note.partition(_DAYS_MARK)
    if mark and head.isascii() and head.isdigit():
        return int(head), rest
    return None, note


_DAYS_MARK = "d: "


def can_ask_extension(actor: Actor, ticket: Ticket) -> None:
    if not is_handler(actor, ticket):
        raise NotAllowed("tickets.not_yours")
    _expect(ticket, Status.ASSIGNED, Status.ACCEPTED)
    if ticket.extension_reason is not None:
        raise Conflict("tickets.extension_pending")


def ask_extension(
    ticket: Ticket, actor: Actor, now: datetime, reason: str, days: int
) -> tuple[Ticket, list[Event]]:
    """The cadre asks for ``days`` more working days, with a reason, for a leader to decide."""
    can_ask_extension(actor, ticket)
    check_extension_days(days)
    note = _reason(reason)
    new = _bump(ticket, extension_reason=note, extension_days=days)
    event = Event(EventKind.EXTENSION_ASKED, actor.person_id, now, extension_note(days, note))
    return new, [event]


def decide_extension(
    ticket: Ticket, actor: Actor, now: datetime, new_due_at: datetime | None
) -> tuple[Ticket, list[Event]]:
    """A leader grants (with the new deadline) or refuses (None) an extension."""
    if actor.community_id != ticket.community_id or not (
        actor.has(Role.LEADER) or actor.is_admin()
    ):
        raise NotAllowed("tickets.only_leader_extends")
    if ticket.extension_reason is None:
        raise Conflict("tickets.no_extension_pending")
    if new_due_at is None:
        new = _bump(ticket, extension_reason=None, extension_days=None)
        return new, [Event(EventKind.EXTENSION_REFUSED, actor.person_id, now)]
    new = _bump(ticket, extension_reason=None, extension_days=None, due_at=new_due_at)
    return new, [Event(EventKind.EXTENSION_GRANTED, actor.person_id, now, new_due_at.isoformat())]
