"""Message catalogs (zh first, en second) and the one function that formats them.

Catalogs are TOML files with the same dotted keys in each language. Parameters are
HTML-escaped on the way in, because every message is sent with parse_mode=HTML and
most parameters (names, captions, zone names) come from users.

Two things follow the reader rather than the writer of a message:
- dates and times: pass a ``Day``, ``Moment``, ``ShortDay``, ``Span`` or ``Month``
  (bot.i18n.when) as a parameter, already in the community's time zone; ``t`` writes it the
  reader's way. Text made per language (lines of a list) goes in a ``ByLanguage``.
- plurals: ``{count:report|reports}`` writes "1 report" / "3 reports" (the number, a space,
  then the singular when the number is 1, else the plural). Chinese templates just say
  ``{count}``: the placeholder's name is the same in both catalogs. ``{day:ordinal}`` writes
  1st, 2nd, 3rd, 11th….
"""

from __future__ import annotations

import html
import logging
import string
import tomllib
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any

from bot.domain.models import Language
from bot.i18n.when import (
    ByLanguage,
    Day,
    DayOfWeek,
    DaysSpan,
    Localized,
    Moment,
    Month,
    ShortDay,
    Span,
    site_category,
)

__all__ = [
    "ByLanguage",
    "Day",
    "DayOfWeek",
    "DaysSpan",
    "Localized",
    "Moment",
    "Month",
    "Safe",
    "ShortDay",
    "Span",
    "both",
    "catalog",
    "listing",
    "site_category",
    "t",
]

log = logging.getLogger(__name__)


class Safe(str):
    """A string that is already HTML; ``t`` passes it through unescaped."""

    __slots__ = ()


def _flatten(prefix: str, table: dict[str, Any], out: dict[str, str]) -> None:
    for key, value in table.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            _flatten(name, value, out)
        else:
            out[name] = str(value)


@cache
def catalog(language: Language) -> dict[str, str]:
    raw = (resources.files("bot.i18n") / f"{language.value}.toml").read_text(encoding="utf-8")
    flat: dict[str, str] = {}
    _flatten("", tomllib.loads(raw), flat)
    return flat


class _Formatter(string.Formatter):
    """str.format plus the plural spec ``{n:one|other}``."""

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec == "ordinal":
            return _ordinal(int(value))
        if "|" in format_spec:
            one, other = format_spec.split("|", 1)
            return f"{value} {one if _is_one(value) else other}"
        formatted: str = super().format_field(value, format_spec)
        return formatted


def _is_one(value: Any) -> bool:
    try:
        return float(str(value)) == 1
    except ValueError:
        return False


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


_FORMATTER = _Formatter()


def _param(lang: Language, value: Any) -> Any:
    if isinstance(value, Safe):
        return value
    if isinstance(value, Localized):
        value = value.render(lang)
        if isinstance(value, Safe):
            return value
    return html.escape(str(value), quote=False)


def t(language: Language | None, key: str, **params: Any) -> str:
    """The message ``key`` in ``language`` with named, escaped parameters."""
    lang = language or Language.ZH
    template = catalog(lang).get(key) or catalog(Language.ZH).get(key)
    if template is None:
        log.error("missing message key=%s", key)
        return key
    safe = {k: _param(lang, v) for k, v in params.items()}
    if "|" in template or ":ordinal}" in template:
        return _FORMATTER.format(template, **safe)
    return template.format(**safe)


def listing(language: Language | None, items: Iterable[Any]) -> Safe:
    """Items joined the reader's way (、 / ", "), each escaped like a parameter."""
    lang = language or Language.ZH
    return Safe(t(lang, "language.list_separator").join(_param(lang, i) for i in items))


def both(key: str, **params: Any) -> str:
    """Chinese then English, for places where the reader's language is unknown."""
    zh, en = t(Language.ZH, key, **params), t(Language.EN, key, **params)
    return zh if zh == en else f"{zh}\n{en}"
