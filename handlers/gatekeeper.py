"""Group -1: decide whether an update is ours to handle, and who is acting."""

from __future__ import annotations

import logging

from telegram import ChatMember, Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop, BaseHandler, TypeHandler

from bot.domain.models import Language
from handlers.base import Ctx

log = logging.getLogger(__name__)


async def identify(update: Update, ctx: Ctx) -> None:
    """Load the acting person; ignore edits and other bots."""
    if update.edited_message or update.edited_channel_post:
        # An edit must never re-run a command or re-file a report.
        raise ApplicationHandlerStop
    user = update.effective_user
    if user is None:
        return
    if user.is_bot:
        raise ApplicationHandlerStop
    super_admin = user.id in ctx.svc.settings.admins
    actor, person = await ctx.svc.people.identify(
        user.id, user.full_name, user.language_code, super_admin, contact=_reached_out(update)
    )
    ctx.actor, ctx.person = actor, person
    ctx.lang = person.language or Language.from_telegram(user.language_code)
    log.debug(
        "update_id=%s user_id=%s chat_id=%s person_id=%s",
        update.update_id,
        user.id,
        update.effective_chat.id if update.effective_chat else None,
        person.id,
    )


def _reached_out(update: Update) -> bool:
    """The person wrote to the bot privately (not a group message, not blocking the bot):
    proof that a message to them would arrive."""
    chat = update.effective_chat
    if chat is None or chat.type != ChatType.PRIVATE:
        return False
    change = update.my_chat_member
    return change is None or change.new_chat_member.status not in (
        ChatMember.LEFT,
        ChatMember.BANNED,
    )


def handlers() -> list[BaseHandler[Update, Ctx, None]]:
    return [TypeHandler(Update, identify)]
