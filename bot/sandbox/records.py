"""The records the simulated Telegram keeps: accounts, chats and callback queries.

Plain mutable dataclasses; the rules that change them live in ``world.py`` (messages and
updates) and ``membership.py`` (who is in which chat).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.errors import SandboxError
from bot.sandbox.sent import CallbackAnswer, SentMessage

MEMBER_STATUSES = ("creator", "administrator", "member", "restricted", "left", "kicked")
ACTIVE_STATUSES = frozenset({"creator", "administrator", "member", "restricted"})
ADMIN_STATUSES = frozenset({"creator", "administrator"})


@dataclass(eq=False)
class UserRecord:
    """A Telegram account (a person, or the bot itself)."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False
    started: bool = False  # has written to the bot, so their private chat exists
    blocked: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Return the ``User`` object."""
        user: dict[str, Any] = {
            "id": self.id,
            "is_bot": self.is_bot,
            "first_name": self.first_name,
        }
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    @property
    def full_name(self) -> str:
        """First and last name, as clients show them."""
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name


@dataclass(eq=False)
class ChatRecord:
    """A chat with its members, messages and what the bot sent there."""

    id: int
    type: str  # private, group, supergroup or channel
    title: str | None = None
    username: str | None = None
    owner: UserRecord | None = None  # the other party of a private chat
    members: dict[int, str] = field(default_factory=dict)  # user id -> status
    bot_status: str = "left"
    migrated_to: int | None = None
    next_message_id: int = 1
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    sent: list[SentMessage] = field(default_factory=list)
    consumed: set[int] = field(default_factory=set)  # taken by next_message/wait_for
    actions: list[str] = field(default_factory=list)  # sendChatAction calls, in order

    @property
    def is_group(self) -> bool:
        """True for groups, supergroups and channels (the 20-per-minute kind)."""
        return self.type != "private"

    def to_dict(self) -> dict[str, Any]:
        """Return the short ``Chat`` object embedded in messages."""
        chat: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.owner is not None:
            chat.update({k: v for k, v in self.owner.to_dict().items() if k in _PRIVATE_CHAT_KEYS})
        if self.title is not None:
            chat["title"] = self.title
        if self.username is not None:
            chat["username"] = self.username
        return chat

    def sent_message(self, message_id: int) -> SentMessage | None:
        """Return the bot's message with this id, if the bot sent it."""
        for sent in self.sent:
            if sent.message_id == message_id:
                return sent
        return None


_PRIVATE_CHAT_KEYS = ("first_name", "last_name", "username")


@dataclass(eq=False)
class CallbackRecord:
    """A callback query a user caused, and how the bot answered it."""

    id: str
    user: UserRecord
    chat_id: int
    message_id: int
    data: str | None
    answer: CallbackAnswer | None = None


def check_status(status: str) -> None:
    """Refuse a member status Telegram does not have."""
    if status not in MEMBER_STATUSES:
        raise SandboxError(f"unknown member status {status!r}; use one of {MEMBER_STATUSES}")
