"""The bot's own account: getMe, logOut/close, command lists and menu buttons."""

from __future__ import annotations

import re
from typing import Any

from bot.sandbox import validation
from bot.sandbox.errors import bad_request
from bot.sandbox.methods import Call, Handler
from bot.sandbox.world import CommandKey, World

_SCOPES = (
    "default",
    "all_private_chats",
    "all_group_chats",
    "all_chat_administrators",
    "chat",
    "chat_administrators",
    "chat_member",
)
_LANGUAGE_RE = re.compile(r"^[a-z]{2}$")
_MENU_BUTTON_TYPES = ("commands", "web_app", "default")


def get_me(call: Call) -> dict[str, Any]:
    """Return the bot's User object."""
    return call.world.get_me()


def log_out(call: Call) -> bool:
    """Accept; there is no cloud server to log out from."""
    return True


def close(call: Call) -> bool:
    """Accept; there is no instance to close."""
    return True


def _scope_chat_id(world: World, value: Any) -> int:
    if isinstance(value, str) and value.startswith("@"):
        chat = world.find_username(value)
        if chat is None:
            raise bad_request("chat not found")
        return chat.id
    try:
        chat_id = int(value)
    except (TypeError, ValueError) as exc:
        raise bad_request("chat not found") from exc
    if chat_id not in world.chats and chat_id not in world.users:
        raise bad_request("chat not found")
    return chat_id


def command_key(world: World, scope: Any, language_code: Any) -> CommandKey:
    """Turn setMyCommands' scope and language_code into the storage key."""
    scope = scope or {"type": "default"}
    if not isinstance(scope, dict) or scope.get("type") not in _SCOPES:
        raise bad_request("can't parse BotCommandScope JSON object")
    kind = str(scope["type"])
    chat_id: int | None = None
    user_id: int | None = None
    if kind in ("chat", "chat_administrators", "chat_member"):
        if "chat_id" not in scope:
            raise bad_request("chat_id is empty")
        chat_id = _scope_chat_id(world, scope["chat_id"])
    if kind == "chat_member":
        if "user_id" not in scope:
            raise bad_request("user_id is empty")
        user_id = int(scope["user_id"])
        if world.user(user_id) is None:
            raise bad_request("user not found")
    language = str(language_code or "")
    if language and not _LANGUAGE_RE.match(language):
        # Telegram wants a two-letter ISO 639-1 code; "zh-hans" is refused.
        raise bad_request("invalid language code specified")
    return (kind, chat_id, user_id, language)


def set_my_commands(call: Call) -> bool:
    """Store a command list for a scope and language (an empty list deletes it)."""
    commands = validation.bot_commands(call.params["commands"])
    key = command_key(call.world, call.params.get("scope"), call.params.get("language_code"))
    if commands:
        call.world.commands[key] = commands
    else:
        call.world.commands.pop(key, None)
    call.world.signal.notify()
    return True


def get_my_commands(call: Call) -> list[dict[str, str]]:
    """Return the list stored for exactly this scope and language."""
    key = command_key(call.world, call.params.get("scope"), call.params.get("language_code"))
    return list(call.world.commands.get(key, []))


def delete_my_commands(call: Call) -> bool:
    """Delete the list for this scope and language (higher scopes then apply)."""
    key = command_key(call.world, call.params.get("scope"), call.params.get("language_code"))
    call.world.commands.pop(key, None)
    call.world.signal.notify()
    return True


def _menu_chat(call: Call) -> int | None:
    if "chat_id" not in call.params:
        return None
    chat = call.chat()
    if chat.type != "private":
        raise bad_request("chat not found")
    return chat.id


def set_chat_menu_button(call: Call) -> bool:
    """Store the menu button of one private chat, or the default one."""
    button = call.params.get("menu_button") or {"type": "default"}
    if not isinstance(button, dict) or button.get("type") not in _MENU_BUTTON_TYPES:
        raise bad_request("can't parse menu button JSON object")
    call.world.menu_buttons[_menu_chat(call)] = dict(button)
    return True


def get_chat_menu_button(call: Call) -> dict[str, Any]:
    """Return the chat's menu button, else the default one."""
    buttons = call.world.menu_buttons
    chat_id = _menu_chat(call)
    return dict(buttons.get(chat_id) or buttons.get(None) or {"type": "default"})


HANDLERS: dict[str, Handler] = {
    "getMe": get_me,
    "logOut": log_out,
    "close": close,
    "setMyCommands": set_my_commands,
    "getMyCommands": get_my_commands,
    "deleteMyCommands": delete_my_commands,
    "setChatMenuButton": set_chat_menu_button,
    "getChatMenuButton": get_chat_menu_button,
}
