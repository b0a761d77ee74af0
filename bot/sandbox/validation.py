"""Content rules Telegram enforces on what a bot sends: text, captions, keyboards, commands.

The numbers live only in the Bot API's prose (``1-4096 characters after entities
parsing``), so they are spelled out here; the error texts are Telegram's own where known.
"""

from __future__ import annotations

import re
from typing import Any

from bot.sandbox.entities import Entity, EntityParseError, parse_text, utf16_len
from bot.sandbox.errors import bad_request

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_BUTTONS = 100
MAX_COMMANDS = 100

_INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_URL_RE = re.compile(r"^(?:https?://[^\s/$.?#][^\s]*|tg://\S+)$", re.IGNORECASE)
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")


_PARSE_MODES = ("html", "markdown", "markdownv2")


def _parse(text: str, parse_mode: str | None, entities: Any) -> tuple[str, list[Entity]]:
    if parse_mode and parse_mode.strip().lower() not in _PARSE_MODES:
        raise bad_request(f"unsupported parse_mode {parse_mode!r}")
    if parse_mode:
        try:
            return parse_text(text, parse_mode)
        except EntityParseError as exc:
            raise bad_request(f"can't parse entities: {exc}") from exc
    if entities:
        return text, _check_entities(text, entities)
    return text, []


def _check_entities(text: str, entities: Any) -> list[Entity]:
    if not isinstance(entities, list) or not all(isinstance(e, dict) for e in entities):
        raise bad_request("can't parse entities JSON object")
    total = utf16_len(text)
    for entity in entities:
        offset, length = entity.get("offset"), entity.get("length")
        if not isinstance(offset, int) or not isinstance(length, int) or "type" not in entity:
            raise bad_request("can't parse entities: entity must have type, offset and length")
        if offset < 0 or length <= 0 or offset + length > total:
            raise bad_request("can't parse entities: entity is out of the text")
    return [dict(e) for e in entities]


def message_text(text: str, parse_mode: str | None, entities: Any) -> tuple[str, list[Entity]]:
    """Return the plain text and entities of a message text, enforcing 1-4096 characters."""
    plain, parsed = _parse(text, parse_mode, entities)
    if not plain.strip():
        raise bad_request("message text is empty")
    # Telegram counts characters of the text after entity parsing, not UTF-16 units.
    if len(plain) > MAX_TEXT_LENGTH:
        raise bad_request("message is too long")
    return plain, parsed


def caption_text(
    caption: str | None, parse_mode: str | None, entities: Any
) -> tuple[str | None, list[Entity]]:
    """Return the plain caption and its entities, enforcing 0-1024 characters."""
    if caption is None or caption == "":
        return None, []
    plain, parsed = _parse(caption, parse_mode, entities)
    if len(plain) > MAX_CAPTION_LENGTH:
        raise bad_request("message caption is too long")
    return (plain if plain.strip() else None), parsed


def reply_markup(markup: Any) -> dict[str, Any] | None:
    """Validate a reply_markup object and return it normalised (keyboard strings → objects)."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        return {"inline_keyboard": _inline_keyboard(markup["inline_keyboard"])}
    if "keyboard" in markup:
        normalised = dict(markup)
        normalised["keyboard"] = _reply_keyboard(markup["keyboard"])
        return normalised
    if markup.get("remove_keyboard") is True or markup.get("force_reply") is True:
        return dict(markup)
    raise bad_request("can't parse reply keyboard markup JSON object")


def _rows(rows: Any, what: str) -> list[list[Any]]:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(f"{what} must be an Array of Arrays")
    if sum(len(row) for row in rows) > MAX_BUTTONS:
        raise bad_request("reply markup is too long")
    return rows


def _inline_keyboard(rows: Any) -> list[list[dict[str, Any]]]:
    result: list[list[dict[str, Any]]] = []
    for row in _rows(rows, 'field "inline_keyboard" of the InlineKeyboardMarkup'):
        checked: list[dict[str, Any]] = []
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad_request(
                    "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
                )
            actions = [key for key in _INLINE_ACTIONS if key in button]
            if not actions:
                raise bad_request(
                    "can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard"
                )
            if "callback_data" in button:
                data = button["callback_data"]
                size = len(data.encode("utf-8")) if isinstance(data, str) else 0
                if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                    raise bad_request("BUTTON_DATA_INVALID")
            if "url" in button and not _URL_RE.match(str(button["url"])):
                raise bad_request(
                    f"inline keyboard button URL '{button['url']}' is invalid: Wrong HTTP URL"
                )
            checked.append(dict(button))
        result.append(checked)
    return result


def _reply_keyboard(rows: Any) -> list[list[dict[str, Any]]]:
    result: list[list[dict[str, Any]]] = []
    for row in _rows(rows, 'field "keyboard" of the ReplyKeyboardMarkup'):
        checked: list[dict[str, Any]] = []
        for button in row:
            if isinstance(button, str):
                button = {"text": button}
            if not isinstance(button, dict) or not button.get("text"):
                raise bad_request("can't parse keyboard button: text must be non-empty")
            checked.append(dict(button))
        result.append(checked)
    if not any(result):
        raise bad_request("keyboard must be non-empty")
    return result


def bot_commands(commands: Any) -> list[dict[str, str]]:
    """Validate a setMyCommands list and return it as plain dicts."""
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    if len(commands) > MAX_COMMANDS:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    result: list[dict[str, str]] = []
    for item in commands:
        if not isinstance(item, dict):
            raise bad_request("can't parse BotCommand JSON object")
        command = str(item.get("command", ""))
        description = str(item.get("description", ""))
        if not _COMMAND_RE.match(command):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        result.append({"command": command, "description": description})
    return result


def callback_answer_text(text: str | None) -> str | None:
    """Enforce the 0-200 character limit of answerCallbackQuery's text."""
    if text is not None and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
        raise bad_request("MESSAGE_TOO_LONG")
    return text or None
