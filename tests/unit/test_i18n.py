"""The catalogs: same keys and placeholders in both languages; parameters escaped."""

from __future__ import annotations

import re
import string
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.models import Language
from bot.domain.rules import CommunityRules
from bot.i18n import (
    ByLanguage,
    Day,
    DayOfWeek,
    DaysSpan,
    Localized,
    Moment,
    Month,
    Safe,
    ShortDay,
    Span,
    catalog,
    listing,
    site_category,
    t,
)


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_zh_and_en_have_the_same_keys() -> None:
    assert set(catalog(Language.ZH)) == set(catalog(Language.EN))


def test_each_message_has_the_same_placeholders_in_both_languages() -> None:
    zh, en = catalog(Language.ZH), catalog(Language.EN)
    mismatched = {k for k in zh if _placeholders(zh[k]) != _placeholders(en[k])}
    assert mismatched == set()


def test_user_text_in_parameters_is_escaped() -> None:
    text = t(Language.EN, "start.welcome", name="<b>Bob</b> & co")
    assert "&lt;b&gt;Bob&lt;/b&gt; &amp; co" in text


def test_safe_parameters_pass_through() -> None:
    assert "<i>x</i>" in t(Language.EN, "admin.import_failed", errors=Safe("<i>x</i>"))


def test_unknown_language_code_falls_back_to_chinese() -> None:
    assert Language.from_telegram("de") is Language.ZH
    assert Language.from_telegram("en-GB") is Language.EN
    assert Language.from_telegram(None) is Language.ZH


# CJK ideographs, kana, hangul, and the full-width punctuation that comes with them.
CJK = re.compile(
    r"[\u2e80-\u30ff\u3100-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]"
)
# Values that show Chinese on purpose: the language picker names each language in itself.
CHINESE_ON_PURPOSE = {"language.choose"}


def test_english_catalog_has_no_chinese() -> None:
    en = catalog(Language.EN)
    found = {k: v for k, v in en.items() if CJK.search(v) and k not in CHINESE_ON_PURPOSE}
    assert found == {}


def test_english_catalog_has_no_one_size_plural() -> None:
    assert {k for k, v in catalog(Language.EN).items() if "(s)" in v} == set()


def test_each_rule_has_a_name_and_a_help_line_in_both_languages() -> None:
    for language in Language:
        for name in CommunityRules().to_mapping():
            assert catalog(language)[f"admin.rule_{name}"]
            assert catalog(language)[f"admin.rule_{name}_help"]


@pytest.mark.parametrize(
    ("count", "expected"),
    [(0, "0 failed items"), (1, "1 failed item"), (2, "2 failed items"), ("1", "1 failed item")],
)
def test_plural_spec_picks_the_singular_only_for_one(count: object, expected: str) -> None:
    text = t(Language.EN, "inspect.finished", zone="Z", score=90, failed=count, tickets="—")
    assert expected in text


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (1, "1st"),
        (2, "2nd"),
        (3, "3rd"),
        (4, "4th"),
        (11, "11th"),
        (12, "12th"),
        (13, "13th"),
        (21, "21st"),
        (22, "22nd"),
        (31, "31st"),
    ],
)
def test_ordinals_in_english(day: int, expected: str) -> None:
    text = t(
        Language.EN,
        "admin.overview",
        name="N",
        code="c",
        zones=1,
        buildings=2,
        sites=0,
        groups=1,
        rectify=5,
        clean_day=day,
        inspections="9,19,29",
    )
    assert f"Clean Day on the {expected};" in text
    assert "1 zone, 2 buildings, 0 sites, 1 bound group" in text
    assert "within 5 working days" in text


@pytest.mark.parametrize(
    ("value", "zh", "en"),
    [
        (Day(date(2026, 10, 13)), "2026年10月13日", "13 Oct 2026"),
        (ShortDay(date(2026, 12, 18)), "12月18日", "18 Dec"),
        (Moment(datetime(2026, 10, 13, 9, 5)), "2026年10月13日 09:05", "Tue 13 Oct 2026 09:05"),
        (
            Span(datetime(2026, 12, 18, 8, 30), datetime(2026, 12, 18, 11, 0)),
            "12月18日 08:30–11:00",
            "Fri 18 Dec 08:30–11:00",
        ),
        (Month(2026, 11), "2026年11月", "Nov 2026"),
    ],
)
def test_dates_follow_the_reader(value: Localized, zh: str, en: str) -> None:
    assert value.render(Language.ZH) == zh and str(value) == zh
    assert value.render(Language.EN) == en
    assert en in t(Language.EN, "tickets.reminder_before", number="1", place="p", due=value)


def test_moment_is_written_in_the_communitys_time_zone() -> None:
    instant = datetime(2026, 11, 16, 16, 30, tzinfo=UTC)
    assert Moment.of(instant, "Asia/Shanghai").render(Language.EN) == "Tue 17 Nov 2026 00:30"
    assert Moment.of(instant, "Europe/London").render(Language.EN) == "Mon 16 Nov 2026 16:30"


def test_a_deadline_at_midnight_is_due_the_day_before() -> None:
    deadline = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)  # 24 Nov 00:00 in Shanghai
    assert Day.last_before(deadline, "Asia/Shanghai").value == date(2026, 11, 23)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)))
def test_any_moment_in_english_is_ascii_and_in_chinese_keeps_the_numbers(moment: datetime) -> None:
    en = Moment(moment).render(Language.EN)
    zh = Moment(moment).render(Language.ZH)
    assert en.isascii() and not CJK.search(en)
    assert f"{moment.year}年{moment.month}月{moment.day}日" in zh
    assert en.endswith(f"{moment:%H:%M}") and zh.endswith(f"{moment:%H:%M}")


def test_by_language_keeps_html_that_is_already_safe() -> None:
    lines = ByLanguage.of(lambda lang: Safe(f"<b>{lang.value}</b>"))
    month = Month(2026, 11)
    assert "<b>en</b>" in t(Language.EN, "review.text", month=month, lines=lines, late="")
    assert "<b>zh</b>" in t(Language.ZH, "review.text", month=month, lines=lines, late="")


def test_site_categories_are_named_in_english_for_english_readers() -> None:
    assert site_category("农贸市场").render(Language.EN) == "Farmers' markets"
    assert site_category("农贸市场").render(Language.ZH) == "农贸市场"
    assert site_category("Own kind").render(Language.EN) == "Own kind"


def test_a_listing_joins_the_readers_way_and_escapes_each_item() -> None:
    assert listing(Language.ZH, ["一区", "<二区>"]) == "一区、&lt;二区&gt;"
    assert listing(Language.EN, ["A & B", 2027]) == "A &amp; B, 2027"
    assert listing(None, []) == ""
    assert isinstance(listing(Language.EN, ["x"]), Safe)


@pytest.mark.parametrize(
    ("span", "zh", "en"),
    [
        (DaysSpan(date(2026, 12, 9), date(2026, 12, 9)), "12月9日（周三）", "Wed 9 Dec"),
        (
            DaysSpan(date(2026, 11, 9), date(2026, 11, 15)),
            "11月9日（周一）至11月15日（周日）",
            "Mon 9 Nov – Sun 15 Nov",
        ),
    ],
)
def test_a_span_of_days_names_each_day_with_its_weekday(span: DaysSpan, zh: str, en: str) -> None:
    assert span.render(Language.ZH) == zh
    assert span.render(Language.EN) == en
    assert DayOfWeek(date(2026, 1, 1)).render(Language.EN) == "Thu 1 Jan"
