"""Working days from the real package data (``chinesecalendar`` 1.11, ``holidays`` 0.109).

The expected dates below were counted by hand from the 2025 and 2026 arrangements; each
case shows the count. 2027 is in neither package's published data, so it is estimated
from the statutory days: when a package gains the 2027 arrangement, the 2027 cases must
be re-counted.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import chinese_calendar
import holidays
import pytest

from bot.domain.workdays import WorkCalendar
from bot.services import calendar_source
from bot.services.calendar_source import (
    BaseCalendar,
    base_calendar,
    build_calendar,
    estimated_years,
    load_official,
    load_statutory,
    warn_unknown_years,
)

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
            # Wed 12-30 → Dec 31 Thu (1); 2027 is estimated: Jan 1 Fri is New Year's
            # Day (statutory); Jan 2–3 weekend; Jan 4 Mon (2), 5 (3), 6 (4), 7 Thu (5).
            ("2026-12-30T10:00", RECTIFY_DAYS, "2027-01-07"),
            # Thu 2027-02-04 → 除夕 Feb 5 Fri, 初一–初二 on the weekend, 初三 Feb 8 Mon,
            # 补假 for the weekend two on Feb 9 Tue and 10 Wed; Feb 11 Thu (1), 12 Fri (2),
            # 15 Mon (3), 16 Tue (4), 17 Wed (5).
            ("2027-02-04T09:00", RECTIFY_DAYS, "2027-02-17"),
        ],
    )
    def test_due_date_counts_working_days_after_dispatch_day(
        self, cal: WorkCalendar, dispatched: str, n: int, due: str
    ) -> None:
        assert cal.due_date(at_shanghai(dispatched), n) == d(due)

    def test_admin_days_correct_an_estimated_year(self, cal: WorkCalendar) -> None:
        # Say the arrangement gives Jan 4 off and makes Sat Jan 9 a make-up working day:
        # Dec 31 (1), Jan 5 (2), 6 (3), 7 (4), 8 (5) — and Jan 9 is not needed.
        patched = cal.with_overrides(
            extra_holidays=[d("2027-01-04")], extra_workdays=[d("2027-01-09")]
        )
        assert patched.due_date(at_shanghai("2026-12-30T10:00"), RECTIFY_DAYS) == d("2027-01-08")
        assert patched.is_workday(d("2027-01-09"))

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


# Real days of 2025 and 2026 from the State Council notices, each checked against both
# packages: they agree on every day of both years (see the test below), and the calendar
# takes chinesecalendar's.
PINNED = [
    ("2025-01-26", True, "Sunday, make-up working day before the Spring Festival"),
    ("2025-01-28", False, "除夕 2025, a statutory day since the 2024 amendment"),
    ("2025-02-04", False, "Spring Festival break, Tuesday"),
    ("2025-02-08", True, "Saturday, make-up working day after the Spring Festival"),
    ("2025-05-02", False, "Labour Day's second statutory day"),
    ("2025-10-08", False, "National Day and Mid-Autumn joined, Wednesday"),
    ("2025-10-11", True, "Saturday, make-up working day"),
    ("2026-01-02", False, "New Year break, Friday"),
    ("2026-01-04", True, "Sunday, make-up working day"),
    ("2026-02-16", False, "除夕 2026, Monday"),
    ("2026-02-23", False, "last day of the 2026 Spring Festival break, Monday"),
    ("2026-02-28", True, "Saturday, make-up working day"),
    ("2026-05-05", False, "Labour Day break, Tuesday"),
    ("2026-05-09", True, "Saturday, make-up working day"),
    ("2026-06-19", False, "Dragon Boat Festival, Friday"),
    ("2026-09-25", False, "Mid-Autumn Festival, Friday"),
]


class TestTwoSources:
    @pytest.mark.parametrize(("day", "working", "why"), PINNED)
    def test_pinned_days_agree_in_both_packages_and_the_calendar(
        self, cal: WorkCalendar, day: str, working: bool, why: str
    ) -> None:
        x = d(day)
        assert chinese_calendar.is_workday(x) is working, why
        assert holidays.country_holidays("CN", years=x.year).is_working_day(x) is working, why
        assert cal.is_workday(x) is working, why

    @pytest.mark.parametrize("year", [2025, 2026])
    def test_the_packages_agree_on_every_day(self, year: int) -> None:
        cn = holidays.country_holidays("CN", years=year)
        x, differ = date(year, 1, 1), []
        while x.year == year:
            if chinese_calendar.is_workday(x) != cn.is_working_day(x):
                differ.append(x)
            x = date.fromordinal(x.toordinal() + 1)
        assert differ == []

    def test_holidays_package_fills_a_year_chinesecalendar_lacks(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # As an older chinesecalendar without 2026 would: the arrangement then comes from
        # ``holidays``, make-up days included, and 2026 is still a known year.
        real = chinese_calendar.is_workday

        def without_2026(day: date) -> bool:
            if day.year == 2026:
                raise NotImplementedError("no data for 2026")
            return real(day)

        monkeypatch.setattr(chinese_calendar, "is_workday", without_2026)
        years = range(2025, 2028)  # a range of its own: the cache keeps other results
        load_official.cache_clear()
        try:
            off, on, known = load_official(years)
        finally:
            load_official.cache_clear()
        assert known == {2025, 2026}
        ours_off, ours_on, _ = load_official(years)
        assert {x for x in off if x.year == 2026} == {x for x in ours_off if x.year == 2026}
        assert {x for x in on if x.year == 2026} == {x for x in ours_on if x.year == 2026}


class TestStatutoryEstimate:
    def test_2027_statutory_days_follow_the_law(self) -> None:
        y2027 = sorted(x for x in load_statutory(calendar_source.DEFAULT_YEARS) if x.year == 2027)
        assert [x.isoformat() for x in y2027] == [
            "2027-01-01",  # 元旦, Friday
            "2027-02-05",  # 除夕, Friday
            "2027-02-06",  # 初一, Saturday
            "2027-02-07",  # 初二, Sunday
            "2027-02-08",  # 初三, Monday
            "2027-02-09",  # 补假 for 初一
            "2027-02-10",  # 补假 for 初二
            "2027-04-05",  # 清明, Monday
            "2027-05-01",  # 劳动节, Saturday
            "2027-05-02",  # 劳动节, Sunday
            "2027-05-03",  # 补假
            "2027-05-04",  # 补假
            "2027-06-09",  # 端午, Wednesday
            "2027-09-15",  # 中秋, Wednesday
            "2027-10-01",  # 国庆, Friday
            "2027-10-02",  # Saturday
            "2027-10-03",  # Sunday
            "2027-10-04",  # 补假
            "2027-10-05",  # 补假
        ]

    @pytest.mark.parametrize("year", range(2014, 2027))
    def test_the_rule_never_takes_a_day_the_arrangement_worked(
        self, monkeypatch: pytest.MonkeyPatch, year: int
    ) -> None:
        # The estimate for a past year: the rule alone, without the year's notice. Each of
        # its days off (补假 included) was a day off in the published arrangement.
        from holidays.countries.china import ChinaStaticHolidays

        monkeypatch.setattr(ChinaStaticHolidays, "special_public_holidays", {})
        monkeypatch.setattr(ChinaStaticHolidays, "special_public_holidays_observed", {})
        rule = holidays.country_holidays("CN", years=year)
        assert not any("substituted" in name or "调休" in name for name in rule.values())
        estimate = [x for x in rule if x.year == year]
        assert len(estimate) >= 11
        assert [x for x in estimate if chinese_calendar.is_workday(x)] == []

    def test_half_day_holidays_are_not_days_off(self, cal: WorkCalendar) -> None:
        # Women's Day (Mon), Children's Day (Tue), and the Monday after Army Day (Sun):
        # days off for some people only, never given back.
        for day in ("2027-03-08", "2027-06-01", "2027-08-02"):
            assert cal.is_workday(d(day)), day

    def test_known_years_have_no_statutory_estimate(self) -> None:
        known = base_calendar().known_years
        assert not any(x.year in known for x in base_calendar().statutory_holidays)

    def test_estimated_years(self) -> None:
        assert estimated_years([2026, 2027, 2026]) == [2027]
        assert estimated_years([2025]) == []


class TestBaseCalendar:
    def test_json_round_trip_keeps_everything(self) -> None:
        base = base_calendar()
        assert BaseCalendar.from_json(base.to_json()) == base

    def test_fingerprint_follows_the_data(self) -> None:
        base = base_calendar()
        same = BaseCalendar.from_json(base.to_json())
        assert same.fingerprint == base.fingerprint
        older = BaseCalendar(base.holidays, base.workdays, base.known_years, frozenset())
        assert older.fingerprint != base.fingerprint
