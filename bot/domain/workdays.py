"""Working days (工作日) for ticket deadlines, reminders and escalations.

A ticket must be rectified within N working days (默认 5 个工作日). In China a working
day is not simply Monday to Friday: public holidays (法定节假日) take weekdays off, and
some weekends become make-up working days (调休上班). This module answers "is this a
working day?" and the date arithmetic built on that, from a `WorkCalendar` value.

Rules, in order of precedence, for a calendar date ``d``:

1. Admin overrides (创建办 settings): ``extra_workdays`` → working, ``extra_holidays`` → off.
2. Official data, only if ``d.year`` is in ``known_years``: ``workdays`` (调休上班) →
   working, ``holidays`` → off.
3. Otherwise (a year whose arrangement is not published yet) the statutory days off
   fixed by law, ``statutory_holidays`` → off. This is an estimate: the State Council
   usually lengthens the breaks with make-up working days, which nobody can know ahead.
4. Otherwise Monday to Friday are working days, Saturday and Sunday are not.

Use `WorkCalendar.unknown_years` to find the estimated years so the caller can tell
the admins.

Deadline convention: a ticket dispatched (派单) on local day D is due by the end of the
N-th working day *after* D. D itself never counts, even when it is a working day, so a
ticket dispatched on Wednesday evening gets the same deadline as one dispatched on
Wednesday morning. The deadline instant is the local midnight that starts the day after
the due day (an exclusive end), so "overdue" is simply ``now >= deadline``.

This module is pure: stdlib only, no clock reads, no I/O. The official data is loaded by
``bot.services.calendar_source``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["WorkCalendar", "moved_due"]

_ONE_DAY = timedelta(days=1)
# Saturday and Sunday; date.weekday() numbers Monday as 0.
_WEEKEND = frozenset({5, 6})


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    """Which days are working days, from official data plus admin overrides.

    ``holidays`` may contain official days off that fall on a weekend (the package data
    keeps them); they are redundant but harmless. An empty ``WorkCalendar()`` is plain
    Monday to Friday.
    """

    holidays: frozenset[date] = field(default_factory=frozenset)
    """Official days off (法定节假日), consulted only for years in ``known_years``."""
    workdays: frozenset[date] = field(default_factory=frozenset)
    """Official make-up working days on weekends (调休上班), only for ``known_years``."""
    known_years: frozenset[int] = field(default_factory=frozenset)
    """Years for which ``holidays`` and ``workdays`` are complete and trusted."""
    extra_holidays: frozenset[date] = field(default_factory=frozenset)
    """Admin-declared days off; they win over official data, in any year."""
    extra_workdays: frozenset[date] = field(default_factory=frozenset)
    """Admin-declared working days; they win over official data, in any year."""
    statutory_holidays: frozenset[date] = field(default_factory=frozenset)
    """Days off fixed by law (法定节假日 and their 补假), only for years not in ``known_years``."""

    def __post_init__(self) -> None:
        # A date in both sets would make the answer depend on check order; refuse it so a
        # bad settings import fails loudly at start-up instead of silently mid-month.
        for name, off, on in (
            ("official", self.holidays, self.workdays),
            ("admin", self.extra_holidays, self.extra_workdays),
        ):
            clash = off & on
            if clash:
                days = ", ".join(d.isoformat() for d in sorted(clash))
                raise ValueError(f"{name} holidays and workdays overlap: {days}")

    def with_overrides(
        self, extra_holidays: Iterable[date] = (), extra_workdays: Iterable[date] = ()
    ) -> WorkCalendar:
        """Return a copy with these admin overrides (replacing the current ones)."""
        return WorkCalendar(
            holidays=self.holidays,
            workdays=self.workdays,
            known_years=self.known_years,
            extra_holidays=frozenset(extra_holidays),
            extra_workdays=frozenset(extra_workdays),
            statutory_holidays=self.statutory_holidays,
        )

    # -- single days -------------------------------------------------------------------

    def is_workday(self, d: date) -> bool:
        """Return True if ``d`` is a working day (admin, official, statutory, then Mon–Fri)."""
        if d in self.extra_workdays:
            return True
        if d in self.extra_holidays:
            return False
        if d.year in self.known_years:
            if d in self.workdays:
                return True
            if d in self.holidays:
                return False
        elif d in self.statutory_holidays:
            return False
        return d.weekday() not in _WEEKEND

    def next_workday(self, d: date) -> date:
        """Return the first working day strictly after ``d``."""
        d += _ONE_DAY
        while not self.is_workday(d):
            d += _ONE_DAY
        return d

    def previous_workday(self, d: date) -> date:
        """Return the last working day strictly before ``d``."""
        d -= _ONE_DAY
        while not self.is_workday(d):
            d -= _ONE_DAY
        return d

    def unknown_years(self, dates: Iterable[date]) -> set[int]:
        """Return the years of ``dates`` that are estimated (not in ``known_years``)."""
        return {d.year for d in dates if d.year not in self.known_years}

    # -- arithmetic --------------------------------------------------------------------

    def add_workdays(self, start: date, n: int) -> date:
        """Return the n-th working day after ``start``; ``start`` never counts.

        ``n == 0`` returns ``start`` unchanged, even if it is not a working day. For
        ``n >= 1`` the result is always a working day. Raises ValueError if ``n < 0``.
        """
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        d = start
        for _ in range(n):
            d = self.next_workday(d)
        return d

    def workdays_between(self, a: date, b: date) -> int:
        """Count working days in the half-open range (a, b]; 0 when ``b <= a``.

        Inverse of `add_workdays`: ``workdays_between(s, add_workdays(s, n)) == n``. Being
        never negative, ``workdays_between(due, today)`` reads as "working days overdue".
        """
        count = 0
        d = a + _ONE_DAY
        while d <= b:
            if self.is_workday(d):
                count += 1
            d += _ONE_DAY
        return count

    # -- ticket deadlines --------------------------------------------------------------

    def due_date(self, dispatched_local: datetime, n: int) -> date:
        """Return the due day of a ticket dispatched at ``dispatched_local`` with n working days.

        Only the calendar date of ``dispatched_local`` is used, so it must already be in the
        community's local time. The dispatch day never counts: the result is
        ``add_workdays(dispatched_local.date(), n)``, and the ticket is on time until the
        end of that day.
        """
        return self.add_workdays(dispatched_local.date(), n)

    def deadline_instant(self, dispatched_at_utc: datetime, n: int, tz: ZoneInfo) -> datetime:
        """Return the aware UTC instant at which a ticket becomes overdue.

        The dispatch instant is converted to ``tz`` to find the local dispatch day D; the
        result is local midnight at the start of the day after ``add_workdays(D, n)``,
        converted to UTC. It is an exclusive end: overdue means ``now >= deadline``, which
        avoids the 23:59:59.999999 off-by-a-microsecond games. Raises ValueError for a
        naive datetime, because guessing its zone would move deadlines by hours.
        """
        if dispatched_at_utc.tzinfo is None or dispatched_at_utc.utcoffset() is None:
            raise ValueError("dispatched_at_utc must be timezone-aware")
        due = self.due_date(dispatched_at_utc.astimezone(tz), n)
        return datetime.combine(due + _ONE_DAY, time.min, tzinfo=tz).astimezone(UTC)

    def reminder_day(self, due: date) -> date:
        """Return the day to send the "due tomorrow" reminder: the working day before ``due``.

        For tickets with n <= 1 this can be the dispatch day or earlier; callers that
        schedule reminders should skip one that is not after the dispatch day.
        """
        return self.previous_workday(due)

    def is_due_reminder_day(self, today: date, due: date) -> bool:
        """Return True if ``today`` is the working day right before the due day ``due``."""
        return today == self.previous_workday(due)


def moved_due(old: WorkCalendar, new: WorkCalendar, start: date, due: date) -> date:
    """Return the due day that ``new`` gives a deadline counted from ``start`` under ``old``.

    The deadline keeps its number of working days after ``start`` (whatever made it: the
    rectify period, an extension, a re-opening), so a day off added before the due day
    pushes it back, and a make-up working day pulls it forward. A due day on or before
    ``start`` is returned unchanged: there is nothing to count.
    """
    if due <= start:
        return due
    n = old.workdays_between(start, due)
    return new.add_workdays(start, n) if n else due
