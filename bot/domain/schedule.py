"""The monthly rhythm as dates: Clean Day, inspection days, digests — pure rules.

A day number past the end of the month falls back to the month's last day (the 29th
of February 2027 is the 28th). Everything is in the community's local time; callers
convert.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bot.domain import keys


def last_day_of_month(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def day_in_month(year: int, month: int, day: int) -> date:
    """The given day of the month, or the month's last day where there is no such day."""
    return date(year, month, min(day, last_day_of_month(year, month)))


def inspection_days(year: int, month: int, days: tuple[int, ...]) -> list[date]:
    """Scheduled inspection days of a month, in order, without duplicates."""
    return sorted({day_in_month(year, month, d) for d in days})


def clean_day(year: int, month: int, day: int) -> date:
    return day_in_month(year, month, day)


@dataclass(frozen=True, slots=True)
class Slot:
    """One scheduled moment: fires once, from ``at`` until the end of its local day."""

    kind: str
    day: date
    at: datetime  # local, naive

    @property
    def key_part(self) -> str:
        return keys.slot(self.kind, self.day)

    def due(self, now_local: datetime) -> bool:
        """Due from its time until midnight: a restart later that day still sends it once,
        but a message about today is never sent tomorrow."""
        return self.at <= now_local < datetime.combine(self.day + timedelta(days=1), time())


def slot(kind: str, day: date, at: time) -> Slot:
    return Slot(kind, day, datetime.combine(day, at))


def monthly_slots(
    year: int,
    month: int,
    *,
    clean_day_of_month: int,
    clean_eve_time: time,
    clean_day_time: time,
    inspection_days_of_month: tuple[int, ...],
    inspection_plan_time: time,
) -> list[Slot]:
    """Every scheduled announcement of a month (Clean Day eve may be in the month before)."""
    day = clean_day(year, month, clean_day_of_month)
    slots = [
        slot("clean-eve", day - timedelta(days=1), clean_eve_time),
        slot("clean-day", day, clean_day_time),
    ]
    slots += [
        slot("inspection-plan", d, inspection_plan_time)
        for d in inspection_days(year, month, inspection_days_of_month)
    ]
    return slots


def months_around(today: date) -> list[tuple[int, int]]:
    """This month and the next: the next month's Clean Day eve can be today."""
    nxt = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
    return [(today.year, today.month), (nxt.year, nxt.month)]
