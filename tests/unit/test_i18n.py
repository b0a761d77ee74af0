"""The catalogs: same keys and placeholders in both languages; parameters escaped."""

from __future__ import annotations

import string

from bot.domain.models import Language
from bot.i18n import Safe, catalog, t


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
