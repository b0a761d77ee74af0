"""Chinese working-day data (节假日安排) for `bot.domain.workdays.WorkCalendar`.

This is the only module that imports ``chinese_calendar`` (package ``chinesecalendar``)
and ``holidays``. Layers, most trusted first:

1. The State Council arrangement (holidays and make-up working days), from
   ``chinesecalendar``; for a year it lacks, from ``holidays`` if that package has the
   year's published arrangement. Such years are ``known_years``.
2. For any other year, the statutory days off fixed by 《全国年节及纪念日放假办法》
   (2024): New Year 1 day, Spring Festival 4 (除夕 to 初三), Qingming 1, Labour Day 2,
   Dragon Boat 1, Mid-Autumn 1, National Day 3, plus the working days the law gives in
   lieu when one of them falls on a weekend (Article 6, 补假) — from ``holidays``,
   which computes the lunar dates. This is an estimate; the admins are told.

Each year's arrangement is published around November of the year before;
`warn_unknown_years` logs the estimated years once per process.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import chinese_calendar
import holidays as holidays_package
from holidays.countries.china import ChinaStaticHolidays

from bot.domain.workdays import WorkCalendar

__all__ = [
    "DEFAULT_YEARS",
    "BaseCalendar",
    "base_calendar",
    "build_calendar",
    "estimated_years",
    "load_official",
    "load_statutory",
    "warn_unknown_years",
]

log = logging.getLogger(__name__)

DEFAULT_YEARS = range(2004, 2041)
"""Years loaded by default: chinesecalendar's first year to well ahead, since the statutory
days of any future year are known by rule (beyond, plain Monday to Friday)."""

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


def _arranged_by_holidays(year: int) -> bool:
    """Return True if the ``holidays`` package has the State Council arrangement for ``year``.

    Its China class lists each published notice's moved days by year; a year without an
    entry is only the statutory days computed by rule.
    """
    return year in getattr(ChinaStaticHolidays, "special_public_holidays", {})


def _china(year: int, *, observed: bool) -> holidays_package.HolidayBase:
    # Public days only: the half-day ones (Women's Day, Youth Day…) are for some people.
    return holidays_package.country_holidays("CN", years=year, observed=observed)


@lru_cache(maxsize=8)
def load_official(years: range) -> tuple[frozenset[date], frozenset[date], frozenset[int]]:
    """Return (holidays, make-up workdays, covered years) of the official arrangement.

    Holidays keep every official day off, weekend ones included; make-up workdays are the
    weekend days worked in lieu (调休上班). ``chinesecalendar`` is preferred; a year it
    lacks comes from ``holidays`` if that package has the year's notice. Years neither
    covers are omitted from all three. Cached: the data is static for the process.
    """
    ours = frozenset(y for y in years if _package_covers(y))
    days_off = {d for d in chinese_calendar.holidays if d.year in ours}
    days_on = {d for d in chinese_calendar.workdays if d.year in ours}
    theirs = frozenset(y for y in years if y not in ours and _arranged_by_holidays(y))
    for year in theirs:
        cn = _china(year, observed=True)
        days_off.update(d for d in cn if d.year == year)
        days_on.update(d for d in cn.weekend_workdays if d.year == year)
    return frozenset(days_off), frozenset(days_on), ours | theirs


@lru_cache(maxsize=8)
def load_statutory(years: range) -> frozenset[date]:
    """Return the statutory days off (and their 补假) for the ``years`` without an arrangement.

    The 补假 days come from Article 6 of the 办法: a statutory day off that falls on a
    Saturday or Sunday is given back on the next working day. ``holidays`` marks them
    "observed" and moves them past other holidays, as the law does.
    """
    _, _, known = load_official(years)
    days: set[date] = set()
    for year in years:
        if year not in known:
            days.update(d for d in _china(year, observed=True) if d.year == year)
    return frozenset(days)


@dataclass(frozen=True, slots=True)
class BaseCalendar:
    """The package data a community's calendar starts from (everything but /holiday)."""

    holidays: frozenset[date]
    workdays: frozenset[date]
    known_years: frozenset[int]
    statutory_holidays: frozenset[date]

    def to_json(self) -> str:
        return json.dumps(
            {
                "holidays": sorted(d.isoformat() for d in self.holidays),
                "workdays": sorted(d.isoformat() for d in self.workdays),
                "known_years": sorted(self.known_years),
                "statutory_holidays": sorted(d.isoformat() for d in self.statutory_holidays),
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> BaseCalendar:
        data = json.loads(text)
        return cls(
            holidays=frozenset(date.fromisoformat(x) for x in data["holidays"]),
            workdays=frozenset(date.fromisoformat(x) for x in data["workdays"]),
            known_years=frozenset(int(y) for y in data["known_years"]),
            statutory_holidays=frozenset(
                date.fromisoformat(x) for x in data.get("statutory_holidays", [])
            ),
        )

    @property
    def fingerprint(self) -> str:
        """Changes exactly when the data does (a new package version, say)."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:32]

    def calendar(
        self, extra_holidays: Iterable[date] = (), extra_workdays: Iterable[date] = ()
    ) -> WorkCalendar:
        return WorkCalendar(
            holidays=self.holidays,
            workdays=self.workdays,
            known_years=self.known_years,
            extra_holidays=frozenset(extra_holidays),
            extra_workdays=frozenset(extra_workdays),
            statutory_holidays=self.statutory_holidays,
        )


@lru_cache(maxsize=8)
def base_calendar(years: range = DEFAULT_YEARS) -> BaseCalendar:
    """The layered package data for ``years``, loaded once per process."""
    holidays, workdays, known = load_official(years)
    return BaseCalendar(holidays, workdays, known, load_statutory(years))


def build_calendar(
    extra_holidays: Iterable[date] = (),
    extra_workdays: Iterable[date] = (),
    years: range = DEFAULT_YEARS,
) -> WorkCalendar:
    """Build a calendar from the package data for ``years`` plus a community's overrides."""
    return base_calendar(years).calendar(extra_holidays, extra_workdays)


def estimated_years(years: Iterable[int]) -> list[int]:
    """The ``years`` whose deadlines are an estimate (no official arrangement), in order."""
    known = base_calendar().known_years
    return sorted({y for y in years if y not in known})


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
        log.warning(
            "no official holiday arrangement; estimating from the statutory days year=%d", year
        )
    return unknown
