"""What a ticket has due at an instant, by the rules written once in ``bot.domain.due``."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.due import NEVER, DueKind, due_now
from bot.domain.rules import CommunityRules
from bot.domain.tickets import Source, Status, Ticket
from bot.domain.workdays import WorkCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALENDAR = WorkCalendar()
RULES = CommunityRules(accept_workdays=1, recheck_workdays=2)
# Dispatched on Monday 29 September 2025, 10:00 in Shanghai.
DISPATCHED = datetime(2025, 9, 29, 2, 0, tzinfo=UTC)


def _ticket(status: Status, due_workdays: int = 2, **changes: object) -> Ticket:
    ticket = Ticket(
        7, 1, "2025-0007", Source.RESIDENT, 3, "litter", 1, None, None, None, None, "",
        status, 11, DISPATCHED, DISPATCHED,
        CALENDAR.deadline_instant(DISPATCHED, due_workdays, SHANGHAI),
    )  # fmt: skip
    return replace(ticket, **changes)  # type: ignore[arg-type]


def _at(day: int, hour: int, minute: int = 0, month: int = 9) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("ticket", "now", "expected"),
    [
        # Due Wednesday: Tuesday from 09:00 is "tomorrow", Wednesday the due day.
        (_ticket(Status.ACCEPTED), _at(30, 8, 59), []),
        (
            _ticket(Status.ACCEPTED),
            _at(30, 9),
            [(DueKind.REMIND_TOMORROW, "remind-before:7:2025-10-01", date(2025, 10, 1))],
        ),
        (
            _ticket(Status.ACCEPTED),
            _at(1, 9, month=10),
            [(DueKind.REMIND_DUE, "remind-due:7:2025-10-01", date(2025, 10, 1))],
        ),
        # The end of the due day has passed: escalated, and no reminder any more.
        (
            _ticket(Status.ACCEPTED),
            _at(2, 0, month=10),
            [(DueKind.OVERDUE, "overdue:7:2025-10-01", date(2025, 10, 1))],
        ),
        # Due Monday 6 October: on Friday it is named by its day, not "tomorrow".
        (
            _ticket(Status.ACCEPTED, due_workdays=5),
            _at(3, 9, month=10),
            [(DueKind.REMIND_AHEAD, "remind-before:7:2025-10-06", date(2025, 10, 6))],
        ),
        # Not accepted by the end of the working day after dispatch.
        (_ticket(Status.ASSIGNED, due_workdays=5), _at(30, 23, 59), []),
        (
            _ticket(Status.ASSIGNED, due_workdays=5),
            _at(1, 0, month=10),
            [(DueKind.LATE_ACCEPTANCE, "accept-late:7:2025-09-29:11", None)],
        ),
        # Fixed: nothing to remind of, even on its due day; the re-check is asked for
        # after two working days.
        (_ticket(Status.RECTIFIED, rectified_at=DISPATCHED), _at(1, 9, month=10), []),
        (
            _ticket(Status.RECTIFIED, rectified_at=DISPATCHED),
            _at(2, 0, month=10),
            [(DueKind.RECHECK, "recheck:7:2025-09-29T02:00:00+00:00", None)],
        ),
        (_ticket(Status.CLOSED, closed_at=DISPATCHED), _at(20, 12, month=10), []),
    ],
)
def test_what_is_due(
    ticket: Ticket, now: datetime, expected: list[tuple[DueKind, str, date | None]]
) -> None:
    due = due_now(ticket, RULES, CALENDAR, now, SHANGHAI)
    assert [(o.kind, o.key, o.day) for o in due.occurrences] == expected
    assert due.next_check_at > now


def test_the_next_check_is_the_first_thing_ahead() -> None:
    ticket = _ticket(Status.ASSIGNED, due_workdays=2)
    due = due_now(ticket, RULES, CALENDAR, _at(29, 11), SHANGHAI)
    assert due.occurrences == ()
    # Acceptance is late at the end of Tuesday, after the Tuesday 09:00 reminder.
    assert due.next_check_at == _at(30, 9).astimezone(UTC)


def test_a_closed_ticket_is_never_checked_again() -> None:
    ticket = _ticket(Status.CLOSED, closed_at=DISPATCHED)
    assert due_now(ticket, RULES, CALENDAR, DISPATCHED, SHANGHAI).next_check_at == NEVER


def test_an_overdue_ticket_waits_for_nothing_more() -> None:
    ticket = _ticket(Status.ACCEPTED)
    assert ticket.due_at is not None
    later = ticket.due_at + timedelta(days=3)
    due = due_now(ticket, RULES, CALENDAR, later, SHANGHAI)
    assert [o.kind for o in due.occurrences] == [DueKind.OVERDUE]
    assert due.next_check_at == NEVER
