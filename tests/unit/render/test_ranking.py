"""The monthly ranking board image and the formatting of its cells."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from PIL import Image, ImageChops

from bot.domain.scoring import Band
from bot.render import ranking
from bot.render.fonts import has_cjk_font, load_font
from bot.render.ranking import (
    MAX_ROWS,
    RANKING_WIDTH,
    BoardRow,
    RankingBoard,
    board_note,
    fit_line,
    format_change,
    format_rate,
    format_score,
    render_ranking,
)

needs_cjk = pytest.mark.skipif(
    not has_cjk_font(),
    reason="no CJK font installed (apt-get install fonts-wqy-microhei); CI installs one",
)


def row(n: int = 1, **changes: object) -> BoardRow:
    fields: dict[str, object] = {
        "rank": n,
        "zone": f"第{n}网格",
        "cadre": "王建国",
        "score": 86.5,
        "change": 1.5,
        "band": "good",
        "rectification_rate": 0.965,
    }
    fields.update(changes)
    return BoardRow(**fields)  # type: ignore[arg-type]


def board(rows: tuple[BoardRow, ...] = (), **changes: object) -> RankingBoard:
    fields: dict[str, object] = {
        "community": "阳光花园社区",
        "month_label": "2026年11月",
        "rows": rows,
        "note": "生成时间：2026年12月1日 09:00",
    }
    fields.update(changes)
    return RankingBoard(**fields)  # type: ignore[arg-type]


def open_png(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    assert img.format == "PNG"
    img.load()
    return img.convert("RGB")


def dominant_tint(img: Image.Image) -> tuple[int, int, int]:
    """The most common colour that is neither white nor close to black or grey text."""
    counted = img.getcolors(img.width * img.height) or []
    for _, colour in sorted(counted, key=lambda item: item[0], reverse=True):
        assert isinstance(colour, tuple)
        r, g, b = colour
        if (r, g, b) != (255, 255, 255) and min(r, g, b) > 200:
            return (r, g, b)
    raise AssertionError("no tinted area")


def count_colour(img: Image.Image, colour: tuple[int, int, int], tolerance: int = 12) -> int:
    diff = ImageChops.difference(img, Image.new("RGB", img.size, colour)).convert("L")
    return diff.point(lambda v: 255 if v <= tolerance else 0).histogram()[255]


class TestRenderRanking:
    def test_renders_a_png_the_width_of_a_phone_screen(self) -> None:
        data = render_ranking(board((row(1), row(2, band="fair", score=84.0))))
        img = open_png(data)
        assert img.width == RANKING_WIDTH == 1080
        assert 500 < img.height < 2000
        assert len(data) > 20_000
        assert len(img.getcolors(maxcolors=1_000_000) or []) > 50  # not a blank sheet

    def test_grows_taller_with_each_row(self) -> None:
        heights = [
            open_png(render_ranking(board(tuple(row(i) for i in range(1, n + 1))))).height
            for n in (1, 2, 6)
        ]
        assert heights[0] < heights[1] < heights[2]
        per_row = heights[1] - heights[0]
        assert heights[2] - heights[1] == 4 * per_row

    def test_renders_an_empty_month(self) -> None:
        img = open_png(render_ranking(board(())))
        assert img.width == RANKING_WIDTH
        assert img.height > 300

    def test_says_there_are_no_scores_in_an_empty_month(self) -> None:
        img = open_png(render_ranking(board(())))
        # Find the bottom of the table's header (its beige band), then look below it.
        header_rows = [y for y in range(img.height) if img.getpixel((100, y)) == (246, 243, 238)]
        assert header_rows
        below = img.crop((100, header_rows[-1] + 10, RANKING_WIDTH - 100, header_rows[-1] + 110))
        text_pixels = sum(
            below.convert("L").point(lambda v: 255 if v < 180 else 0).histogram()[255:]
        )
        assert text_pixels > 200  # "本月暂无评分" is drawn where the rows would be

    @needs_cjk
    def test_draws_the_chinese_glyphs(self) -> None:
        # With no CJK font every Han character is the same empty box, so two titles of the
        # same length would come out identical.
        a = open_png(render_ranking(board((row(),), community="阳光花园社区")))
        b = open_png(render_ranking(board((row(),), community="幸福家园社区")))
        title = (0, 0, RANKING_WIDTH, 110)
        assert a.crop(title) != b.crop(title)
        zone = open_png(render_ranking(board((row(zone="滨河路段"),))))
        assert zone != a

    @pytest.mark.parametrize(
        ("band", "channel"),
        [("good", "green"), ("fair", "amber"), ("poor", "red"), ("unrated", "grey")],
    )
    def test_tints_each_row_by_its_band(self, band: str, channel: str) -> None:
        rows = tuple(row(i, band=band) for i in range(1, 6))
        r, g, b = dominant_tint(open_png(render_ranking(board(rows))))
        if channel == "green":
            assert g > r and g > b
        elif channel == "amber":
            assert r > g > b
        elif channel == "red":
            assert r > g and r > b and abs(g - b) < 10
        else:
            assert max(r, g, b) - min(r, g, b) < 6

    def test_accepts_the_band_enum_of_the_scoring_domain(self) -> None:
        assert row(band=Band.POOR).band == "poor"

    def test_draws_a_rise_in_green_and_a_fall_in_red(self) -> None:
        up_green = (27, 128, 56)
        down_red = (200, 30, 30)
        flat = open_png(render_ranking(board((row(band="fair", change=None),))))
        up = open_png(render_ranking(board((row(band="fair", change=1.5),))))
        down = open_png(render_ranking(board((row(band="fair", change=-2.0),))))
        assert count_colour(up, up_green) > count_colour(flat, up_green) + 50
        assert count_colour(down, down_red) > count_colour(flat, down_red) + 50

    def test_keeps_a_very_long_name_on_one_line(self) -> None:
        # Its speed is measured in bench/bench_render.py.
        short = open_png(render_ranking(board((row(),))))
        data = render_ranking(
            board((row(zone="长" * 50_000, cadre="x" * 50_000 + "\x00\t\n"),), note="注" * 9_999)
        )
        assert open_png(data).height <= short.height + 3 * 40

    def test_shows_at_most_max_rows_and_sums_up_the_rest(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(ranking, "MAX_ROWS", 4)
        heights = [
            open_png(render_ranking(board(tuple(row(i) for i in range(1, n + 1))))).height
            for n in (3, 4, 5, 40)
        ]
        per_row = heights[1] - heights[0]
        assert heights[2] == heights[1] + per_row  # one line: "另有 1 个片区未列出"
        assert heights[3] == heights[2]

    def test_max_rows_fit_in_a_photo_telegram_accepts(self) -> None:
        one, two = (
            open_png(render_ranking(board(tuple(row(i) for i in range(1, n + 1))))).height
            for n in (1, 2)
        )
        per_row = two - one
        tallest = one + MAX_ROWS * per_row  # all rows shown, plus the summary line
        # Telegram: width + height at most 10 000, ratio at most 20.
        assert RANKING_WIDTH + tallest <= 10_000
        assert tallest / RANKING_WIDTH <= 20


class TestBoardRow:
    @pytest.mark.parametrize(
        "changes",
        [
            {"band": "excellent"},
            {"rectification_rate": 96.5},  # a percentage where a fraction belongs
            {"rectification_rate": -0.1},
            {"rank": 0},
            {"score": float("nan")},
            {"change": float("inf")},
        ],
    )
    def test_refuses_values_the_board_cannot_show(self, changes: dict[str, object]) -> None:
        with pytest.raises(ValueError):
            row(**changes)  # type: ignore[arg-type]


class TestFormatting:
    @pytest.mark.parametrize(
        ("delta", "text"),
        [
            (1.5, "▲1.5"),
            (-2.0, "▼2.0"),
            (0.04, "持平"),
            (0.0, "持平"),
            (-0.0, "持平"),
            (12.25, "▲12.2"),
            (None, "—"),
        ],
    )
    def test_writes_the_change_with_an_arrow(self, delta: float | None, text: str) -> None:
        assert format_change(delta) == text

    @pytest.mark.parametrize(
        ("rate", "text"), [(0.965, "96.5%"), (1.0, "100.0%"), (0.0, "0.0%"), (None, "—")]
    )
    def test_writes_a_rate_as_a_percentage(self, rate: float | None, text: str) -> None:
        assert format_rate(rate) == text

    @pytest.mark.parametrize(
        ("score", "text"), [(85.0, "85.0"), (92.46, "92.5"), (None, "未评分")]
    )
    def test_writes_a_score_with_one_decimal(self, score: float | None, text: str) -> None:
        assert format_score(score) == text

    def test_fits_a_line_with_an_ellipsis_and_leaves_a_short_one_alone(self) -> None:
        font = load_font(28)
        assert fit_line("第三网格", font, 500) == "第三网格"
        cut = fit_line("Zhou Xiaoming-Alexander", font, 150)
        assert cut.endswith("…")
        assert cut.startswith("Zhou X")  # cut inside the word, not before it
        assert font.getlength(cut) <= 150

    def test_names_with_emoji_are_drawn_without_them_rather_than_as_boxes(self) -> None:
        plain = render_ranking(board((row(1, cadre="王建国", zone="东片区"),)))
        emoji = render_ranking(board((row(1, cadre="王建国🌸", zone="东片区🏠"),)))
        # No font we draw with has the flower: an empty box would change the picture.
        assert emoji == plain
        assert fit_line("👨\u200d👩\u200d👧 李明 1️⃣ 🇨🇳", load_font(28), 500) == "李明 1"

    def test_fits_control_characters_and_line_breaks_as_spaces(self) -> None:
        assert fit_line("王\t建\n国\x00", load_font(28), 500) == "王 建 国"


def test_the_board_footnote_says_when_it_was_generated_and_why_late() -> None:
    at = datetime(2026, 12, 3, 9, 5)
    assert board_note(at) == "生成时间：2026-12-03 09:05"
    assert board_note(at, "补发") == "生成时间：2026-12-03 09:05　补发"
