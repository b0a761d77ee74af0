"""Message catalogs (zh first, en second) and the one function that formats them.

Catalogs are TOML files with the same dotted keys in each language. Parameters are
HTML-escaped on the way in, because every message is sent with parse_mode=HTML and
most parameters (names, captions, zone names) come from users.
"""

from __future__ import annotations

import html
import logging
import tomllib
from functools import cache
from importlib import resources
from typing import Any

from bot.domain.models import Language

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


def t(language: Language | None, key: str, **params: Any) -> str:
    """The message ``key`` in ``language`` with named, escaped parameters."""
    lang = language or Language.ZH
    template = catalog(lang).get(key) or catalog(Language.ZH).get(key)
    if template is None:
        log.error("missing message key=%s", key)
        return key
    safe = {
        k: v if isinstance(v, Safe) else html.escape(str(v), quote=False)
        for k, v in params.items()
    }
    return template.format(**safe)


def both(key: str, **params: Any) -> str:
    """Chinese then English, for places where the reader's language is unknown."""
    zh, en = t(Language.ZH, key, **params), t(Language.EN, key, **params)
    return zh if zh == en else f"{zh}\n{en}"
