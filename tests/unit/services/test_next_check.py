"""When the minute tick may leave a ticket alone: nothing becomes due before then.

Both answers come from ``bot.domain.due.due_now``, the rules the tick fires by."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.due import NEVER, due_now
from bot.domain.models import Community
from bot.domain.rules import CommunityRules
from bot.domain.tickets import Source, Status, Ticket
from bot.domain.workdays import WorkCalendar

START = datetime(2025, 9, 20, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")
COMMUNITY = Community(1, "c1", "幸福里", "Asia/Shanghai", START)
# A holiday block with make-up working days, like the real October arrangement.
HOLIDAYS = frozenset(date(2025, 10, d) for d in range(1, 8))
CALENDARS = (
    WorkCalendar(),
    WorkCalendar(
        holidays=HOLIDAYS,
        workdays=frozenset({date(2025, 9, 28), date(2025, 10, 11)}),
        known_years=frozenset({2025}),
    ),
)
HOURS = st.integers(min_value=0, max_value=24 * 40)


def _due_keys(
    ticket: Ticket,
    community: Community,
    calendar: WorkCalendar,
    rules: CommunityRules,
    now: datetime,
) -> list[str]:
    return due_now(ticket, rules, calendar, now, ZoneInfo(community.timezone)).keys


def next_check_at(
    ticket: Ticket,
    community: Community,
    calendar: WorkCalendar,
    rules: CommunityRules,
    now: datetime,
) -> datetime:
    return due_now(ticket, rules, calendar, now, ZoneInfo(community.timezone)).next_check_at


@st.composite
def tickets(draw: st.DrawFn) -> tuple[Ticket, WorkCalendar, CommunityRules, datetime]:
    calendar = draw(st.sampled_from(CALENDARS))
    rules = CommunityRules(
        accept_workdays=draw(st.integers(0, 3)),
        recheck_workdays=draw(st.integers(0, 4)),
    )
    status = draw(st.sampled_from(list(Status)))
    dispatched = START + timedelta(hours=draw(HOURS), minutes=draw(st.integers(0, 59)))
    due = calendar.deadline_instant(dispatched, draw(st.integers(1, 8)), SHANGHAI)
    rectified = dispatched + timedelta(hours=draw(HOURS)) if status is Status.RECTIFIED else None
    ticket = Ticket(
        id=7,
        community_id=1,
        number="2025-0007",
        source=Source.RESIDENT,
        reporter_person_id=3,
        category="litter",
        zone_id=1,
        building_id=None,
        site_id=None,
        lat=None,
        lon=None,
        description="",
        status=status,
        assignee_person_id=None if status is Status.QUEUED else 11,
        created_at=dispatched,
        dispatched_at=None if status is Status.QUEUED else dispatched,
        due_at=due,
        rectified_at=rectified,
    )
    now = dispatched + timedelta(minutes=draw(st.integers(0, 60 * 24 * 40)))
    return ticket, calendar, rules, now


@settings(max_examples=400, deadline=None)
@given(tickets(), st.lists(st.floats(0, 1, exclude_max=True), min_size=1, max_size=8))
def test_nothing_new_is_due_before_the_next_check(
    case: tuple[Ticket, WorkCalendar, CommunityRules, datetime], fractions: list[float]
) -> None:
    ticket, calendar, rules, now = case
    due_now = set(_due_keys(ticket, COMMUNITY, calendar, rules, now))
    until = next_check_at(ticket, COMMUNITY, calendar, rules, now)
    assert until > now
    horizon = min(until, now + timedelta(days=60))
    for fraction in fractions:
        at = now + (horizon - now) * fraction
        if at >= until:
            continue  # rounding to whole microseconds
        assert set(_due_keys(ticket, COMMUNITY, calendar, rules, at)) <= due_now, at


@settings(max_examples=200, deadline=None)
@given(tickets())
def test_closed_and_finished_tickets_are_never_checked_again(
    case: tuple[Ticket, WorkCalendar, CommunityRules, datetime],
) -> None:
    ticket, calendar, rules, _ = case
    much_later = START + timedelta(days=120)
    assert next_check_at(ticket, COMMUNITY, calendar, rules, much_later) == NEVER


def test_a_reminder_missed_on_the_first_morning_is_checked_on_the_next() -> None:
    """Due on Wednesday, so the window opens Tuesday 09:00; the bot was down on Monday
    and comes back Tuesday 08:00: the next check is that morning, not the due day."""
    calendar = WorkCalendar()
    dispatched = datetime(2025, 9, 29, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
    due = calendar.deadline_instant(dispatched, 2, SHANGHAI)  # the end of Wednesday
    ticket = Ticket(
        7, 1, "2025-0007", Source.RESIDENT, 3, "litter", 1, None, None, None, None, "",
        Status.ACCEPTED, 11, dispatched, dispatched, due,
    )  # fmt: skip
    tuesday_8am = datetime(2025, 9, 30, 0, 0, tzinfo=UTC)
    assert next_check_at(ticket, COMMUNITY, calendar, CommunityRules(), tuesday_8am) == (
        datetime(2025, 9, 30, 1, 0, tzinfo=UTC)  # Tuesday 09:00 in Shanghai
    )
