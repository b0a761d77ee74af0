"""Scripted people and groups: what tests and the demo use to talk to the bot.

A :class:`SimUser` writes to the bot, presses buttons and reads what the bot sent in
their private chat; ``user.in_group(group)`` does the same in a group; a
:class:`SimGroup` changes membership and reads the bot's group messages. Every action
goes through the :class:`World`, so the bot sees exactly the updates Telegram would send.
"""

from __future__ import annotations

import io
import mimetypes
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image

from bot.sandbox import webapps
from bot.sandbox.entities import detect_entities
from bot.sandbox.errors import SandboxError
from bot.sandbox.records import ChatRecord, UserRecord
from bot.sandbox.sent import CallbackAnswer, SentMessage
from bot.sandbox.world import World

if TYPE_CHECKING:
    from bot.sandbox.sandbox import Sandbox

SAMPLE_JPG = Path(__file__).with_name("sample.jpg")
MessageRef = SentMessage | dict[str, Any]


def _text_content(text: str, key: str = "text") -> dict[str, Any]:
    content: dict[str, Any] = {key: text}
    entities = detect_entities(text)
    if entities:
        content["entities" if key == "text" else "caption_entities"] = entities
    return content


def _photo_bytes(path_or_bytes: str | Path | bytes | None) -> bytes:
    # Small local files: reading them synchronously is cheaper than a thread hop.
    if path_or_bytes is None:
        return SAMPLE_JPG.read_bytes()
    if isinstance(path_or_bytes, bytes):
        return path_or_bytes
    return Path(path_or_bytes).read_bytes()


class ChatInbox:
    """Reading the bot's messages in one chat, in order, each taken at most once."""

    def __init__(self, sandbox: Sandbox) -> None:
        self._sandbox = sandbox

    @property
    def _world(self) -> World:
        return self._sandbox.world

    @property
    def chat_id(self) -> int:
        """The chat this inbox reads."""
        raise NotImplementedError

    @property
    def label(self) -> str:
        """Who this is, for error messages."""
        raise NotImplementedError

    def _existing_chat(self) -> ChatRecord | None:
        return self._world.chats.get(self.chat_id)

    @property
    def inbox(self) -> list[SentMessage]:
        """Every message the bot sent in this chat, oldest first."""
        chat = self._existing_chat()
        return list(chat.sent) if chat is not None else []

    @property
    def chat_actions(self) -> list[str]:
        """Chat actions ("typing", ...) the bot showed here, in order."""
        chat = self._existing_chat()
        return list(chat.actions) if chat is not None else []

    # Waiting methods take ``timeout`` (ASYNC109) because a failed wait must explain itself
    # with a dump of the chat, which a caller's asyncio.timeout() could not produce.
    async def next_message(self, timeout: float = 5.0) -> SentMessage:  # noqa: ASYNC109
        """Wait for the oldest bot message not yet taken, and take it."""
        return await self._take(lambda _: True, timeout, "a new bot message")

    async def wait_for(
        self,
        predicate: Callable[[SentMessage], bool],
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> SentMessage:
        """Wait for the oldest untaken bot message matching ``predicate``, and take it."""
        return await self._take(predicate, timeout, "a bot message matching the predicate")

    def drain(self) -> list[SentMessage]:
        """Take every bot message not taken yet (next_message then waits for new ones)."""
        chat = self._existing_chat()
        if chat is None:
            return []
        fresh = [sent for sent in chat.sent if sent.message_id not in chat.consumed]
        chat.consumed.update(sent.message_id for sent in fresh)
        return fresh

    async def _take(
        self,
        predicate: Callable[[SentMessage], bool],
        timeout: float,  # noqa: ASYNC109
        what: str,
    ) -> SentMessage:
        found: list[SentMessage] = []

        def ready() -> bool:
            chat = self._existing_chat()
            if chat is None:
                return False
            for sent in chat.sent:
                if sent.message_id not in chat.consumed and predicate(sent):
                    chat.consumed.add(sent.message_id)
                    found.append(sent)
                    return True
            return False

        if await self._world.signal.wait_until(ready, timeout):
            return found[0]
        raise TimeoutError(self._dump(f"no {what} within {timeout:g}s"))

    def _dump(self, headline: str) -> str:
        chat = self._existing_chat()
        lines = [f"{self.label} (chat {self.chat_id}): {headline}."]
        if chat is None:
            lines.append("  The chat does not exist yet (the user never wrote to the bot).")
        else:
            recent = chat.sent[-8:]
            lines.append(f"  Bot messages here: {len(chat.sent)}; the latest:")
            for sent in recent:
                taken = "taken" if sent.message_id in chat.consumed else "new"
                lines.append(f"    [{taken}] {sent.describe()}")
            if not recent:
                lines.append("    (none)")
        errors = self._world.recent_errors()[-5:]
        if errors:
            lines.append("  Latest Bot API errors:")
            lines.extend(f"    {error}" for error in errors)
        pending = self._world.updates.pending_count
        lines.append(f"  Updates not yet confirmed by the bot: {pending} (is it polling?)")
        return "\n".join(lines)


class _Poster:
    """Builds message content the way Telegram clients do, and posts it in a chat."""

    def __init__(self, sandbox: Sandbox, user: UserRecord) -> None:
        self._sandbox = sandbox
        self._user = user

    @property
    def _world(self) -> World:
        return self._sandbox.world

    def _target_chat(self) -> ChatRecord:
        raise NotImplementedError

    def _reply_dict(self, chat: ChatRecord, reply_to: MessageRef | None) -> dict[str, Any] | None:
        if reply_to is None:
            return None
        raw = reply_to.raw if isinstance(reply_to, SentMessage) else reply_to
        if raw.get("chat", {}).get("id") != chat.id:
            raise SandboxError("can only reply to a message in the same chat")
        stored = chat.messages.get(int(raw["message_id"]))
        if stored is None:
            raise SandboxError(f"message {raw['message_id']} no longer exists")
        return stored

    def _post(self, content: dict[str, Any], reply_to: MessageRef | None = None) -> dict[str, Any]:
        chat = self._target_chat()
        return self._world.user_sends(self._user, chat, content, self._reply_dict(chat, reply_to))

    async def send(self, text: str, *, reply_to: MessageRef | None = None) -> dict[str, Any]:
        """Send a text; commands, mentions, hashtags and links get their entities."""
        if not text:
            raise SandboxError("Telegram clients can't send an empty message")
        return self._post(_text_content(text), reply_to)

    async def send_photo(
        self,
        path_or_bytes: str | Path | bytes | None = None,
        caption: str | None = None,
        media_group_id: str | None = None,
        *,
        reply_to: MessageRef | None = None,
    ) -> dict[str, Any]:
        """Send a photo (default: the bundled sample.jpg) as several PhotoSizes."""
        data = _photo_bytes(path_or_bytes)
        sizes = self._world.files.add_photo(data, strict=False)
        content: dict[str, Any] = {"photo": [size.to_photo_size() for size in sizes]}
        if caption:
            content.update(_text_content(caption, key="caption"))
        if media_group_id is not None:
            content["media_group_id"] = media_group_id
        return self._post(content, reply_to)

    async def send_document(
        self,
        data: bytes,
        file_name: str,
        mime_type: str | None = None,
        caption: str | None = None,
        *,
        reply_to: MessageRef | None = None,
    ) -> dict[str, Any]:
        """Send a file as a document."""
        mime = mime_type or mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        stored = self._world.files.add(data, "document", file_name=file_name, mime_type=mime)
        content: dict[str, Any] = {"document": stored.to_document()}
        if caption:
            content.update(_text_content(caption, key="caption"))
        return self._post(content, reply_to)

    async def send_location(self, latitude: float, longitude: float) -> dict[str, Any]:
        """Share a location."""
        return self._post({"location": {"latitude": latitude, "longitude": longitude}})

    async def send_contact(
        self,
        phone_number: str,
        first_name: str | None = None,
        last_name: str | None = None,
        *,
        own: bool = True,
    ) -> dict[str, Any]:
        """Share a contact; by default one's own (so ``user_id`` is set, as for the button)."""
        contact: dict[str, Any] = {
            "phone_number": phone_number,
            "first_name": first_name or self._user.first_name,
        }
        if last_name or (own and self._user.last_name):
            contact["last_name"] = last_name or self._user.last_name
        if own:
            contact["user_id"] = self._user.id
        return self._post({"contact": contact})

    async def send_sticker(self, emoji: str = "🙂") -> dict[str, Any]:
        """Send a small sticker (for "unexpected input" paths)."""
        buffer = io.BytesIO()
        Image.new("RGBA", (64, 64), (255, 200, 0, 255)).save(buffer, "WEBP")
        stored = self._world.files.add(buffer.getvalue(), "sticker", mime_type="image/webp")
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return self._post({"sticker": sticker})

    async def send_voice(self, data: bytes | None = None, duration: int = 1) -> dict[str, Any]:
        """Send a voice note (the bytes are not real audio unless given)."""
        payload = data if data is not None else b"OggS" + bytes(60)
        stored = self._world.files.add(payload, "voice", mime_type="audio/ogg")
        voice = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
            "duration": duration,
            "mime_type": "audio/ogg",
        }
        return self._post({"voice": voice})


class SimUser(ChatInbox, _Poster):
    """A person with a Telegram account, scripted by a test or the demo."""

    def __init__(
        self, sandbox: Sandbox, record: UserRecord, phone_number: str | None = None
    ) -> None:
        ChatInbox.__init__(self, sandbox)
        _Poster.__init__(self, sandbox, record)
        self.record = record
        # Shared by a "request_contact" keyboard button; deterministic unless given.
        self.phone_number = phone_number or f"+86139{record.id:08d}"

    def __repr__(self) -> str:
        return f"SimUser(id={self.id}, name={self.record.full_name!r})"

    @property
    def id(self) -> int:
        """Telegram user id (also the id of their private chat with the bot)."""
        return self.record.id

    @property
    def first_name(self) -> str:
        """First name."""
        return self.record.first_name

    @property
    def username(self) -> str | None:
        """@username without the @."""
        return self.record.username

    @property
    def language_code(self) -> str | None:
        """IETF language tag the client reports."""
        return self.record.language_code

    @property
    def chat_id(self) -> int:
        return self.record.id

    @property
    def label(self) -> str:
        return f"{self.record.full_name} (private chat)"

    @property
    def started(self) -> bool:
        """True once the user has written to the bot."""
        return self.record.started

    @property
    def blocked(self) -> bool:
        """True while the user blocks the bot."""
        return self.record.blocked

    def to_dict(self) -> dict[str, Any]:
        """The ``User`` object Telegram sends for this person."""
        return self.record.to_dict()

    def _target_chat(self) -> ChatRecord:
        return self._world.private_chat(self.record)

    def in_group(self, group: SimGroup) -> GroupMember:
        """Act as this user inside ``group``."""
        return GroupMember(self._sandbox, self, group)

    def block_bot(self) -> None:
        """Block the bot: sends fail with 403 and the bot gets my_chat_member "kicked"."""
        self._world.members.set_blocked(self.record, True)

    def unblock_bot(self) -> None:
        """Unblock the bot (the bot gets my_chat_member "member")."""
        self._world.members.set_blocked(self.record, False)

    async def edit(self, message: MessageRef, new_text: str) -> dict[str, Any]:
        """Edit one's own text message (or a caption); the bot gets ``edited_message``."""
        raw = message.raw if isinstance(message, SentMessage) else message
        chat = self._world.chats.get(int(raw["chat"]["id"]))
        if chat is None:
            raise SandboxError("that message's chat does not exist")
        stored = chat.messages.get(int(raw["message_id"]))
        key = "caption" if stored is not None and "caption" in stored else "text"
        changes = _text_content(new_text, key=key)
        changes.setdefault("entities" if key == "text" else "caption_entities", [])
        return self._world.user_edits(self.record, chat, int(raw["message_id"]), changes)

    def _sent(self, message: MessageRef) -> SentMessage:
        if isinstance(message, SentMessage):
            return message
        chat = self._world.chats.get(int(message["chat"]["id"]))
        sent = chat.sent_message(int(message["message_id"])) if chat is not None else None
        if sent is None:
            raise SandboxError("only messages sent by the bot have buttons to press")
        return sent

    async def press(self, bot_message: MessageRef, button: str | int) -> dict[str, Any]:
        """Press a button by exact text or flat index.

        An inline button sends its callback_data (returns the CallbackQuery); a reply
        keyboard button sends its text, or the user's contact/location if it requests one
        (returns the Message). URL buttons have nothing to press in a bot test.
        """
        sent = self._sent(bot_message)
        chosen = sent.button(button)
        markup = sent.reply_markup or {}
        if "inline_keyboard" in markup:
            if "callback_data" not in chosen:
                raise SandboxError(
                    f"button {chosen.get('text')!r} has no callback_data "
                    f"(it is {sorted(k for k in chosen if k != 'text')})"
                )
            return self._world.press(self.record, sent, str(chosen["callback_data"]))
        chat = self._world.chats[sent.chat_id]
        poster: _Poster = self if chat.type == "private" else self._member_in(chat)
        if chosen.get("request_contact"):
            return await poster.send_contact(phone_number=self.phone_number)
        if chosen.get("request_location"):
            return await poster.send_location(31.2304, 121.4737)
        return await poster.send(str(chosen["text"]))

    def _member_in(self, chat: ChatRecord) -> GroupMember:
        group = self._sandbox.group(chat.id)
        if group is None:
            raise SandboxError(f"chat {chat.id} is not a sandbox group")
        return self.in_group(group)

    def open_web_app(self, bot_message: MessageRef, button: str | int) -> str:
        """Open an inline ``web_app`` button's Mini App: the URL the client loads, with
        ``#tgWebAppData=…`` signed for this user now."""
        chosen = self._sent(bot_message).button(button)
        web_app = chosen.get("web_app")
        if not isinstance(web_app, dict) or "url" not in web_app:
            raise SandboxError(f"button {chosen.get('text')!r} does not open a Mini App")
        return self._launch(str(web_app["url"]))

    def open_menu_app(self) -> str:
        """Open the Mini App of this chat's menu button (or the bot's default one)."""
        buttons = self._world.menu_buttons
        button = buttons.get(self.id) or buttons.get(None) or {"type": "default"}
        if button.get("type") != "web_app":
            raise SandboxError(f"the menu button is {button.get('type')!r}, not a Mini App")
        return self._launch(str(button["web_app"]["url"]))

    def _launch(self, url: str) -> str:
        data = webapps.init_data(self._sandbox.token, self.record, self._world.now())
        return webapps.launch_url(url, data)

    async def press_data(self, bot_message: MessageRef, data: str) -> dict[str, Any]:
        """Send a callback query with arbitrary (forged) data for a bot message."""
        return self._world.press(self.record, self._sent(bot_message), data)

    @property
    def callback_answers(self) -> list[CallbackAnswer]:
        """How the bot answered this user's button presses, oldest first."""
        return [
            record.answer
            for record in self._world.callbacks.values()
            if record.user is self.record and record.answer is not None
        ]

    async def wait_answer(
        self,
        query: dict[str, Any],
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> CallbackAnswer:
        """Wait until the bot answers the callback query ``press`` returned."""
        record = self._world.callbacks.get(str(query["id"]))
        if record is None:
            raise SandboxError("unknown callback query")
        await self._world.signal.wait_until(lambda: record.answer is not None, timeout)
        if record.answer is None:
            raise TimeoutError(
                self._dump(f"callback query {record.id} not answered in {timeout:g}s")
            )
        return record.answer


class GroupMember(_Poster):
    """A user acting inside one group."""

    def __init__(self, sandbox: Sandbox, user: SimUser, group: SimGroup) -> None:
        super().__init__(sandbox, user.record)
        self.user = user
        self.group = group

    def __repr__(self) -> str:
        return f"GroupMember({self.user!r} in {self.group!r})"

    def _target_chat(self) -> ChatRecord:
        return self.group.record

    async def press(self, bot_message: MessageRef, button: str | int) -> dict[str, Any]:
        """Press a button on a bot message (same as ``user.press``)."""
        return await self.user.press(bot_message, button)


class SimGroup(ChatInbox):
    """A group or supergroup; membership changes produce Telegram's updates."""

    def __init__(self, sandbox: Sandbox, record: ChatRecord) -> None:
        super().__init__(sandbox)
        self.record = record
        self.migrated_to: SimGroup | None = None

    def __repr__(self) -> str:
        return f"SimGroup(id={self.id}, title={self.title!r}, type={self.record.type})"

    @property
    def id(self) -> int:
        """Chat id (negative)."""
        return self.record.id

    @property
    def title(self) -> str:
        """Group title."""
        return self.record.title or ""

    @property
    def type(self) -> str:
        """Chat type: group or supergroup."""
        return self.record.type

    @property
    def chat_id(self) -> int:
        return self.record.id

    @property
    def label(self) -> str:
        return f"group {self.title!r}"

    @property
    def members(self) -> dict[int, str]:
        """User id -> status, for people (the bot's is ``bot_status``)."""
        return dict(self.record.members)

    @property
    def bot_status(self) -> str:
        """The bot's membership status here."""
        return self.record.bot_status

    def to_dict(self) -> dict[str, Any]:
        """The ``Chat`` object Telegram sends for this group."""
        return self.record.to_dict()

    def add_member(self, user: SimUser, status: str = "member", by: SimUser | None = None) -> None:
        """Someone joins (a new_chat_members message; chat_member if the bot is admin)."""
        self._world.members.set_member_status(self.record, user.record, status, _record(by))

    def set_status(self, user: SimUser, status: str, by: SimUser | None = None) -> None:
        """Promote, restrict, remove or ban a person."""
        self._world.members.set_member_status(self.record, user.record, status, _record(by))

    def remove_member(self, user: SimUser, by: SimUser | None = None) -> None:
        """A person leaves (or, with ``by``, is removed)."""
        status = "left" if by is None else "kicked"
        self._world.members.set_member_status(self.record, user.record, status, _record(by))

    def add_bot(self, status: str = "member", by: SimUser | None = None) -> None:
        """Add the bot (my_chat_member plus a new_chat_members message)."""
        self._world.members.set_bot_status(self.record, status, _record(by))

    def set_bot_status(self, status: str, by: SimUser | None = None) -> None:
        """Promote or demote the bot."""
        self._world.members.set_bot_status(self.record, status, _record(by))

    def remove_bot(self, by: SimUser | None = None) -> None:
        """Kick the bot out: later sends get 403 "bot was kicked from the group chat"."""
        self._world.members.set_bot_status(self.record, "kicked", _record(by))

    def migrate_to_supergroup(self, by: SimUser | None = None) -> SimGroup:
        """Upgrade to a supergroup; returns the new group (the old id then answers 400)."""
        new_record = self._world.members.migrate(self.record, _record(by))
        new_group = self._sandbox._register_group(new_record)
        self.migrated_to = new_group
        return new_group


def _record(user: SimUser | None) -> UserRecord | None:
    return user.record if user is not None else None
