"""Scoring and consequences (考核奖惩): monthly scores, rankings, talks, quarters and awards.

The monthly review (月讲评) turns each zone's inspections into one published score out of
100; the scores are ranked and banded, zones below the talk threshold go on the leader's
talk list (约谈), and two talks in a row without improvement are flagged for a penalty.
Quarterly averages pick the zone to penalise (季考核) and annual averages decide the
awards and the public criticism (年综合). Every threshold and count comes from
``ScoringRules``, whose defaults are those of DOMAIN.md.

Conventions callers rely on:

- "Not rated" is ``None`` everywhere: a zone with no inspection in a month has no score,
  never ranks, never goes on a talk list and is left out of averages.
- Scores are rounded to one decimal, half up (84.45 → 84.5, not banker's rounding), with
  decimal arithmetic so that 84.4 and 84.5 average to 84.5 rather than 84.4 through float
  noise. Bands and lists are decided on the *rounded* score, the one that is published.
- Ties: ``rank`` uses competition ranking (1, 2, 2, 4) and lists zones with the same score
  by ``zone_id``; where exactly one zone must be chosen (awards, the quarterly penalty)
  that same order breaks the tie.

Pure: no clock, no I/O, stdlib only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from bot.domain.rules import CommunityRules

__all__ = [
    "Award",
    "Band",
    "Indicators",
    "InspectionResult",
    "RankedZone",
    "ScoreBreakdown",
    "ScoringRules",
    "TicketStats",
    "YearMonth",
    "ZoneMonth",
    "annual_average",
    "annual_awards",
    "band",
    "change",
    "checklist_score",
    "criticism_list",
    "indicators",
    "inspections_by_zone",
    "is_quarter_end",
    "monthly_score",
    "quarter_months",
    "quarter_of",
    "quarterly_average",
    "quarterly_penalty",
    "rank",
    "repeated_talks",
    "talk_list",
]

_TENTH = Decimal("0.1")
_YEAR_MONTH = re.compile(r"(\d{4})-(\d{1,2})")


# --- numbers --------------------------------------------------------------------------------


def _dec(value: float, what: str) -> Decimal:
    """Exact decimal of what the caller typed (``repr``), refusing NaN and infinities."""
    if not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    # repr() is the shortest text that round-trips: Decimal(84.4) would be 84.400000000000006.
    return Decimal(repr(float(value)))


def _round1(value: Decimal) -> float:
    return float(value.quantize(_TENTH, rounding=ROUND_HALF_UP))


def _mean(values: Sequence[Decimal]) -> Decimal:
    return sum(values, Decimal(0)) / len(values)


# --- months and quarters --------------------------------------------------------------------


@dataclass(frozen=True, slots=True, order=True)
class YearMonth:
    """A calendar month, the period of a score. Orders chronologically; ``str`` is 2026-11."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.year <= 9999:
            raise ValueError(f"year out of range: {self.year}")
        if not 1 <= self.month <= 12:
            raise ValueError(f"month out of range: {self.month}")

    @classmethod
    def parse(cls, text: str) -> YearMonth:
        """Read ``2026-11`` (or ``2026-1``); raise ValueError on anything else."""
        match = _YEAR_MONTH.fullmatch(text.strip())
        if match is None:
            raise ValueError(f"expected YYYY-MM, got {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: date) -> YearMonth:
        return cls(day.year, day.month)

    def previous(self) -> YearMonth:
        if self.month == 1:
            return YearMonth(self.year - 1, 12)
        return YearMonth(self.year, self.month - 1)

    def next(self) -> YearMonth:
        if self.month == 12:
            return YearMonth(self.year + 1, 1)
        return YearMonth(self.year, self.month + 1)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        if self.month == 12:
            return date(self.year, 12, 31)
        return date(self.year, self.month + 1, 1) - timedelta(days=1)

    @property
    def label_zh(self) -> str:
        """``2026年11月``, the way a notice board writes it."""
        return f"{self.year}年{self.month}月"

    @property
    def quarter(self) -> int:
        return (self.month - 1) // 3 + 1

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and (day.year, day.month) == (self.year, self.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def quarter_of(month: date | YearMonth) -> tuple[int, int]:
    """The ``(year, quarter)`` a month or a day falls in; quarter is 1-4."""
    ym = month if isinstance(month, YearMonth) else YearMonth.of(month)
    return ym.year, ym.quarter


def quarter_months(year: int, quarter: int) -> tuple[YearMonth, YearMonth, YearMonth]:
    """The three months of a quarter, in order."""
    if not 1 <= quarter <= 4:
        raise ValueError(f"quarter must be 1-4, got {quarter}")
    first = 3 * (quarter - 1) + 1
    return YearMonth(year, first), YearMonth(year, first + 1), YearMonth(year, first + 2)


def is_quarter_end(year: int, month: int) -> bool:
    """Whether the month closes a quarter (March, June, September, December)."""
    YearMonth(year, month)  # validates
    return month % 3 == 0


# --- rules ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScoringRules:
    """The thresholds and counts of the campaign; each community may change them."""

    overdue_penalty: float = 1.0  # points off the month per ticket still overdue at month end
    min_tickets_for_rates: int = 3  # below this denominator a rate is "too few to rate"
    talk_threshold: float = 83.0  # a monthly score below this means a talk (约谈)
    award_threshold: float = 85.0  # an annual average at or above this can win an award
    award_counts: tuple[int, ...] = (1, 2, 3)  # prizes per level: first, second, third
    quarterly_penalty_threshold: float = 83.0  # the last zone averaging below this is penalised
    criticism_threshold: float = 83.0  # an annual average below this means public criticism

    def __post_init__(self) -> None:
        for name in (
            "overdue_penalty",
            "talk_threshold",
            "award_threshold",
            "quarterly_penalty_threshold",
            "criticism_threshold",
        ):
            _dec(getattr(self, name), name)
        if self.overdue_penalty < 0:
            raise ValueError("overdue_penalty must not be negative")
        if self.min_tickets_for_rates < 1:
            raise ValueError("min_tickets_for_rates must be at least 1")
        if self.award_threshold < self.talk_threshold:
            raise ValueError("award_threshold must not be below talk_threshold")
        if any(count < 0 for count in self.award_counts):
            raise ValueError("award_counts must not be negative")

    @classmethod
    def from_community(cls, rules: CommunityRules) -> ScoringRules:
        """Take the community's talk and award settings; everything else keeps its default."""
        return cls(
            talk_threshold=rules.talk_threshold,
            award_threshold=rules.award_threshold,
            award_counts=tuple(rules.awards),
        )


# --- inspections and the monthly score ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InspectionResult:
    """One inspection of one zone on one day (定期督查 or 暗访), already scored."""

    zone_id: int
    day: date
    score: float


def checklist_score(deductions: Iterable[float], base: float = 100.0, floor: float = 0.0) -> float:
    """The score of one inspection: ``base`` minus the deductions, at least ``floor``.

    Each failed checklist item deducts points; a deduction must not be negative.
    """
    total = _dec(base, "base")
    for item in deductions:
        points = _dec(item, "deduction")
        if points < 0:
            raise ValueError(f"a deduction must not be negative, got {item!r}")
        total -= points
    return _round1(max(total, _dec(floor, "floor")))


def inspections_by_zone(
    results: Iterable[InspectionResult], month: YearMonth
) -> dict[int, tuple[float, ...]]:
    """Group the month's inspection scores by zone, each zone's in day order."""
    grouped: dict[int, list[InspectionResult]] = {}
    for result in results:
        if result.day in month:
            grouped.setdefault(result.zone_id, []).append(result)
    return {
        zone_id: tuple(r.score for r in sorted(items, key=lambda r: r.day))
        for zone_id, items in sorted(grouped.items())
    }


@dataclass(frozen=True, slots=True)
class TicketStats:
    """One zone's ticket counts for one month. Counts are tickets, not events.

    The caller decides which tickets belong to the month; the intended reading is:
    ``dispatched`` tickets sent to the zone in the month, of which ``accepted_on_time`` were
    accepted (签收) within the acceptance deadline, ``reopened`` failed a re-check at least
    once and ``transferred_back`` were handed back (回退); ``due`` tickets whose deadline fell
    in the month, of which ``rectified_on_time`` were rectified by it; ``rated`` tickets rated
    by their reporter in the month, of which ``satisfied`` were rated satisfied.
    """

    due: int = 0
    rectified_on_time: int = 0
    accepted_on_time: int = 0
    dispatched: int = 0
    reopened: int = 0
    transferred_back: int = 0
    rated: int = 0
    satisfied: int = 0

    def __post_init__(self) -> None:
        for name in _TICKET_COUNTS:
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        for part, whole in _TICKET_PARTS:
            if getattr(self, part) > getattr(self, whole):
                raise ValueError(f"{part} must not exceed {whole}")


_TICKET_COUNTS = (
    "due",
    "rectified_on_time",
    "accepted_on_time",
    "dispatched",
    "reopened",
    "transferred_back",
    "rated",
    "satisfied",
)
_TICKET_PARTS = (
    ("rectified_on_time", "due"),
    ("accepted_on_time", "dispatched"),
    ("reopened", "dispatched"),
    ("transferred_back", "dispatched"),
    ("satisfied", "rated"),
)


@dataclass(frozen=True, slots=True)
class ZoneMonth:
    """Everything that goes into one zone's score for one month."""

    zone_id: int
    zone_name: str
    inspections: tuple[float, ...]  # the scores of the month's inspections, any order
    overdue_at_month_end: int = 0  # tickets still open past their deadline at month end
    tickets: TicketStats = TicketStats()

    def __post_init__(self) -> None:
        if self.overdue_at_month_end < 0:
            raise ValueError("overdue_at_month_end must not be negative")


@dataclass(frozen=True, slots=True)
class ScoreBreakdown:
    """A published monthly score and how it was reached, for the 月讲评 and its appeals."""

    zone_id: int
    score: float  # mean minus penalty, at least 0, rounded to one decimal
    inspection_mean: float  # mean of the inspections, rounded to two decimals for display
    penalty: float  # points deducted for overdue tickets
    overdue: int  # tickets overdue at month end
    inspections: int  # how many inspections the mean is of


def monthly_score(zm: ZoneMonth, rules: ScoringRules) -> ScoreBreakdown | None:
    """Score a zone's month: mean inspection score minus the overdue penalty, floor 0.

    None means "not rated": the zone had no inspection that month. An overdue penalty
    alone never produces a score.
    """
    if not zm.inspections:
        return None
    scores = [_dec(s, "inspection score") for s in zm.inspections]
    if any(s < 0 for s in scores):
        raise ValueError(f"inspection scores must not be negative: {zm.inspections!r}")
    mean = _mean(scores)
    penalty = _dec(rules.overdue_penalty, "overdue_penalty") * zm.overdue_at_month_end
    return ScoreBreakdown(
        zone_id=zm.zone_id,
        score=_round1(max(mean - penalty, Decimal(0))),
        inspection_mean=float(mean.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)),
        penalty=float(penalty),
        overdue=zm.overdue_at_month_end,
        inspections=len(scores),
    )


# --- ticket indicators ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Indicators:
    """A zone's ticket indicators as fractions 0..1; None means too few tickets to rate."""

    on_time_acceptance: float | None  # 及时签收率 accepted_on_time / dispatched
    on_time_rectification: float | None  # 按时办结率 rectified_on_time / due
    reopen_rate: float | None  # 重办率 reopened / dispatched (lower is better)
    transfer_back_rate: float | None  # 回退率 transferred_back / dispatched (lower is better)
    satisfaction: float | None  # 满意率 satisfied / rated


def indicators(stats: TicketStats, rules: ScoringRules) -> Indicators:
    """Compute the rates; a rate whose denominator is below ``min_tickets_for_rates`` is None."""

    def ratio(part: int, whole: int) -> float | None:
        # One late ticket out of one would read as "0% on time": too few to judge a cadre by.
        if whole < rules.min_tickets_for_rates:
            return None
        return part / whole

    return Indicators(
        on_time_acceptance=ratio(stats.accepted_on_time, stats.dispatched),
        on_time_rectification=ratio(stats.rectified_on_time, stats.due),
        reopen_rate=ratio(stats.reopened, stats.dispatched),
        transfer_back_rate=ratio(stats.transferred_back, stats.dispatched),
        satisfaction=ratio(stats.satisfied, stats.rated),
    )


# --- ranking and bands ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RankedZone:
    zone_id: int
    score: float
    rank: int  # competition ranking: equal scores share a rank, the next rank skips


def _ordered(scores: Mapping[int, float | None]) -> list[tuple[int, float]]:
    """Rated zones, best first; equal scores by zone_id. NaN is refused, not ranked."""
    rated = [(zone_id, s) for zone_id, s in scores.items() if s is not None]
    for zone_id, s in rated:
        _dec(s, f"score of zone {zone_id}")
    return sorted(rated, key=lambda item: (-item[1], item[0]))


def rank(scores: Mapping[int, float | None]) -> list[RankedZone]:
    """Rank the rated zones, best first: 1, 2, 2, 4 for a tie in second place."""
    ranked: list[RankedZone] = []
    for position, (zone_id, s) in enumerate(_ordered(scores), start=1):
        shared = bool(ranked) and ranked[-1].score == s
        ranked.append(RankedZone(zone_id, s, ranked[-1].rank if shared else position))
    return ranked


class Band(StrEnum):
    """Where a monthly score stands against the thresholds; the value is stored and rendered.

    The lower bound of each band is inclusive: with the defaults exactly 85.0 is GOOD and
    exactly 83.0 is FAIR (no talk); 82.9 is POOR.
    """

    GOOD = "good"  # score >= award_threshold
    FAIR = "fair"  # talk_threshold <= score < award_threshold
    POOR = "poor"  # score < talk_threshold: a talk (约谈)


def band(score: float, rules: ScoringRules) -> Band:
    """Band a published (rounded) score; the lower bound of each band is inclusive."""
    _dec(score, "score")
    if score >= rules.award_threshold:
        return Band.GOOD
    if score >= rules.talk_threshold:
        return Band.FAIR
    return Band.POOR


def change(this_month: float | None, last_month: float | None) -> float | None:
    """This month's score minus last month's, to one decimal; None unless both are rated."""
    if this_month is None or last_month is None:
        return None
    return _round1(_dec(this_month, "score") - _dec(last_month, "score"))


# --- consequences ---------------------------------------------------------------------------


def talk_list(ranked: Sequence[RankedZone], rules: ScoringRules) -> list[int]:
    """Zones whose monthly score is below the talk threshold, in the order given."""
    return [z.zone_id for z in ranked if z.score < rules.talk_threshold]


def repeated_talks(
    history: Mapping[int, Sequence[float | None]], rules: ScoringRules
) -> list[int]:
    """Zones flagged for a penalty: two talks in a row without improvement.

    ``history`` holds each zone's monthly scores in chronological order; only the last two
    count. A zone is flagged when both are rated, both below the talk threshold, and the
    later one is not higher. A month without a score breaks the run. Sorted by zone_id.
    """
    flagged: list[int] = []
    for zone_id, months in sorted(history.items()):
        if len(months) < 2:
            continue
        first, second = months[-2], months[-1]
        if first is None or second is None:
            continue
        if first < rules.talk_threshold and second < rules.talk_threshold and second <= first:
            flagged.append(zone_id)
    return flagged


def quarterly_average(monthly: Sequence[float | None]) -> float | None:
    """Mean of the rated months, to one decimal; None when no month was rated."""
    rated = [_dec(s, "score") for s in monthly if s is not None]
    if not rated:
        return None
    return _round1(_mean(rated))


def annual_average(monthly: Sequence[float | None]) -> float | None:
    """Mean of the year's rated months, to one decimal; None when no month was rated."""
    return quarterly_average(monthly)


def quarterly_penalty(averages: Mapping[int, float | None], rules: ScoringRules) -> int | None:
    """The last-ranked zone if its quarterly average is below the threshold, else None.

    Only the single last zone is penalised. When several zones share the lowest average,
    the one listed last by ``rank`` (the highest zone_id) is returned: a tie at the bottom
    is for the leader to settle, so callers may want to show the tie.
    """
    ordered = _ordered(averages)
    if not ordered:
        return None
    zone_id, average = ordered[-1]
    return zone_id if average < rules.quarterly_penalty_threshold else None


@dataclass(frozen=True, slots=True)
class Award:
    zone_id: int
    level: int  # 1 = first prize (一等奖), 2 = second, 3 = third
    average: float


Awards = list[Award]


def annual_awards(averages: Mapping[int, float | None], rules: ScoringRules) -> Awards:
    """Give the year's prizes: eligible zones average at least the award threshold.

    Eligible zones in ``rank`` order fill the levels of ``award_counts`` from the first
    (default 1 first prize, 2 second, 3 third: the top 6). Ties are broken by zone_id;
    with fewer eligible zones the lower levels stay empty.
    """
    eligible = [(z, a) for z, a in _ordered(averages) if a >= rules.award_threshold]
    levels = [
        level for level, count in enumerate(rules.award_counts, start=1) for _ in range(count)
    ]
    return [
        Award(zone_id, level, average)
        for (zone_id, average), level in zip(eligible, levels, strict=False)
    ]


def criticism_list(averages: Mapping[int, float | None], rules: ScoringRules) -> list[int]:
    """Zones whose annual average is below the criticism threshold, in ``rank`` order."""
    return [z for z, a in _ordered(averages) if a < rules.criticism_threshold]
