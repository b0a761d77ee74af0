"""Chat information and presence: getChat*, leaveChat, sendChatAction."""

from __future__ import annotations

from typing import Any

from bot.sandbox.errors import bad_request
from bot.sandbox.membership import chat_member
from bot.sandbox.methods import Call, Handler
from bot.sandbox.records import ACTIVE_STATUSES, ADMIN_STATUSES, ChatRecord, UserRecord
from bot.sandbox.sent import SandboxEvent

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_ALL_GIFTS = {
    "unlimited_gifts": True,
    "limited_gifts": True,
    "unique_gifts": True,
    "premium_subscription": True,
    "gifts_from_channels": True,
}
_GROUP_PERMISSIONS = {
    "can_send_messages": True,
    "can_send_audios": True,
    "can_send_documents": True,
    "can_send_photos": True,
    "can_send_videos": True,
    "can_send_video_notes": True,
    "can_send_voice_notes": True,
    "can_send_polls": True,
    "can_send_other_messages": True,
    "can_add_web_page_previews": True,
    "can_change_info": False,
    "can_invite_users": True,
    "can_pin_messages": False,
    "can_manage_topics": False,
}


def _full_info(chat: dict[str, Any], is_group: bool) -> dict[str, Any]:
    info = dict(chat)
    info.update(
        {
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": dict(_ALL_GIFTS),
        }
    )
    if is_group:
        info["permissions"] = dict(_GROUP_PERMISSIONS)
    return info


def get_chat(call: Call) -> dict[str, Any]:
    """Return ChatFullInfo for a chat, or for a person the bot has met."""
    world = call.world
    chat_id = call.params["chat_id"]
    if isinstance(chat_id, int) and chat_id not in world.chats:
        user = world.users.get(chat_id)
        if user is None or not world.bot_knows_user(user):
            raise bad_request("chat not found")
        private = {"id": user.id, "type": "private", "first_name": user.first_name}
        private.update({k: v for k, v in user.to_dict().items() if k in ("last_name", "username")})
        return _full_info(private, is_group=False)
    chat = call.chat()
    return _full_info(chat.to_dict(), is_group=chat.is_group)


def _group(call: Call) -> ChatRecord:
    chat = call.chat()
    if chat.is_group:
        # Telegram answers 403 here too once the bot was removed from the group.
        call.world.check_bot_can_write(chat)
    return chat


def _user(call: Call) -> UserRecord:
    user = call.world.user(int(call.params["user_id"]))
    if user is None:
        raise bad_request("user not found")
    return user


def get_chat_member(call: Call) -> dict[str, Any]:
    """Return one ChatMember (status "left" for people who are not in the chat)."""
    chat = _group(call)
    user = _user(call)
    return chat_member(user, call.world.member_status(chat, user.id))


def get_chat_administrators(call: Call) -> list[dict[str, Any]]:
    """Return the creator and administrators, the bot included if it is one."""
    world = call.world
    chat = _group(call)
    if chat.type == "private":
        raise bad_request("there are no administrators in the private chat")
    admins: list[dict[str, Any]] = []
    for user_id, status in chat.members.items():
        user = world.users.get(user_id)
        if user is not None and status in ADMIN_STATUSES:
            admins.append(chat_member(user, status))
    if chat.bot_status in ADMIN_STATUSES:
        admins.append(chat_member(world.bot, chat.bot_status))
    # Telegram lists the creator first.
    admins.sort(key=lambda m: m["status"] != "creator")
    return admins


def get_chat_member_count(call: Call) -> int:
    """Count members, the bot included."""
    chat = _group(call)
    if chat.type == "private":
        return 2
    people = sum(1 for status in chat.members.values() if status in ACTIVE_STATUSES)
    return people + (1 if chat.bot_status in ACTIVE_STATUSES else 0)


def leave_chat(call: Call) -> bool:
    """Make the bot leave a group (it gets a my_chat_member update, like at Telegram)."""
    chat = _group(call)
    if chat.type == "private":
        raise bad_request("chat member status can't be changed in private chats")
    call.world.members.set_bot_status(chat, "left", by=call.world.bot)
    return True


def send_chat_action(call: Call) -> bool:
    """Record a chat action ("typing", ...) so tests can see it was shown."""
    action = str(call.params["action"])
    if action not in _CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    chat = call.writable_chat()
    chat.actions.append(action)
    call.world.emit(SandboxEvent(kind="chat_action", chat_id=chat.id, action=action))
    return True


HANDLERS: dict[str, Handler] = {
    "getChat": get_chat,
    "getChatMember": get_chat_member,
    "getChatAdministrators": get_chat_administrators,
    "getChatMemberCount": get_chat_member_count,
    "leaveChat": leave_chat,
    "sendChatAction": send_chat_action,
}
