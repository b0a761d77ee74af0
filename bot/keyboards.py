"""Inline keyboards: the one place buttons become Telegram markup.

Services describe buttons as data (``Buttons``: rows of (i18n key or text, callback_data
or an https link)); handlers show them with ``inline`` and the outbox sends the queued
ones with ``stored``, so no keyboard goes through ``de_json``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.models import Language
from bot.services.messages import Buttons, button_label


def button(label: str, data: str) -> InlineKeyboardButton:
    """A callback button, or a link when the data is one (a deep link to a private chat)."""
    if data.startswith("https://"):
        return InlineKeyboardButton(label, url=data)
    return InlineKeyboardButton(label, callback_data=data)


def inline(language: Language | None, rows: Buttons) -> InlineKeyboardMarkup | None:
    """The keyboard in the reader's language (no language: both); None for no buttons."""
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[button(button_label(language, label), data) for label, data in row] for row in rows]
    )


def stored(markup: Mapping[str, Any] | None) -> InlineKeyboardMarkup | None:
    """The keyboard an outbox row carries, as ``messages.keyboard`` queued it."""
    if not markup:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    str(b["text"]), url=b.get("url"), callback_data=b.get("callback_data")
                )
                for b in row
            ]
            for row in markup.get("inline_keyboard", [])
        ]
    )
