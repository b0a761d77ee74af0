"""Render the monthly ranking board (月讲评 排名, 上墙公布) as a PNG.

One table, the way a community office posts it on the wall: a red title
"{community} {month} 文明创建月度排名", then one row per zone with 名次 / 片区 / 责任人 /
得分 / 较上月 / 整改率, each row tinted by its band (good, fair, poor, unrated), a legend of
the bands and a footnote (typically when the board was generated).

Rows are drawn in the order given: the caller ranks them (``bot.domain.scoring.rank``) and
puts the unrated zones last. All strings arrive display-ready; they are drawn as text (no
HTML), control characters removed, and cut with "…" to fit their column. Rates are
fractions (0.965 is drawn as 96.5%). At most ``MAX_ROWS`` rows are drawn, so the image
stays within Telegram's photo limits; the rest are summarised in one line.

Rendering takes about 0.1 s of CPU: async callers use
``await run_background_image_work(render_ranking, board)`` (``bot.render.worker``).
"""

from __future__ import annotations

import io
import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from PIL import Image, ImageDraw, ImageFont

from bot.render.fonts import drawable, load_font
from bot.render.notice import ELLIPSIS, wrap_text

__all__ = [
    "BANDS",
    "MAX_ROWS",
    "RANKING_WIDTH",
    "BoardRow",
    "RankingBoard",
    "fit_line",
    "format_change",
    "format_rate",
    "format_score",
    "render_ranking",
]

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
RGB = tuple[int, int, int]

RANKING_WIDTH = 1080
# Telegram refuses photos whose width + height exceeds 10 000 px; 120 rows stay well below.
MAX_ROWS = 120
BANDS = ("good", "fair", "poor", "unrated")  # the values of scoring.Band, plus "unrated"

_MARGIN = 48
_CONTENT_W = RANKING_WIDTH - 2 * _MARGIN
_HEADER_H = 64
_ROW_H = 60
_STRIP_W = 8
# No cell is wider than this many characters of the smallest font: a longer text is cut
# before it is measured, so a hostile 100 000-character name costs nothing.
_MAX_CHARS = 200
_PAD = 14

_RED = (196, 18, 28)
_INK = (30, 30, 30)
_MUTED = (110, 110, 110)
_GRID = (214, 210, 204)
_FRAME = (90, 90, 90)
_HEAD_BG = (246, 243, 238)
_WHITE = (255, 255, 255)
_UP = (27, 128, 56)
_DOWN = (200, 30, 30)

# (row tint, strip and swatch colour) per band: soft enough to read black text on.
_BAND_COLOURS: dict[str, tuple[RGB, RGB]] = {
    "good": ((233, 245, 234), (56, 142, 60)),
    "fair": ((255, 244, 214), (230, 150, 0)),
    "poor": ((252, 228, 228), (200, 40, 40)),
    "unrated": ((241, 241, 241), (160, 160, 160)),
}

# Column titles and widths; the widths add up to the content width.
_COLUMNS: tuple[tuple[str, int], ...] = (
    ("名次", 100),
    ("片区", 300),  # room for nine Chinese characters, a common length for a zone name
    ("责任人", 172),
    ("得分", 128),
    ("较上月", 136),
    ("整改率", 148),
)
assert sum(w for _, w in _COLUMNS) == _CONTENT_W


@dataclass(frozen=True, slots=True)
class BoardRow:
    """One zone on the board; strings are display-ready."""

    rank: int | None  # None for an unrated zone
    zone: str  # 片区
    cadre: str  # 责任人
    score: float | None  # None: 未评分
    change: float | None  # points against last month; None: not comparable
    band: str  # one of BANDS; scoring.Band values are accepted as they are
    rectification_rate: float | None  # 整改率 as a fraction 0..1; None: too few tickets

    def __post_init__(self) -> None:
        if self.band not in BANDS:
            raise ValueError(f"band must be one of {BANDS}, got {self.band!r}")
        if self.rank is not None and self.rank < 1:
            raise ValueError(f"rank must be at least 1, got {self.rank}")
        rate = self.rectification_rate
        if rate is not None and not 0.0 <= rate <= 1.0:
            raise ValueError(f"rectification_rate is a fraction 0..1, got {rate!r}")
        for name in ("score", "change"):
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                raise ValueError(f"{name} must be finite, got {value!r}")


@dataclass(frozen=True, slots=True)
class RankingBoard:
    """A month's board: title parts, the rows in display order, and a footnote."""

    community: str
    month_label: str  # e.g. "2026年11月" (YearMonth.label_zh)
    rows: tuple[BoardRow, ...]
    note: str = ""  # footnote, e.g. "生成时间：2026年12月1日 09:00"
    talk_threshold: float = 83.0  # only for the legend: the bands come with the rows
    award_threshold: float = 85.0


def format_score(score: float | None) -> str:
    return "未评分" if score is None else f"{score:.1f}"


def format_rate(rate: float | None) -> str:
    """A fraction as a percentage with one decimal (0.965 → 96.5%); None → "—"."""
    return "—" if rate is None else f"{rate * 100:.1f}%"


def format_change(delta: float | None) -> str:
    """Text of the change column: ▲1.5, ▼2.0, 持平, or "—" when not comparable."""
    if delta is None:
        return "—"
    if round(delta, 1) == 0:
        return "持平"
    return f"{'▲' if delta > 0 else '▼'}{abs(delta):.1f}"


def _threshold(value: float) -> str:
    return f"{value:g}"


def fit_line(text: str, font: Font, width: float) -> str:
    """``text`` on one line, cut with "…" (mid-word if need be) when wider than ``width``;
    emoji the font cannot draw are left out."""
    text = drawable(text, font)
    text = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in text)
    text = " ".join(text.split())[:_MAX_CHARS]
    if font.getlength(text) <= width:
        return text
    low, high = 0, len(text)  # bisect the longest prefix that fits with the ellipsis
    while low < high:
        mid = (low + high + 1) // 2
        if font.getlength(text[:mid].rstrip() + ELLIPSIS) <= width:
            low = mid
        else:
            high = mid - 1
    return text[:low].rstrip() + ELLIPSIS


class _Board:
    """A tall canvas with a vertical cursor, cropped to what was drawn at the end."""

    def __init__(self, height: int) -> None:
        self.image = Image.new("RGB", (RANKING_WIDTH, height), _WHITE)
        self.draw = ImageDraw.Draw(self.image)
        self.y = 0

    def text(
        self,
        xy: tuple[float, float],
        text: str,
        font: Font,
        fill: RGB = _INK,
        anchor: str = "la",
        bold: bool = False,
    ) -> None:
        # WenQuanYi has no bold face: a thin stroke in the text colour gives the weight.
        stroke = max(1, round(getattr(font, "size", 20) / 40)) if bold else 0
        self.draw.text(
            xy, text, font=font, fill=fill, anchor=anchor, stroke_width=stroke, stroke_fill=fill
        )

    def png(self) -> bytes:
        out = io.BytesIO()
        self.image.crop((0, 0, RANKING_WIDTH, self.y)).save(out, "PNG", compress_level=1)
        return out.getvalue()


def _title(board: _Board, community: str, month: str) -> None:
    big, medium = load_font(44), load_font(36)
    full = f"{community} {month} 文明创建月度排名".strip()
    centre = RANKING_WIDTH / 2
    board.y = 52
    if big.getlength(full) <= _CONTENT_W:
        board.text((centre, board.y + 24), full, big, _RED, "mm", bold=True)
        board.y += 60
    else:
        # A long community name gets a line of its own rather than a tiny title.
        board.text(
            (centre, board.y + 20), fit_line(community, medium, _CONTENT_W), medium, _RED, "mm"
        )
        line = fit_line(f"{month} 文明创建月度排名", big, _CONTENT_W)
        board.text((centre, board.y + 76), line, big, _RED, "mm", bold=True)
        board.y += 112
    # The red double rule under an official heading (红头).
    board.draw.line([(_MARGIN, board.y), (RANKING_WIDTH - _MARGIN, board.y)], _RED, 4)
    board.draw.line([(_MARGIN, board.y + 8), (RANKING_WIDTH - _MARGIN, board.y + 8)], _RED, 1)
    board.y += 24


def _summary(board: _Board, rows: Sequence[BoardRow]) -> None:
    small = load_font(24)
    rated = sum(1 for r in rows if r.score is not None)
    text = f"参评片区 {rated} 个"
    if len(rows) > rated:
        text += f"，未评分 {len(rows) - rated} 个"
    board.text((_MARGIN, board.y + 18), text, small, _MUTED, "lm")
    board.text((RANKING_WIDTH - _MARGIN, board.y + 18), "满分 100 分", small, _MUTED, "rm")
    board.y += 48


def _column_lefts() -> list[int]:
    lefts, x = [], _MARGIN
    for _, width in _COLUMNS:
        lefts.append(x)
        x += width
    return lefts


def _header(board: _Board) -> None:
    font = load_font(28)
    top, bottom = board.y, board.y + _HEADER_H
    board.draw.rectangle((_MARGIN, top, RANKING_WIDTH - _MARGIN, bottom), fill=_HEAD_BG)
    for (title, width), left in zip(_COLUMNS, _column_lefts(), strict=True):
        board.text((left + width / 2, top + _HEADER_H / 2), title, font, _INK, "mm", bold=True)
    board.draw.line([(_MARGIN, bottom), (RANKING_WIDTH - _MARGIN, bottom)], _FRAME, 2)
    board.y = bottom


def _rank_badge(board: _Board, cx: float, cy: float, rank: int, font: Font) -> None:
    """Ranks 1-3 in a red disc, like the medals on a paper board; the rest as plain digits."""
    if rank <= 3:
        r = 20
        board.draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=_RED)
        board.text((cx, cy), str(rank), font, _WHITE, "mm", bold=True)
    else:
        board.text((cx, cy), fit_line(str(rank), font, 80), font, _INK, "mm", bold=True)


def _triangle(board: _Board, x: float, cy: float, up: bool, colour: RGB) -> None:
    # Drawn, not typed: the glyphs ▲▼ differ in size and baseline from font to font.
    half, h = 8, 14
    if up:
        points = [(x, cy + h / 2), (x + 2 * half, cy + h / 2), (x + half, cy - h / 2)]
    else:
        points = [(x, cy - h / 2), (x + 2 * half, cy - h / 2), (x + half, cy + h / 2)]
    board.draw.polygon(points, fill=colour)


def _change_cell(board: _Board, cx: float, cy: float, delta: float | None, font: Font) -> None:
    text = format_change(delta)
    if text in ("—", "持平"):
        board.text((cx, cy), text, font, _MUTED, "mm")
        return
    up = text.startswith("▲")
    number = text[1:]
    colour = _UP if up else _DOWN
    gap = 6
    total = 16 + gap + font.getlength(number)
    left = cx - total / 2
    _triangle(board, left, cy, up, colour)
    board.text((left + 16 + gap, cy), number, font, colour, "lm", bold=True)


def _row(board: _Board, row: BoardRow, fonts: tuple[Font, Font]) -> None:
    body, digits = fonts
    tint, strip = _BAND_COLOURS[row.band]
    top, bottom = board.y, board.y + _ROW_H
    cy = top + _ROW_H / 2
    board.draw.rectangle((_MARGIN, top, RANKING_WIDTH - _MARGIN, bottom), fill=tint)
    board.draw.rectangle((_MARGIN, top, _MARGIN + _STRIP_W, bottom), fill=strip)
    lefts = _column_lefts()
    widths = [w for _, w in _COLUMNS]
    centres = [left + w / 2 for left, w in zip(lefts, widths, strict=True)]

    if row.rank is None:
        board.text((centres[0], cy), "—", digits, _MUTED, "mm")
    else:
        _rank_badge(board, centres[0] + _STRIP_W / 2, cy, row.rank, digits)
    for col, text in ((1, row.zone), (2, row.cadre)):
        fitted = fit_line(text, body, widths[col] - 2 * _PAD)
        board.text((lefts[col] + _PAD, cy), fitted, body, _INK, "lm")
    if row.score is None:
        board.text((centres[3], cy), format_score(None), body, _MUTED, "mm")
    else:
        board.text((centres[3], cy), format_score(row.score), digits, _INK, "mm", bold=True)
    _change_cell(board, centres[4], cy, row.change, digits)
    rate = format_rate(row.rectification_rate)
    colour = _MUTED if row.rectification_rate is None else _INK
    board.text((centres[5], cy), rate, digits, colour, "mm")
    board.draw.line([(_MARGIN, bottom), (RANKING_WIDTH - _MARGIN, bottom)], _GRID, 1)
    board.y = bottom


def _empty_row(board: _Board) -> None:
    font = load_font(30)
    top = board.y
    board.draw.rectangle((_MARGIN, top, RANKING_WIDTH - _MARGIN, top + 2 * _ROW_H), fill=_WHITE)
    board.text((RANKING_WIDTH / 2, top + _ROW_H), "本月暂无评分", font, _MUTED, "mm")
    board.y = top + 2 * _ROW_H


def _more_row(board: _Board, hidden: int) -> None:
    font = load_font(26)
    top = board.y
    text = f"另有 {hidden} 个片区未列出，详见台账"
    board.text((RANKING_WIDTH / 2, top + _ROW_H / 2), text, font, _MUTED, "mm")
    board.draw.line([(_MARGIN, top + _ROW_H), (RANKING_WIDTH - _MARGIN, top + _ROW_H)], _GRID, 1)
    board.y = top + _ROW_H


def _frame(board: _Board, top: int, columns_bottom: int) -> None:
    """Outline the table; column rules run down to ``columns_bottom``."""
    x = _MARGIN
    for _, width in _COLUMNS[:-1]:
        x += width
        board.draw.line([(x, top), (x, columns_bottom)], _GRID, 1)
    box = (_MARGIN, top, RANKING_WIDTH - _MARGIN, board.y)
    board.draw.rectangle(box, outline=_FRAME, width=2)


def _legend(board: _Board, talk: float, award: float) -> None:
    font = load_font(24)
    items = (
        ("good", f"{_threshold(award)}分及以上"),
        ("fair", f"{_threshold(talk)}–{_threshold(award)}分"),
        ("poor", f"低于{_threshold(talk)}分（约谈）"),
        ("unrated", "未评分"),
    )
    board.y += 22
    cy = board.y + 18
    x: float = _MARGIN
    board.text((x, cy), "图例：", font, _MUTED, "lm")
    x += font.getlength("图例：") + 6
    for band, label in items:
        tint, strip = _BAND_COLOURS[band]
        board.draw.rectangle((x, cy - 13, x + 34, cy + 13), fill=tint, outline=strip, width=2)
        board.draw.rectangle((x, cy - 13, x + 6, cy + 13), fill=strip)
        x += 44
        board.text((x, cy), label, font, _INK, "lm")
        x += font.getlength(label) + 28
    board.y += 40


def _footnote(board: _Board, note: str) -> None:
    font = load_font(22)
    lines = wrap_text(note, font, _CONTENT_W - 30, max_lines=3) if note.strip() else []
    board.y += 10
    for line in lines:
        board.text((_MARGIN, board.y + 14), line, font, _MUTED, "lm")
        board.y += 32


def board_note(generated_at: datetime, late_note: str | None = None) -> str:
    """The footnote: when the board was generated (local time), and why it is late."""
    note = f"生成时间：{generated_at:%Y-%m-%d %H:%M}"
    return f"{note}　{late_note}" if late_note else note


def render_ranking(board: RankingBoard) -> bytes:
    """Draw the monthly ranking board and return it as PNG bytes (1080 px wide)."""
    shown = board.rows[:MAX_ROWS]
    hidden = len(board.rows) - len(shown)
    # Generous upper bound on the height; the canvas is cropped to what was drawn.
    height = 600 + _ROW_H * (len(shown) + 2)
    sheet = _Board(height)
    _title(sheet, board.community, board.month_label)
    _summary(sheet, board.rows)
    table_top = sheet.y
    _header(sheet)
    fonts = (load_font(28), load_font(30))
    if not shown:
        _empty_row(sheet)
    for row in shown:
        _row(sheet, row, fonts)
    body_bottom = sheet.y
    if hidden:
        _more_row(sheet, hidden)
    # Column rules only down the data rows: the empty and "more" rows span the table.
    _frame(sheet, table_top, body_bottom if shown else table_top + _HEADER_H)
    _legend(sheet, board.talk_threshold, board.award_threshold)
    _footnote(sheet, board.note)
    sheet.y += 36
    return sheet.png()
