"""Find a font that can draw Chinese, for the images the bot renders.

Pillow ships no CJK glyphs: without a CJK font every Chinese character in a rectification
notice or a ranking board would come out as an empty box ("tofu"). The search order is:

1. ``JIAYUAN_FONT`` - an explicit path to a TrueType/OpenType file (``.ttf``/``.otf``/
   ``.ttc``; for a collection the face with a Simplified Chinese name is preferred).
2. Well-known install paths (Debian ``fonts-wqy-microhei`` first, which is what the
   Dockerfile and CI install; then WenQuanYi Zen Hei, Noto Sans CJK, Source Han Sans,
   Droid Sans Fallback, and the system fonts of macOS and Windows for developers).
3. ``fc-match`` from fontconfig, when it is installed.

Every candidate is *checked* by rendering two different Han characters: a font that
lacks them draws the same ``.notdef`` box for both, and is skipped. If nothing fits,
Pillow's bundled default font is used and a warning is logged once; images still render,
but Chinese text in them is unreadable - install ``fonts-wqy-microhei``.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from PIL import ImageFont

__all__ = [
    "FONT_ENV",
    "FontSource",
    "drawable",
    "find_cjk_font",
    "has_cjk_font",
    "has_glyph",
    "load_font",
]

log = logging.getLogger(__name__)

FONT_ENV = "JIAYUAN_FONT"

# Ordered by preference. WenQuanYi Micro Hei is small (5 MB), renders well at the sizes we
# use and is the one CI and the Docker image install, so results are the same everywhere.
_KNOWN_PATHS: tuple[str, ...] = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wenquanyi/wqy-zenhei/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/source-han-sans/SourceHanSansSC-Regular.otf",
    "/usr/share/fonts/adobe-source-han-sans/SourceHanSansSC-Regular.otf",
    "/usr/share/fonts/adobe-source-han-sans/SourceHanSans.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/droid/DroidSansFallback.ttf",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/STHeiti Medium.ttc",
    "/Library/Fonts/Arial Unicode.ttf",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simhei.ttf",
)

# Two distinct, common Han characters: a font with CJK coverage draws them differently.
_PROBE_A, _PROBE_B = "家", "园"
_FC_TIMEOUT_S = 5.0
_MAX_TTC_FACES = 32


@dataclass(frozen=True, slots=True)
class FontSource:
    """A font file and the face to use in it (non-zero only for ``.ttc`` collections)."""

    path: Path
    index: int = 0


def has_glyph(font: ImageFont.FreeTypeFont | ImageFont.ImageFont, char: str) -> bool:
    """Tell whether ``font`` draws ``char`` itself rather than its ``.notdef`` box."""
    mask = font.getmask(char)
    if mask.size[0] == 0 or mask.size[1] == 0:
        return False
    # U+10FFFD is a private-use code point no font maps; what it draws is the notdef glyph.
    notdef = font.getmask("\U0010fffd")
    return (mask.size, bytes(mask)) != (notdef.size, bytes(notdef))


# Joiners, presentation selectors, keycap marks, skin tones and flag tags: parts of an
# emoji sequence that mean nothing once the pictograph itself is left out.
_EMOJI_PARTS = frozenset("\u200d\ufe0e\ufe0f\u20e3")


def _emoji_part(ch: str) -> bool:
    cp = ord(ch)
    return ch in _EMOJI_PARTS or 0x1F3FB <= cp <= 0x1F3FF or 0xE0020 <= cp <= 0xE007F


def drawable(text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont) -> str:
    """``text`` without the emoji and pictographs ``font`` has no glyph for.

    Names such as "王建国🌸" would otherwise show a box on a notice or ranking board; no
    CJK font we use has colour emoji, so the flower is left out of the image (the chat
    message still has it). Symbols the font does draw (℃, ★ …) stay.
    """
    if text.isascii():
        return text
    kept = []
    for ch in text:
        if _emoji_part(ch):
            continue
        if unicodedata.category(ch) in ("So", "Sk") and not has_glyph(font, ch):
            continue
        kept.append(ch)
    return "".join(kept)


def _covers_cjk(font: ImageFont.FreeTypeFont) -> bool:
    a, b = font.getmask(_PROBE_A), font.getmask(_PROBE_B)
    if 0 in a.size or 0 in b.size:
        return False
    return has_glyph(font, _PROBE_A) and (a.size, bytes(a)) != (b.size, bytes(b))


def _pick_face(path: Path) -> FontSource | None:
    """Return the best CJK-capable face in ``path``, or None if it has none.

    Collections such as Noto Sans CJK hold one face per region (JP, KR, SC, TC, HK) with
    different glyph shapes; the notices are for mainland China, so an "SC" face wins.
    """
    capable: list[tuple[int, str]] = []
    faces = _MAX_TTC_FACES if path.suffix.lower() in {".ttc", ".otc"} else 1
    for index in range(faces):
        try:
            font = ImageFont.truetype(str(path), 24, index=index)
        except OSError:
            break  # past the last face of a collection, or not a font at all
        if _covers_cjk(font):
            family = font.getname()[0] or ""
            capable.append((index, family))
    if not capable:
        return None
    for index, family in capable:
        if family.endswith((" SC", " CN")) or "GB" in family:
            return FontSource(path, index)
    return FontSource(path, capable[0][0])


def _fc_match() -> Path | None:
    """Ask fontconfig for a Chinese sans-serif font, if fontconfig is installed."""
    exe = shutil.which("fc-match")
    if exe is None:
        return None
    # A bare ":lang=zh" pattern may still answer DejaVu Sans (seen on Debian): naming the
    # sans-serif family alias makes fontconfig rank the language coverage first.
    try:
        done = subprocess.run(
            [exe, "-f", "%{file}", "sans-serif:lang=zh-cn"],
            capture_output=True,
            text=True,
            timeout=_FC_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        log.debug("fc-match failed error=%s", exc)
        return None
    out = done.stdout.strip()
    return Path(out) if done.returncode == 0 and out else None


def _candidates() -> list[Path]:
    paths: list[Path] = []
    env = os.environ.get(FONT_ENV, "").strip()
    if env:
        paths.append(Path(env))
    paths.extend(Path(p) for p in _KNOWN_PATHS)
    return paths


@functools.cache
def find_cjk_font() -> FontSource | None:
    """Locate a CJK-capable font once per process; None when there is none.

    Tests that change ``JIAYUAN_FONT`` call ``find_cjk_font.cache_clear()`` and
    ``load_font.cache_clear()``.
    """
    env = os.environ.get(FONT_ENV, "").strip()
    for path in _candidates():
        if not path.is_file():
            if env and str(path) == env:
                log.warning("font not found env=%s path=%s", FONT_ENV, path)
            continue
        source = _pick_face(path)
        if source is not None:
            log.info("font selected path=%s index=%d", source.path, source.index)
            return source
        if env and str(path) == env:
            log.warning("font has no Chinese glyphs env=%s path=%s", FONT_ENV, path)
    fc_path = _fc_match()
    if fc_path is not None and fc_path.is_file():
        source = _pick_face(fc_path)
        if source is not None:
            log.info("font selected via fontconfig path=%s index=%d", source.path, source.index)
            return source
    log.warning(
        "no CJK font found: Chinese text in rendered images will show as empty boxes; "
        "install the Debian package fonts-wqy-microhei or set %s to a .ttf/.otf/.ttc file",
        FONT_ENV,
    )
    return None


def has_cjk_font() -> bool:
    """Tell whether rendered images can show Chinese text."""
    return find_cjk_font() is not None


@functools.cache
def load_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Return the CJK font at ``size`` pixels, or Pillow's default font as a fallback."""
    if size <= 0:
        raise ValueError(f"font size must be positive, got {size}")
    source = find_cjk_font()
    if source is not None:
        try:
            return ImageFont.truetype(str(source.path), size, index=source.index)
        except OSError as exc:  # the file vanished or changed since it was checked
            log.warning("font failed to load path=%s error=%s", source.path, exc)
    # Pillow >= 10.1 bundles a scalable Latin font (Aileron) when FreeType is present.
    return ImageFont.load_default(size)
