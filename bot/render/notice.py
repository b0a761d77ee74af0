"""Render the rectification notice (整改通知单) that goes with a ticket, as a PNG.

The notice is a two-part paper form, drawn the way a community office would print it:

- the upper part, 第一联 责任单位联, is for the responsible party: what is wrong, where,
  who answers for it, the before-photo and the deadline;
- below a dashed cut line, the stub 第二联 督查留存联 stays with the inspectors for the
  re-check (回头看): ticket number, place, deadline, and blank fields to fill in by hand
  (整改情况 / 复查人 / 复查日期).

All strings arrive formatted by the caller (ticket number, names, category label); dates
arrive as ``date``/``datetime`` and are written as ``2026年11月18日``. Text is drawn as-is:
nothing here is HTML. Long text is wrapped by pixel width - Chinese may break between any
two characters, Latin text only between words - and capped with "…" so a long complaint
cannot stretch the image.

Rendering takes about 0.2 s of CPU: async callers use
``await run_background_image_work(render_notice, data)`` (``bot.render.worker``). With no CJK font
installed the image still renders, with empty boxes for Chinese (see ``bot.render.fonts``).
"""

from __future__ import annotations

import io
import logging
import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from PIL import Image, ImageDraw, ImageFont, ImageOps

from bot.render.fonts import drawable, has_glyph, load_font

__all__ = [
    "A4_RATIO",
    "NOTICE_WIDTH",
    "NoticeData",
    "format_date_zh",
    "format_datetime_zh",
    "render_notice",
    "wrap_text",
]

log = logging.getLogger(__name__)

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

NOTICE_WIDTH = 1080
# An A4 page is 1 : √2; a notice taller than that would be shrunk to fit when printed.
A4_RATIO = 2**0.5
ELLIPSIS = "…"

# Geometry (pixels). The image is a phone-screen-wide sheet; Telegram shows it full width.
_MARGIN = 56
_CONTENT_W = NOTICE_WIDTH - 2 * _MARGIN
_LABEL_W = 150
_CELL_PAD = 20
_ROW_H = 60
# The before-photo sits at the right of the description, not in a row of its own, so the
# whole notice fits an A4 page at a legible text size.
_PHOTO_BOX = (380, 300)
_DESCRIPTION_MAX_LINES = 7
_CANVAS_MAX_H = 4000  # drawn on a tall sheet, then cropped to what was used

# Colours: the red of official headings, near-black ink, thin grey rules.
_RED = (196, 18, 28)
_INK = (30, 30, 30)
_MUTED = (105, 105, 105)
_RULE = (64, 64, 64)
_LABEL_BG = (246, 243, 238)
_WHITE = (255, 255, 255)

# Closing punctuation that must not start a line (避头尾): it hangs at the end instead.
_NO_LINE_START = set("，。、；：？！）」』】》〉”’,.;:?!)]}%…·")


@dataclass(frozen=True, slots=True)
class NoticeData:
    """What a rectification notice shows; strings are final, display-ready text."""

    community: str  # 社区名称, e.g. "阳光花园社区"
    ticket_no: str  # e.g. "2026-0042"
    zone: str  # 责任片区
    cadre: str  # 责任人 (the zone's responsible cadre)
    place: str  # 问题地点
    category: str  # 问题类别
    description: str  # 问题描述; may contain line breaks
    issued_at: date  # a datetime shows minutes too; local wall-clock time, not converted
    deadline: date  # 整改期限
    before_photo: bytes | None = field(default=None, repr=False)  # sanitised JPEG


def format_date_zh(day: date) -> str:
    """Write a date the Chinese way, without zero padding: ``2026年11月8日``."""
    return f"{day.year}年{day.month}月{day.day}日"


def format_datetime_zh(moment: date) -> str:
    """Write a date, plus ``HH:MM`` when it is a ``datetime``: ``2026年11月4日 09:05``."""
    if isinstance(moment, datetime):
        return f"{format_date_zh(moment)} {moment:%H:%M}"
    return format_date_zh(moment)


def _clean(text: str, *, single_line: bool) -> str:
    """Replace control characters (tabs, stray CRs, escapes) that fonts cannot draw."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    out = []
    for ch in text:
        if ch == "\n":
            out.append(" " if single_line else "\n")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out).strip()


def _is_wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


def _tokens(paragraph: str) -> list[str]:
    """Split into break units: one token per CJK character, Latin words, and spaces."""
    tokens: list[str] = []
    word = ""
    for ch in paragraph:
        if ch.isspace() or _is_wide(ch):
            if word:
                tokens.append(word)
                word = ""
            tokens.append(" " if ch.isspace() else ch)
        else:
            word += ch
    if word:
        tokens.append(word)
    return tokens


def _width(font: Font, text: str) -> float:
    return float(font.getlength(text))


def _ellipsize(line: str, font: Font, max_width: float) -> str:
    """Shorten ``line`` until it fits with a trailing "…"."""
    line = line.rstrip()
    while line and _width(font, line + ELLIPSIS) > max_width:
        line = line[:-1].rstrip()
    return line + ELLIPSIS


def _longest_fitting_prefix(text: str, font: Font, max_width: float) -> int:
    """Length of the longest prefix of ``text`` that fits (at least 1), by bisection."""
    low, high = 1, len(text)
    while low < high:
        mid = (low + high + 1) // 2
        if _width(font, text[:mid]) <= max_width:
            low = mid
        else:
            high = mid - 1
    return low


def _wrap_paragraph(paragraph: str, font: Font, max_width: float, limit: int) -> list[str]:
    """Wrap one paragraph, stopping once it has more than ``limit`` lines."""
    lines: list[str] = []
    line = ""
    for token in _tokens(paragraph):
        if len(lines) > limit:
            # Measuring costs time per character: a 20 000-character complaint must not
            # cost seconds when only the first few lines are ever shown.
            return lines
        if token == " " and not line:
            continue  # no leading spaces on a wrapped line
        candidate = line + token
        if _width(font, candidate) <= max_width:
            line = candidate
            continue
        if len(token) == 1 and token in _NO_LINE_START and _width(font, line) <= max_width:
            line = candidate  # hanging punctuation: one mark may overshoot the line
            continue
        if line.strip():
            lines.append(line.rstrip())
        line = "" if token == " " else token
        # A single word wider than the line (a URL, a long number) breaks by character.
        while len(line) > 1 and len(lines) <= limit and _width(font, line) > max_width:
            cut = _longest_fitting_prefix(line, font, max_width)
            lines.append(line[:cut])
            line = line[cut:]
    if line.strip():
        lines.append(line.rstrip())
    return lines


def wrap_text(text: str, font: Font, max_width: float, max_lines: int | None = None) -> list[str]:
    """Break ``text`` into lines no wider than ``max_width`` pixels in ``font``.

    Explicit line breaks start a new line. Chinese breaks between characters, Latin text
    between words (a word longer than a line breaks by character). A closing mark such as
    "，" or "。" that would start a line hangs at the end of the previous one instead, so a
    line may overshoot by one glyph (callers keep that much padding). Beyond
    ``max_lines`` the text is cut and the last kept line ends with "…".
    """
    lines: list[str] = []
    limit = max_lines if max_lines is not None else len(text) + 1
    # No drawable character is narrower than a pixel, so no more than this many can be
    # shown; cutting first bounds the work for a hostile 100 000-character text.
    budget = (limit + 1) * max(1, int(max_width))
    cut = len(text) > budget
    for paragraph in _clean(drawable(text[:budget], font), single_line=False).split("\n"):
        lines.extend(_wrap_paragraph(paragraph.strip(), font, max_width, limit - len(lines)))
        if len(lines) > limit:
            break
    if len(lines) > limit or (cut and lines):
        lines = lines[:limit]
        lines[-1] = _ellipsize(lines[-1], font, max_width)
    return lines


def _one_line(text: str, font: Font, max_width: float) -> str:
    lines = wrap_text(_clean(text, single_line=True), font, max_width, max_lines=1)
    return lines[0] if lines else ""


@dataclass
class _Sheet:
    """A drawing surface with a vertical cursor; rows are appended top to bottom."""

    image: Image.Image
    draw: ImageDraw.ImageDraw
    y: int = 0

    @classmethod
    def new(cls) -> _Sheet:
        image = Image.new("RGB", (NOTICE_WIDTH, _CANVAS_MAX_H), _WHITE)
        return cls(image=image, draw=ImageDraw.Draw(image))

    def text(
        self,
        xy: tuple[float, float],
        text: str,
        font: Font,
        fill: tuple[int, int, int] = _INK,
        anchor: str = "la",
        bold: bool = False,
    ) -> None:
        # No CJK font has a bold face we can count on (WenQuanYi has none): a one-pixel
        # stroke in the text colour gives headings their weight.
        stroke = max(1, round(getattr(font, "size", 20) / 40)) if bold else 0
        self.draw.text(
            xy, text, font=font, fill=fill, anchor=anchor, stroke_width=stroke, stroke_fill=fill
        )

    def heading(self, baseline: float, text: str, font: Font, gap: float) -> None:
        """Draw a red heading centred on the sheet, ``gap`` pixels between characters."""
        widths = [_width(font, ch) for ch in text]
        x = (NOTICE_WIDTH - sum(widths) - gap * (len(text) - 1)) / 2
        for ch, w in zip(text, widths, strict=True):
            self.text((x, baseline), ch, font, _RED, "ls", bold=True)
            x += w + gap

    def number_line(self, ticket_no: str, part: str, body: Font, tag_font: Font) -> None:
        """The "编号：…" line with the part's red tag at the right."""
        self.text((_MARGIN, self.y), f"编号：{_one_line(ticket_no, body, 480)}", body, _INK, "lm")
        self.tag(_MARGIN + _CONTENT_W, self.y, part, tag_font)
        self.y += 44

    def rule(self, y: float, width: int, colour: tuple[int, int, int] = _RULE) -> None:
        self.draw.line([(_MARGIN, y), (_MARGIN + _CONTENT_W, y)], fill=colour, width=width)

    def tag(self, right: float, cy: float, text: str, font: Font) -> None:
        """A red outlined label, right-aligned at ``right``, like a stamp-free form mark."""
        w = _width(font, text)
        box = (right - w - 28, cy - 24, right, cy + 24)
        self.draw.rounded_rectangle(box, radius=6, outline=_RED, width=2)
        self.text((right - 14, cy), text, font, _RED, anchor="rm")


@dataclass(frozen=True, slots=True)
class _Cell:
    label: str
    lines: Sequence[str] = ()
    fill: tuple[int, int, int] = _INK
    bold: bool = False
    photo: Image.Image | None = None  # with lines: the text at the left, the photo right
    options: Sequence[str] = ()  # tick boxes to fill in by hand, drawn on the first line
    min_height: int = 0


def _value_widths(count: int, shares: Sequence[int] | None = None) -> list[int]:
    """The width of each value column: equal, or in proportion to ``shares``."""
    total = _CONTENT_W - _LABEL_W * count
    weights = list(shares) if shares is not None else [1] * count
    widths = [total * w // sum(weights) for w in weights]
    widths[-1] += total - sum(widths)
    return widths


def _row(
    sheet: _Sheet,
    cells: Sequence[_Cell],
    body: Font,
    label_font: Font,
    shares: Sequence[int] | None = None,
) -> None:
    """Draw one table row of label/value pairs sharing the content width (equally, or in
    proportion to ``shares``)."""
    size = _font_px(body)
    line_h = round(size * 1.5)
    value_ws = _value_widths(len(cells), shares)
    heights = [_ROW_H, *(c.min_height for c in cells)]
    for cell in cells:
        if cell.photo is not None:
            heights.append(cell.photo.height + 2 * _CELL_PAD)
        if len(cell.lines) > 1:
            heights.append(round(2 * _CELL_PAD + (len(cell.lines) - 1) * line_h + 1.1 * size))
    height = max(heights)
    top, bottom = sheet.y, sheet.y + height
    x = _MARGIN
    for cell, value_w in zip(cells, value_ws, strict=True):
        sheet.draw.rectangle((x, top, x + _LABEL_W, bottom), fill=_LABEL_BG)
        sheet.text((x + _LABEL_W / 2, top + height / 2), cell.label, label_font, anchor="mm")
        vx = x + _LABEL_W + _CELL_PAD
        if cell.photo is not None:
            left = vx if not cell.lines else x + _LABEL_W + value_w - _CELL_PAD - cell.photo.width
            upper = top + _CELL_PAD
            sheet.image.paste(cell.photo, (left, upper))
            right, lower = left + cell.photo.width - 1, upper + cell.photo.height - 1
            sheet.draw.rectangle((left, upper, right, lower), outline=(200, 200, 200))
        if cell.options:
            _options(sheet, vx, top + _ROW_H / 2, cell.options, body)
        elif len(cell.lines) == 1 and height == _ROW_H:
            sheet.text((vx, top + height / 2), cell.lines[0], body, cell.fill, "lm", cell.bold)
        else:
            for i, line in enumerate(cell.lines):
                baseline = top + _CELL_PAD + size * 0.86 + i * line_h
                sheet.text((vx, baseline), line, body, cell.fill, "ls", cell.bold)
        # Vertical rules: after the label and after the value.
        sheet.draw.line([(x + _LABEL_W, top), (x + _LABEL_W, bottom)], fill=_RULE, width=1)
        x += _LABEL_W + value_w
        if x < _MARGIN + _CONTENT_W:
            sheet.draw.line([(x, top), (x, bottom)], fill=_RULE, width=1)
    # Frame of the row; rows share edges, so each row draws its own bottom line.
    sheet.draw.rectangle((_MARGIN, top, _MARGIN + _CONTENT_W, bottom), outline=_RULE, width=2)
    sheet.y = bottom


def _font_px(font: Font) -> int:
    # FreeTypeFont knows its size; Pillow's tiny bitmap fallback does not.
    return int(getattr(font, "size", 11))


def _options(sheet: _Sheet, x: float, cy: float, options: Sequence[str], font: Font) -> None:
    """Draw "☐ option" choices in a row. The boxes are drawn, not typed: WenQuanYi's □
    is a small geometric square and it has no ☐ at all."""
    side = round(_font_px(font) * 0.72)
    for option in options:
        sheet.draw.rectangle((x, cy - side / 2, x + side, cy + side / 2), outline=_INK, width=2)
        x += side + 10
        sheet.text((x, cy), option, font, _INK, "lm")
        x += _width(font, option) + 56


def _thumbnail(photo: bytes) -> Image.Image | None:
    """Decode the (already sanitised) before-photo and fit it into the photo box."""
    try:
        with Image.open(io.BytesIO(photo), formats=("JPEG", "PNG", "WEBP")) as img:
            if img.width * img.height > 50_000_000:
                raise ValueError(f"photo too large: {img.width}x{img.height}")
            img.draft("RGB", _PHOTO_BOX)  # JPEG: decode at reduced scale
            return ImageOps.contain(img.convert("RGB"), _PHOTO_BOX, Image.Resampling.LANCZOS)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        # The notice is still worth sending without its picture.
        log.warning("notice photo unreadable error=%s", exc)
        return None


def _cut_line(sheet: _Sheet, small: Font) -> None:
    """A dashed line across the sheet, scissors at the left, "沿此线剪开" in the middle."""
    y = sheet.y + 34
    x = 0
    while x < NOTICE_WIDTH:
        sheet.draw.line([(x, y), (min(x + 14, NOTICE_WIDTH), y)], fill=_MUTED, width=2)
        x += 24
    label = "沿 此 线 剪 开"
    w = _width(small, label)
    cx = NOTICE_WIDTH / 2
    sheet.draw.rectangle((cx - w / 2 - 16, y - 18, cx + w / 2 + 16, y + 18), fill=_WHITE)
    sheet.text((cx, y), label, small, _MUTED, anchor="mm")
    sx = _MARGIN - 8
    sheet.draw.rectangle((sx - 8, y - 22, sx + 44, y + 22), fill=_WHITE)
    if has_glyph(small, "✂"):
        sheet.text((sx, y), "✂", small, _MUTED, anchor="lm")
    else:
        _draw_scissors(sheet.draw, sx, y)
    sheet.y = y + 34


def _draw_scissors(draw: ImageDraw.ImageDraw, x: float, y: float) -> None:
    """Scissors from primitives, for fonts (WenQuanYi among them) without U+2702."""
    # Two finger loops on the left, blades crossing towards the right.
    draw.ellipse((x, y - 16, x + 13, y - 3), outline=_MUTED, width=3)
    draw.ellipse((x, y + 3, x + 13, y + 16), outline=_MUTED, width=3)
    draw.line([(x + 11, y - 6), (x + 36, y + 6)], fill=_MUTED, width=3)
    draw.line([(x + 11, y + 6), (x + 36, y - 6)], fill=_MUTED, width=3)


def render_notice(notice: NoticeData) -> bytes:
    """Draw the two-part rectification notice and return it as PNG bytes.

    The sheet is 1080 pixels wide and at most as tall as an A4 page of that width; should
    some font make it taller, the page is widened instead of the text shrunk.
    """
    title_font = load_font(60)
    heading_font = load_font(40)
    body = load_font(30)
    label_font = load_font(28)
    small = load_font(24)
    value_w1 = _CONTENT_W - _LABEL_W - 2 * _CELL_PAD
    value_w2 = (_CONTENT_W - 2 * _LABEL_W) // 2 - 2 * _CELL_PAD
    # The issue time ("2026年12月21日 09:05") needs more room than the deadline beside it.
    time_shares = (11, 9)
    issued_w, deadline_w = (w - 2 * _CELL_PAD for w in _value_widths(2, time_shares))
    issued = format_datetime_zh(notice.issued_at)
    deadline = format_date_zh(notice.deadline)

    sheet = _Sheet.new()

    # --- 第一联 责任单位联 -------------------------------------------------------------
    sheet.y = 44
    community = _one_line(notice.community, body, _CONTENT_W)
    sheet.text((NOTICE_WIDTH / 2, sheet.y + 15), community, body, _INK, "mm")
    sheet.heading(sheet.y + 100, "整改通知单", title_font, 18)
    sheet.y += 122
    # The red double rule under an official heading (红头).
    sheet.rule(sheet.y, 4, _RED)
    sheet.rule(sheet.y + 9, 1, _RED)
    sheet.y += 44
    sheet.number_line(notice.ticket_no, "第一联 · 责任单位联", body, label_font)

    responsible = [
        _Cell("责任片区", [_one_line(notice.zone, body, value_w2)]),
        _Cell("责 任 人", [_one_line(notice.cadre, body, value_w2)]),
    ]
    _row(sheet, responsible, body, label_font)
    place = [_Cell("问题地点", [_one_line(notice.place, body, value_w1)])]
    _row(sheet, place, body, label_font)
    _row(
        sheet, [_Cell("问题类别", [_one_line(notice.category, body, value_w1)])], body, label_font
    )
    thumb = _thumbnail(notice.before_photo) if notice.before_photo else None
    text_w = value_w1 - (thumb.width + _CELL_PAD if thumb is not None else 0)
    broken_photo = bool(notice.before_photo) and thumb is None
    description = wrap_text(
        notice.description, body, text_w, _DESCRIPTION_MAX_LINES - int(broken_photo)
    )
    if broken_photo:
        # The notice is still worth sending without its picture; say why it is missing.
        description = [*description, "（照片无法显示）"]
    _row(
        sheet,
        [_Cell("问题描述", description or ["（无）"], photo=thumb, min_height=130)],
        body,
        label_font,
    )
    _row(
        sheet,
        [
            # Two lines (date, then time) rather than an ellipsis if a font runs wide.
            _Cell("下发时间", wrap_text(issued, body, issued_w, 2)),
            _Cell("整改期限", [_one_line(deadline, body, deadline_w)], fill=_RED, bold=True),
        ],
        body,
        label_font,
        time_shares,
    )

    sheet.y += 16
    note = "请于整改期限前完成整改并上传整改后照片，到期后督查人员将现场复查（回头看）。"
    # Narrower than the content: hanging punctuation may overshoot a line by one glyph.
    for line in wrap_text(note, small, _CONTENT_W - 30):
        sheet.text((_MARGIN, sheet.y + 18), line, small, _MUTED, "lm")
        sheet.y += 34
    sheet.y += 10
    right = _MARGIN + _CONTENT_W
    sheet.text((right, sheet.y + 18), community, body, _INK, "rm")
    sheet.text((right, sheet.y + 58), format_date_zh(notice.issued_at), body, _INK, "rm")
    sheet.y += 70

    _cut_line(sheet, small)

    # --- 第二联 督查留存联 -------------------------------------------------------------
    sheet.heading(sheet.y + 40, "督查留存联", heading_font, 14)
    sheet.y += 76
    sheet.number_line(notice.ticket_no, "第二联 · 回头看复查用", body, label_font)
    _row(sheet, place, body, label_font)
    _row(
        sheet,
        [
            _Cell("问题类别", [_one_line(notice.category, body, value_w2)]),
            _Cell("整改期限", [_one_line(deadline, body, value_w2)], fill=_RED, bold=True),
        ],
        body,
        label_font,
    )
    _row(sheet, responsible, body, label_font)
    _row(
        sheet,
        [_Cell("整改情况", options=("已整改", "部分整改", "未整改"), min_height=90)],
        body,
        label_font,
    )
    _row(
        sheet,
        [_Cell("复 查 人", [""]), _Cell("复查日期", ["　　 年　　月　　日"])],
        body,
        label_font,
    )
    sheet.y += 32

    height = min(sheet.y, _CANVAS_MAX_H)
    image = sheet.image.crop((0, 0, NOTICE_WIDTH, height))
    if height > NOTICE_WIDTH * A4_RATIO:
        wider = Image.new("RGB", (math.ceil(height / A4_RATIO), height), _WHITE)
        wider.paste(image, ((wider.width - NOTICE_WIDTH) // 2, 0))
        image = wider
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
