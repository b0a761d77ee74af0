"""Render a zone's monthly score trend (月度得分走势) as a PNG line chart.

Usually twelve months, oldest first, labelled the way the caller wants: "2026年1月" puts
"1月" on the axis and the year under the first month and under each January, so a chart
that spans two years says which; a label without "年" is drawn as it is.
A month without a score (None) leaves a gap in the line and is marked 未评分 on the axis.
The dashed threshold lines show where a talk (约谈, below 83) and an award (85 and above)
begin. The y axis runs from 100 down to 60, or lower when a score is lower, so that a
bad month is never drawn off the chart.

Drawn with Pillow only; about 0.05 s of CPU (``bot.render.worker.run_image_work`` from
async code).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

from bot.domain.scoring import YearMonth
from bot.render.fonts import load_font
from bot.render.ranking import fit_line

__all__ = ["TREND_HEIGHT", "TREND_WIDTH", "YEAR_MARK", "render_trend", "y_range"]

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
RGB = tuple[int, int, int]

TREND_WIDTH = 1080
TREND_HEIGHT = 740
YEAR_MARK = "年"  # splits a label such as "2026年1月" into the year and the month

# The plot area; the left margin holds the y labels, the right one the threshold labels.
_LEFT, _RIGHT = 104, TREND_WIDTH - 150
_TOP, _BOTTOM = 172, TREND_HEIGHT - 120

_RED = (196, 18, 28)
_INK = (30, 30, 30)
_MUTED = (120, 120, 120)
_GRID = (228, 226, 222)
_AXIS = (90, 90, 90)
_WHITE = (255, 255, 255)
_LINE = (31, 78, 140)  # a sober official blue for the score line
_GOOD = (56, 142, 60)
_FAIR = (230, 150, 0)
_POOR = (200, 40, 40)
_GOOD_TINT = (242, 249, 242)
_POOR_TINT = (253, 243, 243)


def y_range(values: Sequence[float | None]) -> tuple[float, float]:
    """The y axis: from min(60, lowest score) rounded down to a multiple of 5, up to 100.

    A score above 100 (a bonus scheme) raises the top to the next multiple of 5.
    """
    rated = [v for v in values if v is not None]
    low = min([60.0, *rated])
    high = max([100.0, *rated])
    return 5 * math.floor(low / 5), 5 * math.ceil(high / 5)


def _dashed(
    draw: ImageDraw.ImageDraw, y: float, colour: RGB, dash: int = 12, gap: int = 8
) -> None:
    x = _LEFT
    while x < _RIGHT:
        draw.line([(x, y), (min(x + dash, _RIGHT), y)], fill=colour, width=2)
        x += dash + gap


def _bold(
    draw: ImageDraw.ImageDraw,
    xy: tuple[float, float],
    text: str,
    font: Font,
    fill: RGB,
    anchor: str,
) -> None:
    # WenQuanYi has no bold face: a thin stroke in the text colour gives the weight.
    stroke = max(1, round(getattr(font, "size", 20) / 40))
    draw.text(xy, text, font=font, fill=fill, anchor=anchor, stroke_width=stroke, stroke_fill=fill)


def _band_colour(score: float, talk: float, award: float) -> RGB:
    if score >= award:
        return _GOOD
    return _FAIR if score >= talk else _POOR


def month_points(
    points: Sequence[tuple[YearMonth, float | None]],
) -> list[tuple[str, float | None]]:
    """Labelled with the year: twelve months back from January reach into the year before."""
    return [(month.label_zh, score) for month, score in points]


def render_trend(
    zone: str,
    points: Sequence[tuple[str, float | None]],
    *,
    talk_threshold: float = 83.0,
    award_threshold: float = 85.0,
) -> bytes:
    """Draw the score of each month as a line with gaps for unrated months; PNG bytes."""
    for label, value in points:
        if value is not None and not math.isfinite(value):
            raise ValueError(f"score for {label!r} must be finite, got {value!r}")
    image = Image.new("RGB", (TREND_WIDTH, TREND_HEIGHT), _WHITE)
    draw = ImageDraw.Draw(image)
    title_font, label_font = load_font(40), load_font(24)
    small, tiny = load_font(22), load_font(20)

    # Title, the red rule of the ranking board, and what the chart covers.
    title = fit_line(f"{zone} 月度得分走势", title_font, TREND_WIDTH - 96)
    _bold(draw, (TREND_WIDTH / 2, 62), title, title_font, _RED, "mm")
    draw.line([(48, 104), (TREND_WIDTH - 48, 104)], fill=_RED, width=3)
    rated = [v for _, v in points if v is not None]
    subtitle = f"共 {len(points)} 个月，评分 {len(rated)} 个月（满分 100 分）" if points else ""
    draw.text((48, 134), subtitle, font=small, fill=_MUTED, anchor="lm")

    low, high = y_range([v for _, v in points])

    def y_of(value: float) -> float:
        return _BOTTOM - (value - low) / (high - low) * (_BOTTOM - _TOP)

    # Tinted zones above the award line and below the talk line, under everything else.
    award_y = y_of(min(max(award_threshold, low), high))
    talk_y = y_of(min(max(talk_threshold, low), high))
    draw.rectangle((_LEFT, _TOP, _RIGHT, award_y), fill=_GOOD_TINT)
    draw.rectangle((_LEFT, talk_y, _RIGHT, _BOTTOM), fill=_POOR_TINT)

    step = 5 if high - low <= 50 else 10
    tick = low
    while tick <= high:
        y = y_of(tick)
        draw.line([(_LEFT, y), (_RIGHT, y)], fill=_GRID, width=1)
        draw.text((_LEFT - 14, y), f"{tick:g}", font=small, fill=_MUTED, anchor="rm")
        tick += step

    # Threshold lines: the award label sits above its line, the talk label below, since
    # the two lines are only a few pixels apart.
    for value, colour, text, anchor, dy in (
        (award_threshold, _GOOD, f"{award_threshold:g} 良好线", "ls", -6),
        (talk_threshold, _POOR, f"{talk_threshold:g} 约谈线", "lt", 6),
    ):
        if low <= value <= high:
            y = y_of(value)
            _dashed(draw, y, colour)
            draw.text((_RIGHT + 10, y + dy), text, font=tiny, fill=colour, anchor=anchor)

    draw.line([(_LEFT, _TOP), (_LEFT, _BOTTOM)], fill=_AXIS, width=2)
    draw.line([(_LEFT, _BOTTOM), (_RIGHT, _BOTTOM)], fill=_AXIS, width=2)

    if not points or not rated:
        cx, cy = (_LEFT + _RIGHT) / 2, (_TOP + _BOTTOM) / 2
        half = label_font.getlength("暂无评分数据") / 2 + 24
        draw.rounded_rectangle((cx - half, cy - 30, cx + half, cy + 30), 8, _WHITE, _GRID, 2)
        draw.text((cx, cy), "暂无评分数据", font=label_font, fill=_MUTED, anchor="mm")
    slot = (_RIGHT - _LEFT) / max(1, len(points))
    xs = [_LEFT + (i + 0.5) * slot for i in range(len(points))]
    shown_year = ""
    for x, (label, value) in zip(xs, points, strict=True):
        draw.line([(x, _BOTTOM), (x, _BOTTOM + 6)], fill=_AXIS, width=2)
        colour = _INK if value is not None else _MUTED
        year, marked, month = label.partition(YEAR_MARK)
        if marked:
            label = month
            if year != shown_year:
                # The year once where it starts: twelve "2026年" would not fit the slots.
                draw.text((x, _BOTTOM + 62), year + YEAR_MARK, font=tiny, fill=_MUTED, anchor="mm")
                shown_year = year
        text = fit_line(label, label_font, slot - 4)
        draw.text((x, _BOTTOM + 30), text, font=label_font, fill=colour, anchor="mm")
        if value is None:
            draw.text((x, _BOTTOM - 18), "未评分", font=tiny, fill=_MUTED, anchor="mm")

    # The line joins neighbouring rated months only: an unrated month is a gap, not a slope.
    for i in range(len(points) - 1):
        a, b = points[i][1], points[i + 1][1]
        if a is not None and b is not None:
            draw.line([(xs[i], y_of(a)), (xs[i + 1], y_of(b))], fill=_LINE, width=4)
    for x, (_, value) in zip(xs, points, strict=True):
        if value is None:
            continue
        y = y_of(value)
        r = 8
        dot = _band_colour(value, talk_threshold, award_threshold)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=_WHITE, outline=dot, width=4)
        # Values sit above their dot, or below it when the dot is at the top of the chart.
        above = y - 24 > _TOP + 4
        # A white halo keeps the value readable where it crosses a line.
        draw.text(
            (x, y - 22 if above else y + 22),
            f"{value:.1f}",
            font=tiny,
            fill=_INK,
            anchor="mm",
            stroke_width=3,
            stroke_fill=_WHITE,
        )

    # Legend of the dot colours, at the bottom.
    legend_y = TREND_HEIGHT - 34
    x = float(_LEFT)
    for colour, text in (
        (_GOOD, f"{award_threshold:g}分及以上"),
        (_FAIR, f"{talk_threshold:g}–{award_threshold:g}分"),
        (_POOR, f"低于{talk_threshold:g}分"),
    ):
        draw.ellipse((x, legend_y - 8, x + 16, legend_y + 8), fill=_WHITE, outline=colour, width=4)
        x += 24
        draw.text((x, legend_y), text, font=tiny, fill=_INK, anchor="lm")
        x += tiny.getlength(text) + 30

    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)
    return out.getvalue()
