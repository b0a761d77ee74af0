"""Keyboards: a handler's and the outbox's copy of the same buttons are the same markup."""

from __future__ import annotations

from bot import callbacks
from bot.domain.models import Language
from bot.i18n import t
from bot.keyboards import inline, stored
from bot.services.messages import keyboard

ACCEPT = callbacks.build(callbacks.TICKET, "acc", 7)
LINK = "https://t.me/jiayuan_bot?start=report"
ROWS = [[("buttons.accept", ACCEPT)], [("Open", LINK)]]


def test_labels_are_in_the_readers_language_and_links_open_as_links() -> None:
    markup = inline(Language.EN, ROWS)
    assert markup is not None
    (accept,), (link,) = markup.inline_keyboard
    assert accept.text == t(Language.EN, "buttons.accept")
    assert accept.callback_data == ACCEPT and accept.url is None
    assert link.text == "Open" and link.url == LINK and link.callback_data is None


def test_a_group_keyboard_carries_both_languages() -> None:
    markup = inline(None, ROWS)
    assert markup is not None
    label = markup.inline_keyboard[0][0].text
    assert t(Language.ZH, "buttons.accept") in label
    assert t(Language.EN, "buttons.accept") in label


def test_the_queued_keyboard_sends_as_the_one_shown_directly() -> None:
    for language in (Language.ZH, Language.EN, None):
        assert stored(keyboard(language, ROWS)) == inline(language, ROWS)


def test_no_buttons_no_keyboard() -> None:
    assert inline(Language.ZH, []) is None
    assert stored(None) is None
    assert stored({}) is None
