"""What a ticket has due: the deadline rules, written once.

Given a ticket, its community's rules and calendar, and an instant, ``due_now`` names the
occurrences due (reminders, the escalation, late acceptance, the re-check request) and
the next instant at which another one can fall due. The tick fires what it returns; as
both come from the same rules, nothing falls due before the planned check.

Occurrence keys are the idempotency keys recorded by deployments: they must not change,
or a recorded key would stop preventing its repeat.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.domain import keys
from bot.domain.rules import CommunityRules
from bot.domain.tickets import OPEN_STATUSES, Status, Ticket
from bot.domain.workdays import WorkCalendar

# Reminders go out in working hours, not at midnight when the day turns.
REMINDER_TIME = time(9, 0)
# A ticket with nothing ahead of it (closed, or every occurrence already behind it).
NEVER = datetime(9999, 12, 31, tzinfo=UTC)


class DueKind(StrEnum):
    REMIND_DUE = "remind_due"  # the last day to fix it is today
    REMIND_TOMORROW = "remind_tomorrow"  # ... is tomorrow
    REMIND_AHEAD = "remind_ahead"  # ... is the next working day, further than tomorrow
    OVERDUE = "overdue"  # escalated (督办)
    LATE_ACCEPTANCE = "late_acceptance"
    RECHECK = "recheck"  # the re-check is ready to be asked for


@dataclass(frozen=True, slots=True)
class Occurrence:
    kind: DueKind
    key: str  # claimed once, ever
    day: date | None = None  # the last day to fix it, for reminders and escalations


@dataclass(frozen=True, slots=True)
class Due:
    occurrences: tuple[Occurrence, ...]
    # The first instant after ``now`` at which an occurrence not due now can be.
    next_check_at: datetime

    @property
    def keys(self) -> list[str]:
        return [occurrence.key for occurrence in self.occurrences]


def last_day(ticket: Ticket, tz: ZoneInfo) -> date | None:
    """The last local day to fix it (the deadline is the start of the following day)."""
    if ticket.due_at is None:
        return None
    return (ticket.due_at.astimezone(tz) - timedelta(microseconds=1)).date()


def due_now(
    ticket: Ticket, rules: CommunityRules, calendar: WorkCalendar, now: datetime, tz: ZoneInfo
) -> Due:
    occurrences: list[Occurrence] = []
    ahead: list[datetime] = []
    due_day = last_day(ticket, tz)
    local = now.astimezone(tz)
    today = local.date()

    if ticket.status in OPEN_STATUSES and due_day is not None:
        # The "due soon" window runs from the working day before the due day; a reminder
        # missed on its first morning (the bot was down) goes out on the next one.
        window = calendar.previous_workday(due_day)
        if local.time() >= REMINDER_TIME:
            if today == due_day:
                occurrences.append(
                    Occurrence(DueKind.REMIND_DUE, keys.remind_due(ticket.id, due_day), due_day)
                )
            elif window <= today < due_day:
                # "Tomorrow" only when it is: on a Friday a Monday deadline is named by its day.
                tomorrow = due_day == today + timedelta(days=1)
                kind = DueKind.REMIND_TOMORROW if tomorrow else DueKind.REMIND_AHEAD
                occurrences.append(
                    Occurrence(kind, keys.remind_before(ticket.id, due_day), due_day)
                )
        first = max(window, today)
        for day in (first, first + timedelta(days=1), due_day):
            if day <= due_day:
                ahead.append(datetime.combine(day, REMINDER_TIME, tzinfo=tz).astimezone(UTC))

    if ticket.overdue_at(now):
        occurrences.append(Occurrence(DueKind.OVERDUE, keys.overdue(ticket.id, due_day), due_day))
    elif ticket.status in OPEN_STATUSES and ticket.due_at is not None:
        ahead.append(ticket.due_at)

    if ticket.status is Status.ASSIGNED and ticket.dispatched_at is not None:
        limit = calendar.deadline_instant(ticket.dispatched_at, rules.accept_workdays, tz)
        if now >= limit:
            key = keys.accept_late(
                ticket.id, ticket.dispatched_at.date(), ticket.assignee_person_id
            )
            occurrences.append(Occurrence(DueKind.LATE_ACCEPTANCE, key))
        else:
            ahead.append(limit)

    if ticket.status is Status.RECTIFIED and ticket.rectified_at is not None:
        ready = calendar.deadline_instant(ticket.rectified_at, rules.recheck_workdays, tz)
        if now >= ready:
            key = keys.recheck(ticket.id, ticket.rectified_at)
            occurrences.append(Occurrence(DueKind.RECHECK, key))
        else:
            ahead.append(ready)

    return Due(tuple(occurrences), min((at for at in ahead if at > now), default=NEVER))
