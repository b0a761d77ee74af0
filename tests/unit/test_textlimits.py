"""Clipping HTML to Telegram's limits without breaking tags or entities."""

from __future__ import annotations

import html
import re

from hypothesis import given
from hypothesis import strategies as st

from bot.textlimits import clip_html, visible_length


def test_short_text_is_unchanged() -> None:
    assert clip_html("<b>好</b> &amp; ok", 10) == "<b>好</b> &amp; ok"


def test_entities_count_as_one_and_are_never_split() -> None:
    text = "&amp;" * 10
    assert visible_length(text) == 10
    clipped = clip_html(text, 5)
    assert clipped == "&amp;" * 4 + "…"


def test_open_tags_are_closed_after_the_cut() -> None:
    clipped = clip_html("<b>" + "字" * 20 + "</b>", 10)
    assert clipped == "<b>" + "字" * 9 + "…</b>"


@given(st.text(min_size=0, max_size=300), st.integers(min_value=2, max_value=200))
def test_clipped_escaped_text_fits_and_stays_well_formed(raw: str, limit: int) -> None:
    escaped = "<i>" + html.escape(raw, quote=False) + "</i>"
    clipped = clip_html(escaped, limit)
    assert visible_length(clipped) <= max(limit, 0)
    assert clipped.count("<i>") == clipped.count("</i>") == 1
    # Every '&' left starts a whole entity: Telegram would refuse a fragment.
    assert all(re.match(r"&(amp|lt|gt);", clipped[m.start() :]) for m in re.finditer("&", clipped))
    if visible_length(escaped) <= limit:
        assert clipped == escaped
