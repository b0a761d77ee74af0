"""Working-day arithmetic on hand-made calendars (no official data package involved)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.workdays import WorkCalendar, moved_due

SHANGHAI = ZoneInfo("Asia/Shanghai")


def d(text: str) -> date:
    return date.fromisoformat(text)


def days(*texts: str) -> frozenset[date]:
    return frozenset(d(t) for t in texts)


# A small made-up arrangement for 2025, shaped like a real one: a Thursday–Tuesday
# holiday block (Oct 2–7) with a make-up Saturday (Oct 11) and a Sunday (Sep 28).
# 2025-10-01 is a Wednesday.
CAL = WorkCalendar(
    holidays=days(
        "2025-10-01",
        "2025-10-02",
        "2025-10-03",
        "2025-10-04",
        "2025-10-05",
        "2025-10-06",
        "2025-10-07",
        # Outside known_years: must be ignored (2026-01-01 is a Thursday).
        "2026-01-01",
    ),
    workdays=days("2025-09-28", "2025-10-11", "2026-01-03"),
    known_years=frozenset({2025}),
)


class TestIsWorkday:
    @pytest.mark.parametrize(
        ("day", "expected", "why"),
        [
            ("2025-09-26", True, "plain Friday"),
            ("2025-09-27", False, "plain Saturday"),
            ("2025-09-28", True, "make-up Sunday"),
            ("2025-10-01", False, "holiday on a Wednesday"),
            ("2025-10-04", False, "holiday on a Saturday"),
            ("2025-10-08", True, "first day back, Wednesday"),
            ("2025-10-11", True, "make-up Saturday"),
            ("2025-10-12", False, "plain Sunday"),
            ("2026-01-01", True, "unknown year: official holiday ignored, Thursday"),
            ("2026-01-03", False, "unknown year: official workday ignored, Saturday"),
        ],
    )
    def test_is_workday_follows_official_data_then_weekends(
        self, day: str, expected: bool, why: str
    ) -> None:
        assert CAL.is_workday(d(day)) is expected, why

    def test_admin_entries_win_over_official_data(self) -> None:
        cal = CAL.with_overrides(
            extra_holidays=[d("2025-10-11"), d("2025-10-09")],
            extra_workdays=[d("2025-10-03"), d("2026-01-04")],
        )
        assert not cal.is_workday(d("2025-10-11"))  # official make-up day cancelled
        assert not cal.is_workday(d("2025-10-09"))  # extra day off on a Thursday
        assert cal.is_workday(d("2025-10-03"))  # official holiday worked anyway
        assert cal.is_workday(d("2026-01-04"))  # unknown year, Sunday worked

    def test_empty_calendar_is_monday_to_friday(self) -> None:
        week = [d("2025-10-06") + timedelta(days=i) for i in range(7)]
        assert [WorkCalendar().is_workday(x) for x in week] == [True] * 5 + [False] * 2

    def test_overlapping_admin_entries_are_rejected(self) -> None:
        with pytest.raises(ValueError, match="admin"):
            WorkCalendar(extra_holidays=days("2025-10-09"), extra_workdays=days("2025-10-09"))

    def test_overlapping_official_entries_are_rejected(self) -> None:
        with pytest.raises(ValueError, match="official"):
            WorkCalendar(holidays=days("2025-10-09"), workdays=days("2025-10-09"))


class TestAddWorkdays:
    @pytest.mark.parametrize(
        ("start", "n", "expected"),
        [
            ("2025-09-24", 0, "2025-09-24"),  # n=0: start unchanged
            ("2025-09-27", 0, "2025-09-27"),  # n=0: even on a Saturday
            ("2025-09-24", 1, "2025-09-25"),  # start never counts
            ("2025-09-26", 1, "2025-09-28"),  # Fri → make-up Sun
            ("2025-09-26", 2, "2025-09-29"),
            # Tue Sep 30 + 5: Oct 8 (1), 9 (2), 10 (3), 11 make-up Sat (4), 13 Mon (5)
            ("2025-09-30", 5, "2025-10-13"),
            ("2025-10-03", 1, "2025-10-08"),  # dispatched during the holiday
            ("2025-12-31", 1, "2026-01-01"),  # unknown 2026: official holiday ignored
            ("2026-01-02", 1, "2026-01-05"),  # unknown 2026: official Sat ignored
        ],
    )
    def test_add_workdays_skips_days_off(self, start: str, n: int, expected: str) -> None:
        assert CAL.add_workdays(d(start), n) == d(expected)

    def test_negative_n_is_rejected(self) -> None:
        with pytest.raises(ValueError):
            CAL.add_workdays(d("2025-10-01"), -1)


class TestNeighbours:
    @pytest.mark.parametrize(
        ("day", "previous", "following"),
        [
            ("2025-10-08", "2025-09-30", "2025-10-09"),
            ("2025-10-01", "2025-09-30", "2025-10-08"),
            ("2025-09-29", "2025-09-28", "2025-09-30"),
            ("2025-10-13", "2025-10-11", "2025-10-14"),
        ],
    )
    def test_previous_and_next_workday_are_strict(
        self, day: str, previous: str, following: str
    ) -> None:
        assert CAL.previous_workday(d(day)) == d(previous)
        assert CAL.next_workday(d(day)) == d(following)

    @pytest.mark.parametrize(
        ("a", "b", "expected"),
        [
            ("2025-09-30", "2025-09-30", 0),
            ("2025-09-30", "2025-09-01", 0),  # never negative
            ("2025-09-30", "2025-10-07", 0),  # whole holiday block
            ("2025-09-30", "2025-10-13", 5),
            ("2025-09-26", "2025-09-28", 1),  # (Fri, Sun]: only the make-up Sunday
        ],
    )
    def test_workdays_between_counts_half_open_range(self, a: str, b: str, expected: int) -> None:
        assert CAL.workdays_between(d(a), d(b)) == expected

    def test_reminder_is_the_working_day_before_due(self) -> None:
        # Due Wed Oct 8, right after the holiday: remind on Tue Sep 30, not Oct 7.
        assert CAL.reminder_day(d("2025-10-08")) == d("2025-09-30")
        assert CAL.is_due_reminder_day(d("2025-09-30"), d("2025-10-08"))
        assert not CAL.is_due_reminder_day(d("2025-10-07"), d("2025-10-08"))

    def test_unknown_years_lists_years_without_official_data(self) -> None:
        assert CAL.unknown_years([d("2025-10-01"), d("2026-01-01"), d("2024-05-01")]) == {
            2024,
            2026,
        }


class TestDeadlines:
    def test_due_date_ignores_time_of_day(self) -> None:
        morning = datetime(2025, 9, 30, 0, 0, tzinfo=SHANGHAI)
        night = datetime(2025, 9, 30, 23, 59, tzinfo=SHANGHAI)
        assert CAL.due_date(morning, 5) == CAL.due_date(night, 5) == d("2025-10-13")

    def test_deadline_is_local_midnight_after_due_day_in_utc(self) -> None:
        # 2025-09-30 17:30 UTC is already Oct 1, 01:30 in Shanghai: the local day counts.
        # Local Oct 1 + 5: Oct 8, 9, 10, 11 (make-up), 13 → ends at Oct 14 00:00 local.
        deadline = CAL.deadline_instant(datetime(2025, 9, 30, 17, 30, tzinfo=UTC), 5, SHANGHAI)
        assert deadline == datetime(2025, 10, 13, 16, 0, tzinfo=UTC)
        assert deadline.utcoffset() == timedelta(0)

    def test_deadline_rejects_naive_datetimes(self) -> None:
        with pytest.raises(ValueError, match="aware"):
            CAL.deadline_instant(datetime(2025, 9, 30, 9, 0), 5, SHANGHAI)


# -- properties ----------------------------------------------------------------------------

# A short window across a New Year, so random sets are dense enough to switch off whole
# weeks, and both a known and an unknown year show up.
WINDOW_START = date(2025, 11, 15)
WINDOW_DAYS = 90

window_dates = st.integers(0, WINDOW_DAYS).map(lambda i: WINDOW_START + timedelta(days=i))


def _days_from_mask(mask: int) -> frozenset[date]:
    return frozenset(WINDOW_START + timedelta(days=i) for i in range(WINDOW_DAYS) if mask >> i & 1)


# One integer per set, read as a bitmask over the window: far cheaper for hypothesis than
# drawing a set of dates, and it shrinks towards the empty set.
day_sets = st.integers(0, 2**WINDOW_DAYS - 1).map(_days_from_mask)


@st.composite
def calendars(draw: st.DrawFn) -> WorkCalendar:
    """Random calendars, including ones that switch whole weeks off or on."""
    holidays = draw(day_sets)
    workdays = draw(day_sets) - holidays
    extra_holidays = draw(day_sets)
    extra_workdays = draw(day_sets) - extra_holidays
    return WorkCalendar(
        holidays=holidays,
        workdays=workdays,
        known_years=draw(st.frozensets(st.sampled_from([2025, 2026]))),
        extra_holidays=extra_holidays,
        extra_workdays=extra_workdays,
        statutory_holidays=draw(day_sets),
    )


counts = st.integers(0, 30)


@given(calendars(), window_dates, st.integers(1, 30))
def test_add_workdays_lands_on_a_workday(cal: WorkCalendar, start: date, n: int) -> None:
    assert cal.is_workday(cal.add_workdays(start, n))


@given(calendars(), window_dates, counts)
def test_workdays_between_inverts_add_workdays(cal: WorkCalendar, start: date, n: int) -> None:
    assert cal.workdays_between(start, cal.add_workdays(start, n)) == n


@given(calendars(), window_dates, counts)
def test_add_workdays_is_strictly_increasing_in_n(cal: WorkCalendar, start: date, n: int) -> None:
    assert cal.add_workdays(start, n) < cal.add_workdays(start, n + 1)


@given(calendars(), window_dates)
def test_neighbours_are_the_closest_workdays(cal: WorkCalendar, day: date) -> None:
    after, before = cal.next_workday(day), cal.previous_workday(day)
    assert before < day < after
    assert cal.is_workday(before) and cal.is_workday(after)
    assert cal.workdays_between(before, after) == 1 + cal.is_workday(day)


@given(calendars(), window_dates)
def test_admin_entries_always_win(cal: WorkCalendar, day: date) -> None:
    assert cal.with_overrides(extra_workdays=[day]).is_workday(day)
    assert not cal.with_overrides(extra_holidays=[day]).is_workday(day)


@given(calendars(), window_dates)
def test_unknown_years_fall_back_to_statutory_days_then_monday_to_friday(
    cal: WorkCalendar, day: date
) -> None:
    plain = cal.with_overrides()  # package data only
    unknown = WorkCalendar(holidays=plain.holidays, workdays=plain.workdays)
    assert unknown.is_workday(day) is (day.weekday() < 5)
    if day.year not in cal.known_years:
        expected = day.weekday() < 5 and day not in cal.statutory_holidays
        assert plain.is_workday(day) is expected
    else:
        # A published arrangement supersedes the estimate, whatever the statutory set says.
        official = WorkCalendar(cal.holidays, cal.workdays, cal.known_years)
        assert plain.is_workday(day) is official.is_workday(day)


@given(calendars(), window_dates, st.integers(0, 23), counts)
def test_deadline_is_midnight_after_due_date(
    cal: WorkCalendar, day: date, hour: int, n: int
) -> None:
    local = datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)
    deadline = cal.deadline_instant(local.astimezone(UTC), n, SHANGHAI)
    due = cal.due_date(local, n)
    assert deadline.astimezone(SHANGHAI) == datetime.combine(
        due + timedelta(days=1), datetime.min.time(), tzinfo=SHANGHAI
    )
    assert deadline > local


@given(calendars(), window_dates, counts)
def test_moved_due_is_the_identity_when_nothing_changed(
    cal: WorkCalendar, start: date, n: int
) -> None:
    due = cal.add_workdays(start, n)
    assert moved_due(cal, cal, start, due) == due


@given(calendars(), window_dates, st.integers(1, 30), window_dates)
def test_moved_due_keeps_the_number_of_working_days(
    cal: WorkCalendar, start: date, n: int, changed: date
) -> None:
    due = cal.add_workdays(start, n)
    for new in (
        cal.with_overrides(cal.extra_holidays | {changed}, cal.extra_workdays - {changed}),
        cal.with_overrides(cal.extra_holidays - {changed}, cal.extra_workdays | {changed}),
    ):
        moved = moved_due(cal, new, start, due)
        assert new.workdays_between(start, moved) == n
        assert new.is_workday(moved)
        if changed > due or changed <= start:
            assert moved == due  # a change outside (start, due] moves nothing


class TestStatutoryLayer:
    # 2027 has no published arrangement here: New Year's Day (Fri) and the Spring
    # Festival 除夕 Feb 5 (Fri) to 初三 Feb 8 (Mon), with 初一/初二 on the weekend given
    # back on Tue Feb 9 and Wed Feb 10 (补假).
    EST = WorkCalendar(
        holidays=days("2026-10-01"),
        workdays=days("2026-10-10"),
        known_years=frozenset({2026}),
        statutory_holidays=days(
            "2026-10-05",  # ignored: 2026 has its arrangement
            "2027-01-01",
            "2027-02-05",
            "2027-02-06",
            "2027-02-07",
            "2027-02-08",
            "2027-02-09",
            "2027-02-10",
        ),
    )

    @pytest.mark.parametrize(
        ("day", "expected", "why"),
        [
            ("2026-10-05", True, "known year: statutory set ignored, Monday"),
            ("2027-01-01", False, "estimated year: New Year's Day"),
            ("2027-02-05", False, "estimated year: 除夕, a Friday"),
            ("2027-02-09", False, "estimated year: 补假 for 初一 on a Saturday"),
            ("2027-02-11", True, "estimated year: first day back"),
            ("2027-02-13", False, "estimated year: plain Saturday, make-up days unknown"),
        ],
    )
    def test_is_workday(self, day: str, expected: bool, why: str) -> None:
        assert self.EST.is_workday(d(day)) is expected, why

    def test_admin_days_win_over_the_estimate(self) -> None:
        patched = self.EST.with_overrides(
            extra_holidays=[d("2027-02-11")], extra_workdays=[d("2027-02-10")]
        )
        assert patched.is_workday(d("2027-02-10"))
        assert not patched.is_workday(d("2027-02-11"))
        assert patched.statutory_holidays == self.EST.statutory_holidays

    @pytest.mark.parametrize(
        ("dispatched", "due"),
        [
            # Dec 31 Thu (1), Jan 1 off, Jan 4 (2), 5 (3), 6 (4), 7 (5).
            ("2026-12-30", "2027-01-07"),
            # Feb 5–10 off, Feb 11 Thu (1), 12 Fri (2), 15 Mon (3), 16 (4), 17 (5).
            ("2027-02-04", "2027-02-17"),
        ],
    )
    def test_due_dates_skip_the_statutory_days(self, dispatched: str, due: str) -> None:
        assert self.EST.add_workdays(d(dispatched), 5) == d(due)

    def test_estimated_years_are_the_unknown_ones(self) -> None:
        assert self.EST.unknown_years([d("2026-12-31"), d("2027-01-07")]) == {2027}

    def test_moved_due_follows_an_admin_day(self) -> None:
        # Dispatched Dec 30, due Jan 7; the admin adds Jan 4 off: due Jan 8.
        new = self.EST.with_overrides(extra_holidays=[d("2027-01-04")])
        assert moved_due(self.EST, new, d("2026-12-30"), d("2027-01-07")) == d("2027-01-08")
        # Marking Sat Jan 2 a make-up working day pulls it back to Jan 6.
        new = self.EST.with_overrides(extra_workdays=[d("2027-01-02")])
        assert moved_due(self.EST, new, d("2026-12-30"), d("2027-01-07")) == d("2027-01-06")
