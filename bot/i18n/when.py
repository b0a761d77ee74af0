"""Message parameters written the reader's way: dates, times, months, and text made per
language.

Callers convert to the community's time zone (``Day.last_before``, ``Moment.of``…); the message
function ``t`` then renders the value in the reader's language. ``str()`` gives the
Chinese form, for the few places (images, ledgers) that are Chinese documents.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.community_plan import SITE_CATEGORY_LABELS
from bot.domain.models import Language

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class Localized:
    """A parameter that depends on the reader's language."""

    __slots__ = ()

    def render(self, language: Language) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.render(Language.ZH)


@dataclass(frozen=True, slots=True)
class Day(Localized):
    """2026年10月13日 / 13 Oct 2026."""

    value: date

    @classmethod
    def last_before(cls, deadline: datetime, timezone: str) -> Day:
        """The last local day before an instant that opens a day (a deadline at midnight)."""
        local = deadline.astimezone(ZoneInfo(timezone))
        return cls((local - timedelta(microseconds=1)).date())

    def render(self, language: Language) -> str:
        d = self.value
        if language is Language.EN:
            return f"{d.day} {MONTHS[d.month - 1]} {d.year}"
        return f"{d.year}年{d.month}月{d.day}日"


@dataclass(frozen=True, slots=True)
class ShortDay(Localized):
    """A day within the year everyone is in: 10月13日 / 13 Oct."""

    value: date

    def render(self, language: Language) -> str:
        d = self.value
        if language is Language.EN:
            return f"{d.day} {MONTHS[d.month - 1]}"
        return f"{d.month}月{d.day}日"


@dataclass(frozen=True, slots=True)
class DayOfWeek(Localized):
    """A recent day with its weekday: 12月9日（周三） / Wed 9 Dec (the digest's days)."""

    value: date

    def render(self, language: Language) -> str:
        from bot.i18n import t  # the catalog module imports this one

        d = self.value
        return t(
            language,
            "digest.period_day",
            month=t(language, "digest.months").split(",")[d.month - 1],
            day=d.day,
            weekday=t(language, "digest.weekdays").split(",")[d.weekday()],
        )


@dataclass(frozen=True, slots=True)
class DaysSpan(Localized):
    """Whole days, both ends included: one day alone, or first to last."""

    first: date
    last: date

    def render(self, language: Language) -> str:
        from bot.i18n import t

        if self.first == self.last:
            return DayOfWeek(self.first).render(language)
        return t(
            language,
            "digest.period_range",
            first=DayOfWeek(self.first),
            last=DayOfWeek(self.last),
        )


@dataclass(frozen=True, slots=True)
class Moment(Localized):
    """A local date and time: 2026年10月13日 09:00 / Tue 13 Oct 2026 09:00."""

    value: datetime

    @classmethod
    def of(cls, instant: datetime, timezone: str) -> Moment:
        return cls(instant.astimezone(ZoneInfo(timezone)))

    def render(self, language: Language) -> str:
        v = self.value
        if language is Language.EN:
            return f"{WEEKDAYS[v.weekday()]} {Day(v.date()).render(language)} {v:%H:%M}"
        return f"{Day(v.date()).render(language)} {v:%H:%M}"


@dataclass(frozen=True, slots=True)
class Span(Localized):
    """A stretch of one day: 12月18日 09:00–11:00 / Fri 18 Dec 09:00–11:00."""

    start: datetime
    end: datetime

    @classmethod
    def of(cls, start: datetime, end: datetime, timezone: str) -> Span:
        tz = ZoneInfo(timezone)
        return cls(start.astimezone(tz), end.astimezone(tz))

    def render(self, language: Language) -> str:
        s, e = self.start, self.end
        day = ShortDay(s.date()).render(language)
        if language is Language.EN:
            day = f"{WEEKDAYS[s.weekday()]} {day}"
        return f"{day} {s:%H:%M}–{e:%H:%M}"


@dataclass(frozen=True, slots=True)
class Month(Localized):
    """A calendar month: 2026年11月 / Nov 2026."""

    year: int
    month: int

    def render(self, language: Language) -> str:
        if language is Language.EN:
            return f"{MONTHS[self.month - 1]} {self.year}"
        return f"{self.year}年{self.month}月"


def site_category(category: str) -> ByLanguage:
    """A site category: the ledger's Chinese name, or a usual category's English label."""
    return ByLanguage(category, SITE_CATEGORY_LABELS.get(category, category))


@dataclass(frozen=True, slots=True)
class ByLanguage(Localized):
    """A parameter composed once per language (lines already made by ``t``), so a message
    built for many readers, or for a bilingual group post, gets each reader's version."""

    zh: str
    en: str

    @classmethod
    def of(cls, make: Callable[[Language], str]) -> ByLanguage:
        return cls(make(Language.ZH), make(Language.EN))

    def render(self, language: Language) -> str:
        return self.en if language is Language.EN else self.zh
