"""Working days from the real ``chinesecalendar`` data (installed version 1.11.0).

The expected dates below were counted by hand from the package's own 2026 arrangement;
each case shows the count. 2027 is not in this package version, so it falls back to
Mon–Fri: when the package gains 2027 data, the New Year cases must be re-counted.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.domain.workdays import WorkCalendar
from bot.services import calendar_source
from bot.services.calendar_source import build_calendar, load_official, warn_unknown_years

SHANGHAI = ZoneInfo("Asia/Shanghai")
RECTIFY_DAYS = 5  # the default deadline for a rectification notice (整改通知单)


def d(text: str) -> date:
    return date.fromisoformat(text)


def at_shanghai(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return build_calendar()


@pytest.fixture
def fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget which years were already warned about, as in a new process."""
    monkeypatch.setattr(calendar_source, "_warned_years", set())


class TestOfficialData:
    def test_known_years_are_the_ones_the_package_covers(self, cal: WorkCalendar) -> None:
        assert set(range(2004, 2027)) <= cal.known_years
        assert 2003 not in cal.known_years  # before the package's data
        assert 2027 not in cal.known_years  # not published in chinesecalendar 1.11.0

    def test_official_data_is_loaded_once(self) -> None:
        assert load_official(calendar_source.DEFAULT_YEARS) is load_official(
            calendar_source.DEFAULT_YEARS
        )

    def test_national_day_2026_is_oct_1_to_7_with_two_make_up_days(
        self, cal: WorkCalendar
    ) -> None:
        golden_week = [d(f"2026-10-0{i}") for i in range(1, 8)]
        assert not any(cal.is_workday(x) for x in golden_week)
        assert all(x in cal.holidays for x in golden_week)  # weekend days off kept too
        assert cal.is_workday(d("2026-10-10"))  # Saturday, 调休上班
        assert cal.is_workday(d("2026-09-20"))  # Sunday, 调休上班
        assert cal.is_workday(d("2026-10-08"))  # Thursday, back at work

    def test_spring_festival_2026_make_up_saturdays(self, cal: WorkCalendar) -> None:
        assert cal.is_workday(d("2026-02-14"))  # Saturday before the break
        assert cal.is_workday(d("2026-02-28"))  # Saturday after it
        assert not any(cal.is_workday(d(f"2026-02-{i}")) for i in range(15, 24))
        assert cal.is_workday(d("2026-02-24"))


class TestDueDates:
    @pytest.mark.parametrize(
        ("dispatched", "n", "due"),
        [
            # Wed 09-30 → Oct 1–7 off; Oct 8 Thu (1), 9 Fri (2), 10 Sat 调休 (3),
            # 11 Sun off, 12 Mon (4), 13 Tue (5).
            ("2026-09-30T18:00", RECTIFY_DAYS, "2026-10-13"),
            # Thu 02-12 → Feb 13 Fri (1), 14 Sat 调休 (2), Feb 15–23 off,
            # Feb 24 Tue (3), 25 Wed (4), 26 Thu (5).
            ("2026-02-12T09:00", RECTIFY_DAYS, "2026-02-26"),
            # Tue 02-24 → Feb 25 (1), 26 (2), 27 (3), 28 Sat 调休 (4): due on a Saturday.
            ("2026-02-24T09:00", 4, "2026-02-28"),
            # Wed 12-30 → Dec 31 Thu (1); 2027 is unknown, so Jan 1 Fri counts (2);
            # Jan 2–3 weekend; Jan 4 Mon (3), 5 Tue (4), 6 Wed (5).
            ("2026-12-30T10:00", RECTIFY_DAYS, "2027-01-06"),
        ],
    )
    def test_due_date_counts_working_days_after_dispatch_day(
        self, cal: WorkCalendar, dispatched: str, n: int, due: str
    ) -> None:
        assert cal.due_date(at_shanghai(dispatched), n) == d(due)

    def test_admin_holiday_fixes_an_unknown_year(self, cal: WorkCalendar) -> None:
        # The admin enters New Year's Day 2027 by hand: Dec 31 (1), Jan 4 (2), 5 (3),
        # 6 (4), 7 (5).
        patched = cal.with_overrides(extra_holidays=[d("2027-01-01")])
        assert patched.due_date(at_shanghai("2026-12-30T10:00"), RECTIFY_DAYS) == d("2027-01-07")

    def test_deadline_instant_is_midnight_after_due_day(self, cal: WorkCalendar) -> None:
        # 2026-09-30 10:00 UTC = 18:00 Shanghai; due 2026-10-13, overdue from
        # 2026-10-14 00:00 Shanghai = 2026-10-13 16:00 UTC.
        dispatched = datetime(2026, 9, 30, 10, 0, tzinfo=UTC)
        assert cal.deadline_instant(dispatched, RECTIFY_DAYS, SHANGHAI) == datetime(
            2026, 10, 13, 16, 0, tzinfo=UTC
        )

    def test_reminder_can_fall_on_a_make_up_saturday(self, cal: WorkCalendar) -> None:
        # Due Mon 2026-10-12: the working day before it is Sat 10-10 (调休), not Fri 10-09.
        assert cal.reminder_day(d("2026-10-12")) == d("2026-10-10")
        # Due Thu 2026-10-08, right after Golden Week: remind on Wed 09-30.
        assert cal.is_due_reminder_day(d("2026-09-30"), d("2026-10-08"))


class TestUnknownYearWarning:
    def test_unknown_year_is_warned_once_per_process(
        self, cal: WorkCalendar, fresh_warnings: None, caplog: pytest.LogCaptureFixture
    ) -> None:
        dates = [d("2026-12-31"), d("2027-01-06")]
        with caplog.at_level(logging.WARNING, logger=calendar_source.__name__):
            assert warn_unknown_years(cal, dates) == {2027}
            assert warn_unknown_years(cal, dates) == {2027}  # still reported, not re-logged
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1
        assert "year=2027" in warnings[0].getMessage()

    def test_known_years_are_not_warned(
        self, cal: WorkCalendar, fresh_warnings: None, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.WARNING, logger=calendar_source.__name__):
            assert warn_unknown_years(cal, [d("2026-10-13")]) == set()
        assert caplog.records == []
