"""The reviews a community is owed after downtime, and the days a digest covers."""

from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.periods import (
    REVIEW_HORIZON_MONTHS,
    DayRange,
    digest_period,
    review_is_late,
    review_moment,
    reviews_owed,
)
from bot.domain.scoring import YearMonth

NINE = time(9, 0)
SINCE = date(2026, 11, 16)  # the community's first day


def ym(text: str) -> YearMonth:
    return YearMonth.parse(text)


class TestReviewsOwed:
    @pytest.mark.parametrize(
        ("now", "owed"),
        [
            # Before the first review moment nothing is owed.
            (datetime(2026, 11, 30, 23, 59), []),
            (datetime(2026, 12, 1, 8, 59), []),
            # On the 1st at 09:00 last month becomes due, and stays owed until reviewed.
            (datetime(2026, 12, 1, 9, 0), ["2026-11"]),
            (datetime(2026, 12, 31, 23, 0), ["2026-11"]),
            # The bot stopped across 1 March: February is still owed on the 2nd.
            (datetime(2027, 3, 2, 10, 0), ["2026-11", "2026-12", "2027-01", "2027-02"]),
            # Before 09:00 on the 1st, last month is not yet owed; earlier ones are.
            (datetime(2027, 3, 1, 8, 59), ["2026-11", "2026-12", "2027-01"]),
        ],
    )
    def test_months_owed_at_a_moment(self, now: datetime, owed: list[str]) -> None:
        assert reviews_owed(SINCE, now, NINE) == [ym(m) for m in owed]

    def test_catch_up_resumes_after_the_newest_month_reviewed(self) -> None:
        now = datetime(2027, 3, 2, 10, 0)
        assert reviews_owed(SINCE, now, NINE, {ym("2026-12")}) == [ym("2027-01"), ym("2027-02")]
        # A gap before a posted review stays history.
        assert reviews_owed(SINCE, now, NINE, {ym("2027-01")}) == [ym("2027-02")]
        assert reviews_owed(SINCE, now, NINE, {ym("2027-02")}) == []

    def test_never_a_month_before_the_community_existed(self) -> None:
        owed = reviews_owed(date(2027, 2, 20), datetime(2027, 6, 5, 12, 0), NINE)
        assert owed == [ym("2027-02"), ym("2027-03"), ym("2027-04"), ym("2027-05")]

    def test_at_most_the_last_twelve_months(self) -> None:
        owed = reviews_owed(date(2020, 1, 1), datetime(2027, 3, 2, 10, 0), NINE)
        assert len(owed) == REVIEW_HORIZON_MONTHS
        assert owed[0] == ym("2026-03") and owed[-1] == ym("2027-02")

    @given(
        since=st.dates(date(2020, 1, 1), date(2030, 12, 31)),
        ahead=st.timedeltas(timedelta(0), timedelta(days=900)),
        at=st.times(),
        back=st.integers(0, 14),
    )
    def test_owed_months_are_consecutive_ended_and_due(
        self, since: date, ahead: timedelta, at: time, back: int
    ) -> None:
        now = datetime.combine(since, at) + ahead
        everything = reviews_owed(since, now, NINE)
        # Those reviewed so far: all but the newest ``back``; just these are still owed.
        kept = len(everything) - min(back, len(everything))
        reviewed = set(everything[:kept])
        assert reviews_owed(since, now, NINE, reviewed) == everything[kept:]
        owed = everything
        assert len(owed) <= REVIEW_HORIZON_MONTHS
        assert all(b == a.next() for a, b in itertools.pairwise(owed))
        assert all(m >= YearMonth.of(since) for m in owed)
        assert all(review_moment(m, NINE) <= now for m in owed)
        # The month after the last owed one is not due yet (or it would be owed too).
        following = owed[-1].next() if owed else YearMonth.of(since)
        assert review_moment(following, NINE) > now or len(owed) == REVIEW_HORIZON_MONTHS

    @pytest.mark.parametrize(
        ("now", "late"),
        [
            (datetime(2027, 3, 1, 9, 0), False),
            (datetime(2027, 3, 1, 23, 59), False),
            (datetime(2027, 3, 2, 0, 0), True),
            (datetime(2027, 5, 1, 9, 0), True),
        ],
    )
    def test_a_review_after_its_day_is_late(self, now: datetime, late: bool) -> None:
        assert review_is_late(ym("2027-02"), now) is late


class TestDigestPeriod:
    @pytest.mark.parametrize(
        ("today", "days", "first", "last"),
        [
            # Thursday 10 December: the daily digest covers Wednesday the 9th.
            (date(2026, 12, 10), 1, date(2026, 12, 9), date(2026, 12, 9)),
            # New Year's Day covers New Year's Eve.
            (date(2027, 1, 1), 1, date(2026, 12, 31), date(2026, 12, 31)),
            # Monday 14 December: the weekly digest covers Mon 7 – Sun 13.
            (date(2026, 12, 14), 7, date(2026, 12, 7), date(2026, 12, 13)),
            # Asked on a Wednesday, a weekly digest still means the last whole week.
            (date(2026, 12, 16), 7, date(2026, 12, 7), date(2026, 12, 13)),
        ],
    )
    def test_period_of_a_digest(self, today: date, days: int, first: date, last: date) -> None:
        assert digest_period(today, days) == DayRange(first, last)

    @given(st.dates(date(2000, 1, 1), date(2100, 12, 31)))
    def test_consecutive_daily_digests_cover_every_day_once(self, today: date) -> None:
        yesterday = digest_period(today, 1)
        before = digest_period(today - timedelta(days=1), 1)
        assert yesterday.days == 1 and yesterday.last < today
        assert before.last + timedelta(days=1) == yesterday.first

    @given(st.dates(date(2000, 1, 1), date(2100, 12, 31)))
    def test_a_weekly_digest_is_a_whole_past_monday_to_sunday(self, today: date) -> None:
        week = digest_period(today, 7)
        assert week.days == 7
        assert week.first.weekday() == 0 and week.last.weekday() == 6
        assert week.last < today <= week.last + timedelta(days=7)
