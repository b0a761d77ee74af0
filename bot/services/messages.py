"""Queueing messages for people and groups: each in the recipient's own language."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.domain import keys
from bot.domain.models import Language, Person
from bot.i18n import t
from bot.textlimits import CAPTION_LIMIT, MESSAGE_LIMIT, clip_html, visible_length
from storage.transaction import Transaction

Buttons = Sequence[Sequence[tuple[str, str]]]  # rows of (i18n key or text, callback_data)


def keyboard(language: Language | None, rows: Buttons) -> dict[str, Any]:
    """An inline keyboard in Bot API JSON; labels are i18n keys when they contain a dot.
    No language: both, for a group whose members read either."""
    return {
        "inline_keyboard": [
            [
                {
                    "text": button_label(language, label),
                    # A link opens a private chat (deep link); anything else is a callback.
                    ("url" if data.startswith("https://") else "callback_data"): data,
                }
                for label, data in row
            ]
            for row in rows
        ]
    }


def button_label(language: Language | None, label: str) -> str:
    """An i18n key (it has a dot) in the reader's language, both for a group; else as is."""
    if "." not in label:
        return label
    if language is not None:
        return t(language, label)
    zh, en = t(Language.ZH, label), t(Language.EN, label)
    return zh if zh == en else f"{zh} / {en}"


async def to_person(
    tx: Transaction,
    person: Person,
    now: datetime,
    key: str,
    *,
    buttons: Buttons | None = None,
    photo: str | None = None,
    dedupe_key: str | None = None,
    batch: str | None = None,
    **params: Any,
) -> bool:
    """Queue a message to a person; False if they cannot be reached (never opened the bot)."""
    if person.telegram_id is None or not person.reachable:
        return False
    language = person.language or Language.ZH
    text = t(language, key, **localized(language, params))
    payload: dict[str, Any] = {}
    if buttons:
        payload["reply_markup"] = keyboard(language, buttons)
    if photo is not None:
        payload.update(photo_payload(photo, text))
        kind = "photo"
    else:
        payload["text"] = clip_html(text, MESSAGE_LIMIT)
        kind = "text"
    await tx.outbox.add(
        person.telegram_id, payload, now, kind=kind, dedupe_key=dedupe_key, batch=batch
    )
    return True


def photo_payload(photo: str, caption: str) -> dict[str, Any]:
    """A stored photo (path under the data dir, or a Telegram file_id) with its caption."""
    key = "path" if "/" in photo else "file_id"
    return {key: photo, "caption": clip_html(caption, CAPTION_LIMIT)}


async def to_group(
    tx: Transaction,
    chat_id: int,
    now: datetime,
    key: str,
    *,
    buttons: Buttons | None = None,
    dedupe_key: str | None = None,
    batch: str | None = None,
    **params: Any,
) -> None:
    """Group posts are in Chinese first, English second: members' languages are mixed."""
    zh = t(Language.ZH, key, **localized(Language.ZH, params))
    en = t(Language.EN, key, **localized(Language.EN, params))
    both = zh if zh == en else f"{zh}\n\n{en}"
    # Bilingual only while it fits: Chinese alone otherwise.
    text = both if visible_length(both) <= MESSAGE_LIMIT else clip_html(zh, MESSAGE_LIMIT)
    payload: dict[str, Any] = {"text": text}
    if buttons:
        payload["reply_markup"] = keyboard(None, buttons)
    await tx.outbox.add(chat_id, payload, now, dedupe_key=dedupe_key, batch=batch)


def localized(language: Language, params: dict[str, Any]) -> dict[str, Any]:
    """A parameter ``x_key`` holds an i18n key: it becomes ``x`` in the reader's language."""
    out = {k: v for k, v in params.items() if not k.endswith("_key")}
    for name, value in params.items():
        if name.endswith("_key"):
            out[name.removesuffix("_key")] = t(language, str(value))
    return out


async def notice_to_person(
    tx: Transaction, person: Person, now: datetime, ticket_id: int, number: str
) -> None:
    """Queue the rectification notice image; the outbox draws it just before sending."""
    if person.telegram_id is None or not person.reachable:
        return
    caption = t(person.language or Language.ZH, "tickets.notice_caption", number=number)
    await tx.outbox.add(
        person.telegram_id,
        {"ticket_id": ticket_id, "caption": caption},
        now,
        kind="notice",
        dedupe_key=keys.notice(ticket_id, number, person.id),
    )
