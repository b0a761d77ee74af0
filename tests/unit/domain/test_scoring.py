"""Monthly scores, ranking, bands, talks, quarters and the annual awards."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.rules import CommunityRules
from bot.domain.scoring import (
    Award,
    Band,
    Indicators,
    InspectionResult,
    RankedZone,
    ScoringRules,
    TicketStats,
    YearMonth,
    ZoneMonth,
    annual_average,
    annual_awards,
    band,
    change,
    checklist_score,
    criticism_list,
    indicators,
    inspections_by_zone,
    is_quarter_end,
    monthly_score,
    quarter_months,
    quarter_of,
    quarterly_average,
    quarterly_penalty,
    rank,
    repeated_talks,
    talk_list,
)

RULES = ScoringRules()

# Scores as published: one decimal between 0 and 100, drawn from a small range so that
# ties are common.
published = st.integers(min_value=700, max_value=1000).map(lambda tenths: tenths / 10)
maybe_score = st.none() | published
score_maps = st.dictionaries(st.integers(min_value=1, max_value=40), maybe_score, max_size=12)


def zone_month(*inspections: float, overdue: int = 0) -> ZoneMonth:
    return ZoneMonth(7, "第三网格", tuple(inspections), overdue, TicketStats())


class TestChecklistScore:
    @pytest.mark.parametrize(
        ("deductions", "kwargs", "expected"),
        [
            ([], {}, 100.0),
            ([2, 0.5, 1.5], {}, 96.0),
            ([0.1, 0.2], {}, 99.7),  # no float noise: 99.7, not 99.69999999999999
            ([60, 50], {}, 0.0),
            ([60, 50], {"floor": 20.0}, 20.0),
            ([3], {"base": 10.0}, 7.0),
            ([0.05], {}, 100.0),  # 99.95 rounds half up
            ([0.04], {}, 100.0),
            ([0.06], {}, 99.9),
        ],
    )
    def test_deducts_from_the_base_and_rounds_to_one_decimal(
        self, deductions: list[float], kwargs: dict[str, float], expected: float
    ) -> None:
        assert checklist_score(deductions, **kwargs) == expected

    @pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
    def test_refuses_a_negative_or_non_finite_deduction(self, bad: float) -> None:
        with pytest.raises(ValueError):
            checklist_score([1.0, bad])

    @given(st.lists(st.floats(min_value=0, max_value=30), max_size=20))
    def test_stays_between_the_floor_and_the_base(self, deductions: list[float]) -> None:
        assert 0.0 <= checklist_score(deductions) <= 100.0


class TestMonthlyScore:
    def test_is_not_rated_when_the_zone_had_no_inspection(self) -> None:
        assert monthly_score(zone_month(overdue=4), RULES) is None

    @pytest.mark.parametrize(
        ("inspections", "overdue", "score", "mean", "penalty"),
        [
            ((90.0,), 0, 90.0, 90.0, 0.0),
            ((90.0, 86.0, 88.0), 0, 88.0, 88.0, 0.0),
            ((90.0, 86.0, 88.0), 3, 85.0, 88.0, 3.0),
            ((84.4, 84.5), 0, 84.5, 84.45, 0.0),  # half up, and no float noise in the mean
            ((85.0, 85.0, 84.0), 0, 84.7, 84.67, 0.0),
            ((2.0,), 5, 0.0, 2.0, 5.0),  # never below zero
        ],
    )
    def test_is_the_mean_of_inspections_minus_the_overdue_penalty(
        self,
        inspections: tuple[float, ...],
        overdue: int,
        score: float,
        mean: float,
        penalty: float,
    ) -> None:
        breakdown = monthly_score(zone_month(*inspections, overdue=overdue), RULES)
        assert breakdown is not None
        assert breakdown.score == score
        assert breakdown.inspection_mean == mean
        assert breakdown.penalty == penalty
        assert breakdown.overdue == overdue
        assert breakdown.inspections == len(inspections)
        assert breakdown.zone_id == 7

    def test_uses_the_penalty_of_the_rules(self) -> None:
        rules = ScoringRules(overdue_penalty=0.5)
        breakdown = monthly_score(zone_month(90.0, overdue=3), rules)
        assert breakdown is not None
        assert (breakdown.score, breakdown.penalty) == (88.5, 1.5)

    def test_refuses_a_nan_inspection(self) -> None:
        with pytest.raises(ValueError):
            monthly_score(zone_month(90.0, float("nan")), RULES)

    def test_refuses_a_negative_overdue_count(self) -> None:
        with pytest.raises(ValueError):
            zone_month(90.0, overdue=-1)

    @given(st.lists(published, min_size=1, max_size=6), st.integers(0, 20))
    def test_lies_between_zero_and_the_best_inspection(
        self, inspections: list[float], overdue: int
    ) -> None:
        breakdown = monthly_score(zone_month(*inspections, overdue=overdue), RULES)
        assert breakdown is not None
        assert 0.0 <= breakdown.score <= max(inspections)
        assert breakdown.score == round(breakdown.score, 1)


class TestInspectionsByZone:
    def test_keeps_the_months_inspections_per_zone_in_day_order(self) -> None:
        results = [
            InspectionResult(2, date(2026, 11, 19), 88.0),
            InspectionResult(1, date(2026, 11, 29), 90.0),
            InspectionResult(2, date(2026, 11, 9), 84.0),
            InspectionResult(2, date(2026, 12, 9), 70.0),
            InspectionResult(3, date(2026, 10, 29), 70.0),
        ]
        assert inspections_by_zone(results, YearMonth(2026, 11)) == {
            1: (90.0,),
            2: (84.0, 88.0),
        }


class TestIndicators:
    def test_divides_each_count_by_its_denominator(self) -> None:
        stats = TicketStats(
            due=10,
            rectified_on_time=9,
            accepted_on_time=16,
            dispatched=20,
            reopened=2,
            transferred_back=1,
            rated=8,
            satisfied=6,
        )
        assert indicators(stats, RULES) == Indicators(
            on_time_acceptance=0.8,
            on_time_rectification=0.9,
            reopen_rate=0.1,
            transfer_back_rate=0.05,
            satisfaction=0.75,
        )

    @pytest.mark.parametrize(("whole", "rated"), [(0, False), (2, False), (3, True), (4, True)])
    def test_is_too_few_to_rate_below_the_minimum_number_of_tickets(
        self, whole: int, rated: bool
    ) -> None:
        stats = TicketStats(due=whole, rectified_on_time=whole, dispatched=whole, rated=whole)
        result = indicators(stats, RULES)
        values = (
            result.on_time_acceptance,
            result.on_time_rectification,
            result.reopen_rate,
            result.transfer_back_rate,
            result.satisfaction,
        )
        assert all((v is not None) == rated for v in values)

    def test_rates_each_indicator_on_its_own_denominator(self) -> None:
        result = indicators(TicketStats(due=5, rectified_on_time=5, dispatched=1), RULES)
        assert result.on_time_rectification == 1.0
        assert result.on_time_acceptance is None
        assert result.satisfaction is None

    def test_follows_the_minimum_of_the_rules(self) -> None:
        stats = TicketStats(due=1, rectified_on_time=0)
        assert indicators(stats, ScoringRules(min_tickets_for_rates=1)).on_time_rectification == 0

    @pytest.mark.parametrize(
        "changes",
        [
            {"due": -1},
            {"due": 2, "rectified_on_time": 3},
            {"dispatched": 1, "accepted_on_time": 2},
            {"dispatched": 1, "reopened": 2},
            {"dispatched": 1, "transferred_back": 2},
            {"rated": 1, "satisfied": 2},
        ],
    )
    def test_refuses_counts_that_cannot_be(self, changes: dict[str, int]) -> None:
        with pytest.raises(ValueError):
            TicketStats(**changes)


class TestRank:
    def test_shares_a_rank_on_equal_scores_and_skips_the_next(self) -> None:
        ranked = rank({4: 84.0, 1: 90.0, 3: 84.0, 2: 84.0, 9: 80.0})
        assert ranked == [
            RankedZone(1, 90.0, 1),
            RankedZone(2, 84.0, 2),
            RankedZone(3, 84.0, 2),
            RankedZone(4, 84.0, 2),
            RankedZone(9, 80.0, 5),
        ]

    def test_leaves_out_zones_that_were_not_rated(self) -> None:
        assert rank({1: None, 2: 88.0, 3: None}) == [RankedZone(2, 88.0, 1)]

    def test_is_empty_when_nobody_was_rated(self) -> None:
        assert rank({}) == []
        assert rank({1: None}) == []

    def test_refuses_a_nan_score(self) -> None:
        with pytest.raises(ValueError):
            rank({1: float("nan")})

    @given(score_maps)
    def test_is_a_permutation_of_the_rated_zones_best_first(
        self, scores: dict[int, float | None]
    ) -> None:
        ranked = rank(scores)
        rated = {z for z, s in scores.items() if s is not None}
        assert sorted(r.zone_id for r in ranked) == sorted(rated)
        assert all(scores[r.zone_id] == r.score for r in ranked)
        keys = [(-r.score, r.zone_id) for r in ranked]
        assert keys == sorted(keys)

    @given(score_maps)
    def test_shares_ranks_on_ties_and_the_next_rank_skips(
        self, scores: dict[int, float | None]
    ) -> None:
        ranked = rank(scores)
        for position, r in enumerate(ranked, start=1):
            # Competition ranking: one plus the number of zones that did strictly better.
            assert r.rank == 1 + sum(1 for other in ranked if other.score > r.score)
            tied = [o for o in ranked if o.score == r.score]
            assert {o.rank for o in tied} == {r.rank}
            assert r.rank <= position


class TestBand:
    @pytest.mark.parametrize(
        ("score", "expected"),
        [
            (100.0, Band.GOOD),
            (85.1, Band.GOOD),
            (85.0, Band.GOOD),  # exactly the award threshold is GOOD
            (84.9, Band.FAIR),
            (83.1, Band.FAIR),
            (83.0, Band.FAIR),  # exactly the talk threshold is FAIR: no talk
            (82.9, Band.POOR),
            (0.0, Band.POOR),
        ],
    )
    def test_puts_each_threshold_in_the_band_above_it(self, score: float, expected: Band) -> None:
        assert band(score, RULES) is expected

    def test_follows_the_thresholds_of_the_rules(self) -> None:
        rules = ScoringRules(talk_threshold=80.0, award_threshold=90.0)
        assert [band(s, rules) for s in (90.0, 89.9, 80.0, 79.9)] == [
            Band.GOOD,
            Band.FAIR,
            Band.FAIR,
            Band.POOR,
        ]

    def test_values_are_the_strings_the_board_renders(self) -> None:
        assert [b.value for b in Band] == ["good", "fair", "poor"]


class TestChange:
    @pytest.mark.parametrize(
        ("this", "last", "expected"),
        [
            (86.5, 85.0, 1.5),
            (83.0, 85.0, -2.0),
            (84.3, 84.1, 0.2),  # not 0.19999999999999574
            (84.0, 84.0, 0.0),
            (None, 84.0, None),
            (84.0, None, None),
            (None, None, None),
        ],
    )
    def test_is_this_month_minus_last_month_when_both_are_rated(
        self, this: float | None, last: float | None, expected: float | None
    ) -> None:
        assert change(this, last) == expected


class TestTalks:
    def test_lists_zones_below_the_talk_threshold_in_ranking_order(self) -> None:
        ranked = rank({1: 90.0, 2: 83.0, 3: 82.9, 4: 70.0, 5: None})
        assert talk_list(ranked, RULES) == [3, 4]

    @pytest.mark.parametrize(
        ("months", "flagged"),
        [
            ([80.0, 80.0], True),  # no change is no improvement
            ([80.0, 79.0], True),
            ([80.0, 80.5], False),  # improved, though still below
            ([84.0, 80.0], False),  # the first month was no talk
            ([80.0, 83.0], False),  # second month at the threshold is no talk
            ([None, 80.0], False),
            ([80.0, None], False),
            ([80.0], False),
            ([], False),
            ([70.0, 80.0, 79.0], True),  # only the last two months count
            ([70.0, 80.0, None], False),
        ],
    )
    def test_flags_two_talks_in_a_row_without_improvement(
        self, months: list[float | None], flagged: bool
    ) -> None:
        assert repeated_talks({5: months}, RULES) == ([5] if flagged else [])

    def test_lists_flagged_zones_by_zone_id(self) -> None:
        history: Mapping[int, list[float | None]] = {9: [80.0, 80.0], 2: [81.0, 75.0], 4: []}
        assert repeated_talks(history, RULES) == [2, 9]


class TestYearMonth:
    def test_steps_across_year_boundaries(self) -> None:
        assert YearMonth(2026, 1).previous() == YearMonth(2025, 12)
        assert YearMonth(2025, 12).next() == YearMonth(2026, 1)
        assert YearMonth(2026, 6).next() == YearMonth(2026, 7)

    @pytest.mark.parametrize(
        ("ym", "first", "last"),
        [
            (YearMonth(2026, 2), date(2026, 2, 1), date(2026, 2, 28)),
            (YearMonth(2028, 2), date(2028, 2, 1), date(2028, 2, 29)),
            (YearMonth(2026, 12), date(2026, 12, 1), date(2026, 12, 31)),
            (YearMonth(2026, 4), date(2026, 4, 1), date(2026, 4, 30)),
        ],
    )
    def test_knows_its_first_and_last_day(self, ym: YearMonth, first: date, last: date) -> None:
        assert (ym.first_day, ym.last_day) == (first, last)

    def test_writes_itself_the_chinese_way_and_as_iso(self) -> None:
        assert YearMonth(2026, 11).label_zh == "2026年11月"
        assert str(YearMonth(2026, 3)) == "2026-03"

    @pytest.mark.parametrize(
        ("text", "expected"),
        [("2026-11", YearMonth(2026, 11)), ("2026-03", YearMonth(2026, 3)), (" 2026-3 ", None)],
    )
    def test_parses_year_dash_month(self, text: str, expected: YearMonth | None) -> None:
        assert YearMonth.parse(text) == (expected or YearMonth(2026, 3))

    @pytest.mark.parametrize("text", ["2026-13", "2026-00", "2026/11", "26-11", "", "2026-11-01"])
    def test_refuses_anything_else(self, text: str) -> None:
        with pytest.raises(ValueError):
            YearMonth.parse(text)

    @pytest.mark.parametrize(("year", "month"), [(2026, 0), (2026, 13), (0, 5)])
    def test_refuses_an_impossible_month(self, year: int, month: int) -> None:
        with pytest.raises(ValueError):
            YearMonth(year, month)

    def test_contains_exactly_its_days(self) -> None:
        nov = YearMonth(2026, 11)
        assert date(2026, 11, 1) in nov
        assert date(2026, 11, 30) in nov
        assert date(2026, 12, 1) not in nov
        assert date(2025, 11, 15) not in nov

    def test_sorts_chronologically(self) -> None:
        months = [YearMonth(2026, 2), YearMonth(2025, 12), YearMonth(2026, 1)]
        assert sorted(months) == [YearMonth(2025, 12), YearMonth(2026, 1), YearMonth(2026, 2)]

    @given(st.integers(2, 9998), st.integers(1, 12))
    def test_next_and_previous_undo_each_other(self, year: int, month: int) -> None:
        ym = YearMonth(year, month)
        assert ym.next().previous() == ym
        assert ym.previous().next() == ym
        assert ym.next().first_day - ym.last_day == date(2000, 1, 2) - date(2000, 1, 1)
        assert YearMonth.parse(str(ym)) == ym


class TestQuarters:
    @pytest.mark.parametrize(
        ("month", "expected"),
        [
            (YearMonth(2026, 1), (2026, 1)),
            (YearMonth(2026, 3), (2026, 1)),
            (YearMonth(2026, 4), (2026, 2)),
            (YearMonth(2026, 9), (2026, 3)),
            (YearMonth(2026, 10), (2026, 4)),
            (YearMonth(2026, 12), (2026, 4)),
            (date(2025, 12, 31), (2025, 4)),
            (date(2026, 1, 1), (2026, 1)),
        ],
    )
    def test_finds_the_quarter_of_a_month_or_day(
        self, month: YearMonth | date, expected: tuple[int, int]
    ) -> None:
        assert quarter_of(month) == expected

    def test_lists_the_three_months_of_a_quarter(self) -> None:
        assert quarter_months(2026, 4) == (
            YearMonth(2026, 10),
            YearMonth(2026, 11),
            YearMonth(2026, 12),
        )

    @pytest.mark.parametrize("quarter", [0, 5])
    def test_refuses_a_quarter_that_does_not_exist(self, quarter: int) -> None:
        with pytest.raises(ValueError):
            quarter_months(2026, quarter)

    def test_ends_quarters_in_march_june_september_and_december(self) -> None:
        assert [m for m in range(1, 13) if is_quarter_end(2026, m)] == [3, 6, 9, 12]

    @given(st.integers(1, 9999), st.integers(1, 4))
    def test_each_month_of_a_quarter_belongs_to_it(self, year: int, quarter: int) -> None:
        months = quarter_months(year, quarter)
        assert all(quarter_of(m) == (year, quarter) for m in months)
        assert [is_quarter_end(m.year, m.month) for m in months] == [False, False, True]

    @pytest.mark.parametrize(
        ("monthly", "expected"),
        [
            ([84.0, 86.0, 85.0], 85.0),
            ([84.0, None, 85.0], 84.5),  # unrated months are left out, not zero
            ([None, None, None], None),
            ([], None),
            ([84.0, 84.0, 84.1], 84.0),
            ([84.1, 84.1, 84.0], 84.1),  # 84.0666… and 84.0333… round to one decimal
        ],
    )
    def test_averages_the_rated_months(
        self, monthly: list[float | None], expected: float | None
    ) -> None:
        assert quarterly_average(monthly) == expected
        assert annual_average(monthly) == expected


class TestQuarterlyPenalty:
    @pytest.mark.parametrize(
        ("averages", "expected"),
        [
            ({1: 90.0, 2: 82.0, 3: 80.0, 4: 86.0}, 3),
            ({1: 90.0, 2: 83.0}, None),  # the last zone is exactly at the threshold
            ({1: 90.0, 2: 82.9}, 2),
            ({1: 70.0, 2: None}, 1),  # an unrated zone is not "last"
            ({1: None}, None),
            ({}, None),
            ({5: 80.0, 2: 80.0}, 5),  # tie at the bottom: the one listed last by rank
        ],
    )
    def test_picks_the_last_ranked_zone_when_it_is_below_the_threshold(
        self, averages: dict[int, float | None], expected: int | None
    ) -> None:
        assert quarterly_penalty(averages, RULES) == expected

    def test_follows_the_threshold_of_the_rules(self) -> None:
        rules = ScoringRules(quarterly_penalty_threshold=90.0)
        assert quarterly_penalty({1: 95.0, 2: 89.0}, rules) == 2

    @given(score_maps)
    def test_is_the_lowest_zone_and_below_the_threshold(
        self, averages: dict[int, float | None]
    ) -> None:
        chosen = quarterly_penalty(averages, RULES)
        rated = {z: a for z, a in averages.items() if a is not None}
        if not rated or min(rated.values()) >= RULES.quarterly_penalty_threshold:
            assert chosen is None
        else:
            assert chosen is not None
            assert rated[chosen] == min(rated.values())
            assert rated[chosen] < RULES.quarterly_penalty_threshold
            assert chosen == rank(averages)[-1].zone_id


class TestAnnualAwards:
    def test_gives_one_first_two_second_and_three_third_prizes(self) -> None:
        averages: dict[int, float | None] = {
            1: 95.0,
            2: 94.0,
            3: 93.0,
            4: 92.0,
            5: 91.0,
            6: 90.0,
            7: 89.0,
            8: None,
        }
        assert annual_awards(averages, RULES) == [
            Award(1, 1, 95.0),
            Award(2, 2, 94.0),
            Award(3, 2, 93.0),
            Award(4, 3, 92.0),
            Award(5, 3, 91.0),
            Award(6, 3, 90.0),
        ]

    def test_gives_prizes_only_to_zones_at_or_above_the_award_threshold(self) -> None:
        averages: dict[int, float | None] = {1: 88.0, 2: 85.0, 3: 84.9, 4: 70.0}
        assert annual_awards(averages, RULES) == [Award(1, 1, 88.0), Award(2, 2, 85.0)]

    def test_breaks_ties_by_zone_id(self) -> None:
        averages: dict[int, float | None] = {9: 90.0, 3: 90.0, 5: 90.0}
        assert [(a.zone_id, a.level) for a in annual_awards(averages, RULES)] == [
            (3, 1),
            (5, 2),
            (9, 2),
        ]

    def test_uses_the_counts_of_the_rules(self) -> None:
        rules = ScoringRules(award_counts=(0, 1))
        averages: dict[int, float | None] = {1: 90.0, 2: 89.0}
        assert annual_awards(averages, rules) == [Award(1, 2, 90.0)]

    @given(score_maps, st.lists(st.integers(0, 4), max_size=4))
    def test_never_exceeds_the_counts_and_only_rewards_eligible_zones(
        self, averages: dict[int, float | None], counts: list[int]
    ) -> None:
        rules = ScoringRules(award_counts=tuple(counts))
        awards = annual_awards(averages, rules)
        eligible = [z for z, a in averages.items() if a is not None and a >= 85.0]
        assert len(awards) == min(len(eligible), sum(counts))
        assert len({a.zone_id for a in awards}) == len(awards)
        for level, count in enumerate(counts, start=1):
            assert sum(1 for a in awards if a.level == level) <= count
        for a in awards:
            assert a.average == averages[a.zone_id]
            assert a.average >= rules.award_threshold
        # Better averages never get a lower prize than worse ones.
        assert [a.level for a in awards] == sorted(a.level for a in awards)
        assert [a.average for a in awards] == sorted((a.average for a in awards), reverse=True)


class TestCriticism:
    def test_lists_zones_whose_annual_average_is_below_83(self) -> None:
        averages: dict[int, float | None] = {1: 90.0, 2: 83.0, 3: 82.9, 4: None, 5: 60.0}
        assert criticism_list(averages, RULES) == [3, 5]

    def test_follows_the_threshold_of_the_rules(self) -> None:
        assert criticism_list({1: 84.0}, ScoringRules(criticism_threshold=85.0)) == [1]


class TestScoringRules:
    def test_defaults_are_those_of_the_domain(self) -> None:
        assert RULES.talk_threshold == 83.0
        assert RULES.award_threshold == 85.0
        assert RULES.award_counts == (1, 2, 3)
        assert RULES.quarterly_penalty_threshold == 83.0
        assert RULES.overdue_penalty == 1.0
        assert RULES.min_tickets_for_rates == 3

    def test_takes_the_communitys_talk_and_award_settings(self) -> None:
        community = CommunityRules(talk_threshold=80.0, award_threshold=88.0, awards=(2, 2))
        rules = ScoringRules.from_community(community)
        assert (rules.talk_threshold, rules.award_threshold, rules.award_counts) == (
            80.0,
            88.0,
            (2, 2),
        )

    @pytest.mark.parametrize(
        "changes",
        [
            {"overdue_penalty": -1.0},
            {"min_tickets_for_rates": 0},
            {"talk_threshold": 86.0},  # above the award threshold
            {"award_counts": (1, -1)},
            {"talk_threshold": float("nan")},
        ],
    )
    def test_refuses_settings_that_make_no_sense(self, changes: dict[str, object]) -> None:
        with pytest.raises(ValueError):
            ScoringRules(**changes)  # type: ignore[arg-type]
