"""Typed rating kinds: the English words and the campaign's Chinese names."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.rating_kinds import HOUSEHOLD, KINDS, SHOP, parse_kind


@pytest.mark.parametrize(
    ("typed", "kind"),
    [
        ("household", HOUSEHOLD),
        ("Household", HOUSEHOLD),
        ("HOUSEHOLD", HOUSEHOLD),
        ("ｈｏｕｓｅｈｏｌｄ", HOUSEHOLD),
        ("文明卫生户", HOUSEHOLD),
        (" 卫生户 ", HOUSEHOLD),
        ("shop", SHOP),
        ("SHOP", SHOP),
        ("文明卫生门店", SHOP),
        ("门店", SHOP),
        ("商户", SHOP),
        ("", None),
        ("house", None),
        ("shops", None),
        ("文明卫生户/门店", None),
        ("3号楼", None),
    ],
)
def test_parse_kind_accepts_english_and_chinese_names(typed: str, kind: str | None) -> None:
    assert parse_kind(typed) == kind


@given(st.text(max_size=12))
def test_parse_kind_returns_a_known_kind_or_none(text: str) -> None:
    assert parse_kind(text) in (*KINDS, None)


@given(st.sampled_from(KINDS), st.booleans())
def test_every_kind_parses_from_its_own_name_in_any_case(kind: str, upper: bool) -> None:
    assert parse_kind(kind.upper() if upper else kind) == kind
