"""Membership: who is in which chat, and the updates Telegram sends when that changes.

* The bot learns about its own status through ``my_chat_member`` (added, promoted,
  removed, blocked in a private chat), always delivered by default.
* Other people's changes arrive as ``chat_member`` only if the bot is an administrator
  and asked for them in ``allowed_updates``, plus the service messages everyone sees
  (``new_chat_members``, ``left_chat_member``).
* Upgrading a basic group posts ``migrate_to_chat_id`` in the old chat and
  ``migrate_from_chat_id`` in the new supergroup; the old id then answers 400.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from bot.sandbox.errors import SandboxError
from bot.sandbox.records import (
    ACTIVE_STATUSES,
    ADMIN_STATUSES,
    ChatRecord,
    UserRecord,
    check_status,
)

if TYPE_CHECKING:
    from bot.sandbox.world import World

_ADMIN_RIGHTS = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": True,
    "can_edit_stories": True,
    "can_delete_stories": True,
    "can_pin_messages": True,
}
_RESTRICTED_RIGHTS = {
    "is_member": True,
    "can_send_messages": False,
    "can_send_audios": False,
    "can_send_documents": False,
    "can_send_photos": False,
    "can_send_videos": False,
    "can_send_video_notes": False,
    "can_send_voice_notes": False,
    "can_send_polls": False,
    "can_send_other_messages": False,
    "can_add_web_page_previews": False,
    "can_react_to_messages": False,
    "can_edit_tag": False,
    "can_change_info": False,
    "can_invite_users": False,
    "can_pin_messages": False,
    "can_manage_topics": False,
    "until_date": 0,
}


def chat_member(user: UserRecord, status: str) -> dict[str, Any]:
    """Return the ``ChatMember`` object for ``user`` with ``status``."""
    member: dict[str, Any] = {"status": status, "user": user.to_dict()}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member.update(_ADMIN_RIGHTS)
    elif status == "restricted":
        member.update(_RESTRICTED_RIGHTS)
    elif status == "kicked":
        member["until_date"] = 0
    return member


class Membership:
    """Membership changes in one world, with the updates and service messages they cause."""

    def __init__(self, world: World) -> None:
        self._world = world

    def set_blocked(self, user: UserRecord, blocked: bool) -> None:
        """Block or unblock the bot; the bot learns through ``my_chat_member``."""
        if user.blocked == blocked:
            return
        user.blocked = blocked
        chat = self._world.chats.get(user.id)
        if chat is None:
            return
        old, new = ("member", "kicked") if blocked else ("kicked", "member")
        self._my_chat_member(chat, user, old, new)

    def _my_chat_member(self, chat: ChatRecord, actor: UserRecord, old: str, new: str) -> None:
        self._world.updates.enqueue(
            "my_chat_member", self._member_updated(chat, actor, self._world.bot, old, new)
        )

    def _member_updated(
        self, chat: ChatRecord, actor: UserRecord, subject: UserRecord, old: str, new: str
    ) -> dict[str, Any]:
        return {
            "chat": chat.to_dict(),
            "from": actor.to_dict(),
            "date": self._world.now(),
            "old_chat_member": chat_member(subject, old),
            "new_chat_member": chat_member(subject, new),
        }

    def group_admin(self, chat: ChatRecord, exclude: int | None = None) -> UserRecord | None:
        """Return the creator, else an administrator, else any member (for actor fields)."""
        for wanted in ("creator", "administrator", "member"):
            for user_id, status in chat.members.items():
                if status == wanted and user_id != exclude and user_id in self._world.users:
                    return self._world.users[user_id]
        return None

    def set_member_status(
        self, chat: ChatRecord, user: UserRecord, status: str, by: UserRecord | None = None
    ) -> None:
        """Change a person's membership, with the service messages Telegram posts."""
        check_status(status)
        if chat.type == "private":
            raise SandboxError("private chats have no members to change")
        old = chat.members.get(user.id, "left")
        if old == status:
            return
        joined = old not in ACTIVE_STATUSES and status in ACTIVE_STATUSES
        left = old in ACTIVE_STATUSES and status not in ACTIVE_STATUSES
        actor = by or (user if joined or status == "left" else self.group_admin(chat, user.id))
        actor = actor or user
        chat.members[user.id] = status
        self.updates_chat_member(chat, actor, user, old, status)
        service: dict[str, Any] | None = None
        if joined:
            service = {"new_chat_members": [user.to_dict()]}
        elif left:
            service = {"left_chat_member": user.to_dict()}
        if service is not None:
            self._world.deliver(chat, "message", self._world.new_message(chat, actor, service))
        self._world.signal.notify()

    def updates_chat_member(
        self, chat: ChatRecord, actor: UserRecord, user: UserRecord, old: str, new: str
    ) -> None:
        """Queue a ``chat_member`` update (the bot gets it only if it asked, and is admin)."""
        if chat.bot_status in ADMIN_STATUSES:
            self._world.updates.enqueue(
                "chat_member", self._member_updated(chat, actor, user, old, new)
            )

    def set_bot_status(self, chat: ChatRecord, status: str, by: UserRecord | None = None) -> None:
        """Add, promote or remove the bot in a group; the bot gets ``my_chat_member``."""
        check_status(status)
        old = chat.bot_status
        if old == status:
            return
        actor = by or self.group_admin(chat)
        if actor is None:
            raise SandboxError(f"group {chat.title!r} needs a member to add or remove the bot")
        chat.bot_status = status
        self._my_chat_member(chat, actor, old, status)
        if old not in ACTIVE_STATUSES and status in ACTIVE_STATUSES:
            service = {"new_chat_members": [self._world.bot.to_dict()]}
            self._world.deliver(chat, "message", self._world.new_message(chat, actor, service))
        self._world.signal.notify()

    def migrate(self, chat: ChatRecord, by: UserRecord | None = None) -> ChatRecord:
        """Upgrade a basic group to a supergroup, posting both migration service messages."""
        if chat.type != "group":
            raise SandboxError("only basic groups can be migrated to supergroups")
        actor = by or self.group_admin(chat)
        if actor is None:
            raise SandboxError(f"group {chat.title!r} has nobody to upgrade it")
        new = self._world.add_group(
            chat.title or "", list(self._member_pairs(chat)), supergroup=True
        )
        new.bot_status = chat.bot_status
        self._world.deliver(
            chat, "message", self._world.new_message(chat, actor, {"migrate_to_chat_id": new.id})
        )
        chat.migrated_to = new.id
        self._world.deliver(
            new, "message", self._world.new_message(new, actor, {"migrate_from_chat_id": chat.id})
        )
        self._world.signal.notify()
        return new

    def _member_pairs(self, chat: ChatRecord) -> Iterable[tuple[UserRecord, str]]:
        for user_id, status in chat.members.items():
            if user_id in self._world.users:
                yield self._world.users[user_id], status
