"""The simulated Telegram: accounts, chats, messages and the updates they cause.

Everything here is synchronous: one request or one scripted action changes the world
completely before anything else runs, so no locks are needed. Both sides use it: the Bot
API methods (``methods/``) act as the bot; ``users.py`` acts as people. Membership
changes (joins, kicks, blocks, migrations) live in ``membership.py``.

Rules kept from Telegram:
* message ids count per chat and are shared by the bot's and the users' messages;
* a private chat exists only once the user has written to the bot;
* the bot sees group messages only while it is a member (and, in privacy mode, only
  commands, replies to it and service messages);
* updates carry snapshots, so a later edit does not rewrite an update already queued.
"""

from __future__ import annotations

import copy
import logging
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from bot.sandbox.changes import ChangeSignal
from bot.sandbox.errors import (
    SandboxError,
    bad_request,
    chat_migrated,
    forbidden,
)
from bot.sandbox.files import FileStore
from bot.sandbox.membership import Membership
from bot.sandbox.records import (
    ACTIVE_STATUSES,
    ADMIN_STATUSES,
    CallbackRecord,
    ChatRecord,
    UserRecord,
    check_status,
)
from bot.sandbox.sent import SandboxEvent, SentMessage
from bot.sandbox.updates import UpdateQueue

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
CommandKey = tuple[str, int | None, int | None, str]  # scope type, chat_id, user_id, language

# Messages that reach a bot in privacy mode whatever they say.
_SERVICE_KEYS = (
    "new_chat_members",
    "left_chat_member",
    "migrate_to_chat_id",
    "migrate_from_chat_id",
    "group_chat_created",
    "supergroup_chat_created",
    "new_chat_title",
    "pinned_message",
)


class World:
    """All simulated state, with the operations both the bot and the people perform."""

    def __init__(
        self,
        *,
        bot_id: int,
        bot_username: str,
        bot_name: str,
        clock: Clock | None = None,
        privacy_mode: bool = False,
        first_update_id: int = 1,
        first_user_id: int = 1001,
    ) -> None:
        self.signal = ChangeSignal()
        self.members = Membership(self)
        self.updates = UpdateQueue(self.signal, first_update_id)
        self.files = FileStore()
        self.bot = UserRecord(id=bot_id, first_name=bot_name, username=bot_username, is_bot=True)
        self.privacy_mode = privacy_mode
        self._clock = clock
        self.users: dict[int, UserRecord] = {}
        self.chats: dict[int, ChatRecord] = {}
        self.callbacks: dict[str, CallbackRecord] = {}
        self.commands: dict[CommandKey, list[dict[str, str]]] = {}
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.webhook: dict[str, Any] = {"url": ""}
        self.api_errors: deque[tuple[str, int, str]] = deque(maxlen=20)
        self._listeners: list[Callable[[SandboxEvent], None]] = []
        self._next_user_id = first_user_id
        self._next_group = 1
        self._next_callback = 1
        self._next_media_group = 1

    # ---------------------------------------------------------------- time and events

    def now(self) -> int:
        """Unix time for message dates, from the injected clock or the real one."""
        moment = self._clock() if self._clock is not None else datetime.now(UTC)
        if moment.tzinfo is None:
            raise SandboxError("the sandbox clock must return timezone-aware datetimes")
        return int(moment.timestamp())

    def add_listener(self, listener: Callable[[SandboxEvent], None]) -> None:
        """Call ``listener`` for every message the bot sends, edits or deletes."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[SandboxEvent], None]) -> None:
        """Stop calling ``listener``."""
        self._listeners.remove(listener)

    def emit(self, event: SandboxEvent) -> None:
        """Tell listeners and waiters that the bot did something."""
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken listener must not break the Bot API reply
                logger.exception("sandbox listener failed kind=%s", event.kind)
        self.signal.notify()

    def new_media_group_id(self) -> str:
        """Return a fresh media_group_id (Telegram's are long numeric strings)."""
        group_id = str(13_800_000_000_000_000 + self._next_media_group)
        self._next_media_group += 1
        return group_id

    # ---------------------------------------------------------------- users and chats

    def get_me(self) -> dict[str, Any]:
        """Return getMe's answer."""
        me = self.bot.to_dict()
        me.update(
            {
                "can_join_groups": True,
                "can_read_all_group_messages": not self.privacy_mode,
                "supports_inline_queries": False,
                "can_connect_to_business": False,
                "has_main_web_app": False,
            }
        )
        return me

    def add_user(
        self,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        user_id: int | None = None,
    ) -> UserRecord:
        """Create a Telegram account; ids count up from 1001 unless given."""
        if user_id is None:
            while self._next_user_id in self.users:
                self._next_user_id += 1
            user_id = self._next_user_id
            self._next_user_id += 1
        if user_id in self.users or user_id == self.bot.id or user_id <= 0:
            raise SandboxError(f"user id {user_id} is taken or invalid")
        user = UserRecord(
            id=user_id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
        )
        self.users[user_id] = user
        return user

    def private_chat(self, user: UserRecord) -> ChatRecord:
        """Return (creating on first use) the private chat between ``user`` and the bot."""
        chat = self.chats.get(user.id)
        if chat is None:
            chat = ChatRecord(id=user.id, type="private", owner=user, bot_status="member")
            self.chats[user.id] = chat
        return chat

    def add_group(
        self,
        title: str,
        members: Iterable[tuple[UserRecord, str]],
        *,
        supergroup: bool,
        chat_id: int | None = None,
        username: str | None = None,
    ) -> ChatRecord:
        """Create a group that already has ``members`` (no updates: it existed before)."""
        if chat_id is None:
            n = self._next_group
            self._next_group += 1
            chat_id = -(1_002_000_000_000 + n) if supergroup else -(4_000_000_000 + n)
        if chat_id >= 0 or chat_id in self.chats:
            raise SandboxError(f"group id {chat_id} is taken or not negative")
        chat = ChatRecord(
            id=chat_id,
            type="supergroup" if supergroup else "group",
            title=title,
            username=username,
        )
        for user, status in members:
            check_status(status)
            chat.members[user.id] = status
        self.chats[chat_id] = chat
        return chat

    def find_username(self, username: str) -> ChatRecord | None:
        """Return the public group or channel with this @username."""
        wanted = username.removeprefix("@").lower()
        for chat in self.chats.values():
            if chat.username and chat.username.lower() == wanted:
                return chat
        return None

    def bot_knows_user(self, user: UserRecord) -> bool:
        """True if the bot has met the user: in their private chat or a shared group."""
        if user.started:
            return True
        return any(
            chat.bot_status in ACTIVE_STATUSES and chat.members.get(user.id) in ACTIVE_STATUSES
            for chat in self.chats.values()
            if chat.is_group
        )

    def member_status(self, chat: ChatRecord, user_id: int) -> str:
        """Return the status of ``user_id`` (the bot included) in ``chat``."""
        if user_id == self.bot.id:
            return chat.bot_status
        if chat.type == "private":
            return "member" if chat.owner is not None and chat.owner.id == user_id else "left"
        return chat.members.get(user_id, "left")

    def user(self, user_id: int) -> UserRecord | None:
        """Return the account with this id (the bot included)."""
        if user_id == self.bot.id:
            return self.bot
        return self.users.get(user_id)

    # ---------------------------------------------------------------- the bot's view

    def chat_for_bot(self, chat_id: int | str) -> ChatRecord:
        """Resolve a chat_id parameter as Telegram does, or raise its error."""
        if isinstance(chat_id, str):
            chat = self.find_username(chat_id) if chat_id.startswith("@") else None
            if chat is None:
                raise bad_request("chat not found")
        else:
            found = self.chats.get(chat_id)
            if found is None:
                user = self.users.get(chat_id)
                if user is not None:
                    raise forbidden("bot can't initiate conversation with a user")
                if chat_id == self.bot.id:
                    raise forbidden("bot can't send messages to bots")
                raise bad_request("chat not found")
            chat = found
        if chat.migrated_to is not None:
            raise chat_migrated(chat.migrated_to)
        return chat

    def check_bot_can_write(self, chat: ChatRecord) -> None:
        """Raise the 403 Telegram gives when the bot may not post in ``chat``."""
        if chat.type == "private":
            if chat.owner is not None and chat.owner.blocked:
                raise forbidden("bot was blocked by the user")
            return
        kind = "supergroup chat" if chat.type == "supergroup" else f"{chat.type} chat"
        if chat.bot_status == "kicked":
            raise forbidden(f"bot was kicked from the {kind}")
        if chat.bot_status not in ACTIVE_STATUSES:
            raise forbidden(f"bot is not a member of the {kind}")

    def message(self, chat: ChatRecord, message_id: int) -> dict[str, Any] | None:
        """Return the stored message, or None if it never existed or was deleted."""
        return chat.messages.get(message_id)

    def new_message(
        self,
        chat: ChatRecord,
        sender: UserRecord,
        content: dict[str, Any],
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Store a message with the chat's next id and return the live dict."""
        message_id = chat.next_message_id
        chat.next_message_id += 1
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": sender.to_dict(),
            "chat": chat.to_dict(),
            "date": self.now(),
        }
        if reply_to is not None:
            # Telegram nests one level only: the replied-to message has no reply of its own.
            nested = copy.deepcopy(reply_to)
            nested.pop("reply_to_message", None)
            message["reply_to_message"] = nested
        message.update(content)
        chat.messages[message_id] = message
        return message

    def add_bot_message(
        self,
        chat: ChatRecord,
        content: dict[str, Any],
        *,
        method: str,
        reply_to: dict[str, Any] | None = None,
        parse_mode: str | None = None,
        reply_markup: dict[str, Any] | None = None,
        photo: bytes | None = None,
        document: bytes | None = None,
        file_name: str | None = None,
    ) -> SentMessage:
        """Store a message from the bot and announce it to waiters and listeners."""
        raw = self.new_message(chat, self.bot, content, reply_to)
        if reply_markup is not None and "inline_keyboard" in reply_markup:
            # Telegram echoes only inline keyboards inside Message objects.
            raw["reply_markup"] = copy.deepcopy(reply_markup)
        sent = SentMessage(
            message_id=raw["message_id"],
            chat_id=chat.id,
            method=method,
            raw=raw,
            parse_mode=parse_mode,
            reply_markup=copy.deepcopy(reply_markup),
            photo=photo,
            document=document,
            file_name=file_name,
        )
        chat.sent.append(sent)
        logger.debug("bot message chat_id=%s message_id=%s", chat.id, sent.message_id)
        self.emit(SandboxEvent(kind="sent", chat_id=chat.id, message=sent))
        return sent

    def edit_bot_message(
        self, sent: SentMessage, changes: dict[str, Any], reply_markup: dict[str, Any] | None
    ) -> None:
        """Apply an edit in place, keeping the previous version in ``history``."""
        raw = sent.raw
        sent.history.append(
            {
                key: copy.deepcopy(raw[key])
                for key in ("text", "entities", "caption", "caption_entities", "edit_date")
                if key in raw
            }
            | {"reply_markup": copy.deepcopy(sent.reply_markup)}
        )
        for key, value in changes.items():
            if value is None or value == []:
                raw.pop(key, None)
            else:
                raw[key] = value
        sent.reply_markup = copy.deepcopy(reply_markup)
        if reply_markup is not None and "inline_keyboard" in reply_markup:
            raw["reply_markup"] = copy.deepcopy(reply_markup)
        else:
            raw.pop("reply_markup", None)
        raw["edit_date"] = self.now()
        self.emit(SandboxEvent(kind="edited", chat_id=sent.chat_id, message=sent))

    def delete_message(self, chat: ChatRecord, message_id: int) -> None:
        """Remove a message; a bot message stays visible to tests with ``deleted`` set."""
        chat.messages.pop(message_id, None)
        sent = chat.sent_message(message_id)
        if sent is not None:
            sent.deleted = True
            self.emit(SandboxEvent(kind="deleted", chat_id=chat.id, message=sent))
        else:
            self.signal.notify()

    # ---------------------------------------------------------------- people acting

    def deliver(self, chat: ChatRecord, kind: str, message: dict[str, Any]) -> None:
        """Queue a message update if the bot can see it."""
        if chat.type != "private":
            if chat.bot_status not in ACTIVE_STATUSES:
                return
            if self.privacy_mode and not self._privacy_allows(chat, message):
                return
        self.updates.enqueue(kind, message)

    def _privacy_allows(self, chat: ChatRecord, message: dict[str, Any]) -> bool:
        if chat.bot_status in ADMIN_STATUSES:
            return True
        text = message.get("text") or message.get("caption") or ""
        if text.startswith("/"):
            return True
        replied = message.get("reply_to_message") or {}
        if replied.get("from", {}).get("id") == self.bot.id:
            return True
        # Service messages (joins, leaves, migrations) always reach the bot.
        return any(key in message for key in _SERVICE_KEYS)

    def user_sends(
        self,
        user: UserRecord,
        chat: ChatRecord,
        content: dict[str, Any],
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A person posts ``content`` in ``chat``; returns a snapshot of the message."""
        if chat.migrated_to is not None:
            raise SandboxError(f"chat {chat.id} was migrated to {chat.migrated_to}")
        if chat.type == "private":
            if user.blocked:
                # Writing to a blocked bot means pressing "Restart": it unblocks.
                self.members.set_blocked(user, False)
            user.started = True
        elif chat.members.get(user.id) not in ACTIVE_STATUSES:
            raise SandboxError(f"{user.full_name} is not a member of {chat.title!r}")
        message = self.new_message(chat, user, content, reply_to)
        self.deliver(chat, "message", message)
        self.signal.notify()
        return copy.deepcopy(message)

    def user_edits(
        self, user: UserRecord, chat: ChatRecord, message_id: int, changes: dict[str, Any]
    ) -> dict[str, Any]:
        """A person edits their own message; queues an ``edited_message`` update."""
        message = chat.messages.get(message_id)
        if message is None:
            raise SandboxError(f"message {message_id} in chat {chat.id} does not exist")
        if message.get("from", {}).get("id") != user.id:
            raise SandboxError(f"{user.full_name} can only edit their own messages")
        for key, value in changes.items():
            if value is None or value == []:
                message.pop(key, None)
            else:
                message[key] = value
        message["edit_date"] = self.now()
        self.deliver(chat, "edited_message", message)
        self.signal.notify()
        return copy.deepcopy(message)

    def press(self, user: UserRecord, sent: SentMessage, data: str | None) -> dict[str, Any]:
        """A person presses an inline button; queues a ``callback_query`` update."""
        chat = self.chats[sent.chat_id]
        if sent.deleted:
            raise SandboxError(f"message {sent.message_id} was deleted; nothing to press")
        if chat.type == "private" and (chat.owner is None or chat.owner.id != user.id):
            raise SandboxError(f"{user.full_name} can't see chat {chat.id}")
        if chat.type != "private" and chat.members.get(user.id) not in ACTIVE_STATUSES:
            raise SandboxError(f"{user.full_name} is not a member of {chat.title!r}")
        query_id = str(4_400_000_000_000_000_000 + self._next_callback)
        self._next_callback += 1
        query: dict[str, Any] = {
            "id": query_id,
            "from": user.to_dict(),
            "message": copy.deepcopy(sent.raw),
            "chat_instance": str(abs(chat.id) * 7_919 % 10**19 + 1_000_000_007),
        }
        if data is not None:
            query["data"] = data
        self.callbacks[query_id] = CallbackRecord(
            id=query_id,
            user=user,
            chat_id=chat.id,
            message_id=sent.message_id,
            data=data,
        )
        self.updates.enqueue("callback_query", query)
        return query

    # ---------------------------------------------------------------- inspection

    def recent_errors(self) -> list[str]:
        """The latest error answers, newest last, for failure messages."""
        return [
            f"{method} -> {code} {description}" for method, code, description in self.api_errors
        ]

    def commands_for(self, user: UserRecord, chat: ChatRecord | None) -> list[dict[str, str]]:
        """Resolve the command list ``user`` sees in ``chat``, by Telegram's documented order."""
        language = (user.language_code or "").split("-")[0].lower()
        keys: list[tuple[str, int | None, int | None]] = []
        if chat is None or chat.type == "private":
            keys = [("chat", user.id, None), ("all_private_chats", None, None)]
        else:
            is_admin = chat.members.get(user.id) in ADMIN_STATUSES
            keys.append(("chat_member", chat.id, user.id))
            if is_admin:
                keys.append(("chat_administrators", chat.id, None))
            keys.append(("chat", chat.id, None))
            if is_admin:
                keys.append(("all_chat_administrators", None, None))
            keys.append(("all_group_chats", None, None))
        keys.append(("default", None, None))
        for scope, chat_id, user_id in keys:
            for lang in (language, ""):
                found = self.commands.get((scope, chat_id, user_id, lang))
                if found:
                    return list(found)
        return []
