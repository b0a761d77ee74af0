"""Official Chinese working-day data (节假日安排) for `bot.domain.workdays.WorkCalendar`.

This is the only module that imports ``chinese_calendar`` (package ``chinesecalendar``).
The package ships the State Council holiday arrangement year by year and raises
NotImplementedError for years it has no data for yet (each year's arrangement is
published around November of the year before). Such years are left out of
``known_years`` so the domain falls back to Mon–Fri plus admin entries, and
`warn_unknown_years` logs that once per process and year so operators know to upgrade
the package or add admin overrides.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from datetime import date
from functools import lru_cache

import chinese_calendar

from bot.domain.workdays import WorkCalendar

__all__ = ["DEFAULT_YEARS", "build_calendar", "load_official", "warn_unknown_years"]

log = logging.getLogger(__name__)

DEFAULT_YEARS = range(2004, 2031)
"""Years probed by default: the package's first year up to a few years ahead."""

# Years already warned about in this process. Module state on purpose: the warning is
# operational noise, and one line per year per process is enough to act on.
_warned_years: set[int] = set()
_warned_lock = threading.Lock()


def _package_covers(year: int) -> bool:
    """Return True if the installed package has the holiday arrangement for ``year``."""
    try:
        # Any date works: the package validates the year against its data range.
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


@lru_cache(maxsize=8)
def load_official(years: range) -> tuple[frozenset[date], frozenset[date], frozenset[int]]:
    """Return (holidays, make-up workdays, covered years) from the package for ``years``.

    Holidays keep every official day off, weekend ones included; make-up workdays are the
    weekend days worked in lieu (调休上班). Years the package does not cover are omitted
    from all three. Cached: the data is static for the life of the process.
    """
    known = frozenset(y for y in years if _package_covers(y))
    holidays = frozenset(d for d in chinese_calendar.holidays if d.year in known)
    workdays = frozenset(d for d in chinese_calendar.workdays if d.year in known)
    return holidays, workdays, known


def build_calendar(
    extra_holidays: Iterable[date] = (),
    extra_workdays: Iterable[date] = (),
    years: range = DEFAULT_YEARS,
) -> WorkCalendar:
    """Build a calendar from the official data for ``years`` plus a community's overrides."""
    holidays, workdays, known = load_official(years)
    return WorkCalendar(
        holidays=holidays,
        workdays=workdays,
        known_years=known,
        extra_holidays=frozenset(extra_holidays),
        extra_workdays=frozenset(extra_workdays),
    )


def warn_unknown_years(cal: WorkCalendar, dates: Iterable[date]) -> set[int]:
    """Log a warning, once per process and year, for dates without official data.

    Returns every unknown year among ``dates`` (warned now or before), so a caller can
    also show it to an admin.
    """
    unknown = cal.unknown_years(dates)
    with _warned_lock:
        fresh = sorted(unknown - _warned_years)
        _warned_years.update(fresh)
    for year in fresh:
        log.warning("no official holiday data; using Mon-Fri plus admin entries year=%d", year)
    return unknown
