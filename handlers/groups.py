"""Group chats: binding to a community, the bot joining or leaving, supergroup migration."""

from __future__ import annotations

import logging

from telegram import ChatMember, ChatMemberUpdated, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.ext import BaseHandler, ChatMemberHandler, CommandHandler, MessageHandler, filters

from handlers.base import Ctx, reply

log = logging.getLogger(__name__)

GROUPS = filters.ChatType.GROUPS
NOT_EDITED = ~filters.UpdateType.EDITED
GROUP_ADMIN = (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


async def bind(update: Update, ctx: Ctx) -> None:
    """/bind [CODE] — a community admin who also admins the group binds it."""
    actor, _ = ctx.require_actor()
    chat = update.effective_chat
    user = update.effective_user
    assert chat is not None and user is not None
    # The group role is asked of Telegram each time: promotions and demotions happen there.
    member = await ctx.bot.get_chat_member(chat.id, user.id)
    is_group_admin = member.status in GROUP_ADMIN
    code = ctx.args[0] if ctx.args else None
    community = await ctx.svc.communities.bind_group(
        actor, chat.id, chat.title or str(chat.id), is_group_admin, code
    )
    await reply(update, ctx.t("group.bound", community=community.name))


async def on_bot_membership(update: Update, ctx: Ctx) -> None:
    """The bot was added to or removed from a group."""
    change = update.my_chat_member
    assert change is not None
    if change.chat.type == ChatType.PRIVATE:
        if _left(change):
            await ctx.svc.people.mark_unreachable(change.chat.id)
        return
    if _joined(change):
        log.info("bot added to group chat_id=%s", change.chat.id)
        await ctx.bot.send_message(change.chat.id, ctx.t("group.hello"))
    elif _left(change):
        log.info("bot removed from group chat_id=%s", change.chat.id)
        await ctx.svc.communities.group_left(change.chat.id)


async def on_migrate(update: Update, ctx: Ctx) -> None:
    """A group became a supergroup: the binding follows it to the new id."""
    message = update.effective_message
    assert message is not None
    if message.migrate_to_chat_id:
        await ctx.svc.communities.migrate_group(message.chat.id, message.migrate_to_chat_id)


def _joined(change: ChatMemberUpdated) -> bool:
    was = change.old_chat_member.status in (ChatMember.LEFT, ChatMember.BANNED)
    now = change.new_chat_member.status not in (ChatMember.LEFT, ChatMember.BANNED)
    return was and now


def _left(change: ChatMemberUpdated) -> bool:
    return change.new_chat_member.status in (ChatMember.LEFT, ChatMember.BANNED)


def handlers() -> list[BaseHandler[Update, Ctx, None]]:
    return [CommandHandler("bind", bind, filters=GROUPS & NOT_EDITED)]


def observers() -> list[BaseHandler[Update, Ctx, None]]:
    return [
        ChatMemberHandler(on_bot_membership, ChatMemberHandler.MY_CHAT_MEMBER),
        MessageHandler(filters.StatusUpdate.MIGRATE, on_migrate),
    ]
