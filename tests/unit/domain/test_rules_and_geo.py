"""Community rules round-trip through storage text; distances behave like distances."""

from __future__ import annotations

from datetime import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.geo import distance_m, nearest
from bot.domain.rules import CommunityRules


def test_defaults_are_those_of_the_domain() -> None:
    rules = CommunityRules()
    assert rules.rectify_workdays == 5
    assert rules.clean_day == 18
    assert rules.inspection_days == (9, 19, 29)
    assert rules.talk_threshold == 83.0
    assert rules.award_threshold == 85.0


def test_rules_round_trip_through_text() -> None:
    changed = (
        CommunityRules()
        .with_value("clean_day_time", "07:30")
        .with_value("inspection_days", "5,15,25")
    )
    assert CommunityRules.from_mapping(changed.to_mapping()) == changed
    assert changed.clean_day_time == time(7, 30)


@pytest.mark.parametrize(
    ("key", "raw"),
    [("clean_day_time", "seven"), ("rectify_workdays", "-1"), ("inspection_days", "")],
)
def test_bad_rule_values_are_refused(key: str, raw: str) -> None:
    with pytest.raises(ValueError):
        CommunityRules().with_value(key, raw)


coords = st.tuples(st.floats(-80, 80), st.floats(-179, 179))


@given(coords, coords)
def test_distance_is_symmetric_and_non_negative(
    a: tuple[float, float], b: tuple[float, float]
) -> None:
    d1, d2 = distance_m(*a, *b), distance_m(*b, *a)
    assert d1 >= 0
    assert abs(d1 - d2) < 1e-6


@given(st.lists(coords, min_size=1, max_size=20), coords)
def test_nearest_is_no_farther_than_any_other(
    places: list[tuple[float, float]], here: tuple[float, float]
) -> None:
    hit = nearest(here[0], here[1], [(i, lat, lon) for i, (lat, lon) in enumerate(places)])
    assert hit is not None
    assert all(hit[1] <= distance_m(*here, *p) + 1e-6 for p in places)


def test_one_hundred_metres_in_hangzhou() -> None:
    # 0.0009 degrees of latitude is about 100 m anywhere.
    assert 95 < distance_m(30.27, 120.15, 30.2709, 120.15) < 105


rule_names = st.sampled_from(sorted(CommunityRules().to_mapping()))


@given(st.dictionaries(rule_names, st.text(max_size=12)))
def test_stored_rules_never_break_reading_when_told_to_keep_defaults(
    stored: dict[str, str],
) -> None:
    ignored: list[str] = []
    rules = CommunityRules.from_mapping(stored, on_invalid=lambda key, *_: ignored.append(key))
    for key, raw in stored.items():
        if key in ignored:
            assert getattr(rules, key) == getattr(CommunityRules(), key)
        else:
            expected = CommunityRules().with_value(key, raw)
            assert getattr(rules, key) == getattr(expected, key)


def test_one_bad_stored_rule_keeps_its_default_and_the_others_apply() -> None:
    ignored: list[tuple[str, str]] = []
    rules = CommunityRules.from_mapping(
        {"rectify_workdays": "500", "clean_day": "20"},
        on_invalid=lambda key, value, _: ignored.append((key, value)),
    )
    assert ignored == [("rectify_workdays", "500")]
    assert rules.rectify_workdays == 5 and rules.clean_day == 20
    with pytest.raises(ValueError):
        CommunityRules.from_mapping({"rectify_workdays": "500"})
