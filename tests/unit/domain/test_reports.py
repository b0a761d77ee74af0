"""Report rules: typed phone numbers, the description limit, and the place picker."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.reports import (
    MAX_DESCRIPTION,
    PLACES_PER_PAGE,
    Draft,
    PlaceOption,
    description_clipped,
    order_places,
    parse_mobile,
    place_page,
    search_places,
)


class TestParseMobile:
    @pytest.mark.parametrize(
        ("typed", "phone"),
        [
            ("13800138000", "13800138000"),
            ("138 0013 8000", "13800138000"),
            ("138-0013-8000", "13800138000"),
            ("+86 138 0013 8000", "13800138000"),
            ("+8613800138000", "13800138000"),
            ("86 19912345678", "19912345678"),
            ("0086-15012345678", "15012345678"),
            ("（138）0013.8000", "13800138000"),
            ("１３８００１３８０００", "13800138000"),  # full-width digits from a Chinese IME
        ],
    )
    def test_mainland_mobile_typed_any_usual_way_is_read(self, typed: str, phone: str) -> None:
        assert parse_mobile(typed) == phone

    @pytest.mark.parametrize(
        "typed",
        [
            "",
            "12800138000",  # no mobile prefix starts 12
            "1380013800",  # ten digits
            "138001380001",  # twelve
            "0571-88123401",  # a landline
            "+1 415 555 0100",
            "我的电话 13800138000",
            "13800138000 张三",
            "楼道堆物",
        ],
    )
    def test_anything_else_is_not_a_phone(self, typed: str) -> None:
        assert parse_mobile(typed) is None

    @given(
        second=st.sampled_from("3456789"),
        rest=st.text("0123456789", min_size=9, max_size=9),
        prefix=st.sampled_from(["", "+86", "86", "0086", "+86 "]),
        cuts=st.lists(st.integers(1, 10), max_size=3),
        separator=st.sampled_from([" ", "-", "."]),
    )
    def test_separators_and_prefix_never_change_the_number(
        self, second: str, rest: str, prefix: str, cuts: list[int], separator: str
    ) -> None:
        number = "1" + second + rest
        spaced = number
        for cut in sorted(set(cuts), reverse=True):
            spaced = spaced[:cut] + separator + spaced[cut:]
        assert parse_mobile(prefix + spaced) == number


class TestDescription:
    @pytest.mark.parametrize(
        ("text", "clipped"),
        [
            ("短", False),
            ("字" * MAX_DESCRIPTION, False),
            ("字" * (MAX_DESCRIPTION + 1), True),
            ("字 " * MAX_DESCRIPTION, True),  # spaces between words count once each
            ("字" * MAX_DESCRIPTION + "   \n", False),  # trailing whitespace is dropped
        ],
    )
    def test_clipped_exactly_when_the_stored_text_loses_its_end(
        self, text: str, clipped: bool
    ) -> None:
        assert description_clipped(text) is clipped
        stored = Draft(origin_key="k").with_description(text).description or ""
        assert (stored != " ".join(text.split())) is clipped


def _options(count: int, zones: int = 3) -> list[PlaceOption]:
    return [
        PlaceOption("bld" if i % 3 == 0 else "site", i, f"地点{i:03d}", 1 + i % zones)
        for i in range(count)
    ]


class TestPlacePicker:
    @given(count=st.integers(0, 80), size=st.integers(1, 12))
    def test_pages_together_hold_every_place_once(self, count: int, size: int) -> None:
        options = _options(count)
        first = place_page(options, 0, size)
        shown = [o for p in range(first.pages) for o in place_page(options, p, size).options]
        assert shown == options
        assert all(len(place_page(options, p, size).options) <= size for p in range(first.pages))

    @pytest.mark.parametrize(("asked", "got"), [(-3, 0), (0, 0), (1, 1), (2, 1), (99, 1)])
    def test_a_page_out_of_range_is_clamped(self, asked: int, got: int) -> None:
        page = place_page(_options(PLACES_PER_PAGE + 1), asked)
        assert page.page == got and page.pages == 2 and page.options

    def test_no_places_is_one_empty_page(self) -> None:
        page = place_page([], 0)
        assert page.pages == 1 and page.options == ()

    def test_own_zone_and_own_building_come_first_then_zones_in_their_order(self) -> None:
        options = [
            PlaceOption("site", 1, "和平街", 3),
            PlaceOption("bld", 2, "5号楼", 3),
            PlaceOption("site", 3, "幸福路", 2),
            PlaceOption("bld", 4, "3号楼", 2),
            PlaceOption("bld", 5, "4号楼", 2),
            PlaceOption("site", 6, "槐树巷", 1),
        ]
        ordered = order_places(options, home_zone_id=2, home_building_id=5, zone_order=[3, 1, 2])
        expected = ["4号楼", "3号楼", "幸福路", "5号楼", "和平街", "槐树巷"]
        assert [o.name for o in ordered] == expected

    @given(count=st.integers(0, 40), home=st.integers(1, 4))
    def test_ordering_never_drops_or_repeats_a_place(self, count: int, home: int) -> None:
        options = _options(count, zones=4)
        ordered = order_places(options, home, None, [4, 3, 2, 1])
        assert sorted(ordered, key=lambda o: o.id) == options
        in_home = [o.zone_id == home for o in ordered]
        assert in_home == sorted(in_home, reverse=True)

    @pytest.mark.parametrize(
        ("query", "names"),
        [
            ("和平", ["和平街"]),
            (" 和 平 ", ["和平街"]),
            ("号楼", ["1号楼", "12号楼"]),
            ("１２", ["12号楼"]),
            ("park", ["Sunny Park"]),
            ("火星", []),
            ("   ", []),
        ],
    )
    def test_search_matches_part_of_a_name(self, query: str, names: list[str]) -> None:
        options = [
            PlaceOption("bld", 1, "1号楼", 1),
            PlaceOption("bld", 2, "12号楼", 1),
            PlaceOption("site", 3, "和平街", 2),
            PlaceOption("site", 4, "Sunny Park", 2),
        ]
        assert [o.name for o in search_places(options, query)] == names
