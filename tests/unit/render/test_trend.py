"""The monthly score trend chart of a zone."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops

from bot.domain.scoring import YearMonth
from bot.render.fonts import has_cjk_font
from bot.render.trend import TREND_HEIGHT, TREND_WIDTH, month_points, render_trend, y_range

needs_cjk = pytest.mark.skipif(
    not has_cjk_font(),
    reason="no CJK font installed (apt-get install fonts-wqy-microhei); CI installs one",
)

LINE_BLUE = (31, 78, 140)
YEAR: list[tuple[str, float | None]] = [
    ("1月", 86.5),
    ("2月", 84.0),
    ("3月", None),
    ("4月", 82.5),
    ("5月", 80.1),
    ("6月", 83.0),
    ("7月", 85.0),
    ("8月", 88.2),
    ("9月", 91.0),
    ("10月", None),
    ("11月", 100.0),
    ("12月", 95.4),
]


def open_png(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    assert img.format == "PNG"
    img.load()
    return img.convert("RGB")


def count_colour(img: Image.Image, colour: tuple[int, int, int], tolerance: int = 10) -> int:
    diff = ImageChops.difference(img, Image.new("RGB", img.size, colour)).convert("L")
    return diff.point(lambda v: 255 if v <= tolerance else 0).histogram()[255]


class TestRenderTrend:
    def test_renders_a_png_of_a_fixed_size(self) -> None:
        data = render_trend("第三网格", YEAR)
        img = open_png(data)
        assert img.size == (TREND_WIDTH, TREND_HEIGHT)
        assert TREND_WIDTH == 1080
        assert len(data) > 20_000

    @pytest.mark.parametrize(
        "points",
        [
            [],
            [("1月", None), ("2月", None)],
            [("1月", 84.0)],
            [("1月", 0.0), ("2月", 100.0)],
            [("1月", 104.0)],
            [(str(m) + "月", 85.0) for m in range(1, 37)],
        ],
    )
    def test_renders_any_number_of_points_rated_or_not(
        self, points: list[tuple[str, float | None]]
    ) -> None:
        assert open_png(render_trend("第三网格", points)).size == (TREND_WIDTH, TREND_HEIGHT)

    def test_joins_neighbouring_rated_months_with_a_line(self) -> None:
        joined = open_png(render_trend("z", [("1月", 90.0), ("2月", 80.0), ("3月", 90.0)]))
        assert count_colour(joined, LINE_BLUE) > 500

    def test_leaves_a_gap_where_a_month_was_not_rated(self) -> None:
        gap = open_png(render_trend("z", [("1月", 90.0), ("2月", None), ("3月", 90.0)]))
        assert count_colour(gap, LINE_BLUE) == 0

    def test_draws_the_threshold_lines_where_the_rules_put_them(self) -> None:
        default = open_png(render_trend("z", YEAR))
        moved = open_png(render_trend("z", YEAR, talk_threshold=70.0, award_threshold=90.0))
        assert default != moved

    @pytest.mark.parametrize("bad", [float("nan"), float("inf")])
    def test_refuses_a_score_that_is_not_a_number(self, bad: float) -> None:
        with pytest.raises(ValueError):
            render_trend("z", [("1月", bad)])

    def test_names_the_year_under_the_first_month_and_each_january(self) -> None:
        months = [(f"2025年{m}月", 85.0) for m in range(3, 13)] + [
            (f"2026年{m}月", 86.0) for m in (1, 2)
        ]
        img = open_png(render_trend("z", months))
        slot = (TREND_WIDTH - 150 - 104) / len(months)

        def inked(i: int) -> int:
            # The year row under the month labels, one slot wide.
            x = 104 + i * slot
            band = img.crop((int(x), TREND_HEIGHT - 120 + 48, int(x + slot), TREND_HEIGHT - 44))
            return sum(band.convert("L").point(lambda v: 255 if v < 200 else 0).histogram()[255:])

        marked = [i for i in range(len(months)) if inked(i) > 0]
        assert marked == [0, 10]  # March 2025, and January 2026
        plain = open_png(render_trend("z", [(f"{m}月", 85.0) for m in range(1, 13)]))
        assert plain.size == img.size

    @needs_cjk
    def test_draws_the_chinese_glyphs(self) -> None:
        # Without a CJK font both names would be the same row of empty boxes.
        a = open_png(render_trend("第三网格", YEAR)).crop((0, 0, TREND_WIDTH, 100))
        b = open_png(render_trend("滨河路段", YEAR)).crop((0, 0, TREND_WIDTH, 100))
        assert a != b


class TestYRange:
    @pytest.mark.parametrize(
        ("values", "expected"),
        [
            ([], (60, 100)),
            ([None], (60, 100)),
            ([72.0, 99.0], (60, 100)),
            ([60.0], (60, 100)),
            ([57.5, None], (55, 100)),
            ([42.0], (40, 100)),
            ([0.0], (0, 100)),
            ([101.0], (60, 105)),
        ],
    )
    def test_runs_from_min_of_60_and_the_lowest_score_up_to_100(
        self, values: list[float | None], expected: tuple[int, int]
    ) -> None:
        assert y_range(values) == expected


def test_month_points_label_each_month_with_its_year() -> None:
    points = [(YearMonth(2025, 12), 88.5), (YearMonth(2026, 1), None)]
    assert month_points(points) == [("2025年12月", 88.5), ("2026年1月", None)]
