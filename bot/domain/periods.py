"""Which periods are owed: the monthly reviews a community has not had yet, and the days
a leader digest covers — pure rules in the community's local time (callers convert)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bot.domain.scoring import YearMonth

# A review missed for longer than this is history, not news: it is never posted.
REVIEW_HORIZON_MONTHS = 12


def review_moment(month: YearMonth, review_time: time) -> datetime:
    """When the month's review is due: the next month's 1st at the review time (local)."""
    return datetime.combine(month.next().first_day, review_time)


def reviews_owed(
    since: date,
    now_local: datetime,
    review_time: time,
    reviewed: Collection[YearMonth] = (),
    horizon: int = REVIEW_HORIZON_MONTHS,
) -> list[YearMonth]:
    """The months still to review, oldest first: those whose review moment has come, from
    the month of ``since`` (the community's first day), among the last ``horizon``, and
    after the newest one already ``reviewed``.

    A bot stopped across the 1st finds the month here when it comes back. Catch-up resumes
    where the reviews stopped: a month older than one already posted is history, not news.
    """
    latest = YearMonth.of(now_local.date()).previous()
    if now_local < review_moment(latest, review_time):
        latest = latest.previous()
    first = YearMonth.of(since)
    months: list[YearMonth] = []
    month = latest
    while month >= first and len(months) < horizon and month not in reviewed:
        months.append(month)
        month = month.previous()
    return months[::-1]


def review_is_late(month: YearMonth, now_local: datetime) -> bool:
    """Posted after its review day (the next month's 1st): the readers are told why."""
    return now_local.date() > month.next().first_day


@dataclass(frozen=True, slots=True)
class DayRange:
    """Whole local days, both ends included."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


WEEK = 7


def digest_period(today: date, days: int) -> DayRange:
    """The days a digest sent ``today`` covers: whole days already over, so consecutive
    digests neither overlap nor leave gaps whatever hour they go out.

    A daily digest (``days`` 1) covers yesterday; a weekly one (``days`` 7) the last
    complete Monday–Sunday week; any other length the ``days`` days before today.
    """
    if days == WEEK:
        sunday = today - timedelta(days=today.weekday() + 1)
        return DayRange(sunday - timedelta(days=6), sunday)
    return DayRange(today - timedelta(days=days), today - timedelta(days=1))
