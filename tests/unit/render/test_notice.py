"""The rectification notice image, its text wrapping, and the CJK font lookup."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops

from bot.render import fonts
from bot.render.fonts import drawable, find_cjk_font, has_cjk_font, has_glyph, load_font
from bot.render.notice import (
    A4_RATIO,
    NOTICE_WIDTH,
    NoticeData,
    format_date_zh,
    format_datetime_zh,
    render_notice,
    wrap_text,
)

needs_cjk = pytest.mark.skipif(
    not has_cjk_font(),
    reason="no CJK font installed (apt-get install fonts-wqy-microhei); CI installs one",
)

GREEN = (0, 200, 0)


def notice(**changes: object) -> NoticeData:
    fields: dict[str, object] = {
        "community": "阳光花园社区",
        "ticket_no": "2026-0042",
        "zone": "第三网格",
        "cadre": "王建国",
        "place": "7号楼东侧绿化带",
        "category": "乱堆乱放",
        "description": "绿化带内堆放废旧家具和纸箱，占用消防通道。",
        "issued_at": datetime(2026, 11, 4, 9, 5),
        "deadline": date(2026, 11, 18),
    }
    fields.update(changes)
    return NoticeData(**fields)  # type: ignore[arg-type]


def open_png(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    assert img.format == "PNG"
    img.load()
    return img.convert("RGB")


Range = tuple[int, int]


def count_pixels(
    img: Image.Image, box: tuple[int, int, int, int], r: Range, g: Range, b: Range
) -> int:
    """Count the pixels in ``box`` whose channels all fall in the given ranges."""
    bands = img.crop(box).split()
    masks = [
        band.point(lambda v, lo=lo, hi=hi: 255 if lo <= v <= hi else 0)
        for band, (lo, hi) in zip(bands, (r, g, b), strict=True)
    ]
    both = ImageChops.darker(ImageChops.darker(masks[0], masks[1]), masks[2])
    return both.histogram()[255]


def count_red(img: Image.Image, box: tuple[int, int, int, int]) -> int:
    return count_pixels(img, box, (150, 255), (0, 90), (0, 90))


def count_green(img: Image.Image) -> int:
    return count_pixels(img, (0, 0, img.width, img.height), (0, 40), (170, 255), (0, 40))


def jpeg(colour: tuple[int, int, int], size: tuple[int, int] = (400, 300)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture(scope="module")
def sample_png() -> bytes:
    return render_notice(notice())


class TestRenderNotice:
    def test_png_opens_at_phone_width(self, sample_png: bytes) -> None:
        img = open_png(sample_png)

        assert img.width == NOTICE_WIDTH == 1080
        assert 1200 < img.height < 3000

    def test_background_is_white_and_title_region_is_red_ink(self, sample_png: bytes) -> None:
        img = open_png(sample_png)

        assert img.getpixel((5, 5)) == (255, 255, 255)
        # The title "整改通知单" sits centred about 100-200 px from the top, in red.
        assert count_red(img, (240, 100, 840, 210)) > 1500

    @needs_cjk
    def test_title_is_drawn_with_real_glyphs_when_cjk_font_is_present(
        self, sample_png: bytes
    ) -> None:
        font = load_font(64)
        left, _, right, _ = font.getbbox("整改通知单")

        assert right - left > 0
        assert has_glyph(font, "整")
        # Tofu draws every missing character as the same box; real glyphs differ.
        assert bytes(font.getmask("整")) != bytes(font.getmask("改"))
        # And the rendered title differs from the same word drawn as .notdef boxes.
        img = open_png(sample_png)
        assert count_red(img, (240, 100, 840, 210)) > 1500

    def test_before_photo_is_embedded_when_given(self, sample_png: bytes) -> None:
        with_photo = open_png(render_notice(notice(before_photo=jpeg(GREEN))))
        without = open_png(sample_png)

        assert count_green(with_photo) > 50_000
        assert count_green(without) == 0
        assert with_photo.height > without.height

    def test_notice_still_renders_when_photo_bytes_are_broken(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.WARNING, logger="bot.render.notice"):
            img = open_png(render_notice(notice(before_photo=b"\xff\xd8 not really a jpeg")))

        assert img.width == NOTICE_WIDTH
        assert "notice photo unreadable" in caplog.text

    def test_height_is_capped_when_description_is_very_long(self) -> None:
        long = open_png(render_notice(notice(description="占用消防通道。" * 300)))
        longer = open_png(render_notice(notice(description="占用消防通道。" * 3000)))

        assert long.height == longer.height < 2400

    @pytest.mark.parametrize(
        "photo",
        [None, jpeg(GREEN, (800, 600)), jpeg(GREEN, (600, 800)), b"not a jpeg"],
        ids=["no photo", "landscape", "portrait", "broken"],
    )
    @pytest.mark.parametrize("description", ["短", "占用消防通道。" * 300])
    def test_fits_an_a4_page(self, photo: bytes | None, description: str) -> None:
        img = open_png(
            render_notice(
                notice(
                    community="阳光花园社区" * 6,
                    zone="第三网格" * 6,
                    cadre="王建国" * 8,
                    place="7号楼东侧绿化带" * 6,
                    category="乱堆乱放" * 9,
                    description=description,
                    issued_at=datetime(2026, 12, 21, 19, 55),
                    deadline=date(2026, 12, 28),
                    before_photo=photo,
                )
            )
        )
        assert img.height <= img.width * A4_RATIO
        if has_cjk_font():
            # Reflowed to fit at phone width, not shrunk onto a wider page.
            assert img.width == NOTICE_WIDTH

    @pytest.mark.parametrize(
        ("one", "other"),
        [
            (datetime(2026, 12, 21, 9, 5), datetime(2026, 12, 21, 9, 6)),
            (datetime(2026, 12, 21, 19, 55), datetime(2026, 12, 21, 19, 58)),
            (datetime(2026, 11, 28, 23, 59), datetime(2026, 11, 28, 23, 58)),
        ],
    )
    def test_the_issue_time_is_drawn_to_the_minute_on_two_digit_days(
        self, one: datetime, other: datetime
    ) -> None:
        # Only the issue-time cell shows minutes: if they were cut off with "…", both
        # notices would be the same picture.
        assert render_notice(notice(issued_at=one)) != render_notice(notice(issued_at=other))

    def test_emoji_in_names_are_left_out_rather_than_drawn_as_boxes(self) -> None:
        plain = render_notice(notice(cadre="王建国", description="楼道堆物"))
        emoji = render_notice(notice(cadre="王建国🌸", description="楼道堆物😡"))
        assert emoji == plain

    def test_control_characters_and_latin_text_do_not_break_rendering(self) -> None:
        png = render_notice(
            notice(
                place="Building 7\tEast\r\nside\x1b[31m",
                description="Line one\r\nLine two\x00 with a verylongwordthatdoesnotfit" * 5,
                issued_at=date(2026, 1, 2),
            )
        )

        assert open_png(png).width == NOTICE_WIDTH


class TestFormatting:
    def test_date_is_written_without_zero_padding(self) -> None:
        assert format_date_zh(date(2026, 11, 18)) == "2026年11月18日"
        assert format_date_zh(date(2026, 1, 5)) == "2026年1月5日"

    def test_datetime_adds_hours_and_minutes(self) -> None:
        assert format_datetime_zh(datetime(2026, 11, 4, 9, 5)) == "2026年11月4日 09:05"
        assert format_datetime_zh(date(2026, 11, 4)) == "2026年11月4日"


class TestWrapText:
    font = load_font(30)

    def width(self, text: str) -> float:
        return float(self.font.getlength(text))

    def test_chinese_wraps_between_any_two_characters(self) -> None:
        text = "一二三四五六七八九十"
        max_width = self.width("一二三") + 2

        lines = wrap_text(text, self.font, max_width)

        assert lines == ["一二三", "四五六", "七八九", "十"]

    def test_latin_wraps_between_words_only(self) -> None:
        max_width = self.width("hello world") + 2

        lines = wrap_text("hello world again and again", self.font, max_width)

        assert lines == ["hello world", "again and", "again"]

    def test_word_longer_than_line_breaks_by_character(self) -> None:
        max_width = self.width("abcdefgh")

        lines = wrap_text("abcdefghijklmnopqrstuvwxyz", self.font, max_width)

        assert "".join(lines) == "abcdefghijklmnopqrstuvwxyz"
        assert all(self.width(line) <= max_width for line in lines)

    def test_closing_punctuation_never_starts_a_line(self) -> None:
        max_width = self.width("一二三") + 2

        lines = wrap_text("一二三，四五六。", self.font, max_width)

        assert lines == ["一二三，", "四五六。"]

    def test_explicit_line_breaks_start_new_lines(self) -> None:
        assert wrap_text("第一行\n第二行", self.font, 1000) == ["第一行", "第二行"]

    def test_text_beyond_max_lines_is_cut_with_ellipsis(self) -> None:
        max_width = self.width("一二三四五") + 2

        lines = wrap_text("一二三四五" * 10, self.font, max_width, max_lines=2)

        assert len(lines) == 2
        assert lines[-1].endswith("…")
        assert self.width(lines[-1]) <= max_width

    def test_huge_text_is_cut_when_lines_are_capped(self) -> None:
        # Its speed is measured in bench/bench_render.py.
        for text in ("x" * 100_000, "家" * 100_000, "word " * 20_000):
            lines = wrap_text(text, self.font, 780, max_lines=3)
            assert len(lines) == 3
            assert lines[-1].endswith("…")

    @settings(max_examples=60, deadline=None)
    @given(
        text=st.text(alphabet="家园社区整改通知，。 abcXYZ019-/", max_size=80),
        max_width=st.integers(40, 600),
    )
    def test_lines_fit_and_keep_every_character(self, text: str, max_width: int) -> None:
        lines = wrap_text(text, self.font, max_width)

        widest_glyph = max((self.width(ch) for ch in text), default=0)
        for line in lines:
            # A line overshoots only by one hanging punctuation mark or one lone glyph.
            assert self.width(line) <= max_width + widest_glyph
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")


@pytest.fixture
def fresh_font_cache() -> Iterator[None]:
    find_cjk_font.cache_clear()
    load_font.cache_clear()
    yield
    find_cjk_font.cache_clear()
    load_font.cache_clear()


DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


class TestDrawable:
    def test_drops_emoji_and_the_parts_of_their_sequences(self) -> None:
        font = load_font(30)
        assert drawable("王建国🌸", font) == "王建国"
        assert drawable("👍🏽 1️⃣号楼 🏴\U000e0067\U000e0062\U000e007f", font) == " 1号楼 "
        assert drawable("plain text", font) == "plain text"

    @pytest.mark.skipif(not DEJAVU.is_file(), reason="DejaVu Sans is not installed")
    def test_keeps_a_symbol_the_font_draws(self) -> None:
        from PIL import ImageFont

        font = ImageFont.truetype(str(DEJAVU), 30)
        assert has_glyph(font, "★") and not has_glyph(font, "🌸")
        assert drawable("★五星户🌸", font) == "★五星户"


class TestFonts:
    @needs_cjk
    def test_env_font_is_used_when_it_has_chinese_glyphs(
        self, monkeypatch: pytest.MonkeyPatch, fresh_font_cache: None
    ) -> None:
        found = find_cjk_font()
        assert found is not None
        monkeypatch.setenv(fonts.FONT_ENV, str(found.path))
        monkeypatch.setattr(fonts, "_KNOWN_PATHS", ())
        find_cjk_font.cache_clear()

        assert find_cjk_font() == found

    def test_falls_back_to_default_font_with_one_warning_when_none_is_found(
        self,
        monkeypatch: pytest.MonkeyPatch,
        fresh_font_cache: None,
        tmp_path: Path,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        not_a_font = tmp_path / "font.ttf"
        not_a_font.write_text("not a font")
        monkeypatch.setenv(fonts.FONT_ENV, str(not_a_font))
        monkeypatch.setattr(fonts, "_KNOWN_PATHS", ())
        monkeypatch.setattr(fonts, "_fc_match", lambda: None)

        with caplog.at_level(logging.WARNING, logger="bot.render.fonts"):
            assert not has_cjk_font()
            font = load_font(30)
            load_font(40)
            png = render_notice(notice())

        assert font.getlength("abc") > 0
        assert caplog.text.count("no CJK font found") == 1
        assert "fonts-wqy-microhei" in caplog.text
        assert open_png(png).width == NOTICE_WIDTH
